// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into the test programs and weavectl of a coverage build with
 * -Wl,--wrap=_exit (tools/coverage/run): kselftest_harness.h runs each
 * test in a child that ends with _exit(), and weavectl's child that
 * cannot run its command ends so too, which skips the exit handler that
 * writes the gcov counters, so the code they ran would not count. The
 * wrapper writes them first.
 */
#include <stdnoreturn.h>

/* libgcov's; it has no header. */
void __gcov_dump(void);
noreturn void __real__exit(int status);
noreturn void __wrap__exit(int status);

noreturn void __wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
