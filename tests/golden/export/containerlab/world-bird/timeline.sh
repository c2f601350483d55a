#!/bin/sh
# Timeline of scenario site-failure on topology world-bird, for the containerlab lab in this folder
# Exported by anycast-testbed VERSION: anycast-testbed export world-bird.yaml site-failure --busiest lon --to containerlab
# Run it once the lab is up (containerlab deploy) and, to measure, the traffic started
# (./traffic.sh start). It waits the scenario's settle (SETTLE=0 skips it), fires
# every event at its time from the timeline's start as the testbed's engine does,
# and appends a record per event to shared/records/events.jsonl (the timeline's
# start as t0 in shared/meta.json and in shared/records/t0).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
COLLECT="$LAB/shared"
RECORDS="$COLLECT/records"
# on NODE COMMAND...: run a command in a node of the lab, in its container
# clab-anycast-world-bird-site-failure-NODE (CLAB_EXEC: a command that takes the node and the command
# instead, e.g. on a cluster: docs/cluster.md)
on() {
    dev=$1; shift
    if [ -n "${CLAB_EXEC:-}" ]; then $CLAB_EXEC "$dev" "$@"
    else ${DOCKER:-docker} exec "clab-anycast-world-bird-site-failure-$dev" "$@"; fi
}
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

# t=15 s: fail site lon (link-down)
wait_until 15
t=$(now)
{ on lon ip link set lon-e0 down || failed lon; } &
wait
record "$t" '"kind": "event", "index": 0, "event": "fail_site", "target": "lon", "params": {"site": "lon", "how": "link-down"}, "at": 15.0'
echo "t= 15.0s  fail site lon (link-down)"

# t=40 s: restore site lon
wait_until 40
t=$(now)
{ on lon ip link set lon-e0 up || failed lon; } &
wait
record "$t" '"kind": "event", "index": 1, "event": "restore", "target": "lon", "params": {"site": "lon"}, "at": 40.0'
echo "t= 40.0s  restore site lon"

wait_until 60
echo "timeline of site-failure done (60 s)"
