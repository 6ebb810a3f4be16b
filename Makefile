# SPDX-License-Identifier: GPL-2.0
#
# weave: the kernel module (through Kbuild), libweave, weavectl, the
# selftests and the examples; and the targets that test them in a VM.
#
#   make                 build everything (KDIR=... picks the kernel tree)
#   make check           host tests + the selftests in a VM + kernel log scan
#   make check-debug     the same on the debug kernel, plus kmemleak
#   make lint            sparse, W=1, checkpatch, userspace warnings
#   make run             the demo (examples/demo) in a VM
#   make vm-shell        a shell in a VM with weave.ko loaded
#   make headers-test    only the uapi header compile test
#   make clean
#
# Userspace objects go to build/; the module builds in place, as kbuild
# does for external modules (weave.ko at the top). WERROR=1 or CI=true
# turns warnings into errors.

VERSION := $(shell cat VERSION)
LIB_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
LIB_MINOR := $(word 2,$(subst ., ,$(VERSION)))
SONAME := libweave.so.$(LIB_MAJOR)
LIBNAME := $(SONAME).$(LIB_MINOR)

# Deferred (=) on purpose: on a fresh machine the Debian kernel is only
# installed by the setup prerequisite, after the Makefile has been read.
HOST_KVER = $(shell tools/vm/kernel-version 2>/dev/null)
KDIR ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$\
	/lib/modules/$(shell uname -r)/build,/lib/modules/$(HOST_KVER)/build)

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow
ifneq ($(filter true,$(CI))$(filter 1,$(WERROR)),)
WARNINGS += -Werror
endif
CPPFLAGS_ALL := -Iinclude -Iinclude/uapi -DWEAVE_VERSION=\"$(VERSION)\" \
	-D_GNU_SOURCE
CFLAGS_ALL := -std=gnu11 $(WARNINGS) $(CFLAGS) -MMD -MP

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=build/%.o)
CTL_SRCS := $(wildcard tools/weavectl/*.c)
CTL_OBJS := $(CTL_SRCS:%.c=build/%.o)
TEST_SRCS := $(wildcard selftests/weave/*_test.c)
TESTS := $(TEST_SRCS:selftests/weave/%.c=build/selftests/%)
EXAMPLE_SRCS := $(wildcard examples/*.c)
# Examples that are scripts (e.g. examples/demo) are copied as they are.
EXAMPLE_SCRIPTS := $(filter-out %.c %.h,$(shell find examples -maxdepth 1 \
	-type f -perm -u+x 2>/dev/null))
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=build/examples/%) \
	$(EXAMPLE_SCRIPTS:examples/%=build/examples/%)
HOST_TEST_SRCS := $(wildcard tests/host/*_test.c)
HOST_TESTS := $(HOST_TEST_SRCS:tests/host/%.c=build/host/%)

LIB_TARGETS := $(if $(LIB_SRCS),build/$(LIBNAME) build/$(SONAME) \
	build/libweave.so build/libweave.a build/weave.pc)
CTL_TARGET := $(if $(and $(LIB_SRCS),$(CTL_SRCS)),build/weavectl)

# Binaries find libweave next to them (weavectl) or one level up (tests,
# examples) on the host and at /weave/ in the VM alike.
RPATH_HERE := -Wl,-rpath,'$$ORIGIN'
RPATH_UP := -Wl,-rpath,'$$ORIGIN/..'
LIBWEAVE := -Lbuild -lweave

# Files taken from Debian's linux-source-6.1 at build time, never committed.
LINUX_SRC := /usr/src/linux-source-6.1.tar.xz
KSFT_HDRS := kselftest_harness.h kselftest.h
CHECKPATCH_FILES := checkpatch.pl spelling.txt const_structs.checkpatch

VM_RUN := tools/vm/run
Q := @

.PHONY: all setup module userspace check check-debug check-compat lint run vm-shell \
	headers-test host-tests clean
.DELETE_ON_ERROR:

all: module userspace

# Installs missing packages; a single dpkg-query when nothing is missing.
setup:
	$(Q)tools/setup

module: | setup
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace: $(LIB_TARGETS) $(CTL_TARGET) $(TESTS) build/selftests/run \
	$(EXAMPLES) $(HOST_TESTS)

# --- libweave ------------------------------------------------------------------

build/lib/%.o: lib/%.c | setup
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fPIC -fvisibility=hidden \
		-c -o $@ $<

build/$(LIBNAME): $(LIB_OBJS) lib/libweave.map
	$(CC) $(CFLAGS) -shared -fPIC -Wl,-z,defs -Wl,-soname,$(SONAME) \
		-Wl,--version-script=lib/libweave.map -o $@ $(LIB_OBJS)

build/$(SONAME) build/libweave.so: build/$(LIBNAME)
	ln -sf $(LIBNAME) $@

build/libweave.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

build/weave.pc: lib/weave.pc.in VERSION
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|/usr/local|' -e 's|@VERSION@|$(VERSION)|' $< >$@

# --- weavectl, selftests, examples, host tests -----------------------------------

build/tools/weavectl/%.o: tools/weavectl/%.c | setup
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) \
		$$(pkg-config --cflags libmnl) -c -o $@ $<

build/weavectl: $(CTL_OBJS) build/libweave.so
	$(CC) $(CFLAGS) -o $@ $(CTL_OBJS) $(LIBWEAVE) $(RPATH_HERE) \
		$$(pkg-config --libs libmnl)

build/selftests/%: selftests/weave/%.c build/kselftest/.stamp \
		build/libweave.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Ibuild/kselftest -Iselftests/weave \
		$(CFLAGS_ALL) -o $@ $< $(LIBWEAVE) $(RPATH_UP) -lpthread

build/selftests/run: selftests/weave/run
	@mkdir -p $(@D)
	cp $< $@

build/examples/%: examples/%.c build/libweave.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIBWEAVE) $(RPATH_UP)

build/examples/%: examples/%
	@mkdir -p $(@D)
	cp $< $@

# Host unit tests link libweave statically: no kernel, no rpath.
build/host/%: tests/host/%.c build/libweave.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< build/libweave.a \
		-lpthread

# One pass over the tarball (xz cannot seek) for both sets of files.
build/kselftest/.stamp build/checkpatch/.stamp &: | setup
	rm -rf build/linux-src
	mkdir -p build/linux-src build/kselftest build/checkpatch
	tar -xf $(LINUX_SRC) -C build/linux-src --strip-components=1 \
		$(KSFT_HDRS:%=linux-source-6.1/tools/testing/selftests/%) \
		$(CHECKPATCH_FILES:%=linux-source-6.1/scripts/%)
	cp $(KSFT_HDRS:%=build/linux-src/tools/testing/selftests/%) \
		build/kselftest/
	cp $(CHECKPATCH_FILES:%=build/linux-src/scripts/%) build/checkpatch/
	rm -rf build/linux-src
	touch build/kselftest/.stamp build/checkpatch/.stamp

-include $(wildcard build/lib/*.d build/tools/weavectl/*.d build/selftests/*.d \
	build/examples/*.d build/host/*.d)

# --- tests ------------------------------------------------------------------------

headers-test: | setup
	tests/host/run --only-headers

host-tests: userspace
	tests/host/run

# tools/vm/check runs the host tests, the selftests in the VM (each under
# a timeout; rmmod last), scans the kernel log and prints the
# "N passed, N failed" line.
# KVER=LINE (6.1, 6.12 or sid; tools/vm/kernels lines) runs the suite on
# that Debian kernel line instead: check-kernel-LINE.
check: all
ifeq ($(KVER),)
	tools/vm/check
else
	$(MAKE) --no-print-directory check-kernel-$(KVER)
endif

# check-kernel-LINE: fetch LINE's kernel image, headers and compiler
# (cached in ~/.cache/weave/kernels), build weave.ko for it (any warning
# fails) and run the whole suite on it. check-compat: every line, each
# one run even when another failed.
KLINES := $(shell tools/vm/kernels lines)

check-kernel-%: all
	tools/vm/kernels fetch $*
	tools/vm/kernels build $* build/vm/kmod-$*
	WEAVE_KERNEL="$$(tools/vm/kernels image $*)" \
		WEAVE_KO=build/vm/kmod-$*/weave.ko tools/vm/check

check-compat: all
	@rc=0; for l in $(KLINES); do \
		echo "==== check-compat: $$l"; \
		$(MAKE) --no-print-directory check-kernel-$$l || rc=1; \
	done; exit $$rc

check-debug: all
	tools/vm/check --debug

run: all
	$(VM_RUN) -- /weave/examples/demo

vm-shell: all
	$(VM_RUN) --shell

# --- lint ---------------------------------------------------------------------------
#
# Userspace, as errors: -Wall -Wextra -Wshadow (as every build) and
# -Wformat=2 everywhere; the code we ship (lib, weavectl, examples, host
# unit tests) also gets -Wmissing-prototypes and -Wconversion without
# -Wsign-conversion: narrowing (ssize_t to int) is a bug worth a cast,
# while sign conversions between size_t, ssize_t and the ABI's __u64 are
# everywhere and a cast on each would hide more than it shows. The
# selftests skip those two: kselftest_harness.h generates unprototyped
# functions, and its macros trip -Wconversion.
LINT_WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Werror
LINT_STRICT := -Wmissing-prototypes -Wconversion -Wno-sign-conversion
LINT_SRCS := $(LIB_SRCS) $(CTL_SRCS) $(EXAMPLE_SRCS) $(HOST_TEST_SRCS)
# Scripts are found by their #! line, so new ones are linted too.
LINT_SCRIPTS = $(shell grep -lsE '^\#!/bin/(ba)?sh' tools/setup tools/vm/* \
	tests/host/* selftests/weave/run .ci/run examples/*)
# An out-of-tree module must test the kernel version, in kmod/compat.h
# and only there, which checkpatch flags for in-tree code; compat.h's
# generic netlink table macros expand to one or two initializers and use
# their policy argument twice, which checkpatch cannot tell from misuse.
CHECKPATCH_COMPAT_IGNORE := --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	--ignore COMPLEX_MACRO,MACRO_ARG_REUSE
# The module is built in a copy, so that W=1 and C=2 recompile every file
# without touching weave.ko.
LINT_MOD := build/lint-mod

lint: build/checkpatch/.stamp | setup
	@echo "lint: weave.ko with W=1 and sparse (C=2)"
	$(Q)rm -rf $(LINT_MOD) && mkdir -p $(LINT_MOD)
	$(Q)cp -p --parents Kbuild kmod/*.[ch] $$(find include -name '*.h') \
		$(wildcard VERSION) $(LINT_MOD)/
	$(Q)$(MAKE) -s -C $(KDIR) M=$(CURDIR)/$(LINT_MOD) C=2 W=1 modules \
		>$(LINT_MOD)/build.log 2>&1 || { cat $(LINT_MOD)/build.log; exit 1; }
	$(Q)if grep -E 'warning:|error:' $(LINT_MOD)/build.log; then exit 1; fi
	@echo "lint: checkpatch --strict"
	$(Q)build/checkpatch/checkpatch.pl --no-tree --strict --terse \
		--show-types -f $(filter-out kmod/compat.h,$(wildcard kmod/*.[ch])) \
		include/uapi/linux/weave.h
	$(Q)build/checkpatch/checkpatch.pl --no-tree --strict --terse \
		--show-types $(CHECKPATCH_COMPAT_IGNORE) -f kmod/compat.h
	@echo "lint: userspace"
	$(Q)rc=0; for f in $(LINT_SRCS) $(TEST_SRCS); do \
		extra="$(LINT_STRICT)"; \
		case $$f in selftests/*) extra= ;; esac; \
		$(CC) $(CPPFLAGS_ALL) -Ibuild/kselftest -Iselftests/weave \
			-std=gnu11 $(LINT_WARNINGS) $$extra \
			$$(pkg-config --cflags libmnl) -fsyntax-only $$f || rc=1; \
	done; exit $$rc
	@echo "lint: shellcheck"
	$(Q)shellcheck $(LINT_SCRIPTS)
	@echo "lint: clean"

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf build weave.ko
