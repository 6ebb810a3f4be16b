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
	headers-test host-tests clean bench
.DELETE_ON_ERROR:

all: module userspace

# Installs missing packages; a single dpkg-query when nothing is missing.
# SETUP=: skips it (debian/rules: the build dependencies are declared).
SETUP ?= tools/setup
setup:
	$(Q)$(SETUP)

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
		-Wl,--version-script=lib/libweave.map $(LDFLAGS) -o $@ $(LIB_OBJS)

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

# make bench: tools/bench/bench in a VM against its baselines and LMDB,
# timed and then counted in instructions (tools/bench/plugin/); writes
# tools/bench/results.md and chart.png. Not part of make check.
# tools/bench/setup installs LMDB and gnuplot and builds the plugin.
bench: all
	tools/bench/setup
	$(MAKE) --no-print-directory build/bench/bench
	tools/bench/report

build/bench/bench: tools/bench/bench.c build/libweave.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIBWEAVE) $(RPATH_UP) -llmdb

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
	tools/pkg/* tools/bench/* tests/host/* selftests/weave/run .ci/run \
	examples/*)
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

# --- install, DKMS and the packages -------------------------------------------------
#
# make install [DESTDIR=...] [PREFIX=/usr/local]: weave.ko through kbuild's
# modules_install (/lib/modules/<kver>/extra; depmod only without DESTDIR),
# then install-userspace: libweave (.so.0.N, its links, .a), weave.h and
# linux/weave.h (weave.h includes <linux/weave.h>), weave.pc with the real
# prefix and libdir, the man pages (the .so alias pages name man3/X.3, so
# they work from any man3/ directory), weavectl, its bash completion and
# the udev rule. weavectl goes to bin, not sbin: every user runs it
# (/dev/weave is 0666; access is checked per registry), section 8 or not.
# It is linked again without the build tree's $ORIGIN rpath. LIBDIR etc.
# can be overridden (debian/rules: LIBDIR=/usr/lib/<multiarch>).
# make uninstall removes those files (not the directories).
# make dkms-install copies the module's sources with dkms.conf (from
# dkms.conf.in and VERSION) to /usr/src/weave-<version> and runs dkms
# add, build and install (DKMS_FLAGS="-k <kver>" for another kernel).
# make check-packaging: tools/pkg/test (the Debian packages in a bookworm
# chroot, then their module in the VM).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# udev reads /usr/local/lib/udev/rules.d too; /usr installs use /lib (bookworm).
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/udev/rules.d
INSTALL ?= install
DKMS_SRC = $(DESTDIR)/usr/src/weave-$(VERSION)
DKMS_FLAGS ?=
MAN_PAGES := $(wildcard man/*.[348])
INSTALLED_FILES = $(LIBDIR)/$(LIBNAME) $(LIBDIR)/$(SONAME) \
	$(LIBDIR)/libweave.so $(LIBDIR)/libweave.a $(LIBDIR)/pkgconfig/weave.pc \
	$(INCLUDEDIR)/weave.h $(INCLUDEDIR)/linux/weave.h $(BINDIR)/weavectl \
	$(BASHCOMPDIR)/weavectl $(UDEVRULESDIR)/60-weave.rules \
	$(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $m))/$(notdir $m))

.PHONY: install install-module install-userspace uninstall uninstall-module \
	uninstall-userspace dkms-source dkms-install dkms-uninstall check-packaging

install: install-module install-userspace

# KDIR's release, as modules_install names the directory (Debian's headers
# have another version in include/config/kernel.release).
MODULE_KVER = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h)

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra DEPMOD=true modules_install
	$(if $(DESTDIR),,depmod -a $(MODULE_KVER))

build/install/weavectl: $(CTL_OBJS) build/libweave.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJS) $(LIBWEAVE) \
		$$(pkg-config --libs libmnl)

install-userspace: $(LIB_TARGETS) build/install/weavectl
	$(INSTALL) -d $(addprefix $(DESTDIR),$(LIBDIR)/pkgconfig \
		$(INCLUDEDIR)/linux $(BINDIR) $(BASHCOMPDIR) $(UDEVRULESDIR) \
		$(MANDIR)/man3 $(MANDIR)/man4 $(MANDIR)/man8)
	$(INSTALL) -m 0644 build/$(LIBNAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIBNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libweave.so
	$(INSTALL) -m 0644 build/libweave.a $(DESTDIR)$(LIBDIR)/
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' \
		-e 's|^libdir=.*|libdir=$(LIBDIR)|' \
		-e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' lib/weave.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/weave.pc
	$(INSTALL) -m 0644 include/weave.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 include/uapi/linux/weave.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/
	for m in $(MAN_PAGES); do \
		$(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit; \
	done
	$(INSTALL) -m 0755 build/install/weavectl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 tools/weavectl/weavectl.bash \
		$(DESTDIR)$(BASHCOMPDIR)/weavectl
	$(INSTALL) -m 0644 udev/60-weave.rules $(DESTDIR)$(UDEVRULESDIR)/
	$(if $(DESTDIR),,ldconfig)

uninstall: uninstall-module uninstall-userspace

uninstall-module:
	rm -f $(DESTDIR)/lib/modules/$(MODULE_KVER)/extra/weave.ko*
	$(if $(DESTDIR),,depmod -a $(MODULE_KVER))

uninstall-userspace:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	$(if $(DESTDIR),,ldconfig)

build/dkms.conf: dkms.conf.in VERSION
	@mkdir -p $(@D)
	sed 's|@VERSION@|$(VERSION)|' $< >$@

# The module's sources as DKMS (and debian/weave-dkms) want them.
dkms-source: build/dkms.conf
	rm -rf $(DKMS_SRC)
	$(INSTALL) -d $(DKMS_SRC)
	cp -p --parents Kbuild VERSION kmod/*.[ch] include/uapi/linux/weave.h \
		$(DKMS_SRC)/
	$(INSTALL) -m 0644 build/dkms.conf $(DKMS_SRC)/dkms.conf
	$(INSTALL) -m 0644 tools/pkg/dkms.mk $(DKMS_SRC)/Makefile

dkms-install: dkms-source
	dkms add weave/$(VERSION)
	dkms build $(DKMS_FLAGS) weave/$(VERSION)
	dkms install $(DKMS_FLAGS) weave/$(VERSION)

dkms-uninstall:
	-dkms remove weave/$(VERSION) --all
	rm -rf $(DKMS_SRC)

check-packaging:
	tools/pkg/test

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf build weave.ko
