# SPDX-License-Identifier: GPL-2.0
#
# tcp_closestat: build the module, the reader, the tests and the benchmark.
# `make help' lists the targets (the "## " comments below) and variables.
#
# The tree: module/ the kernel module, uapi/ the ABI it shares with its
# readers, tools/ closestat, selftests/ the tests with their workload
# driver, the benchmark (bench/) and the QEMU lane (qemu/), scripts/ the
# tree's helpers, Documentation/ the manuals.

KERNELRELEASE ?= $(shell uname -r)
# The running kernel's headers, else the first installed kernel's (said so).
KDIR ?= $(firstword $(wildcard /lib/modules/$(KERNELRELEASE)/build) \
		    $(wildcard /lib/modules/*/build))
# The kernels `make check' boots: every installed Debian 6.1 and 6.12 kernel.
KVERS ?= $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/6.1.*-amd64/build \
		/lib/modules/6.12.*-amd64/build)))
BUILD ?= $(CURDIR)/build
LINUX_SOURCE_VERSIONS ?= 6.1 6.12
# Every build of the module uses the same flags: W=1, and warnings are
# errors unless WERROR=0.
WERROR ?= 1
KBUILD_FLAGS := W=1 $(if $(filter 1,$(WERROR)),KCFLAGS=-Werror)

# The version (scripts/version.sh): from `git describe', or the VERSION file
# of a release tarball. Into MODULE_VERSION() through Kbuild.
VERSION := $(shell scripts/version.sh)
KBUILD_FLAGS += TCS_VERSION=$(VERSION)

# Where `make install' puts things, as in WireGuard's compat Makefile:
# every path can be overridden, DESTDIR stages an install.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# Debian (bookworm) keeps packaged units in /lib, systemd also reads
# /usr/local/lib/systemd/system.
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system
# DKMS looks for /usr/src/<name>-<version>, whatever the PREFIX.
DKMSDIR ?= /usr/src/tcp-closestat-$(VERSION)
INSTALL_MOD_DIR ?= updates
DEPMOD ?= depmod
INSTALL ?= install
# The release KDIR was built for: where modules_install puts the module.
# (Debian's 6.1 headers have 6.1.192 in include/config/kernel.release.)
KDIR_RELEASE := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# The kernel tree of a release: KDIR for its own, else the installed headers.
kdir_of = $(if $(filter $(1),$(KDIR_RELEASE)),$(KDIR),/lib/modules/$(1)/build)
UNITS := closestat-textfile.service closestat-textfile.timer

ifeq ($(V),1)
Q :=
else
Q := @
endif

MODULE_SRCS := Kbuild module/compat.mk $(wildcard module/*.[ch]) \
	       $(wildcard uapi/linux/*.h)

.PHONY: all module modules-all tools selftests deps ksrc check \
	check-installed demo demo-installed bench bench-installed bench-smoke \
	style sparse clean help install module-install tools-install \
	dkms-install uninstall dist deb check-package debug-kernel module-debug \
	check-debug check-debug-installed stress stress-installed \
	debug-kernel-start FORCE

all: module ## the module for KDIR (default target)

module: ## tcp_closestat.ko, built here against KDIR
	@test -n "$(KDIR)" && test -d "$(KDIR)" || { \
	  echo "tcp_closestat: no kernel headers at '$(KDIR)'." >&2; \
	  echo "  Install them (Debian: apt-get install linux-headers-\$$(uname -r))" >&2; \
	  echo "  or point KDIR at a configured kernel tree: make KDIR=/path" >&2; \
	  exit 2; }
	@case "$(KDIR)" in /lib/modules/$(KERNELRELEASE)/build) ;; *) \
	  echo "tcp_closestat: building against $(KDIR) (not the running kernel's headers)";; esac
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_FLAGS) modules

# One out-of-tree build directory per kernel: build/<release>/tcp_closestat.ko
$(BUILD)/%/tcp_closestat.ko: $(MODULE_SRCS) $(BUILD)/version
	$(Q)mkdir -p $(BUILD)/$*
	$(Q)cp --parents $(MODULE_SRCS) $(BUILD)/$*/
	$(Q)$(MAKE) -C $(call kdir_of,$*) M=$(BUILD)/$* $(KBUILD_FLAGS) modules

modules-all: ## the module for every kernel in KVERS, into BUILD/<release>/
modules-all: $(foreach k,$(KVERS),$(BUILD)/$(k)/tcp_closestat.ko)

# The module built from a doctored hooks table (selftests/doctor/rename.sed:
# __inet_accept renamed), for selftests/check_kernel.sh: loading it must
# fail, naming the function, and leave nothing registered.
$(BUILD)/%/doctored/tcp_closestat.ko: $(MODULE_SRCS) selftests/doctor/rename.sed
	$(Q)rm -rf $(BUILD)/$*/doctored
	$(Q)mkdir -p $(BUILD)/$*/doctored
	$(Q)cp --parents $(MODULE_SRCS) $(BUILD)/$*/doctored/
	$(Q)sed -f selftests/doctor/rename.sed uapi/linux/tcp_closestat_hooks.h \
		>$(BUILD)/$*/doctored/uapi/linux/tcp_closestat_hooks.h
	$(Q)$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/$*/doctored $(KBUILD_FLAGS) modules

tools: ## tools/closestat
	$(Q)$(MAKE) -C tools

selftests: ## the selftests, their drivers and the doctored module, into BUILD/
selftests: $(foreach k,$(KVERS),$(BUILD)/$(k)/doctored/tcp_closestat.ko)
	$(Q)$(MAKE) -C selftests BUILD=$(BUILD)

deps: ## install the Debian packages everything below needs
	$(Q)scripts/install-deps.sh

# Kernel sources for checkpatch and the kselftest headers.
ksrc: ## checkpatch and the kselftest headers, from linux-source
	$(Q)scripts/extract-ksrc.sh $(BUILD)/ksrc $(LINUX_SOURCE_VERSIONS)

# deps may install the kernels, so what follows it runs in a new make that
# finds them (KVERS is computed when a make starts).
check: deps ## deps, then check-installed (what CI runs)
	$(Q)$(MAKE) check-installed

# The debug kernel's subset runs last (CHECK_DEBUG=0 leaves it out): its
# kernel builds in the background, at nice 19, from the start, unless
# cached (scripts/build-debug-kernel.sh --start).
CHECK_DEBUG ?= 1

# First of check-installed's prerequisites: make builds them in order.
debug-kernel-start:
	$(Q)$(if $(filter 1,$(CHECK_DEBUG)),scripts/build-debug-kernel.sh --start)

check-installed: debug-kernel-start modules-all tools ksrc ## style, sparse, unit tests, fuzzing, every selftest on every kernel, the debug kernel's subset
	$(Q)$(MAKE) style sparse selftests
	$(Q)$(MAKE) -C tools check
	$(Q)$(MAKE) bench-smoke
	-$(Q)$(MAKE) check-package	# counted in check.sh's verdict (TCS_CHECK_KTAP)
	$(Q)TCS_DEBUG_PREPARE='$(MAKE) module-debug' \
		selftests/qemu/check.sh $(KVERS) $(if $(filter 1,$(CHECK_DEBUG)),debug)	# last: its last line is the verdict

# The debug kernel: built once from linux-source-6.12 into a cache outside
# the tree (scripts/build-debug-kernel.sh says where), and the module for it
# in build/debug/, built from a copy of the sources as modules-all does.
debug-kernel: ## build the debug kernel into its cache (once; Documentation/testing.rst)
	$(Q)scripts/build-debug-kernel.sh >/dev/null

module-debug: debug-kernel ## build/debug/tcp_closestat.ko for the debug kernel
	$(Q)mkdir -p $(BUILD)/debug
	$(Q)cp -u --parents $(MODULE_SRCS) $(BUILD)/debug/
	$(Q)tree=$$(scripts/build-debug-kernel.sh --dir) && \
	  $(MAKE) -C $$tree M=$(BUILD)/debug W=1 KCFLAGS=-Werror modules

check-debug: deps ## every selftest on the debug kernel (KASAN, lockdep, kmemleak, fault injection)
	$(Q)$(MAKE) check-debug-installed

check-debug-installed: module-debug tools ksrc ## check-debug without deps
	$(Q)$(MAKE) -C selftests BUILD=$(BUILD)
	$(Q)TCS_TEST_LIST=$(BUILD)/selftests/tests-debug-all.list \
		VM_TIMEOUT=$${VM_TIMEOUT:-14400} selftests/qemu/check.sh debug

# stress.sh alone, STRESS_CYCLES times per kernel ("debug" is the debug
# kernel, where a cycle takes many times longer).
STRESS_KVERS ?= $(KVERS)
STRESS_CYCLES ?= 100

stress: deps ## STRESS_CYCLES load/unload cycles under load on STRESS_KVERS
	$(Q)$(MAKE) stress-installed

stress-installed: modules-all tools $(if $(filter debug,$(STRESS_KVERS)),module-debug) ## stress without deps
	$(Q)$(MAKE) -C selftests BUILD=$(BUILD)
	$(Q)TCS_TEST_LIST=$(BUILD)/selftests/tests-stress.list \
		TCS_STRESS_CYCLES=$(STRESS_CYCLES) TCS_TEST_TIMEOUT=$${TCS_TEST_TIMEOUT:-7200} \
		VM_TIMEOUT=$${VM_TIMEOUT:-7500} selftests/qemu/check.sh $(STRESS_KVERS)

# check.sh counts check-package's KTAP in its verdict: a failure there
# fails `make check' without stopping the selftests.
check-installed: export TCS_CHECK_KTAP := $(BUILD)/package/check.ktap

check-package: modules-all tools ## install, DKMS and the Debian packages, on this host (root) and a guest per kernel
	$(Q)$(MAKE) -C selftests drivers BUILD=$(BUILD)
	$(Q)selftests/package/check.sh $(KVERS)

# The demo builds the module as README.md says (`make`), for the guest's kernel.
DEMO_KVER ?= $(lastword $(KVERS))

demo: deps ## deps, then demo-installed
	$(Q)$(MAKE) demo-installed

demo-installed: tools ## boot a guest, drive nginx + wrk, show closestat
	$(Q)$(MAKE) -C selftests drivers BUILD=$(BUILD)
	$(Q)$(MAKE) module KDIR=/lib/modules/$(DEMO_KVER)/build
	$(Q)TCS_KO=$(CURDIR)/tcp_closestat.ko selftests/qemu/run.sh $(DEMO_KVER) selftests/demo.sh

bench: deps ## deps, then bench-installed
	$(Q)$(MAKE) bench-installed

bench-installed: modules-all tools ## measure the cost (Documentation/performance.rst)
	$(Q)selftests/bench/bench.sh $(KVERS)

bench-smoke: modules-all tools ## every step of bench at tiny sizes, no timing judged
	$(Q)selftests/bench/bench.sh --smoke $(KVERS)

# Both fail on any finding: checkpatch (--strict) and sparse on every kernel.
style: ksrc ## checkpatch --strict over module/ and uapi/
	$(Q)$(BUILD)/ksrc/$(lastword $(LINUX_SOURCE_VERSIONS))/scripts/checkpatch.pl \
		--no-tree --strict --quiet --show-types -f $(wildcard module/*.[ch]) \
		uapi/linux/*.h
	@echo "checkpatch: module/ and uapi/ clean"

sparse: ## sparse (C=1) and W=1 over the module, on every kernel
	$(Q)for k in $(KVERS); do \
	  rm -rf $(BUILD)/sparse-$$k && mkdir -p $(BUILD)/sparse-$$k && \
	  cp --parents $(MODULE_SRCS) $(BUILD)/sparse-$$k/ && \
	  $(MAKE) -s -C /lib/modules/$$k/build M=$(BUILD)/sparse-$$k C=1 W=1 \
		modules >$(BUILD)/sparse-$$k.log 2>&1 || { cat $(BUILD)/sparse-$$k.log; exit 1; }; \
	  if grep -E 'warning|error' $(BUILD)/sparse-$$k.log; then exit 1; fi; \
	  echo "sparse: clean on $$k"; \
	done

# Rewritten only when the version changes: the modules depend on it.
$(BUILD)/version: FORCE
	$(Q)mkdir -p $(BUILD)
	$(Q)echo $(VERSION) >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

FORCE:

install: module-install tools-install ## module-install and tools-install

# Installs BUILD/<release>/tcp_closestat.ko, which modules-all also builds.
module-install: ## KDIR's module through modules_install into /lib/modules/<release>/updates, then depmod
	$(Q)test -n "$(KDIR_RELEASE)" || { \
	  echo "tcp_closestat: no kernel headers at '$(KDIR)' (make help: KDIR)" >&2; exit 2; }
	$(Q)$(MAKE) $(BUILD)/$(KDIR_RELEASE)/tcp_closestat.ko
	$(Q)$(MAKE) -C $(KDIR) M=$(BUILD)/$(KDIR_RELEASE) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	$(Q)if [ -z "$(DESTDIR)" ]; then $(DEPMOD) -a $(KDIR_RELEASE); else \
	  echo "DESTDIR set: run '$(DEPMOD) -a $(KDIR_RELEASE)' where it is installed"; fi

tools-install: tools ## closestat into SBINDIR, its man pages, the systemd units
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(UNITDIR)
	$(Q)$(INSTALL) -m 0755 tools/closestat $(DESTDIR)$(SBINDIR)/closestat
	$(Q)$(INSTALL) -m 0644 Documentation/man/closestat.8 $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 Documentation/man/tcp_closestat.4 $(DESTDIR)$(MANDIR)/man4/
	$(Q)for u in $(UNITS); do \
	  sed 's|@SBINDIR@|$(SBINDIR)|g' tools/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done

dkms-install: ## the module's source, dkms.conf and VERSION into DKMSDIR, for dkms add
	$(Q)for f in $(MODULE_SRCS); do \
	  $(INSTALL) -m 0644 -D $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; done
	$(Q)sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DESTDIR)$(DKMSDIR)/dkms.conf
	$(Q)echo $(VERSION) >$(DESTDIR)$(DKMSDIR)/VERSION
	$(Q)chmod 0644 $(DESTDIR)$(DKMSDIR)/dkms.conf $(DESTDIR)$(DKMSDIR)/VERSION

uninstall: ## remove what install put in place (KDIR, PREFIX, DESTDIR as for install)
	$(Q)rm -f $(foreach e,ko ko.xz ko.gz ko.zst,\
		$(DESTDIR)/lib/modules/$(KDIR_RELEASE)/$(INSTALL_MOD_DIR)/tcp_closestat.$(e))
	$(Q)if [ -z "$(DESTDIR)" ] && [ -d /lib/modules/$(KDIR_RELEASE) ]; then $(DEPMOD) -a $(KDIR_RELEASE); fi
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/closestat $(DESTDIR)$(MANDIR)/man8/closestat.8 \
		$(DESTDIR)$(MANDIR)/man4/tcp_closestat.4 $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))

dist: ## the release tarball BUILD/tcp-closestat-VERSION.tar.gz, with a VERSION file
	$(Q)scripts/dist.sh $(BUILD) $(VERSION)

deb: dist ## the tcp-closestat-dkms and closestat packages (dpkg-buildpackage), into BUILD/deb/
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	$(Q)tar -C $(BUILD)/deb -xzf $(BUILD)/tcp-closestat-$(VERSION).tar.gz
	$(Q)cd $(BUILD)/deb/tcp-closestat-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

clean: ## remove what the builds made
	$(Q)if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
	  $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)$(MAKE) -C tools clean
	$(Q)rm -rf $(BUILD)

help: ## this list
	@echo 'Targets:'
	@sed -n 's/^\([a-z-]*\):.*## \(.*\)/  \1\t\2/p' $(MAKEFILE_LIST) | expand -t 20
	@echo
	@echo 'Variables (make VAR=value):'
	@echo '  KDIR      kernel build tree for `make'"'"' ($(KDIR))'
	@echo '  KVERS     kernels of modules-all, check and bench ($(KVERS))'
	@echo '  BUILD     output directory ($(BUILD))'
	@echo '  WERROR    0: warnings do not fail the module build ($(WERROR))'
	@echo '  PREFIX    install prefix ($(PREFIX)); SBINDIR, MANDIR, UNITDIR below it'
	@echo '  DESTDIR   staging root for install, uninstall and dkms-install'
	@echo '  DKMSDIR   dkms-install target ($(DKMSDIR))'
	@echo '  VERSION   $(VERSION) (scripts/version.sh)'
	@echo '  V         1: show every command'
