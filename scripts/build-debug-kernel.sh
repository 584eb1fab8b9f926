#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel of the QEMU lane (KASAN, UBSAN, kmemleak, lockdep,
# debug objects, fault injection) from Debian's linux-source-6.12, into a
# cache outside the repository, and print the kernel tree's path:
#
#   scripts/build-debug-kernel.sh          build unless cached; print TREE
#   scripts/build-debug-kernel.sh --dir    print TREE if built, else fail
#   scripts/build-debug-kernel.sh --start  build in the background, at nice
#                                          19, unless cached; return at once
#                                          (a later call without an option
#                                          waits for that build and prints
#                                          TREE)
#
#   CACHE/<key>/linux/               the configured and built kernel tree:
#                                    arch/x86/boot/bzImage, and what
#                                    `make -C TREE M=DIR modules' needs
#   CACHE/<key>/build.log            the build's output
#   CACHE/<key>/build-seconds        how long the build took
#   CACHE/start.log                  the output of the background builds
#                                    (--start), appended
#   CACHE/failed-build.log           the log of the last build that failed
#
# CACHE is $TCS_CACHE/debug-kernel, TCS_CACHE defaulting to
# /var/cache/tcp_closestat (or ~/.cache/tcp_closestat where that is not
# writable).  <key> is the sha256
# of the config fragment (selftests/qemu/debug.config), the
# linux-source-6.12 package's version, gcc's version, this script's
# build() and kmake() and scripts/check-kconfig.sh: changing any of them
# builds a new tree next to the old ones, which are left for the user to
# remove.
#
# The configuration: `make allnoconfig', the fragment merged with
# scripts/kconfig/merge_config.sh -m, `make olddefconfig', then
# scripts/check-kconfig.sh fails the build if olddefconfig dropped an
# option of the fragment.  Then `make -j$(nproc)': bzImage and
# Module.symvers.

set -euo pipefail

readonly SELF=${0##*/}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO
readonly KVER_SRC=6.12
readonly TARBALL=/usr/src/linux-source-$KVER_SRC.tar.xz
readonly FRAGMENT=$REPO/selftests/qemu/debug.config
readonly CHECK=$REPO/scripts/check-kconfig.sh

die() {
	echo "$SELF: $*" >&2
	exit 1
}

cache_root() {
	local root=${TCS_CACHE:-/var/cache/tcp_closestat}

	if [[ -z ${TCS_CACHE:-} ]] &&
	   ! { mkdir -p "$root" 2>/dev/null && [[ -w $root ]]; }; then
		root=${XDG_CACHE_HOME:-$HOME/.cache}/tcp_closestat
	fi
	echo "$root/debug-kernel"
}

# The version of the package the tarball came from, else its size and time.
source_version() {
	dpkg-query -W -f='${Version}' "linux-source-$KVER_SRC" 2>/dev/null ||
		stat -c '%s %Y' "$TARBALL"
}

cache_key() {
	{
		cat "$FRAGMENT"
		source_version
		echo
		gcc --version | head -n 1
		declare -f build kmake
		cat "$CHECK"
	} | sha256sum | cut -c1-16
}

# make for the kernel tree, without what a calling make (make check
# CC=clang V=1 ...) passes down in its environment: the cached tree must
# not depend on who asked for it.
kmake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make "$@"
}

build() {
	local dest=$1 tmp tree t0 t1 jobs

	jobs=$(nproc)
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	# A failed or interrupted build leaves its log, nothing else.
	trap 'cp -f "$tmp/build.log" "${dest%/*}/failed-build.log" 2>/dev/null; rm -rf "$tmp"' EXIT
	tree=$tmp/linux
	mkdir "$tree"
	t0=$(date +%s)
	echo "$SELF: building the debug kernel in $dest (a cold build takes a while; log: $dest.tmp.*/build.log)" >&2
	{
		echo "== $TARBALL ($(source_version)), fragment $FRAGMENT"
		tar -xJf "$TARBALL" -C "$tree" --strip-components=1
		kmake -C "$tree" -s allnoconfig
		# merge_config.sh keeps its temporary files in the current
		# directory
		(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT")
		kmake -C "$tree" -s olddefconfig
	} >"$tmp/build.log" 2>&1 || {
		tail -n 30 "$tmp/build.log" >&2
		die "configuring the kernel failed (log: ${dest%/*}/failed-build.log)"
	}
	"$CHECK" "$FRAGMENT" "$tree/.config" >>"$tmp/build.log" 2>&1 || {
		grep "^${CHECK##*/}:" "$tmp/build.log" >&2 || true
		die "the configuration lacks options of ${FRAGMENT#"$REPO"/}"
	}
	kmake -C "$tree" -j"$jobs" >>"$tmp/build.log" 2>&1 || {
		tail -n 40 "$tmp/build.log" >&2
		die "the kernel build failed (log: ${dest%/*}/failed-build.log)"
	}
	[[ -r $tree/arch/x86/boot/bzImage && -r $tree/Module.symvers ]] ||
		die "the build made no bzImage or Module.symvers"
	t1=$(date +%s)
	echo "$((t1 - t0))" >"$tmp/build-seconds"
	kmake -C "$tree" -s kernelrelease >"$tmp/kernelrelease"
	# mktemp -d made it 0700; users other than the builder boot it too
	chmod 755 "$tmp"
	mv "$tmp" "$dest"
	trap - EXIT
	echo "$SELF: built $(cat "$dest/kernelrelease") in $((t1 - t0)) s" >&2
}

main() {
	local mode=build cache dest

	case ${1:-} in
	--dir)	mode=dir ;;
	--start) mode=start ;;
	"")	;;
	*)	echo "usage: $SELF [--dir | --start]" >&2; exit 2 ;;
	esac

	[[ -r $TARBALL ]] ||
		die "$TARBALL missing (apt-get install linux-source-$KVER_SRC)"
	cache=$(cache_root)
	dest=$cache/$(cache_key)
	if [[ ! -e $dest/linux/arch/x86/boot/bzImage ]]; then
		[[ $mode != dir ]] ||
			die "no debug kernel in $dest: run scripts/build-debug-kernel.sh (or make debug-kernel)"
		mkdir -p "$cache" || die "cannot create $cache (set TCS_CACHE)"
		if [[ $mode == start ]]; then
			# `make check' starts the build before the stock
			# kernels' guests, whose emulated CPU leaves the other
			# core idle; at nice 19 the build yields to them.
			# It goes on if its caller stops, and leaves the tree
			# in the cache for the next run.
			echo "== $(date -u '+%F %T') --start, pid $$" >>"$cache/start.log"
			setsid nice -n 19 "${BASH_SOURCE[0]}" \
				</dev/null >>"$cache/start.log" 2>&1 &
			echo "$SELF: building the debug kernel in the background (log: $cache/start.log)" >&2
			exit 0
		fi
		# One build at a time; a second caller waits, then finds it.
		exec 9>"$cache/.lock"
		flock 9
		if [[ ! -e $dest/linux/arch/x86/boot/bzImage ]]; then
			# Under the lock, no other build runs: what a killed one
			# left is garbage.
			rm -rf "$cache"/*.tmp.*
			build "$dest"
		fi
		exec 9>&-
	fi
	[[ $mode != start ]] || exit 0
	echo "$dest/linux"
}

main "$@"
