/*
 * A stand-in for LeakSanitizer's runtime, for mg_exitpath's nil_with_lsan:
 * the entry point the shim runs before it ends a process with _exit, and a
 * line on stdout in place of a leak report.
 */
#include <unistd.h>

__attribute__((visibility("default"))) int __lsan_do_recoverable_leak_check(void)
{
    static const char msg[] = "fake LeakSanitizer: leak check ran\n";
    (void)!write(1, msg, sizeof msg - 1);
    return 1;
}
