// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into the test programs of a coverage build with
 * -Wl,--wrap=_exit (tools/coverage/run): kselftest_harness.h runs each
 * test in a child that ends with _exit(), which skips the exit handler
 * that writes the gcov counters, so the libweave code a test ran would
 * not count. The wrapper writes them first.
 */
void __gcov_dump(void);
void __real__exit(int status) __attribute__((noreturn));
void __wrap__exit(int status) __attribute__((noreturn));

void __wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
