#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the version of this tree, for MODULE_VERSION(), closestat
# --version, dkms.conf and the Debian packages:
#
#   scripts/version.sh [TREE]		(default: the tree this script is in)
#
# In a git checkout of the project, from `git describe --tags --always
# --dirty', with tags named vX.Y:
#
#   at tag v0.1				0.1
#   5 commits past v0.1			0.1+5.g1a2b3c4
#   no tag yet				0.0+245.g1a2b3c4  (245 commits in HEAD)
#   uncommitted changes			.dirty appended: 0.0+245.g1a2b3c4.dirty
#
# Debian's dpkg orders these as released ones should: every untagged
# version before 0.1, then each commit after a tag above it.  Elsewhere (a
# release tarball, the DKMS source under /usr/src) the first line of the
# VERSION file, which `make dist' and `make dkms-install' write.  Neither:
# 0.0+unknown.

set -eu

tree=$(cd "${1:-$(dirname "$0")/..}" && pwd -P)

from_git() {
	command -v git >/dev/null 2>&1 || return 1
	# Only the project's own repository, not one the tree was unpacked in.
	top=$(git -C "$tree" rev-parse --show-toplevel 2>/dev/null) || return 1
	[ "$(cd "$top" && pwd -P)" = "$tree" ] || return 1
	desc=$(git -C "$tree" describe --tags --always --dirty --match 'v[0-9]*' \
		--abbrev=7 2>/dev/null) || return 1

	dirty=
	case $desc in
	*-dirty) dirty=.dirty; desc=${desc%-dirty} ;;
	esac
	case $desc in
	v[0-9]*-[0-9]*-g[0-9a-f]*)
		# vX.Y-N-gHASH
		hash=${desc##*-g}
		rest=${desc%-g*}
		count=${rest##*-}
		tag=${rest%-*}
		echo "${tag#v}+$count.g$hash$dirty"
		;;
	v[0-9]*)
		tag=${desc#v}
		echo "$tag${dirty:++dirty}"
		;;
	*)
		# No tag: a bare abbreviated hash.
		count=$(git -C "$tree" rev-list --count HEAD)
		echo "0.0+$count.g$desc$dirty"
		;;
	esac
}

if ! from_git; then
	if [ -r "$tree/VERSION" ]; then
		head -n 1 "$tree/VERSION"
	else
		echo "0.0+unknown"
	fi
fi
