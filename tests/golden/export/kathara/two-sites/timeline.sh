#!/bin/sh
# Timeline of scenario two-sites-failover on topology two-sites, for the Kathará lab in this folder
# Exported by anycast-testbed VERSION: anycast-testbed export two-sites two-sites-failover --to kathara
# Run it once the lab is up (kathara lstart) and, to measure, the traffic started
# (./traffic.sh start). It waits the scenario's settle (SETTLE=0 skips it), fires
# every event at its time from the timeline's start as the testbed's engine does,
# and appends a record per event to shared/records/events.jsonl (the timeline's
# start as t0 in shared/meta.json and in shared/records/t0).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
COLLECT="$LAB/shared"
RECORDS="$COLLECT/records"
# on DEVICE COMMAND...: run a command in a device of the lab (KATHARA: the command that
# runs Kathará, e.g. KATHARA="python3 -m kathara" where it came from pip)
on() { dev=$1; shift; ${KATHARA:-kathara} exec -d "$LAB" "$dev" -- "$@"; }
# spawn NODE NAME COMMAND...: start a command in the background in a node (pid file, log)
spawn() {
    dev=$1; name=$2; shift 2
    on "$dev" sh -c 'mkdir -p /run/anycast-testbed && nohup "$@" </dev/null >/run/anycast-testbed/$0.log 2>&1 &
echo $! >/run/anycast-testbed/$0.pid' "$name" "$@"
}
# halt NODE NAME [SIGNAL]: signal what spawn started (SIGTERM by default)
halt() {
    on "$1" sh -c '[ -f /run/anycast-testbed/$0.pid ] && kill -$1 $(cat /run/anycast-testbed/$0.pid); rm -f /run/anycast-testbed/$0.pid' \
        "$2" "${3:-TERM}"
}
now() { date +%s.%N; }
# wait_until AT: until AT seconds after T0
wait_until() {
    sleep "$(awk -v t0="$T0" -v at="$1" -v now="$(now)" 'BEGIN { d = t0 + at - now; printf "%.3f", (d > 0 ? d : 0) }')"
}
failed() { echo "timeline.sh: a command on $1 failed" >&2; }
# record T JSON: the event's record, as the testbed writes it (t, applied_s added)
record() {
    done_at=$(now)
    applied=$(awk -v a="$1" -v b="$done_at" 'BEGIN { printf "%.6f", b - a }')
    printf '{"t": %s, %s, "details": {}, "applied_s": %s}\n' "$1" "$2" "$applied" >>"$RECORDS/events.jsonl"
}
# set_t0: the timeline's start into the run's meta.json (the export wrote it with
# "t0": null), for anycast-testbed report
set_t0() {
    sed 's/^  "t0": .*,$/  "t0": '"$T0"',/' "$COLLECT/meta.json" >"$COLLECT/meta.json.tmp" &&
        mv "$COLLECT/meta.json.tmp" "$COLLECT/meta.json"
}

mkdir -p "$RECORDS"
echo "settling 5 s"
sleep "${SETTLE:-5}"
T0=$(now)
echo "$T0" >"$RECORDS/t0"
set_t0

# t=15 s: fail site east (link-down)
wait_until 15
t=$(now)
{ on east ip link set eth0 down || failed east; } &
{ on ta ip link set eth2 down || failed ta; } &
wait
record "$t" '"kind": "event", "index": 0, "event": "fail_site", "target": "east", "params": {"site": "east", "how": "link-down"}, "at": 15.0'
echo "t= 15.0s  fail site east (link-down)"

# t=40 s: restore site east
wait_until 40
t=$(now)
{ on ta ip link set eth2 up || failed ta; } &
{ on east ip link set eth0 up || failed east; } &
wait
record "$t" '"kind": "event", "index": 1, "event": "restore", "target": "east", "params": {"site": "east"}, "at": 40.0'
echo "t= 40.0s  restore site east"

wait_until 60
echo "timeline of two-sites-failover done (60 s)"
