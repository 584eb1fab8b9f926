# SPDX-License-Identifier: GPL-2.0
#
# tcp_closestat: build the module, the reader, the tests and the benchmark.
#
#   make                  build tcp_closestat.ko against KDIR
#   make tools            build tools/closestat
#   make check            install what is needed, build for every supported
#                         kernel, boot each in QEMU and run the selftests
#   make demo             boot a guest, load the module, drive nginx + wrk,
#                         show closestat's table and rates
#   make bench            measure the cost (see Documentation/performance.rst)
#   make style / sparse   checkpatch / sparse over the module sources

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KERNELRELEASE)/build) \
		    $(wildcard /lib/modules/*/build))
# The kernels `make check' boots: every installed Debian 6.1 and 6.12 kernel.
KVERS ?= $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/6.1.*-amd64/build \
		/lib/modules/6.12.*-amd64/build)))
BUILD ?= $(CURDIR)/build
LINUX_SOURCE_VERSIONS ?= 6.1 6.12

ifeq ($(V),1)
Q :=
else
Q := @
endif

MODULE_SRCS := Kbuild $(wildcard module/*.[ch]) $(wildcard uapi/linux/*.h)

.PHONY: all module modules-all tools deps ksrc check demo bench style sparse \
	clean help

all: module

module:
	@test -n "$(KDIR)" && test -d "$(KDIR)" || { \
	  echo "tcp_closestat: no kernel headers at '$(KDIR)'." >&2; \
	  echo "  Install them (Debian: apt-get install linux-headers-\$$(uname -r))" >&2; \
	  echo "  or point KDIR at a configured kernel tree: make KDIR=/path" >&2; \
	  exit 2; }
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# One out-of-tree build directory per kernel: build/<release>/tcp_closestat.ko
$(BUILD)/%/tcp_closestat.ko: $(MODULE_SRCS)
	$(Q)mkdir -p $(BUILD)/$*
	$(Q)cp -r Kbuild module uapi $(BUILD)/$*/
	$(Q)$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/$* W=1 modules

modules-all: $(foreach k,$(KVERS),$(BUILD)/$(k)/tcp_closestat.ko)

tools:
	$(Q)$(MAKE) -C tools

deps:
	$(Q)selftests/vm/install-deps.sh

# Kernel sources for checkpatch and the kselftest headers.
ksrc:
	$(Q)selftests/vm/extract-ksrc.sh $(BUILD)/ksrc $(LINUX_SOURCE_VERSIONS)

check: deps
	$(Q)$(MAKE) modules-all tools ksrc
	$(Q)$(MAKE) -C selftests BUILD=$(BUILD)
	$(Q)$(MAKE) -C tools check
	$(Q)selftests/vm/check.sh $(KVERS)

demo: deps
	$(Q)$(MAKE) modules-all tools
	$(Q)selftests/vm/run.sh $(lastword $(KVERS)) tools/demo.sh

bench: deps
	$(Q)$(MAKE) modules-all tools
	$(Q)tools/bench/bench.sh $(KVERS)

style: ksrc
	$(Q)$(BUILD)/ksrc/$(lastword $(LINUX_SOURCE_VERSIONS))/scripts/checkpatch.pl \
		--no-tree --strict --show-types -f $(wildcard module/*.[ch]) uapi/linux/*.h

sparse:
	$(Q)for k in $(KVERS); do \
	  rm -rf $(BUILD)/sparse-$$k && mkdir -p $(BUILD)/sparse-$$k && \
	  cp -r Kbuild module uapi $(BUILD)/sparse-$$k/ && \
	  $(MAKE) -C /lib/modules/$$k/build M=$(BUILD)/sparse-$$k C=1 W=1 modules || exit 1; \
	done

clean:
	$(Q)if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
	  $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)$(MAKE) -C tools clean
	$(Q)rm -rf $(BUILD)

help:
	@sed -n 's/^#   //p' Makefile
