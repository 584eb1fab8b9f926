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
# The running kernel's headers, else the first installed kernel's (said so).
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

.PHONY: all module modules-all tools deps ksrc check check-installed demo \
	demo-installed bench bench-installed style sparse clean help

all: module

module:
	@test -n "$(KDIR)" && test -d "$(KDIR)" || { \
	  echo "tcp_closestat: no kernel headers at '$(KDIR)'." >&2; \
	  echo "  Install them (Debian: apt-get install linux-headers-\$$(uname -r))" >&2; \
	  echo "  or point KDIR at a configured kernel tree: make KDIR=/path" >&2; \
	  exit 2; }
	@case "$(KDIR)" in /lib/modules/$(KERNELRELEASE)/build) ;; *) \
	  echo "tcp_closestat: building against $(KDIR) (not the running kernel's headers)";; esac
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# One out-of-tree build directory per kernel: build/<release>/tcp_closestat.ko
$(BUILD)/%/tcp_closestat.ko: $(MODULE_SRCS)
	$(Q)mkdir -p $(BUILD)/$*
	$(Q)cp --parents $(MODULE_SRCS) $(BUILD)/$*/
	$(Q)$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/$* W=1 KCFLAGS=-Werror modules

modules-all: $(foreach k,$(KVERS),$(BUILD)/$(k)/tcp_closestat.ko)

tools:
	$(Q)$(MAKE) -C tools

deps:
	$(Q)scripts/install-deps.sh

# Kernel sources for checkpatch and the kselftest headers.
ksrc:
	$(Q)scripts/extract-ksrc.sh $(BUILD)/ksrc $(LINUX_SOURCE_VERSIONS)

# deps may install the kernels, so what follows it runs in a new make that
# finds them (KVERS is computed when a make starts).
check: deps
	$(Q)$(MAKE) check-installed

check-installed: modules-all tools ksrc
	$(Q)$(MAKE) style sparse
	$(Q)$(MAKE) -C selftests BUILD=$(BUILD)
	$(Q)$(MAKE) -C tools check
	$(Q)selftests/bench/bench.sh --smoke $(KVERS)	# the pipeline, not the timing
	$(Q)selftests/qemu/check.sh $(KVERS)	# last: its last line is the verdict

# The demo builds the module as README.md says (`make`), for the guest's kernel.
DEMO_KVER ?= $(lastword $(KVERS))

demo: deps
	$(Q)$(MAKE) demo-installed

demo-installed: tools
	$(Q)$(MAKE) -C selftests drivers BUILD=$(BUILD)
	$(Q)$(MAKE) module KDIR=/lib/modules/$(DEMO_KVER)/build
	$(Q)TCS_KO=$(CURDIR)/tcp_closestat.ko selftests/qemu/run.sh $(DEMO_KVER) selftests/demo.sh

bench: deps
	$(Q)$(MAKE) bench-installed

bench-installed: modules-all tools
	$(Q)selftests/bench/bench.sh $(KVERS)

# Both fail on any finding: checkpatch (--strict) and sparse on every kernel.
style: ksrc
	$(Q)$(BUILD)/ksrc/$(lastword $(LINUX_SOURCE_VERSIONS))/scripts/checkpatch.pl \
		--no-tree --strict --quiet --show-types -f $(wildcard module/*.[ch]) \
		uapi/linux/*.h
	@echo "checkpatch: module/ and uapi/ clean"

sparse:
	$(Q)for k in $(KVERS); do \
	  rm -rf $(BUILD)/sparse-$$k && mkdir -p $(BUILD)/sparse-$$k && \
	  cp --parents $(MODULE_SRCS) $(BUILD)/sparse-$$k/ && \
	  $(MAKE) -s -C /lib/modules/$$k/build M=$(BUILD)/sparse-$$k C=1 W=1 \
		modules >$(BUILD)/sparse-$$k.log 2>&1 || { cat $(BUILD)/sparse-$$k.log; exit 1; }; \
	  if grep -E 'warning|error' $(BUILD)/sparse-$$k.log; then exit 1; fi; \
	  echo "sparse: clean on $$k"; \
	done

clean:
	$(Q)if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
	  $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)$(MAKE) -C tools clean
	$(Q)rm -rf $(BUILD)

help:
	@sed -n 's/^#   //p' Makefile
