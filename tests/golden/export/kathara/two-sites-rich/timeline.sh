#!/bin/sh
# Timeline of scenario rich on topology two-sites, for the Kathará lab in this folder
# Exported by anycast-testbed VERSION: anycast-testbed export two-sites rich.yaml --to kathara
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
echo "settling 2 s"
sleep "${SETTLE:-2}"
T0=$(now)
echo "$T0" >"$RECORDS/t0"
set_t0

# t=5 s: fail site east (silent)
wait_until 5
t=$(now)
{ on east sh -c 'iptables -w -I INPUT -j DROP && iptables -w -I FORWARD -j DROP && iptables -w -I OUTPUT -j DROP && { [ ! -f /var/run/frr/watchfrr.pid ] || kill -STOP $(cat /var/run/frr/watchfrr.pid); } && for f in /var/run/frr/*.pid; do [ $f = /var/run/frr/watchfrr.pid ] || kill -STOP $(cat $f); done' || failed east; } &
wait
record "$t" '"kind": "event", "index": 0, "event": "fail_site", "target": "east", "params": {"site": "east", "how": "silent"}, "at": 5.0'
echo "t=  5.0s  fail site east (silent)"

# t=10 s: withdraw site west
wait_until 10
t=$(now)
{ on west vtysh -c 'configure terminal' -c 'router bgp 64500' -c 'address-family ipv4 unicast' -c 'no network 192.0.2.0/24' || failed west; } &
wait
record "$t" '"kind": "event", "index": 1, "event": "withdraw", "target": "west", "params": {"site": "west"}, "at": 10.0'
echo "t= 10.0s  withdraw site west"

# t=15 s: prepend 2 on site west
wait_until 15
t=$(now)
{ on west vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'set as-path prepend 64500 64500' -c 'no set metric' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' || failed west; } &
wait
record "$t" '"kind": "event", "index": 2, "event": "prepend", "target": "west", "params": {"site": "west", "count": 2}, "at": 15.0'
echo "t= 15.0s  prepend 2 on site west"

# t=20 s: med 50 on site west
wait_until 20
t=$(now)
{ on west vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'set as-path prepend 64500 64500' -c 'no set metric' -c 'set metric 50' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' || failed west; } &
wait
record "$t" '"kind": "event", "index": 3, "event": "med", "target": "west", "params": {"site": "west", "value": 50}, "at": 20.0'
echo "t= 20.0s  med 50 on site west"

# t=25 s: communities graceful-shutdown 65001:666 on site west
wait_until 25
t=$(now)
{ on west vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'set as-path prepend 64500 64500' -c 'no set metric' -c 'set metric 50' -c 'no set community' -c 'set community graceful-shutdown 65001:666 additive' -c 'no set large-community' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' || failed west; } &
wait
record "$t" '"kind": "event", "index": 4, "event": "set_communities", "target": "west", "params": {"site": "west", "communities": ["graceful-shutdown", "65001:666"]}, "at": 25.0'
echo "t= 25.0s  communities graceful-shutdown 65001:666 on site west"

# t=30 s: kill all service at site east
wait_until 30
t=$(now)
{ on east_1 sh -c 'kill -KILL -$(cat /etc/anycast-testbed/nsd/nsd.pid)' || failed east_1; } &
{ halt east_1 tcp KILL || failed east_1; } &
wait
record "$t" '"kind": "event", "index": 5, "event": "kill_service", "target": "east", "params": {"site": "east", "service": "all"}, "at": 30.0'
echo "t= 30.0s  kill all service at site east"

# t=35 s: link ta - tb blackhole
wait_until 35
t=$(now)
{ on ta sh -c 'iptables -w -I INPUT -i eth0 -j DROP && iptables -w -I FORWARD -i eth0 -j DROP && iptables -w -I FORWARD -o eth0 -j DROP && iptables -w -I OUTPUT -o eth0 -j DROP' || failed ta; } &
{ on tb sh -c 'iptables -w -I INPUT -i eth0 -j DROP && iptables -w -I FORWARD -i eth0 -j DROP && iptables -w -I FORWARD -o eth0 -j DROP && iptables -w -I OUTPUT -o eth0 -j DROP' || failed tb; } &
wait
record "$t" '"kind": "event", "index": 6, "event": "link", "target": "ta-tb", "params": {"a": "ta", "b": "tb", "state": "blackhole"}, "at": 35.0'
echo "t= 35.0s  link ta - tb blackhole"

# t=40 s: link ispa - ta down
wait_until 40
t=$(now)
{ on ispa ip link set eth0 down || failed ispa; } &
{ on ta ip link set eth1 down || failed ta; } &
wait
record "$t" '"kind": "event", "index": 7, "event": "link", "target": "ispa-ta", "params": {"a": "ispa", "b": "ta", "state": "down"}, "at": 40.0'
echo "t= 40.0s  link ispa - ta down"

# t=45 s: restore site east
wait_until 45
t=$(now)
{ on east_1 nsd -c /etc/anycast-testbed/nsd/nsd.conf || failed east_1; } &
{ on east sh -c '{ [ ! -f /var/run/frr/watchfrr.pid ] || kill -CONT $(cat /var/run/frr/watchfrr.pid); } && for f in /var/run/frr/*.pid; do [ $f = /var/run/frr/watchfrr.pid ] || kill -CONT $(cat $f); done && iptables -w -D INPUT -j DROP && iptables -w -D FORWARD -j DROP && iptables -w -D OUTPUT -j DROP' || failed east; } &
{ spawn east_1 tcp python3 -m testbed.services.stream --site east --bind 192.0.2.53 --port 8053 || failed east_1; } &
wait
record "$t" '"kind": "event", "index": 8, "event": "restore", "target": "east", "params": {"site": "east"}, "at": 45.0'
echo "t= 45.0s  restore site east"

# t=50 s: restore site west
wait_until 50
t=$(now)
{ on west sh -c "vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'set as-path prepend 64500 64500' -c 'no set metric' -c 'set metric 50' -c 'no set community' -c 'no set large-community' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' && vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'set as-path prepend 64500 64500' -c 'no set metric' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' && vtysh -c 'configure terminal' -c 'route-map tb-out permit 10' -c 'no set as-path prepend' -c 'no set metric' -c exit -c end -c 'clear bgp ipv4 unicast * soft out' && vtysh -c 'configure terminal' -c 'router bgp 64500' -c 'address-family ipv4 unicast' -c 'network 192.0.2.0/24'" || failed west; } &
wait
record "$t" '"kind": "event", "index": 9, "event": "restore", "target": "west", "params": {"site": "west"}, "at": 50.0'
echo "t= 50.0s  restore site west"

# t=55 s: link ta - tb up
wait_until 55
t=$(now)
{ on ta sh -c 'iptables -w -D INPUT -i eth0 -j DROP && iptables -w -D FORWARD -i eth0 -j DROP && iptables -w -D FORWARD -o eth0 -j DROP && iptables -w -D OUTPUT -o eth0 -j DROP' || failed ta; } &
{ on tb sh -c 'iptables -w -D INPUT -i eth0 -j DROP && iptables -w -D FORWARD -i eth0 -j DROP && iptables -w -D FORWARD -o eth0 -j DROP && iptables -w -D OUTPUT -o eth0 -j DROP' || failed tb; } &
wait
record "$t" '"kind": "event", "index": 10, "event": "link", "target": "ta-tb", "params": {"a": "ta", "b": "tb", "state": "up"}, "at": 55.0'
echo "t= 55.0s  link ta - tb up"

# t=60 s: link ispa - ta up
wait_until 60
t=$(now)
{ on ispa ip link set eth0 up || failed ispa; } &
{ on ta ip link set eth1 up || failed ta; } &
wait
record "$t" '"kind": "event", "index": 11, "event": "link", "target": "ispa-ta", "params": {"a": "ispa", "b": "ta", "state": "up"}, "at": 60.0'
echo "t= 60.0s  link ispa - ta up"

# t=65 s: fail site west (router-crash)
wait_until 65
t=$(now)
{ on west sh -c '{ [ ! -f /var/run/frr/watchfrr.pid ] || kill -KILL $(cat /var/run/frr/watchfrr.pid); } && for f in /var/run/frr/*.pid; do [ $f = /var/run/frr/watchfrr.pid ] || kill -KILL $(cat $f); done' || failed west; } &
wait
record "$t" '"kind": "event", "index": 12, "event": "fail_site", "target": "west", "params": {"site": "west", "how": "router-crash"}, "at": 65.0'
echo "t= 65.0s  fail site west (router-crash)"

# t=70 s: restore site west
wait_until 70
t=$(now)
{ on west systemctl restart frr || failed west; } &
wait
record "$t" '"kind": "event", "index": 13, "event": "restore", "target": "west", "params": {"site": "west"}, "at": 70.0'
echo "t= 70.0s  restore site west"

wait_until 90
echo "timeline of rich done (90 s)"
