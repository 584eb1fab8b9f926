#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel under QEMU (TCG) on a read-only view of this machine's
# root filesystem and run one command in it, as root, from the repository.
#
#   selftests/qemu/run.sh KVER CMD [ARGS...]
#
# KVER is an installed Debian kernel (/boot/vmlinuz-KVER, its modules from
# /lib/modules/KVER), or "debug": the debug kernel that
# scripts/build-debug-kernel.sh built (KASAN, UBSAN, kmemleak, lockdep,
# fault injection; everything the guest needs built in, nothing loaded
# from /lib/modules; VM_KERNEL_TREE=DIR boots another such tree).  For
# "debug", TCS_KO defaults to build/debug/tcp_closestat.ko.
#
#   host                              guest (the kernel of KVER)
#   /           -- 9p hostroot, ro -->  /, moved onto / (not a chroot), fresh /proc,
#                                       /sys, /dev and tmpfs on /tmp, /run
#   the repo    -- 9p repo, ro ------>  the same path (the repo may live
#                                       under /tmp, which the tmpfs hides)
#   RUN/share   -- 9p vmrun, rw ----->  /run/vm: repo, cmd in; status out
#   RUN/console.log  <-- ttyS0 -------  kernel console
#   stdout <- tail -f RUN/output <----  ttyS1: CMD's stdout and stderr
#
#   (RUN is build/qemu/KVER/run.XXXXXX, removed at exit)
#
# Exit status: CMD's, or 1 if the guest panicked (oops, WARN with
# panic_on_warn), timed out, never reported a status, or its kernel
# reported a problem on the console without panicking (a lockdep, RCU,
# might_sleep, UBSAN, KASAN, debug objects or kmemleak report: the
# patterns of selftests/kernel_reports.sh); the console's tail then goes
# to stderr, after the first report it holds.  The last console log is
# kept in build/qemu/KVER/console.log.
#
# A guest that dies before the command starts (a panic while the kernel
# boots, before init has written RUN/share/started) is booted again, up to
# VM_BOOT_TRIES times in all (default 2): a boot is not what the command
# tests, and under TCG the debug kernel has once panicked in CI while it
# booted (Documentation/testing.rst).  Each such boot is said on stderr,
# with its console's first report, and its console log kept as
# build/qemu/KVER/console-boot-N.log.
#
# Environment: VM_SMP (2), VM_MEM (MiB, 2048), VM_TIMEOUT (s, 1200; 3600
# for "debug"),
# VM_ICOUNT=1 (deterministic instruction counting, forces -smp 1, for
# benchmarks). Variables named TCS_* are passed into CMD's environment.

set -euo pipefail

readonly SELF=${0##*/}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
readonly REPO
readonly VM_DIR_SRC="$REPO/selftests/qemu"

VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-2048}
VM_TIMEOUT=${VM_TIMEOUT:-}
VM_ICOUNT=${VM_ICOUNT:-0}
VM_BOOT_TRIES=${VM_BOOT_TRIES:-2}

# What a kernel prints when something is wrong, panicking or not: the
# patterns the guest's tests use too (TCS_REPORTS).
# shellcheck source=selftests/kernel_reports.sh
. "$REPO/selftests/kernel_reports.sh"
readonly REPORTS=$TCS_REPORTS

run_dir=
qemu_pid=
tail_pid=

usage() {
	echo "usage: $SELF KVER CMD [ARGS...]" >&2
	exit 2
}

die() {
	echo "$SELF: $*" >&2
	exit 1
}

cleanup() {
	[[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null
	[[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null
	wait 2>/dev/null
	[[ -n $run_dir ]] && rm -rf "$run_dir"
	return 0
}

# The debug kernel builds everything in: the initramfs gets its
# modules.builtin files instead (init puts them under /lib/modules in the
# chroot, so that modprobe of a built-in module succeeds), and an empty
# load order.
pack_builtin() {
	local tree=$1 release=$2 dest=$3

	mkdir -p "$dest/lib/modules/$release"
	touch "$dest/lib/modules/load.order"
	cp "$tree/modules.builtin" "$tree/modules.builtin.modinfo" \
		"$dest/lib/modules/$release/"
}

# The modules the initramfs must insmod to reach the 9p root, in load order.
# 6.12's are .ko.xz and busybox insmod wants them plain: unpack them.
pack_modules() {
	local kver=$1 dest=$2 deps path ko

	deps=$(modprobe -a -S "$kver" --show-depends 9p 9pnet_virtio virtio_pci) ||
		die "$kver: cannot resolve the 9p and virtio modules"
	mkdir -p "$dest/lib/modules"
	touch "$dest/lib/modules/load.order"
	for path in $(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$deps"); do
		ko=${path##*/}
		case $ko in
		*.ko.xz)  ko=${ko%.xz};  xz -dc "$path" >"$dest/lib/modules/$ko" ;;
		*.ko.zst) ko=${ko%.zst}; zstd -qdc "$path" >"$dest/lib/modules/$ko" ;;
		*.ko.gz)  ko=${ko%.gz};  gzip -dc "$path" >"$dest/lib/modules/$ko" ;;
		*)        cp "$path" "$dest/lib/modules/$ko" ;;
		esac
		echo "$ko" >>"$dest/lib/modules/load.order"
	done
}

# build/qemu/KVER/initramfs.cpio.gz: busybox, /init and the modules. Rebuilt
# when one of its inputs is newer; written atomically, since several runs
# may start at once.
build_initramfs() {
	local kver=$1 out=$2 tree=$3 release=$4 input stage moddep

	moddep=/lib/modules/$kver/modules.dep
	[[ -z $tree ]] || moddep=$tree/modules.builtin
	if [[ -s $out ]]; then
		for input in "$VM_DIR_SRC/init" "${BASH_SOURCE[0]}" /bin/busybox \
			     "$moddep"; do
			[[ $input -nt $out ]] && break
			input=
		done
		[[ -z $input ]] && return 0
	fi

	stage=$(mktemp -d "$out.XXXXXX")
	chmod 0755 "$stage"	# the guest's /, which mktemp made 0700
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot}
	cp /bin/busybox "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	install -m 0755 "$VM_DIR_SRC/init" "$stage/init"
	if [[ -n $tree ]]; then
		pack_builtin "$tree" "$release" "$stage"
	else
		pack_modules "$kver" "$stage"
	fi
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --quiet -o -0 -H newc -R 0:0) | gzip -1 >"$stage.cpio.gz"
	mv -f "$stage.cpio.gz" "$out"
	rm -rf "$stage"
}

# The guest runs /run/vm/cmd with bash, on the host root (selftests/qemu/init).
write_cmd() {
	local file=$1 var
	shift

	{
		echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		echo "export HOME=/root TERM=dumb LANG=C.UTF-8"
		for var in $(compgen -e); do
			[[ $var == TCS_* ]] && printf 'export %s=%q\n' "$var" "${!var}"
		done
		printf 'cd %q || exit 1\n' "$REPO"
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$file"
}

# The lines of a console log that report a problem.
reports() {
	grep -E -a -- "$REPORTS" "$1"
}

# The first report of a console log, with the lines around it.
first_report() {
	grep -E -a -m 1 -B 2 -A 16 -- "$REPORTS" "$1"
}

main() {
	local kver kernel vm_dir initramfs smp icount=() rc status
	local tree= release= bad boot

	[[ $# -ge 2 ]] || usage
	kver=$1
	shift

	if [[ $kver == debug ]]; then
		tree=${VM_KERNEL_TREE:-}
		if [[ -z $tree ]]; then
			tree=$("$REPO/scripts/build-debug-kernel.sh" --dir) ||
				die "no debug kernel: run make debug-kernel"
		fi
		kernel=$tree/arch/x86/boot/bzImage
		[[ -r $kernel ]] || die "no $kernel"
		release=$(cat "$tree/include/config/kernel.release")
		export TCS_KO=${TCS_KO:-$REPO/build/debug/tcp_closestat.ko}
		# Everything runs many times slower under KASAN and lockdep.
		VM_TIMEOUT=${VM_TIMEOUT:-3600}
	else
		kernel=/boot/vmlinuz-$kver
		[[ -r $kernel ]] || die "no kernel $kernel (see scripts/install-deps.sh)"
		[[ -d /lib/modules/$kver ]] || die "no /lib/modules/$kver"
	fi
	VM_TIMEOUT=${VM_TIMEOUT:-1200}
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 missing (see scripts/install-deps.sh)"
	[[ -x /bin/busybox ]] || die "/bin/busybox missing (apt-get install busybox-static)"

	vm_dir=$REPO/build/qemu/$kver
	mkdir -p "$vm_dir"
	initramfs=$vm_dir/initramfs.cpio.gz
	build_initramfs "$kver" "$initramfs" "$tree" "$release"

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	run_dir=$(mktemp -d "$vm_dir/run.XXXXXX")
	mkdir "$run_dir/share"
	echo "$REPO" >"$run_dir/share/repo"
	write_cmd "$run_dir/share/cmd" "$@"

	smp=$VM_SMP
	if [[ $VM_ICOUNT == 1 ]]; then
		# One guest nanosecond per instruction, idle time skipped.
		icount=(-icount shift=0,sleep=off)
		smp=1
	fi

	for ((boot = 1; ; boot++)); do
		rm -f "$run_dir/share/started" "$run_dir/share/status"
		: >"$run_dir/output"
		# thread=single: multi-threaded TCG corrupts code being patched by
		# kprobes while another vCPU runs it (see KERNEL-NOTES.md).
		# nowatchdog: an emulated CPU starved by a busy host is no lockup.
		# log_buf_len: the tests check the kernel log since their start
		# (selftests/kernel_reports.sh), which must not wrap around.
		timeout -k 10 "$VM_TIMEOUT" \
		qemu-system-x86_64 \
			-accel tcg,thread=single -cpu max "${icount[@]}" \
			-m "$VM_MEM" -smp "$smp" \
			-nographic -nodefaults -no-reboot -monitor none \
			-chardev "file,id=console,path=$run_dir/console.log" \
			-serial chardev:console \
			-chardev "file,id=output,path=$run_dir/output" \
			-serial chardev:output \
			-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
			-virtfs "local,path=$run_dir/share,mount_tag=vmrun,security_model=none" \
			-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
			-kernel "$kernel" -initrd "$initramfs" \
			-append "console=ttyS0 loglevel=5 log_buf_len=4M panic=-1 panic_on_warn=1 oops=panic nowatchdog" \
			</dev/null >"$run_dir/qemu.log" 2>&1 &
		qemu_pid=$!

		# Stream CMD's output while the guest runs; tail exits after qemu does.
		tail -s 0.2 -n +1 -f --pid="$qemu_pid" "$run_dir/output" &
		tail_pid=$!

		rc=0
		wait "$qemu_pid" || rc=$?
		qemu_pid=
		wait "$tail_pid" || true
		tail_pid=

		cat "$run_dir/qemu.log" >>"$run_dir/console.log"
		mv -f "$run_dir/console.log" "$vm_dir/console.log"

		# booted, or no tries left: this boot is the run
		[[ ! -e $run_dir/share/started && $rc -ne 124 &&
		   $boot -lt $VM_BOOT_TRIES ]] || break
		cp -f "$vm_dir/console.log" "$vm_dir/console-boot-$boot.log"
		echo "$SELF: $kver: the guest died before the command started (boot $boot of $VM_BOOT_TRIES, console in $vm_dir/console-boot-$boot.log); booting again" >&2
		if bad=$(first_report "$vm_dir/console.log"); then
			echo "$SELF: its first report:" >&2
			echo "$bad" >&2
		fi
	done

	status=$(cat "$run_dir/share/status" 2>/dev/null || true)
	if [[ $rc -eq 124 ]]; then
		echo "$SELF: $kver: timed out after ${VM_TIMEOUT}s" >&2
	elif [[ $rc -ne 0 ]]; then
		echo "$SELF: $kver: qemu exited with status $rc" >&2
	elif grep -q -e 'Kernel panic' -e '---\[ end trace' "$vm_dir/console.log"; then
		echo "$SELF: $kver: the guest kernel panicked" >&2
	elif bad=$(reports "$vm_dir/console.log"); then
		echo "$SELF: $kver: the guest kernel reported a problem:" >&2
		sed 's/^/  | /' <<<"$bad" | head -n 20 >&2
	elif [[ ! $status =~ ^[0-9]+$ ]]; then
		echo "$SELF: $kver: the guest reported no exit status" >&2
	else
		return "$status"
	fi
	if bad=$(first_report "$vm_dir/console.log"); then
		echo "$SELF: the first report of $vm_dir/console.log:" >&2
		echo "$bad" >&2
	fi
	echo "$SELF: last 60 lines of $vm_dir/console.log:" >&2
	tail -n 60 "$vm_dir/console.log" >&2
	return 1
}

main "$@"
