#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the release tarball of this tree:
#
#   scripts/dist.sh OUTDIR VERSION
#
# writes OUTDIR/tcp-closestat-VERSION.tar.gz, whose top directory is
# tcp-closestat-VERSION/, holding the files git tracks (their contents as
# in the work tree, so a .dirty version is what it says), a VERSION file
# that scripts/version.sh reads where there is no git, and
# debian/changelog's first entry set to VERSION, so that dpkg-buildpackage
# builds that version. Outside a git checkout (a tarball unpacked), every
# file but build/. Owners, order and times are fixed: the same tree gives
# the same tarball.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO

[[ $# -eq 2 ]] || { echo "usage: ${0##*/} OUTDIR VERSION" >&2; exit 2; }
out=$1
version=$2
name=tcp-closestat-$version

list_files() {
	local top

	if top=$(git -C "$REPO" rev-parse --show-toplevel 2>/dev/null) &&
	   [[ $(cd "$top" && pwd -P) == "$REPO" ]]; then
		# Tracked files still present (a deletion not yet committed
		# is left out).
		git -C "$REPO" ls-files -z | while IFS= read -r -d '' f; do
			[[ -e $REPO/$f ]] && printf '%s\0' "$f"
		done
	else
		(cd "$REPO" && find . -path ./build -prune -o -path ./.git -prune -o \
			-type f -printf '%P\0')
	fi
}

# The last commit's time, else the newest file's: the tarball's mtime.
stamp() {
	git -C "$REPO" log -1 --format=%ct 2>/dev/null ||
		(cd "$REPO" && find . -path ./build -prune -o -type f -printf '%T@\n' |
			sort -n | tail -n 1 | cut -d. -f1)
}

stage=

main() {
	local mtime

	mkdir -p "$out"
	out=$(cd "$out" && pwd -P)
	stage=$(mktemp -d "$out/dist.XXXXXX")
	trap 'rm -rf "$stage"' EXIT

	mkdir "$stage/$name"
	list_files | (cd "$REPO" && xargs -0 cp -a --parents -t "$stage/$name")
	echo "$version" >"$stage/$name/VERSION"
	sed -i "1s/^\(tcp-closestat\) ([^)]*)/\1 ($version)/" \
		"$stage/$name/debian/changelog"
	grep -q "^tcp-closestat ($version) " "$stage/$name/debian/changelog" || {
		echo "${0##*/}: debian/changelog: no first entry to set" >&2
		exit 1
	}

	mtime=$(stamp)
	tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="@$mtime" -cf - "$name" | gzip -9n >"$stage/$name.tar.gz"
	mv -f "$stage/$name.tar.gz" "$out/$name.tar.gz"
	echo "$out/$name.tar.gz"
}

main "$@"
