# SPDX-License-Identifier: GPL-2.0
#
# The Makefile of the module's sources under /usr/src/weave-<version>
# (make dkms-source installs it there). DKMS does not need it (dkms.conf
# calls kbuild directly); it lets a person build by hand:
#   make [KDIR=/lib/modules/<release>/build]
KDIR ?= /lib/modules/$(shell uname -r)/build

all:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all clean
