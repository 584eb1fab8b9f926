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
#   CACHE/start.log                  the output of the last --start
#
# CACHE is $TCS_CACHE/debug-kernel, TCS_CACHE defaulting to
# /var/cache/tcp_closestat (or ~/.cache/tcp_closestat where that is not
# writable).  <key> is the sha256
# of the config fragment (selftests/qemu/debug.config), the
# linux-source-6.12 package's version, this script's build() and
# scripts/check-kconfig.sh: changing any of them builds a new tree next to
# the old ones, which are left for the user to remove.
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

	if [[ -z ${TCS_CACHE:-} ]] && ! mkdir -p "$root" 2>/dev/null; then
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
		declare -f build
		cat "$CHECK"
	} | sha256sum | cut -c1-16
}

build() {
	local dest=$1 tmp tree t0 t1 jobs

	jobs=$(nproc)
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	# A failed or interrupted build leaves nothing behind.
	trap 'rm -rf "$tmp"' EXIT
	tree=$tmp/linux
	mkdir "$tree"
	t0=$(date +%s)
	echo "$SELF: building the debug kernel in $dest (a cold build takes a while; log: $dest.tmp.*/build.log)" >&2
	{
		echo "== $TARBALL ($(source_version)), fragment $FRAGMENT"
		tar -xJf "$TARBALL" -C "$tree" --strip-components=1
		make -C "$tree" -s allnoconfig
		# merge_config.sh keeps its temporary files in the current
		# directory
		(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT")
		make -C "$tree" -s olddefconfig
	} >"$tmp/build.log" 2>&1 || {
		tail -n 30 "$tmp/build.log" >&2
		die "configuring the kernel failed"
	}
	"$CHECK" "$FRAGMENT" "$tree/.config" >>"$tmp/build.log" 2>&1 || {
		grep "^${CHECK##*/}:" "$tmp/build.log" >&2
		die "the configuration lacks options of ${FRAGMENT#"$REPO"/}"
	}
	make -C "$tree" -j"$jobs" >>"$tmp/build.log" 2>&1 || {
		tail -n 40 "$tmp/build.log" >&2
		die "the kernel build failed (log: $tmp/build.log, removed)"
	}
	[[ -r $tree/arch/x86/boot/bzImage && -r $tree/Module.symvers ]] ||
		die "the build made no bzImage or Module.symvers"
	t1=$(date +%s)
	echo "$((t1 - t0))" >"$tmp/build-seconds"
	make -C "$tree" -s kernelrelease >"$tmp/kernelrelease"
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
			setsid nice -n 19 "${BASH_SOURCE[0]}" \
				</dev/null >"$cache/start.log" 2>&1 &
			echo "$SELF: building the debug kernel in the background (log: $cache/start.log)" >&2
			exit 0
		fi
		# One build at a time; a second caller waits, then finds it.
		exec 9>"$cache/.lock"
		flock 9
		[[ -e $dest/linux/arch/x86/boot/bzImage ]] || build "$dest"
		exec 9>&-
	fi
	[[ $mode != start ]] || exit 0
	echo "$dest/linux"
}

main "$@"
