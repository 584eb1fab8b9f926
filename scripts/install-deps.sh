#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian (bookworm) packages that building the module for every
# supported kernel, booting those kernels under QEMU and running the tests
# and the benchmark need. Does nothing, quickly, when all are installed.

set -euo pipefail

readonly PACKAGES=(
	# the kernels the tests boot, and their headers
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	# the guest: emulator, initramfs, module tools
	qemu-system-x86 busybox-static kmod cpio xz-utils zstd
	# checkpatch and the kselftest headers come from the kernel sources
	linux-source-6.1 linux-source-6.12
	# the debug kernel, built from linux-source-6.12
	# (scripts/build-debug-kernel.sh)
	flex bison bc libelf-dev libssl-dev
	# build and static checks
	make gcc libc6-dev sparse clang libclang-rt-dev	# libFuzzer, ASan, UBSan runtimes
	bpftool libbpf-dev				# the selftests' BPF witness
	perl						# checkpatch.pl
	# used inside the guest
	iproute2 procps python3 nginx-light wrk bpftrace netbase
	# make deb, make check-package: packaging, DKMS, lintian, man pages,
	# the units, node_exporter and promtool (in prometheus, whose server
	# starts on installation where systemd runs: see the admin guide)
	dpkg-dev debhelper dh-dkms dkms fakeroot lintian man-db systemd curl
	prometheus-node-exporter prometheus
)

missing_packages() {
	local pkg status

	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[[ $status == installed ]] || echo "$pkg"
	done
}

main() {
	local missing sudo=()

	mapfile -t missing < <(missing_packages)
	[[ ${#missing[@]} -eq 0 ]] && return 0

	if [[ $(id -u) -ne 0 ]]; then
		if command -v sudo >/dev/null; then
			sudo=(sudo)
		else
			echo "install-deps.sh: missing packages: ${missing[*]}" >&2
			echo "  as root, run: apt-get update &&" \
			     "apt-get install --no-install-recommends ${missing[*]}" >&2
			exit 1
		fi
	fi

	echo "install-deps.sh: installing ${missing[*]}"
	"${sudo[@]}" apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

main "$@"
