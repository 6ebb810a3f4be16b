# SPDX-License-Identifier: GPL-2.0
#
# The tests (included by the top Makefile). Each check target runs
# tools/setup, builds in a sub-make, then runs:
#
# tools/vm/check runs the host tests, the selftests in the VM (each under
# a timeout; rmmod last), scans the kernel log, tests that tools/vm/run
# fails on a kernel bug report, runs the Python binding's suites in
# another VM (on the Debian kernel only: not with --debug or KVER=) and
# prints the "N passed, N failed" line.
# KVER=LINE (6.1, 6.12 or sid; tools/vm/kernels lines) runs the suite on
# that Debian kernel line instead: check-kernel-LINE. Plain `make check`
# also builds the Node.js binding (make node), whose suites run there
# only (tools/vm/check's test 6).

.PHONY: check check-debug check-compat headers-test host-tests

check:
ifeq ($(KVER),)
	$(Q)$(SETUP)
	$(Q)$(MAKE) all python node
	tools/vm/check
else
	$(Q)$(MAKE) check-kernel-$(KVER)
endif

check-debug:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all
	tools/vm/check --debug

# check-kernel-LINE: fetch LINE's kernel image, headers and compiler
# (cached in ~/.cache/weave/kernels), build weave.ko for it (any warning
# fails) and run the whole suite on it. check-compat: every line, each
# one run even when another failed.
KLINES = $(shell tools/vm/kernels lines)

check-kernel-%:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all
	tools/vm/kernels fetch $*
	tools/vm/kernels build $* build/vm/kmod-$*
	WEAVE_KERNEL="$$(tools/vm/kernels image $*)" \
		WEAVE_KO=build/vm/kmod-$*/weave.ko tools/vm/check

check-compat:
	@rc=0; for l in $(KLINES); do \
		echo "==== check-compat: $$l"; \
		$(MAKE) check-kernel-$$l || rc=1; \
	done; exit $$rc

# On the host, without the VM: the uapi header compile test alone, and
# every host test (tests/host/run).
headers-test:
	$(call need-cmd,g++,g++)
	tests/host/run --only-headers

host-tests: userspace
	tests/host/run
