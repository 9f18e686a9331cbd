/*
 * An OpenMP tool of a program's own, named by OMP_TOOL_LIBRARIES: libomp
 * loads one tool only, so the shim's (shim/omp_llvm.c) stands aside for
 * it. This one says it was started, and declines (NULL: no callbacks).
 */
#include <unistd.h>

void *ompt_start_tool(unsigned int omp_version, const char *runtime_version);

void *ompt_start_tool(unsigned int omp_version, const char *runtime_version)
{
    (void)omp_version, (void)runtime_version;
    static const char said[] = "ompt_probe: started\n";
    if (write(2, said, sizeof said - 1) < 0)
        return NULL;
    return NULL;
}
