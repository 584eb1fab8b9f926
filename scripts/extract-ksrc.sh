#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Take the few kernel source files the project uses from Debian's
# linux-source-V packages, never copied into the repository:
#
#   scripts/extract-ksrc.sh DEST V...
#
# gives DEST/V/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch}
# and DEST/V/tools/testing/selftests/{kselftest.h,kselftest_harness.h,
# kselftest/} from /usr/src/linux-source-V.tar.xz. A version already
# extracted from the same tarball is left alone.

set -euo pipefail

readonly SELF=${0##*/}
readonly FILES=(
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
)
# Optional: runner.sh, ktap_helpers.sh (6.9+), ...
readonly OPTIONAL_DIR=tools/testing/selftests/kselftest

extract() {
	local dest=$1 ver=$2 tarball stamp tmp prefix f

	tarball=/usr/src/linux-source-$ver.tar.xz
	stamp=$dest/$ver/.extracted
	[[ -r $tarball ]] || {
		echo "$SELF: $tarball missing (apt-get install linux-source-$ver)" >&2
		return 1
	}
	[[ -e $stamp && ! $tarball -nt $stamp ]] && return 0

	echo "$SELF: extracting from $tarball"
	prefix=linux-source-$ver
	tmp=$(mktemp -d "$dest/.$ver.XXXXXX")
	# The optional directory may be absent: tar then reports "Not found in
	# archive" and fails, so check for the required files ourselves.
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards \
		"${FILES[@]/#/$prefix/}" "$prefix/$OPTIONAL_DIR/*" 2>"$tmp.err" || true
	for f in "${FILES[@]}"; do
		if [[ ! -e $tmp/$f ]]; then
			cat "$tmp.err" >&2
			echo "$SELF: $f not found in $tarball" >&2
			rm -rf "$tmp" "$tmp.err"
			return 1
		fi
	done
	rm -f "$tmp.err"
	touch "$tmp/.extracted"
	rm -rf "${dest:?}/$ver"
	mv "$tmp" "$dest/$ver"
}

main() {
	local dest ver

	[[ $# -ge 2 ]] || { echo "usage: $SELF DEST VERSION..." >&2; exit 2; }
	dest=$1
	shift
	mkdir -p "$dest"
	for ver in "$@"; do
		extract "$dest" "$ver"
	done
}

main "$@"
