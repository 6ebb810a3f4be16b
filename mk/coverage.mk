# SPDX-License-Identifier: GPL-2.0
#
# make coverage: line and branch coverage of kmod/, lib/ and
# tools/weavectl/ over the host tests and the VM suite of check-debug, on
# the coverage kernel (tools/vm/build-coverage-kernel, cached like the
# debug kernel). Prints a per-file table; the HTML report is in
# build/coverage/html/. Not part of make check, check-debug or .ci/run.
# See tools/coverage/run.

.PHONY: coverage

coverage:
	$(Q)$(SETUP) lcov
	$(Q)$(MAKE) needs kselftest-files
	tools/coverage/run
