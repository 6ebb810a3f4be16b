# SPDX-License-Identifier: GPL-2.0
#
# make lint (included by the top Makefile).
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
LINT_SRCS = $(wildcard lib/*.c tools/weavectl/*.c tools/mirror/*.c \
	tools/mirror/test/*.c \
	examples/*.c tests/host/*_test.c bindings/python/src/weave/*.c)
LINT_TESTS = $(wildcard selftests/weave/*_test.c)
# The Python binding's C files need Python.h (python3-dev).
LINT_PY_CFLAGS = -I$(shell $(PYTHON) -c 'import sysconfig; \
	print(sysconfig.get_paths()["include"])') -DWEAVE_PY_VERSION='"lint"'
# Scripts are found by their #! line, so new ones are linted too.
LINT_SCRIPTS = $(shell grep -lsE '^\#!/bin/(ba)?sh' tools/setup tools/vm/* \
	tools/coverage/* \
	tools/pkg/* tools/bench/* tools/mirror/test/* tests/host/* \
	selftests/weave/run .ci/run \
	examples/* bindings/python/tests/* bindings/python/bench/*)
# The Node.js addon gets the strict warnings too, with Node's headers;
# its JavaScript (and the examples') is parsed by node --check.
LINT_NODE_SRCS = $(wildcard bindings/node/src/*.c bindings/node/bench/*.c)
LINT_NODE_JS = $(wildcard bindings/node/*.js bindings/node/lib/*.js \
	bindings/node/test/*.js bindings/node/test/fixtures/*.js \
	bindings/node/bench/*.mjs \
	examples/node/*.js tools/pkg/*.mjs)
# An out-of-tree module must test the kernel version, in kmod/compat.h
# and only there, which checkpatch flags for in-tree code; compat.h's
# generic netlink table macros expand to one or two initializers and use
# their policy argument twice, which checkpatch cannot tell from misuse.
CHECKPATCH_COMPAT_IGNORE := --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	--ignore COMPLEX_MACRO,MACRO_ARG_REUSE
# The module is built in a copy, so that W=1 and C=2 recompile every file
# without touching weave.ko.
LINT_MOD := build/lint-mod

.PHONY: lint lint-needs

# Before anything else, so that a missing tool stops lint at once.
lint-needs:
	$(call need-kdir)$(call need-cmd,sparse,sparse)
	$(call need-cmd,shellcheck,shellcheck)$(call need-pc,libmnl,libmnl-dev)
	$(call need-cmd,node,nodejs)$(call need-file,$(NODE_INCLUDE)/node_api.h,libnode-dev)
	$(call need-pc,libnats,libnats-dev)

lint: lint-needs $(CHECKPATCH_OUT)
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
	$(Q)rc=0; for f in $(LINT_SRCS) $(LINT_TESTS); do \
		extra="$(LINT_STRICT)"; \
		case $$f in selftests/*) extra= ;; esac; \
		$(CC) $(CPPFLAGS_ALL) -Ibuild/kselftest -Iselftests/weave \
			-std=gnu11 $(LINT_WARNINGS) $$extra \
			$$(pkg-config --cflags libmnl) $(LINT_PY_CFLAGS) \
			-fsyntax-only $$f || rc=1; \
	done; exit $$rc
	@echo "lint: the Node.js binding"
	$(Q)rc=0; for f in $(LINT_NODE_SRCS); do \
		$(CC) $(CPPFLAGS_ALL) -I$(NODE_INCLUDE) -DNODE_GYP_MODULE_NAME=weave \
			-std=gnu11 $(LINT_WARNINGS) $(LINT_STRICT) -fsyntax-only \
			$$f || rc=1; \
	done; exit $$rc
	$(Q)for f in $(LINT_NODE_JS); do node --check $$f || exit; done
	@echo "lint: shellcheck"
	$(Q)shellcheck $(LINT_SCRIPTS)
	@echo "lint: clean"
