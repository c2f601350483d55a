#!/bin/sh
# Services and probes of the testbed in the Kathará lab of two-sites
# Exported by anycast-testbed VERSION: anycast-testbed export two-sites two-sites-failover --to kathara
# ./traffic.sh start: the services every site server runs besides NSD (which its
# startup starts), then the probes of every client, their records in shared/records/;
# ./traffic.sh stop: stops them. They are the testbed's own Python programs: the
# containers' image needs the anycast-testbed package (kathara/base has not: README.md).
# Probe kinds: dns, tcp-stream; services: dns, tcp.
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

case "${1:-}" in
start)
    for dev in east_1 west_1 ca cb; do
        on "$dev" python3 -c 'import testbed' >/dev/null 2>&1 || {
            echo "traffic.sh: the image of $dev has no anycast-testbed package (see README.md)" >&2
            exit 2
        }
    done
    mkdir -p "$RECORDS"
    spawn east_1 tcp python3 -m testbed.services.stream --site east --bind 192.0.2.53 --port 8053
    spawn west_1 tcp python3 -m testbed.services.stream --site west --bind 192.0.2.53 --port 8053
    spawn ca dns-probe python3 -m testbed.probes.dns --client ca --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-ca.jsonl
    spawn ca tcp-probe python3 -m testbed.probes.tcp --client ca --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-ca.jsonl
    spawn cb dns-probe python3 -m testbed.probes.dns --client cb --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-cb.jsonl
    spawn cb tcp-probe python3 -m testbed.probes.tcp --client cb --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-cb.jsonl
    ;;
stop)
    halt ca dns-probe
    halt ca tcp-probe
    halt cb dns-probe
    halt cb tcp-probe
    halt east_1 tcp
    halt west_1 tcp
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
