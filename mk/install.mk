# SPDX-License-Identifier: GPL-2.0
#
# Install, DKMS and the packages (included by the top Makefile).
#
# make install [DESTDIR=...] [PREFIX=/usr/local]: weave.ko through kbuild's
# modules_install (/lib/modules/<kver>/extra; depmod only without DESTDIR),
# then install-userspace: libweave (.so.0.N, its links, .a), weave.h and
# linux/weave.h (weave.h includes <linux/weave.h>), weave.pc (written by
# lib/Makefile with the same PREFIX, LIBDIR and INCLUDEDIR), the man
# pages (the .so alias pages name man3/X.3, so they work from any man3/
# directory), weavectl, its bash completion, the udev rule, and
# weave-mirror with weave-mirror(8) (tools/mirror). weavectl
# goes to bin, not sbin: every user runs it (/dev/weave is 0666; access
# is checked per registry), section 8 or not; so does weave-mirror, which
# any user may run for a registry of theirs. Both are linked again without
# the build tree's $ORIGIN rpath. LIBDIR etc. can be overridden
# (debian/rules: LIBDIR=/usr/lib/<multiarch>).
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
MAN_PAGES := $(wildcard man/*.[348]) tools/mirror/weave-mirror.8
INSTALLED_FILES = $(LIBDIR)/$(LIBNAME) $(LIBDIR)/$(SONAME) \
	$(LIBDIR)/libweave.so $(LIBDIR)/libweave.a $(LIBDIR)/pkgconfig/weave.pc \
	$(INCLUDEDIR)/weave.h $(INCLUDEDIR)/linux/weave.h $(BINDIR)/weavectl \
	$(BINDIR)/weave-mirror \
	$(BASHCOMPDIR)/weavectl $(UDEVRULESDIR)/60-weave.rules \
	$(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $m))/$(notdir $m))

.PHONY: install install-module install-userspace uninstall uninstall-module \
	uninstall-userspace install-lib dkms-source dkms-install dkms-uninstall \
	check-packaging

install: install-module install-userspace

# KDIR's release, as modules_install names the directory (Debian's headers
# have another version in include/config/kernel.release).
MODULE_KVER = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h)

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra DEPMOD=true modules_install
	$(if $(DESTDIR),,depmod -a $(MODULE_KVER))

# libweave and weave.pc, with this install's directories.
install-lib:
	$(Q)$(MAKE) -C lib PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) \
		INCLUDEDIR=$(INCLUDEDIR)

install-userspace: install-lib
	$(Q)$(MAKE) -C tools/weavectl $(BUILD)/install/weavectl
	$(Q)$(MAKE) -C tools/mirror $(BUILD)/install/weave-mirror
	$(INSTALL) -d $(addprefix $(DESTDIR),$(LIBDIR)/pkgconfig \
		$(INCLUDEDIR)/linux $(BINDIR) $(BASHCOMPDIR) $(UDEVRULESDIR) \
		$(MANDIR)/man3 $(MANDIR)/man4 $(MANDIR)/man8)
	$(INSTALL) -m 0644 build/$(LIBNAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIBNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libweave.so
	$(INSTALL) -m 0644 build/libweave.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0644 build/weave.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(INSTALL) -m 0644 include/weave.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 include/uapi/linux/weave.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/
	for m in $(MAN_PAGES); do \
		$(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit; \
	done
	$(INSTALL) -m 0755 build/install/weavectl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 build/install/weave-mirror $(DESTDIR)$(BINDIR)/
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
