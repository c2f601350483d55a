"""An exported lab's scripts: ``timeline.sh`` and ``traffic.sh`` (pure, engine-neutral).

Both run on the machine that runs the engine, and reach a node's container
with the shell function ``on NODE COMMAND...`` that the engine defines
(:attr:`testbed.export.lab.Engine.on`: ``kathara exec``, ``docker exec``).

- ``traffic.sh start|stop``: the stream service on every site server and the
  probes on every client, the testbed's own command lines
  (:mod:`testbed.export.traffic`), records in the lab's ``shared/records/``;
- ``timeline.sh``: the scenario's settle, then every event at its time from
  the timeline's start: each :class:`~testbed.export.timeline.Action` as the
  node's commands, one ``on`` per node, the nodes at once; a record per event
  in ``shared/records/events.jsonl`` in the testbed's format, and the
  timeline's start as ``t0`` in ``shared/meta.json`` (:mod:`testbed.export.collect`).
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Dict, List, Tuple, Union

from testbed.export.collect import COLLECT, META_T0
from testbed.export.lab import FRR_PIDS, NSD_DIR, Engine, Names, Options, header, q
from testbed.export.timeline import Action, TimedEvent
from testbed.export.traffic import RUN, TrafficCommands
from testbed.scenario.events import iptables_drop
from testbed.services import dns
from testbed.topology.plan import Plan

#: Shell functions both scripts use: ``on NODE CMD...`` (the engine's) runs a command in a
#: node; ``spawn``/``halt`` start a background process with a pid file, and signal it.
_FUNCTIONS = r"""LAB=$(cd "$(dirname "$0")" && pwd)
COLLECT="$LAB/{collect}"
RECORDS="$COLLECT/records"
{on}
# spawn NODE NAME COMMAND...: start a command in the background in a node (pid file, log)
spawn() {
    dev=$1; name=$2; shift 2
    on "$dev" sh -c 'mkdir -p {run} && nohup "$@" </dev/null >{run}/$0.log 2>&1 &
echo $! >{run}/$0.pid' "$name" "$@"
}
# halt NODE NAME [SIGNAL]: signal what spawn started (SIGTERM by default)
halt() {
    on "$1" sh -c '[ -f {run}/$0.pid ] && kill -$1 $(cat {run}/$0.pid); rm -f {run}/$0.pid' \
        "$2" "${3:-TERM}"
}
"""

#: A command to run in a node: a plain command line (argv), or a line for its shell.
Command = Union[Tuple[str, ...], str]


def functions(engine: Engine, name: str) -> str:
    """The scripts' shell functions for a lab of ``engine`` called ``name``."""
    on = engine.on.replace("{name}", name).rstrip("\n")
    return (
        _FUNCTIONS.replace("{collect}", COLLECT).replace("{on}", on).replace("{run}", str(RUN))
    ).rstrip("\n")


def sh_word(script: str) -> str:
    """A shell script as one word of the host's shell: in double quotes when it holds
    single quotes and nothing double quotes would expand (vtysh's ``-c '...'``)."""
    if "'" in script and not any(c in script for c in '$`"\\!'):
        return f'"{script}"'
    return q(script)


def action_commands(names: Names, action: Action, engine: Engine) -> List[Command]:
    """One action as the commands its node runs (a Python service's: none, see
    :func:`event_lines`)."""
    node, kind, args = action.node, action.kind, action.args
    if kind == "link":
        return [("ip", "link", "set", names.eth_of(node, args[0]), args[1])]
    if kind == "drop":
        intf = names.eth_of(node, args[0]) if args[0] else None
        return [tuple(line.split()) for line in iptables_drop(intf, delete=args[1] == "delete")]
    if kind == "frr":
        if args[0] == "start":
            return [engine.frr_restart]
        # watchfrr first (it would restart a stopped or killed daemon), then every daemon
        watch = FRR_PIDS / "watchfrr.pid"
        return [
            f"{{ [ ! -f {watch} ] || kill -{args[0]} $(cat {watch}); }}",
            f"for f in {FRR_PIDS}/*.pid; do [ $f = {watch} ] || kill -{args[0]} $(cat $f); done",
        ]
    if kind == "vtysh":
        return [("vtysh", *[w for c in args for w in ("-c", c)])]
    if kind == "service":
        service, what = args
        if service != "dns":
            return []
        if what == "stop":  # NSD's whole process group, as the testbed kills it
            return [f"kill -KILL -$(cat {NSD_DIR / 'nsd.pid'})"]
        return [("nsd", "-c", str(NSD_DIR / dns.CONF_NAME))]
    if kind == "shell":
        return [args[0]]
    raise ValueError(f"unknown action {kind!r}")


def exec_line(dev: str, commands: List[Command]) -> str:
    """``on NODE ...``: one command as it is, several (or a shell line) through ``sh -c``."""
    if len(commands) == 1 and isinstance(commands[0], tuple):
        return f"on {dev} {shlex.join(commands[0])}"
    script = " && ".join(shlex.join(c) if isinstance(c, tuple) else c for c in commands)
    return f"on {dev} sh -c {sh_word(script)}"


def event_lines(
    names: Names, event: TimedEvent, traffic: TrafficCommands, engine: Engine
) -> List[str]:
    """The script lines of one event: each node's commands in one ``on``, the nodes at
    once (each ``on`` takes a fraction of a second)."""
    groups: Dict[str, List[Command]] = {}
    python: List[Tuple[str, str]] = []
    for action in event.actions:
        dev = names.device(action.node)
        if action.kind == "service" and action.args[0] != "dns":
            service, what = action.args
            argv = traffic.servers.get(action.node, {}).get(service)
            if argv is None:
                continue
            if what == "stop":
                python.append((dev, f"halt {dev} {service} KILL"))
            else:
                python.append((dev, f"spawn {dev} {service} {shlex.join(argv)}"))
            continue
        groups.setdefault(dev, []).extend(action_commands(names, action, engine))
    lines = [f"{{ {exec_line(dev, cmds)} || failed {dev}; }} &" for dev, cmds in groups.items()]
    lines += [f"{{ {line} || failed {dev}; }} &" for dev, line in python]
    return lines


def timeline_script(
    plan: Plan, names: Names, scenario: Any, events: List[TimedEvent], traffic: TrafficCommands,
    opts: Options, engine: Engine, name: str,
) -> str:  # fmt: skip
    """``timeline.sh``: the scenario's settle, then every event at its time, recorded."""
    topo = plan.topology
    out = ["#!/bin/sh"]
    out += header(f"Timeline of scenario {scenario.name} on topology {topo.name}, for the "
                  f"{engine.title} lab in this folder", opts)  # fmt: skip
    out += [
        f"# Run it once the lab is up ({engine.up}) and, to measure, the traffic started",
        "# (./traffic.sh start). It waits the scenario's settle (SETTLE=0 skips it), fires",
        "# every event at its time from the timeline's start as the testbed's engine does,",
        f"# and appends a record per event to {COLLECT}/records/events.jsonl (the timeline's",
        f"# start as t0 in {COLLECT}/meta.json and in {COLLECT}/records/t0).",
        "set -u",
        functions(engine, name),
        "now() { date +%s.%N; }",
        "# wait_until AT: until AT seconds after T0",
        "wait_until() {",
        '    sleep "$(awk -v t0="$T0" -v at="$1" -v now="$(now)" '
        '\'BEGIN { d = t0 + at - now; printf "%.3f", (d > 0 ? d : 0) }\')"',
        "}",
        'failed() { echo "timeline.sh: a command on $1 failed" >&2; }',
        "# record T JSON: the event's record, as the testbed writes it (t, applied_s added)",
        "record() {",
        "    done_at=$(now)",
        '    applied=$(awk -v a="$1" -v b="$done_at" \'BEGIN { printf "%.6f", b - a }\')',
        '    printf \'{"t": %s, %s, "details": {}, "applied_s": %s}\\n\' "$1" "$2" '
        '"$applied" >>"$RECORDS/events.jsonl"',
        "}",
        "# set_t0: the timeline's start into the run's meta.json (the export wrote it with",
        '# "t0": null), for anycast-testbed report',
        "set_t0() {",
        f"    sed 's/^{META_T0}.*,$/{META_T0}'\"$T0\"',/' \"$COLLECT/meta.json\" "
        '>"$COLLECT/meta.json.tmp" &&',
        '        mv "$COLLECT/meta.json.tmp" "$COLLECT/meta.json"',
        "}",
        "",
        'mkdir -p "$RECORDS"',
        f'echo "settling {scenario.settle:g} s"',
        f'sleep "${{SETTLE:-{scenario.settle:g}}}"',
        "T0=$(now)",
        'echo "$T0" >"$RECORDS/t0"',
        "set_t0",
    ]
    for event in events:
        fixed = json.dumps(event.record)[1:-1]
        out += [
            "",
            f"# t={event.at:g} s: {event.describe()}",
            f"wait_until {event.at:g}",
            "t=$(now)",
            *event_lines(names, event, traffic, engine),
            "wait",
            f'record "$t" {q(fixed)}',
            f'echo "t={event.at:5.1f}s  {event.describe()}"',
        ]
    out += [
        "",
        f"wait_until {scenario.duration:g}",
        f'echo "timeline of {scenario.name} done ({scenario.duration:g} s)"',
    ]
    return "\n".join(out) + "\n"


def traffic_script(
    plan: Plan, names: Names, traffic: TrafficCommands, opts: Options, engine: Engine, name: str
) -> str:
    """``traffic.sh start|stop``: the stream service (and the kinds' other services) on
    every site server, the probes on every client, where the image has the package."""
    out = ["#!/bin/sh"]
    out += header(f"Services and probes of the testbed in the {engine.title} lab of "
                  f"{plan.topology.name}", opts)  # fmt: skip
    out += [
        "# ./traffic.sh start: the services every site server runs besides NSD (which its",
        f"# startup starts), then the probes of every client, their records in {COLLECT}/records/;",
        "# ./traffic.sh stop: stops them. They are the testbed's own Python programs: the",
        "# containers' image needs the anycast-testbed package "
        f"({engine.images['host']} has not: README.md).",
        f"# Probe kinds: {', '.join(traffic.kinds)}; services: {', '.join(traffic.services)}.",
        "set -u",
        functions(engine, name),
        "",
        'case "${1:-}" in',
        "start)",
    ]
    devices = [names.device(n) for n in [*traffic.servers, *traffic.probes]]
    out += [
        f"    for dev in {' '.join(devices)}; do",
        "        on \"$dev\" python3 -c 'import testbed' >/dev/null 2>&1 || {",
        '            echo "traffic.sh: the image of $dev has no anycast-testbed package '
        '(see README.md)" >&2',
        "            exit 2",
        "        }",
        "    done",
        '    mkdir -p "$RECORDS"',
    ]
    for server, services in traffic.servers.items():
        out += [
            f"    spawn {names.device(server)} {kind} {shlex.join(argv)}"
            for kind, argv in services.items()
        ]
    for client, probes in traffic.probes.items():
        out += [
            f"    spawn {names.device(client)} {prefix}-probe {shlex.join(argv)}"
            for prefix, argv in probes.items()
        ]
    out += ["    ;;", "stop)"]
    for client, probes in traffic.probes.items():
        out += [f"    halt {names.device(client)} {prefix}-probe" for prefix in probes]
    for server, services in traffic.servers.items():
        out += [f"    halt {names.device(server)} {kind}" for kind in services]
    out += [
        "    ;;",
        "*)",
        '    echo "usage: $0 start|stop" >&2',
        "    exit 2",
        "    ;;",
        "esac",
    ]
    return "\n".join(out) + "\n"
