#!/bin/sh
# Services and probes of the testbed in the Kathará lab of world-bird
# Exported by anycast-testbed VERSION: anycast-testbed export world-bird.yaml site-failure --busiest lon --to kathara
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
    for dev in nyc_1 lon_1 tyo_1 gru_1 newyork losangeles paris frankfurt tokyo singapore sydney saopaulo; do
        on "$dev" python3 -c 'import testbed' >/dev/null 2>&1 || {
            echo "traffic.sh: the image of $dev has no anycast-testbed package (see README.md)" >&2
            exit 2
        }
    done
    mkdir -p "$RECORDS"
    spawn nyc_1 tcp python3 -m testbed.services.stream --site nyc --bind 192.0.2.53 --port 8053
    spawn lon_1 tcp python3 -m testbed.services.stream --site lon --bind 192.0.2.53 --port 8053
    spawn tyo_1 tcp python3 -m testbed.services.stream --site tyo --bind 192.0.2.53 --port 8053
    spawn gru_1 tcp python3 -m testbed.services.stream --site gru --bind 192.0.2.53 --port 8053
    spawn newyork dns-probe python3 -m testbed.probes.dns --client newyork --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-newyork.jsonl
    spawn newyork tcp-probe python3 -m testbed.probes.tcp --client newyork --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-newyork.jsonl
    spawn losangeles dns-probe python3 -m testbed.probes.dns --client losangeles --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-losangeles.jsonl
    spawn losangeles tcp-probe python3 -m testbed.probes.tcp --client losangeles --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-losangeles.jsonl
    spawn paris dns-probe python3 -m testbed.probes.dns --client paris --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-paris.jsonl
    spawn paris tcp-probe python3 -m testbed.probes.tcp --client paris --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-paris.jsonl
    spawn frankfurt dns-probe python3 -m testbed.probes.dns --client frankfurt --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-frankfurt.jsonl
    spawn frankfurt tcp-probe python3 -m testbed.probes.tcp --client frankfurt --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-frankfurt.jsonl
    spawn tokyo dns-probe python3 -m testbed.probes.dns --client tokyo --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-tokyo.jsonl
    spawn tokyo tcp-probe python3 -m testbed.probes.tcp --client tokyo --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-tokyo.jsonl
    spawn singapore dns-probe python3 -m testbed.probes.dns --client singapore --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-singapore.jsonl
    spawn singapore tcp-probe python3 -m testbed.probes.tcp --client singapore --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-singapore.jsonl
    spawn sydney dns-probe python3 -m testbed.probes.dns --client sydney --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-sydney.jsonl
    spawn sydney tcp-probe python3 -m testbed.probes.tcp --client sydney --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-sydney.jsonl
    spawn saopaulo dns-probe python3 -m testbed.probes.dns --client saopaulo --target 192.0.2.53 --rate 20.0 --timeout 1.0 --seed 0 --out /shared/records/dns-saopaulo.jsonl
    spawn saopaulo tcp-probe python3 -m testbed.probes.tcp --client saopaulo --target 192.0.2.53 --port 8053 --streams 2 --interval 0.2 --timeout 3.0 --seed 0 --out /shared/records/tcp-saopaulo.jsonl
    ;;
stop)
    halt newyork dns-probe
    halt newyork tcp-probe
    halt losangeles dns-probe
    halt losangeles tcp-probe
    halt paris dns-probe
    halt paris tcp-probe
    halt frankfurt dns-probe
    halt frankfurt tcp-probe
    halt tokyo dns-probe
    halt tokyo tcp-probe
    halt singapore dns-probe
    halt singapore tcp-probe
    halt sydney dns-probe
    halt sydney tcp-probe
    halt saopaulo dns-probe
    halt saopaulo tcp-probe
    halt nyc_1 tcp
    halt lon_1 tcp
    halt tyo_1 tcp
    halt gru_1 tcp
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
