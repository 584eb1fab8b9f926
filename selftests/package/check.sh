#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-package: install, DKMS and the Debian packages, as an operator
# meets them. On this host, as root (it installs and removes them), then in
# a guest per kernel:
#
#   selftests/package/check.sh KVER...
#
#   make install DESTDIR PREFIX=/usr   exactly the expected files, per KVER
#   make uninstall                     none of them left
#   make dkms-install, dkms add,       each KVER's module built, installed,
#     build, install, remove           kept aside for the guest; then gone
#   make deb                           both packages
#   lintian                            no error, no warning
#   dpkg -c                            each package: exactly the expected files
#   apt-get install ./*.deb            DKMS built and installed each KVER's
#                                      module, of this version
#   man --warnings                     closestat(8), tcp_closestat(4)
#   systemd-analyze verify             the service and the timer
#   guest per KVER                     selftests/package/guest.sh: both DKMS
#                                      modules load and count exactly, node_
#                                      exporter serves closestat's series
#   apt-get remove                     the module, the DKMS tree and the files
#                                      are gone
#
# KTAP on stdout, the guests' nested under "# ", each step's seconds in a
# diagnostic; a copy in build/package/check.ktap, which
# selftests/qemu/check.sh counts in `make check''s verdict. Last line:
#   check-package: N passed, N failed
# Whatever it installed is removed again, also on failure.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE
# shellcheck source=selftests/lib.sh
. "$HERE/../lib.sh"	# sets REPO

readonly OUT=$REPO/build/package
readonly KTAP=$OUT/check.ktap
readonly APT_OPTS=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
readonly PKGS=(closestat tcp-closestat-dkms)
readonly UNITS=(closestat-textfile.service closestat-textfile.timer)
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive

VERSION=
KVERS=()
TMP=
added_dkms=
made_src=
installed_pkgs=
made_mok=

cleanup() {
	if [ -n "$installed_pkgs" ]; then
		apt-get purge "${APT_OPTS[@]}" "${PKGS[@]}" >"$TMP/cleanup.log" 2>&1 ||
			echo "# cleanup: apt-get purge failed" >&2
	fi
	if [ -n "$added_dkms" ] && [ -d "/var/lib/dkms/tcp-closestat/$VERSION" ]; then
		dkms remove -m tcp-closestat -v "$VERSION" --all >/dev/null 2>&1
	fi
	[ -n "$made_src" ] && rm -rf "/usr/src/tcp-closestat-$VERSION"
	# The signing key DKMS made at its first build, if this run caused it.
	[ -n "$made_mok" ] && rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	[ -n "$TMP" ] && rm -rf "$TMP"
	return 0
}

# step NAME CMD...: one KTAP result, with the seconds CMD took.
step() {
	local name=$1 t0 t1 rc
	shift

	t0=${EPOCHREALTIME/[.,]/}
	fails=0
	"$@"
	rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	ktap_diag "$name: $(((t1 - t0) / 1000000)).$((((t1 - t0) / 100000) % 10)) s"
	if [ "$rc" -eq 0 ]; then
		ktap_ok "$name"
	else
		ktap_fail "$name"
	fi
}

# run LOG CMD...: CMD's output to LOG; on failure, its tail as diagnostics.
run() {
	local log=$1
	shift

	"$@" >"$log" 2>&1 && return 0
	ktap_diag "failed: $*"
	tail -n 40 "$log" | sed 's/^/#   | /'
	return 1
}

# The suffix modules_install and DKMS give a module of KVER.
ko_suffix() {
	case $(grep -E '^CONFIG_MODULE_COMPRESS_(XZ|ZSTD|GZIP)=y' "/boot/config-$1") in
	*XZ*)	echo .ko.xz ;;
	*ZSTD*)	echo .ko.zst ;;
	*GZIP*)	echo .ko.gz ;;
	*)	echo .ko ;;
	esac
}

files_under() {
	(cd "$1" && find . ! -type d | sed 's|^\./|/|' | LC_ALL=C sort)
}

test_install() {
	local k d=$TMP/destdir want

	rm -rf "$d"
	for k in "${KVERS[@]}"; do
		run "$TMP/install-$k.log" make -C "$REPO" install DESTDIR="$d" \
			PREFIX=/usr KDIR="/lib/modules/$k/build" || return 1
	done
	want=$(
		for k in "${KVERS[@]}"; do
			echo "/lib/modules/$k/updates/tcp_closestat$(ko_suffix "$k")"
		done
		printf '/lib/systemd/system/%s\n' "${UNITS[@]}"
		echo /usr/sbin/closestat
		echo /usr/share/man/man4/tcp_closestat.4
		echo /usr/share/man/man8/closestat.8
	)
	expect "files installed" "$(files_under "$d")" "$(LC_ALL=C sort <<<"$want")"
	ktap_diag "installed: $(files_under "$d" | tr '\n' ' ')"
	expect "ExecStart" "$(grep '^ExecStart=' "$d/lib/systemd/system/closestat-textfile.service")" \
		"ExecStart=/usr/sbin/closestat --prom --output=/var/lib/prometheus/node-exporter/tcp_closestat.prom"
	expect "installed closestat --version" "$("$d/usr/sbin/closestat" --version)" \
		"closestat $VERSION"
	for k in "${KVERS[@]}"; do
		expect "$k module version" "$(modinfo -F version \
			"$d/lib/modules/$k/updates/tcp_closestat$(ko_suffix "$k")")" "$VERSION"
	done
	finish
}

test_uninstall() {
	local k d=$TMP/destdir

	for k in "${KVERS[@]}"; do
		run "$TMP/uninstall-$k.log" make -C "$REPO" uninstall DESTDIR="$d" \
			PREFIX=/usr KDIR="/lib/modules/$k/build" || return 1
	done
	expect "files left" "$(files_under "$d")" ""
	finish
}

dkms_installed_file() {
	ls "/lib/modules/$1/updates/dkms/tcp_closestat$(ko_suffix "$1")" 2>/dev/null
}

test_dkms_source() {
	local k file

	[ -e "/usr/src/tcp-closestat-$VERSION" ] && return 1
	made_src=1
	run "$TMP/dkms-install.log" make -C "$REPO" dkms-install || return 1
	expect "dkms.conf version" "$(sed -n 's/^PACKAGE_VERSION=//p' \
		"/usr/src/tcp-closestat-$VERSION/dkms.conf")" "\"$VERSION\""
	added_dkms=1
	run "$TMP/dkms-add.log" dkms add -m tcp-closestat -v "$VERSION" || return 1
	rm -rf "$OUT/dkms-src"
	for k in "${KVERS[@]}"; do
		run "$TMP/dkms-build-$k.log" dkms build -m tcp-closestat -v "$VERSION" -k "$k" ||
			return 1
		run "$TMP/dkms-install-$k.log" dkms install -m tcp-closestat -v "$VERSION" -k "$k" ||
			return 1
		expect "$k: dkms status" "$(dkms status -m tcp-closestat -v "$VERSION" -k "$k" 2>/dev/null)" \
			"tcp-closestat/$VERSION, $k, x86_64: installed"
		file=$(dkms_installed_file "$k")
		expect "$k: modinfo version" "$(modinfo -F version "$file" 2>/dev/null)" "$VERSION"
		expect "$k: modinfo vermagic" "$(modinfo -F vermagic "$file" 2>/dev/null | cut -d' ' -f1)" "$k"
		mkdir -p "$OUT/dkms-src/$k"
		cp "$file" "$OUT/dkms-src/$k/" || return 1
		ktap_diag "$k: $file"
	done
	run "$TMP/dkms-remove.log" dkms remove -m tcp-closestat -v "$VERSION" --all || return 1
	added_dkms=
	rm -rf "/usr/src/tcp-closestat-$VERSION"
	made_src=
	expect "dkms tree left" "$(ls -d /var/lib/dkms/tcp-closestat 2>/dev/null)" ""
	for k in "${KVERS[@]}"; do
		expect "$k: module left" "$(dkms_installed_file "$k")" ""
	done
	finish
}

test_deb() {
	run "$TMP/deb.log" make -C "$REPO" deb || return 1
	ktap_diag "built: $(cd "$REPO/build/deb" && echo ./*.deb | sed 's|\./||g')"
}

test_lintian() {
	local rc=0

	lintian -I --fail-on error,warning "$REPO"/build/deb/*.changes \
		>"$TMP/lintian.log" 2>&1 || rc=$?
	ktap_diag "lintian -I $(cd "$REPO/build/deb" && echo ./*.changes | sed 's|\./||g') (exit status $rc):"
	sed 's/^/#   | /' "$TMP/lintian.log"
	[ -s "$TMP/lintian.log" ] || ktap_diag "  (no output: no tag, not even info)"
	return "$rc"
}

# The files of a package; docs without the .gz that dh_compress adds to
# those over 4 KiB.
deb_files() {
	dpkg -c "$1" | awk '$1 !~ /^d/ { print $6 }' |
		sed -E 's#^\./#/#; s#^(/usr/share/doc/.*\.(md|rst))\.gz$#\1#' | LC_ALL=C sort
}

test_contents() {
	local deb want src=/usr/src/tcp-closestat-$VERSION

	deb=$(ls "$REPO"/build/deb/closestat_"$VERSION"_*.deb) || return 1
	ktap_diag "dpkg -c ${deb##*/}:"
	dpkg -c "$deb" | sed 's/^/#   | /'
	want=$(
		printf '/lib/systemd/system/%s\n' "${UNITS[@]}"
		echo /usr/sbin/closestat
		echo /usr/share/man/man4/tcp_closestat.4.gz
		echo /usr/share/man/man8/closestat.8.gz
		printf '/usr/share/doc/closestat/%s\n' README.md admin-guide.rst \
			closestat.rst tcp_closestat.rst changelog.gz copyright
	)
	expect "closestat files" "$(deb_files "$deb")" "$(LC_ALL=C sort <<<"$want")"

	deb=$(ls "$REPO/build/deb/tcp-closestat-dkms_${VERSION}_all.deb") || return 1
	ktap_diag "dpkg -c ${deb##*/}:"
	dpkg -c "$deb" | sed 's/^/#   | /'
	want=$(
		# shellcheck disable=SC2016 # make's $(...)
		make -s --no-print-directory -C "$REPO" \
			--eval 'print-srcs: ; @printf "%s\n" $(MODULE_SRCS)' print-srcs |
			sed "s|^|$src/|"
		echo "$src/VERSION"
		echo "$src/dkms.conf"
		printf '/usr/share/doc/tcp-closestat-dkms/%s\n' changelog.gz copyright
	)
	expect "tcp-closestat-dkms files" "$(deb_files "$deb")" "$(LC_ALL=C sort <<<"$want")"
	finish
}

test_apt_install() {
	local k file

	installed_pkgs=1
	run "$TMP/apt-install.log" apt-get install "${APT_OPTS[@]}" \
		"$REPO"/build/deb/closestat_"$VERSION"_*.deb \
		"$REPO/build/deb/tcp-closestat-dkms_${VERSION}_all.deb" || return 1
	grep -E '^(Building for|Building initial module|Done\.|Loading new)' \
		"$TMP/apt-install.log" | sed 's/^/#   | /'
	for k in "${KVERS[@]}"; do
		expect "$k: dkms status" "$(dkms status -m tcp-closestat -v "$VERSION" -k "$k" 2>/dev/null)" \
			"tcp-closestat/$VERSION, $k, x86_64: installed"
		file=$(modinfo -k "$k" -F filename tcp_closestat 2>/dev/null)
		expect "$k: modinfo filename" "$file" \
			"/lib/modules/$k/updates/dkms/tcp_closestat$(ko_suffix "$k")"
		expect "$k: modinfo version" "$(modinfo -k "$k" -F version tcp_closestat 2>/dev/null)" "$VERSION"
	done
	expect "closestat --version" "$(/usr/sbin/closestat --version)" "closestat $VERSION"
	finish
}

test_man() {
	local page out

	for page in "8 closestat" "4 tcp_closestat"; do
		# shellcheck disable=SC2086 # section and name
		out=$(MANWIDTH=80 man --warnings $page 2>&1 >"$TMP/man.txt") ||
			{ expect "man $page: exit status" "$?" 0; continue; }
		expect "man --warnings $page" "$out" ""
		[ -s "$TMP/man.txt" ] || expect "man $page: rendered" "" "a page"
	done
	finish
}

test_units() {
	local out

	out=$(cd / && systemd-analyze verify "${UNITS[@]/#//lib/systemd/system/}" 2>&1) ||
		{ printf '%s\n' "$out" | sed 's/^/#   | /'; return 1; }
	expect "systemd-analyze verify" "$out" ""
	finish
}

test_guest() {
	local k=$1 ko

	ko=$(ls "$OUT/dkms-src/$k/"tcp_closestat.ko*) || return 1
	TCS_PKG_VERSION=$VERSION TCS_PKG_SRC_KO=$ko TCS_CHURN=$REPO/build/selftests/churn \
		"$REPO/selftests/qemu/run.sh" "$k" selftests/package/guest.sh 2>&1 |
		sed -u 's/^/# /'
	return "${PIPESTATUS[0]}"
}

test_apt_remove() {
	local k

	run "$TMP/apt-remove.log" apt-get remove "${APT_OPTS[@]}" "${PKGS[@]}" || return 1
	expect "dkms status" "$(dkms status -m tcp-closestat 2>/dev/null)" ""
	expect "DKMS tree" "$(ls -d /var/lib/dkms/tcp-closestat /usr/src/tcp-closestat-* 2>/dev/null)" ""
	for k in "${KVERS[@]}"; do
		expect "$k: module left" "$(ls /lib/modules/"$k"/updates/dkms/tcp_closestat.ko* 2>/dev/null)" ""
		expect "$k: modinfo" "$(modinfo -k "$k" -F filename tcp_closestat 2>/dev/null)" ""
	done
	expect "closestat left" "$(ls /usr/sbin/closestat /lib/systemd/system/closestat-textfile.* 2>/dev/null)" ""
	run "$TMP/apt-purge.log" apt-get purge "${APT_OPTS[@]}" "${PKGS[@]}" || return 1
	installed_pkgs=
	expect "dpkg status" "$(dpkg-query -W -f='${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null |
		grep -v '^not-installed$')" ""
	finish
}

main() {
	local k t0 t1 p

	[ $# -ge 1 ] || { echo "usage: ${0##*/} KVER..." >&2; exit 2; }
	KVERS=("$@")
	VERSION=$("$REPO/scripts/version.sh")
	t0=$EPOCHSECONDS

	ktap_header
	[ "$(id -u)" -eq 0 ] || ktap_skip_all "needs root: installs packages and modules"
	ktap_plan $((10 + ${#KVERS[@]}))
	ktap_diag "version $VERSION, kernels ${KVERS[*]}"
	for p in dkms dpkg-buildpackage lintian apt-get systemd-analyze man modinfo \
		 promtool prometheus-node-exporter; do
		command -v "$p" >/dev/null || ktap_bail_out "$p missing (make deps)"
	done
	if dpkg-query -W -f='${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null | grep -qv '^not-installed$' ||
	   [ -e /var/lib/dkms/tcp-closestat ]; then
		ktap_bail_out "tcp-closestat is already installed here (dpkg or dkms): remove it first"
	fi
	[ -e /var/lib/dkms/mok.key ] || made_mok=1
	TMP=$(mktemp -d /tmp/check-package.XXXXXX)
	trap cleanup EXIT
	trap "exit 130" INT TERM

	step "make install DESTDIR PREFIX=/usr: the expected files" test_install
	step "make uninstall: none left" test_uninstall
	step "make dkms-install; dkms add, build, install on each kernel, remove" test_dkms_source
	step "make deb" test_deb
	step "lintian: no error, no warning" test_lintian
	step "dpkg -c: the expected files in each package" test_contents
	step "apt-get install ./*.deb: DKMS built the module for each kernel" test_apt_install
	step "man --warnings: closestat(8), tcp_closestat(4)" test_man
	step "systemd-analyze verify: the service and the timer" test_units
	for k in "${KVERS[@]}"; do
		step "guest $k: both DKMS modules, node_exporter textfile" test_guest "$k"
	done
	step "apt-get remove: module, DKMS tree and files gone" test_apt_remove

	t1=$EPOCHSECONDS
	ktap_diag "check-package: $((t1 - t0)) s"
	ktap_totals
	echo "check-package: $KTAP_CNT_PASS passed, $KTAP_CNT_FAIL failed"
	[ "$KTAP_CNT_FAIL" -eq 0 ] && [ $((KTAP_TESTNO - 1)) -eq "$KTAP_PLAN" ]
}

mkdir -p "$OUT"
main "$@" | tee "$KTAP.tmp"
rc=${PIPESTATUS[0]}
mv -f "$KTAP.tmp" "$KTAP"
exit "$rc"
