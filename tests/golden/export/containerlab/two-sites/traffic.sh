#!/bin/sh
# Services and probes of the testbed in the containerlab lab of two-sites
# Exported by anycast-testbed VERSION: anycast-testbed export two-sites two-sites-failover --to containerlab
# ./traffic.sh start: the services every site server runs besides NSD (which its
# startup starts), then the probes of every client, their records in shared/records/;
# ./traffic.sh stop: stops them. They are the testbed's own Python programs: the
# containers' image needs the anycast-testbed package (kathara/base has not: README.md).
# Probe kinds: dns, tcp-stream; services: dns, tcp.
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
COLLECT="$LAB/shared"
RECORDS="$COLLECT/records"
# on NODE COMMAND...: run a command in a node of the lab, in its container
# clab-anycast-two-sites-two-sites-failover-NODE (CLAB_EXEC: a command that takes the node and the command
# instead, e.g. on a cluster: docs/cluster.md)
on() {
    dev=$1; shift
    if [ -n "${CLAB_EXEC:-}" ]; then $CLAB_EXEC "$dev" "$@"
    else ${DOCKER:-docker} exec "clab-anycast-two-sites-two-sites-failover-$dev" "$@"; fi
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

case "${1:-}" in
start)
    for dev in east-1 west-1 ca cb; do
        on "$dev" python3 -c 'import testbed' >/dev/null 2>&1 || {
            echo "traffic.sh: the image of $dev has no anycast-testbed package (see README.md)" >&2
            exit 2
        }
    done
    mkdir -p "$RECORDS"
    spawn east-1 tcp python3 -m testbed.services.stream --site east --bind 192.0.2.53 --port 8053
    spawn west-1 tcp python3 -m testbed.services.stream --site west --bind 192.0.2.53 --port 8053
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
    halt east-1 tcp
    halt west-1 tcp
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
