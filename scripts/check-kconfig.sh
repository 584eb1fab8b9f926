#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that a kernel .config has every option of a config fragment:
#
#   scripts/check-kconfig.sh FRAGMENT DOTCONFIG
#
# scripts/kconfig/merge_config.sh -m followed by `make olddefconfig' drops,
# without a word, an option whose dependencies are not met.  Every
# "CONFIG_FOO=value" line of FRAGMENT must be in DOTCONFIG as written, and
# every "# CONFIG_FOO is not set" must be unset there (absent or "is not
# set").  Prints each option that did not make it, with what DOTCONFIG has
# instead, and exits 1 if there is any.

set -euo pipefail

readonly SELF=${0##*/}

main() {
	local fragment=$1 dotconfig=$2 line sym want have missing=0 n=0

	[[ -r $fragment && -r $dotconfig ]] || {
		echo "usage: $SELF FRAGMENT DOTCONFIG" >&2
		exit 2
	}
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]}
			want=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			want=n
		else
			continue
		fi
		n=$((n + 1))
		have=$(sed -n -e "s/^$sym=//p" -e "s/^# $sym is not set\$/n/p" \
			"$dotconfig" | tail -n 1)
		[[ -z $have && $want == n ]] && have=n
		if [[ $have != "$want" ]]; then
			echo "$SELF: $sym: want ${want}, have ${have:-nothing (dependencies not met)}" >&2
			missing=$((missing + 1))
		fi
	done <"$fragment"

	if [[ $missing -ne 0 ]]; then
		echo "$SELF: $missing of the $n options of $fragment are not in $dotconfig" >&2
		exit 1
	fi
	echo "$SELF: all $n options of ${fragment##*/} set"
}

main "$@"
