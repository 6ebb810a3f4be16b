# SPDX-License-Identifier: GPL-2.0
#
# The Python binding, bindings/python (included by the top Makefile).
#
# make python: build the extension weave._weave (stable ABI, abi3) and
# the weave package into build/python with Debian's /usr/bin/python3
# and setuptools, against the tree's libweave (rpath $ORIGIN/../..,
# which is build/ on the host and /weave in the VM). PYTHON= picks
# another interpreter (3.11 or later).
# make check-python: only its pytest suites in the VM
# (bindings/python/tests/vm-run); make check runs them too, on the
# Debian 6.1 kernel.
# pip install ./bindings/python and python3 -m build work from the
# source directory on their own (bindings/python/README.md).

PYTHON ?= /usr/bin/python3
PY_DIR := bindings/python
PY_SRCS := $(wildcard $(PY_DIR)/src/weave/*.[ch] $(PY_DIR)/src/weave/*.py \
	$(PY_DIR)/src/weave/*.pyi) $(PY_DIR)/setup.py $(PY_DIR)/pyproject.toml
PY_EXT := build/python/weave/_weave.abi3.so

.PHONY: python check-python bench-python

python: lib $(PY_EXT)

$(PY_EXT): $(PY_SRCS) build/libweave.so VERSION
	$(call need-cmd,$(PYTHON),python3)
	$(call need-file,$(shell $(PYTHON) -c 'import sysconfig; \
		print(sysconfig.get_paths()["include"])' 2>/dev/null)/Python.h,python3-dev)
	@echo "  PY      $@"
	$(Q)rm -rf build/python
	$(Q)cd $(PY_DIR) && PYTHONWARNINGS=ignore \
		WEAVE_CFLAGS="-I$(TOP)/include -I$(TOP)/include/uapi $(filter -Werror,$(WARNINGS))" \
		WEAVE_LIBS="-L$(BUILD) -lweave -Wl,-rpath,\$$ORIGIN/../.." \
		$(PYTHON) setup.py -q build --build-base $(BUILD)/python-build \
		--build-lib $(BUILD)/python >$(BUILD)/python-build.log 2>&1 || \
		{ cat $(BUILD)/python-build.log; exit 1; }
	$(Q)if grep -E '\.[ch]:[0-9]+:[0-9]+: warning:' $(BUILD)/python-build.log; then \
		$(if $(filter -Werror,$(WARNINGS)),exit 1,:); fi

check-python:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all python
	$(PY_DIR)/tests/vm-run

# Not part of make bench (tools/bench/report): its figures are printed.
bench-python:
	$(Q)$(SETUP)
	$(Q)$(MAKE) all python
	$(PY_DIR)/bench/run
