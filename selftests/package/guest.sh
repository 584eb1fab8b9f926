#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The installed artifacts, in the test guest (selftests/package/check.sh
# boots it once per kernel, after installing the packages on the host,
# whose / is the guest's):
#
#   selftests/qemu/run.sh KVER selftests/package/guest.sh
#
#   1. the module `dkms build' made from `make dkms-install' (copied aside
#      to $TCS_PKG_SRC_KO before it was removed): insmod, its version, a
#      smoke test, rmmod
#   2. the module tcp-closestat-dkms had DKMS build: modprobe finds it under
#      updates/dkms, its version, the same smoke test with the packaged
#      /usr/sbin/closestat
#   3. node_exporter as operators run it: prometheus-node-exporter (the
#      Debian package) started with --collector.textfile.directory, in a
#      namespace of its own so that its scrapes are not counted; the
#      ExecStart line of the installed closestat-textfile.service run as it
#      is (systemd is not PID 1 here: the unit is checked on the host);
#      /metrics then carries every tcp_closestat series of the file with the
#      values closestat -j and -S -j show; promtool check metrics passes on
#      it; a failing run leaves the file as it was
#   4. modprobe -r
#
# Smoke test: churn -o server -p PORT -n 20 (the server closes first), then
# exactly: local PORT 20 time_wait, 20 fin_wait2, 20 time_wait_now; remote
# PORT 20 close_wait. Prints KTAP; exits 0 only if everything passed.
#
# Environment: TCS_PKG_VERSION (the version the modules must carry),
# TCS_PKG_SRC_KO, TCS_CHURN (build/selftests/churn).

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=${HERE%/selftests/package}
# shellcheck source=selftests/lib.sh
. "$REPO/selftests/lib.sh"

readonly VERSION=${TCS_PKG_VERSION:?}
readonly SRC_KO=${TCS_PKG_SRC_KO:?}
readonly CHURN=${TCS_CHURN:-$REPO/build/selftests/churn}
readonly UNIT=/lib/systemd/system/closestat-textfile.service
readonly TEXTFILE_DIR=/var/lib/prometheus/node-exporter
readonly NE_ADDR=127.0.0.1:19100
readonly N=20
PY=/usr/bin/python3
TMP=
ne_pid=

cleanup() {
	[ -n "$ne_pid" ] && kill "$ne_pid" 2>/dev/null && wait "$ne_pid" 2>/dev/null
	grep -q '^tcp_closestat ' /proc/modules && rmmod tcp_closestat
	cleanup_ns
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

# smoke CLOSESTAT PORT: the exact counts of one churn run, in a namespace
# of its own, read with CLOSESTAT -j; a mismatch is one more of the
# caller's fails.
smoke() {
	local cs=$1 port=$2 got

	if ! ip netns exec "$NS" "$CHURN" -q -o server -p "$port" -n "$N"; then
		ktap_diag "churn failed"
		fails=$((fails + 1))
		return
	fi
	got=$(ip netns exec "$NS" "$cs" -j -p "$port" | "$PY" -c '
import json, sys
for r in json.load(sys.stdin)["ports"]:
    print(r["side"], r["port"], r["time_wait"], r["close_wait"],
          r["fin_wait2"], r["time_wait_now"])')
	expect "$cs -j -p $port" "$got" "local $port $N 0 $N $N
remote $port 0 $N 0 0"
}

module_version() {
	cat /sys/module/tcp_closestat/version 2>/dev/null
}

test_source_dkms() {
	fails=0
	insmod "$SRC_KO" || return 1
	expect "version" "$(module_version)" "$VERSION"
	smoke "$REPO/tools/closestat" 20101
	rmmod tcp_closestat || fails=$((fails + 1))
	expect "files gone" "$(ls /proc/net/tcp_closestat* 2>/dev/null)" ""
	finish
}

test_package_module() {
	local file

	fails=0
	modprobe tcp_closestat || return 1
	file=$(modinfo -F filename tcp_closestat)
	expect "modinfo filename" "${file%.ko*}" \
		"/lib/modules/$(uname -r)/updates/dkms/tcp_closestat"
	expect "modinfo version" "$(modinfo -F version tcp_closestat)" "$VERSION"
	expect "loaded version" "$(module_version)" "$VERSION"
	smoke /usr/sbin/closestat 20102
	finish
}

# The ExecStart= line of the installed unit, split as systemd does for a
# line without quotes, specifiers or variables (refused otherwise).
exec_start() {
	local line

	line=$(sed -n 's/^ExecStart=//p' "$UNIT")
	case $line in
	""|*[\"\'%\$\\]*) ktap_diag "ExecStart '$line': not a plain command"; return 1 ;;
	esac
	read -ra EXEC_START <<<"$line"
}

# node_exporter and its scrapes live in namespace E, so that their
# connections do not move the root namespace's counters, which the
# service reads.
metrics() {
	ip netns exec "$E" curl -sf "http://$NE_ADDR/metrics" "$@"
}

metrics_up() {
	metrics -o /dev/null
}

# The module's files that closestat -j and -S -j read.
read_module() {
	cat /proc/net/tcp_closestat /proc/net/tcp_closestat_stat
}

# One run of ExecStart, then /metrics against the file and closestat -j
# and -S -j (while_still runs it again if the module's files moved: the
# guest's own TIME_WAIT sockets expire, and "tracked" counts them all).
textfile_matches() {
	local prom=$TEXTFILE_DIR/tcp_closestat.prom

	"${EXEC_START[@]}" || { ktap_diag "ExecStart failed"; return 1; }
	expect "textfile directory" "$(ls -A "$TEXTFILE_DIR")" "tcp_closestat.prom"
	expect "mode" "$(stat -c %a "$prom")" "644"
	/usr/sbin/closestat -j >"$TMP/json" || return 1
	/usr/sbin/closestat -S -j >"$TMP/stat.json" || return 1
	metrics >"$TMP/metrics" || return 1

	"$PY" - "$TMP/metrics" "$prom" "$TMP/json" "$TMP/stat.json" "$N" <<-'PYEOF' || fails=$((fails + 1))
	import json, re, sys

	# name{labels} -> value, the labels in name order (node_exporter
	# sorts them; closestat writes side before port).
	def key(name, labels):
	    return name + "{" + ",".join('%s="%s"' % l for l in sorted(labels)) + "}"

	def samples(path, prefix):
	    out = {}
	    for line in open(path):
	        if line.startswith(prefix):
	            series, value = line.rsplit(" ", 1)
	            name = series.split("{", 1)[0]
	            out[key(name, re.findall(r'(\w+)="([^"]*)"', series))] = float(value)
	    return out

	metrics = samples(sys.argv[1], "tcp_closestat_")
	textfile = samples(sys.argv[2], "tcp_closestat_")
	table = json.load(open(sys.argv[3]))["ports"]
	stat = json.load(open(sys.argv[4]))["stat"]
	n = int(sys.argv[5])
	bad = []
	if metrics != textfile:
	    bad.append("/metrics and the textfile differ: %s" %
	               sorted(set(metrics.items()) ^ set(textfile.items()))[:5])
	counters = {"time_wait", "close_wait", "fin_wait2", "tw_expired",
	            "tw_reused", "tw_killed", "tw_overflow"}
	want = {}
	for row in table:
	    # the default view folds clients' ports: port="ephemeral"
	    port = "ephemeral" if row.get("folded") else str(row["port"])
	    lab = (("side", row["side"]), ("port", port))
	    for col, v in row.items():
	        if col in ("side", "port", "folded", "ports", "port_lo", "port_hi"):
	            continue
	        if col in counters:
	            want[key("tcp_closestat_%s_total" % col, lab)] = v
	        elif col == "close_wait_oldest_ms":
	            want[key("tcp_closestat_close_wait_oldest_seconds", lab)] = v / 1000
	        else:
	            want[key("tcp_closestat_" + col, lab)] = v
	for name, v in stat.items():
	    if name.startswith("missed_"):
	        want[key("tcp_closestat_missed_total", [("probe", name[7:])])] = v
	    elif name.startswith("ports_refused_"):
	        want[key("tcp_closestat_ports_refused", [("side", name[14:])])] = v
	    elif name in ("alloc_failed", "untracked"):
	        want[key("tcp_closestat_%s_total" % name, [])] = v
	    else:
	        want[key("tcp_closestat_" + name, [])] = v
	got = {k: v for k, v in metrics.items()
	       if not k.startswith("tcp_closestat_state_duration_seconds")}
	if got != want:
	    bad.append("/metrics vs closestat -j: %s" %
	               sorted(set(got.items()) ^ set(want.items()))[:5])
	lab = (("side", "local"), ("port", "20103"))
	for name, v in (("tcp_closestat_time_wait_total", n),
	                ("tcp_closestat_fin_wait2_total", n),
	                ("tcp_closestat_time_wait_now", n)):
	    if metrics.get(key(name, lab)) != v:
	        bad.append("%s is %s, want %d" % (key(name, lab), metrics.get(key(name, lab)), n))
	for b in bad:
	    print("# " + b)
	print("# %d tcp_closestat series in /metrics, %d compared with closestat -j"
	      % (len(metrics), len(want)))
	sys.exit(1 if bad else 0)
	PYEOF
	grep -q '^node_textfile_scrape_error 0$' "$TMP/metrics" ||
		{ ktap_diag "node_textfile_scrape_error is not 0"; fails=$((fails + 1)); }
	grep -q "^node_textfile_mtime_seconds{file=\"$prom\"} " "$TMP/metrics" ||
		{ ktap_diag "no node_textfile_mtime_seconds for $prom"; fails=$((fails + 1)); }
	return 0
}

test_node_exporter() {
	local prom=$TEXTFILE_DIR/tcp_closestat.prom ne_uid ne_gid

	fails=0
	exec_start || return 1
	ktap_diag "ExecStart: ${EXEC_START[*]}"
	# The guest's / is the host's, read-only: a fresh directory over it.
	mount -t tmpfs -o mode=0755 tmpfs "$TEXTFILE_DIR" || return 1

	# As Debian's unit runs it: user prometheus, who only reads the file.
	ne_uid=$(id -u prometheus) && ne_gid=$(id -g prometheus) || return 1
	ip netns exec "$E" setpriv --reuid="$ne_uid" --regid="$ne_gid" --clear-groups \
		prometheus-node-exporter --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$TEXTFILE_DIR" \
		--web.listen-address="$NE_ADDR" >"$TMP/ne.log" 2>&1 &
	ne_pid=$!
	busywait 60000 metrics_up || { ktap_diag "no /metrics"; sed 's/^/# /' "$TMP/ne.log"; return 1; }

	# Workload in the root namespace, which the service reads.
	"$CHURN" -q -o server -p 20103 -n "$N" || return 1
	while_still 5 read_module textfile_matches || fails=$((fails + 1))
	ktap_diag "/metrics, tcp_closestat series of port 20103 and the histogram's TIME_WAIT count:"
	grep -E '^tcp_closestat_[a-z0-9_]+\{port="20103",side="local"\}|^tcp_closestat_state_duration_seconds_count\{state="time_wait"\}' \
		"$TMP/metrics" | sed 's/^/#   /'

	promtool check metrics <"$prom" >"$TMP/promtool" 2>&1 ||
		{ sed 's/^/# promtool: /' "$TMP/promtool"; fails=$((fails + 1)); }

	# A failing run (module gone) exits 1 and leaves the file as it was.
	cp "$prom" "$TMP/before"
	rmmod tcp_closestat || return 1
	"${EXEC_START[@]}" 2>"$TMP/err"
	expect "ExecStart without the module: exit status" "$?" 1
	expect "ExecStart without the module: message" "$(cat "$TMP/err")" \
		"closestat: /proc/net/tcp_closestat: No such file or directory (is the tcp_closestat module loaded?)"
	cmp -s "$TMP/before" "$prom" ||
		{ ktap_diag "the failed run changed $prom"; fails=$((fails + 1)); }
	expect "textfile directory after the failure" "$(ls -A "$TEXTFILE_DIR")" "tcp_closestat.prom"
	finish
}

ktap_header
ktap_plan 3
ktap_diag "kernel $(uname -r), version $VERSION"
require_cmd ip curl setpriv promtool prometheus-node-exporter "$PY"
[ -x "$CHURN" ] || ktap_bail_out "$CHURN missing (make -C selftests drivers)"
TMP=$(mktemp -d /tmp/package.XXXXXX)
setup_ns NS E || ktap_bail_out "cannot create network namespaces"

ktap_result "source DKMS module: insmod, version, smoke, rmmod" test_source_dkms
ktap_result "packaged DKMS module: modprobe, version, smoke" test_package_module
ktap_result "node_exporter textfile: ExecStart, /metrics = closestat -j, promtool" test_node_exporter
ktap_finish
