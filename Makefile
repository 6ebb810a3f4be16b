# SPDX-License-Identifier: GPL-2.0
#
# weave: the kernel module (through Kbuild), libweave, weavectl, the
# selftests and the examples; and the targets that test them in a VM.
#
#   make                 build everything (KDIR=... picks the kernel tree)
#   make check           host tests + the selftests in a VM + kernel log scan
#   make check-debug     the same on the debug kernel, plus kmemleak
#   make coverage        line and branch coverage (mk/coverage.mk)
#   make lint            sparse, W=1, checkpatch, userspace warnings
#   make python          the Python binding (mk/python.mk; check-python)
#   make node            the Node.js addon and its package in build/node
#   make node-pack       its npm tarball in build/node-pack
#   make bench-node      its figures in a VM (also at the end of make bench)
#   make run             the demo (examples/demo) in a VM
#   make vm-shell        a shell in a VM with weave.ko loaded
#   make headers-test    only the uapi header compile test
#   make install         see mk/install.mk (and dkms-install, check-packaging)
#   make clean
#
# Building only builds, with what is installed: a missing package stops
# the build at once, with the package's name. The targets that run
# things (check*, run, vm-shell, bench) run tools/setup first, which
# installs what building and the VM need, then build in a sub-make.
#
# The module builds in place through Kbuild, as kbuild does for external
# modules (weave.ko at the top); each userspace part has its Makefile
# (lib/, tools/weavectl/, tools/mirror/, selftests/weave/, tests/host/, examples/) and
# builds into build/. Makefile.common holds what they share (VERSION,
# flags); mk/*.mk the test, lint and install targets. WERROR=1 or CI=true
# turns warnings into errors.

TOP := $(CURDIR)
include Makefile.common
MAKEFLAGS += --no-print-directory

# Deferred (=): only the targets that build the module need a kernel.
HOST_KVER = $(shell tools/vm/kernel-version 2>/dev/null)
KDIR ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$\
	/lib/modules/$(shell uname -r)/build,/lib/modules/$(HOST_KVER)/build)
need-kdir = $(if $(wildcard $(KDIR)/Makefile),,$(error no kernel build $\
	tree at KDIR=$(KDIR): apt-get install linux-headers-$(shell uname -r) $\
	(the running kernel) or run tools/setup (the VM's), or set KDIR=))

# Files taken from Debian's linux-source-6.1 at build time, never committed.
LINUX_SRC ?= /usr/src/linux-source-6.1.tar.xz
KSFT_FILES := lib.mk kselftest_harness.h kselftest.h kselftest/runner.sh \
	kselftest/prefix.pl
CHECKPATCH_FILES := checkpatch.pl spelling.txt const_structs.checkpatch

VM_RUN := tools/vm/run
# Installs missing packages; a single dpkg-query when nothing is missing.
# SETUP=: skips it.
SETUP ?= tools/setup

.PHONY: all needs module userspace lib weavectl mirror selftests examples \
	host-progs kselftest-files node node-pack
.DELETE_ON_ERROR:

all: needs module userspace

# What `make` needs, checked before anything is built, so that a missing
# package stops it in a second rather than after the module has built.
needs:
	$(call need-cmd,$(firstword $(CC)),build-essential)$(call need-kdir)
	$(call need-pc,libmnl,libmnl-dev)
	$(call need-pc,liburing,liburing-dev)
	$(call need-pc,libnats,libnats-dev)
	$(if $(wildcard $(KSFT_OUT)),,$(call need-file,$(LINUX_SRC),linux-source-6.1))

module:
	$(call need-kdir)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace: lib weavectl mirror selftests examples host-progs

# --- userspace, one directory each -------------------------------------------

lib:
	$(Q)$(MAKE) -C lib

weavectl: lib
	$(Q)$(MAKE) -C tools/weavectl

mirror: lib
	$(Q)$(MAKE) -C tools/mirror

examples: lib
	$(Q)$(MAKE) -C examples

host-progs: lib
	$(Q)$(MAKE) -C tests/host

selftests: lib kselftest-files
	$(Q)$(MAKE) -C selftests/weave OUTPUT=$(BUILD)/selftests \
		KSFT_DIR=$(BUILD)/kselftest

# The Node.js binding (bindings/node): the addon against build/libweave.so
# (found at run time one level above the package, as in the VM's /weave),
# staged with the package's JS files and tests as build/node, a package
# directory as npm would install it. Not part of `all`: it needs Node's
# headers, which building weave does not.
NODE_INCLUDE ?= /usr/include/node
node: lib
	$(call need-file,$(NODE_INCLUDE)/node_api.h,libnode-dev)
	$(Q)$(MAKE) -C bindings/node OUT=$(BUILD)/node/build \
		NODE_INCLUDE=$(NODE_INCLUDE) WARNINGS="$(WARNINGS)" \
		WEAVE_CFLAGS="-I$(TOP)/include -I$(TOP)/include/uapi" \
		WEAVE_LIBS="-L$(BUILD) -lweave -Wl,-rpath,'\$$\$$ORIGIN/../..'"
	$(Q)$(MAKE) -C bindings/node stage DEST=$(BUILD)/node VERSION=$(VERSION)
	$(Q)mkdir -p build/node/examples && cp -p examples/node/*.js \
		examples/node/package.json build/node/examples/

# The npm tarball, packed from the staged package (npm pack reads its
# package.json "files": sources, not the built addon).
node-pack: node
	$(call need-cmd,npm,npm)
	rm -rf build/node-pack && mkdir -p build/node-pack
	cd build/node && npm pack --silent --pack-destination $(BUILD)/node-pack

# The files the Debian packaging and make install name (debian/rules).
build/libweave.a build/libweave.so build/weave.pc: lib
build/install/weavectl: lib
	$(Q)$(MAKE) -C tools/weavectl $(BUILD)/install/weavectl
build/install/weave-mirror: lib
	$(Q)$(MAKE) -C tools/mirror $(BUILD)/install/weave-mirror

# One pass over the tarball (xz cannot seek) for both sets of files; any
# missing one extracts them all again.
KSFT_OUT := $(KSFT_FILES:%=build/kselftest/%)
CHECKPATCH_OUT := $(CHECKPATCH_FILES:%=build/checkpatch/%)
kselftest-files: $(KSFT_OUT)
$(KSFT_OUT) $(CHECKPATCH_OUT) &:
	$(call need-file,$(LINUX_SRC),linux-source-6.1)
	rm -rf build/linux-src
	mkdir -p build/linux-src build/kselftest/kselftest build/checkpatch
	tar -xf $(LINUX_SRC) -C build/linux-src --strip-components=1 \
		$(KSFT_FILES:%=linux-source-6.1/tools/testing/selftests/%) \
		$(CHECKPATCH_FILES:%=linux-source-6.1/scripts/%)
	for f in $(KSFT_FILES); do \
		cp build/linux-src/tools/testing/selftests/$$f \
			build/kselftest/$$f || exit; \
	done
	cp $(CHECKPATCH_FILES:%=build/linux-src/scripts/%) build/checkpatch/
	rm -rf build/linux-src

# --- the VM: tools/setup first, then build, then run -----------------------------

# Each runs tools/setup, then builds in a sub-make, which reads the
# Makefiles again after setup installed what building needs: `make check`
# works as the first command on a fresh machine.
run:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all
	$(VM_RUN) -- /weave/examples/demo

vm-shell:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all
	$(VM_RUN) --shell

# make bench: tools/bench/bench in a VM against its baselines and LMDB,
# timed and then counted in instructions (tools/bench/plugin/); writes
# tools/bench/results.md and chart.png. Not part of make check.
# tools/bench/setup installs LMDB and gnuplot and builds the plugin.
bench:
	$(Q)$(SETUP)
	tools/bench/setup
	$(Q)$(MAKE) all
	$(MAKE) --no-print-directory build/bench/bench
	tools/bench/report
	$(Q)$(MAKE) bench-node

# make bench-node: the Node.js binding's figures (bindings/node/bench:
# worker to worker against postMessage, get against C's weave_get()) in
# a VM, written to bindings/node/bench/results.md.
bench-node: node
	@mkdir -p build/node/bench
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o build/node/bench/cget \
		bindings/node/bench/cget.c $(LIBWEAVE) -Wl,-rpath,'$$ORIGIN/../..'
	cp bindings/node/bench/bench.mjs build/node/bench/
	$(VM_RUN) --add build/node:/weave/node \
		--add "$$(readlink -f "$$(command -v node)"):/usr/bin/node" -- \
		'node /weave/node/bench/bench.mjs' >build/node/bench/results.md
	cat build/node/bench/results.md
	cp build/node/bench/results.md bindings/node/bench/results.md

build/bench/bench: tools/bench/bench.c build/libweave.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIBWEAVE) $(RPATH_UP) -llmdb

include mk/check.mk mk/lint.mk mk/install.mk mk/python.mk mk/coverage.mk

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf build weave.ko

.PHONY: run vm-shell bench bench-node clean
