/* mapguard CLI test: one deterministic read/write race, then exit 0. The
 * program's own status is 0, so a non-zero exit from `mapguard run` can only
 * come from the finding. */
#include "cli_race.h"

int main(void)
{
    return cli_race() == 1 ? 0 : 1;
}
