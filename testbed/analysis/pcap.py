"""TCP resets in a run's packet captures (``RUN/pcap/*.pcap``, written by ``run --pcap``).

A capture on a site's uplink shows which site sent each reset: an RST from the
service address leaving ``nyc-e0`` was sent by nyc.  tcpdump reads the files
(no root needed); the summary keeps, per file, the resets and the clients they
went to, so the report can say "nyc reset 6 streams of singapore, sydney and
tokyo at 8.1 s" and the user knows which file to open in Wireshark.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Callable, Dict, List, Optional

from testbed.analysis.model import Capture

#: tcpdump filter: segments with RST set
RST_FILTER = "tcp[tcpflags] & tcp-rst != 0"

_LINE = re.compile(
    r"^(?P<t>\d+\.\d+) IP (?P<src>\d+\.\d+\.\d+\.\d+)\.(?P<sport>\d+) > "
    r"(?P<dst>\d+\.\d+\.\d+\.\d+)\.(?P<dport>\d+): Flags \[(?P<flags>[^\]]*)\]"
)


@dataclass(frozen=True)
class Reset:
    """One TCP segment with RST set, as tcpdump printed it."""

    t: float
    src: str
    sport: int
    dst: str
    dport: int


def parse_resets(text: str) -> List[Reset]:
    """The resets in ``tcpdump -nn -tt`` output (lines of other shapes are skipped).

    Args:
        text: tcpdump's standard output.

    Returns:
        The resets in the order printed.
    """
    resets = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and "R" in m["flags"]:
            resets.append(
                Reset(float(m["t"]), m["src"], int(m["sport"]), m["dst"], int(m["dport"]))
            )
    return resets


def read_resets(path: Path) -> Optional[List[Reset]]:
    """The resets in one capture file, or None when tcpdump is missing or cannot read it."""
    tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
    if not Path(tcpdump).exists():
        return None
    try:
        done = subprocess.run(
            [tcpdump, "-nn", "-tt", "-r", str(path), RST_FILTER],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 and not done.stdout:
        return None
    return parse_resets(done.stdout)


def summarise_captures(
    folder: Path,
    service: Optional[str],
    owner_of: Callable[[str], Optional[str]],
    t0: float,
    read: Callable[[Path], Optional[List[Reset]]] = read_resets,
) -> List[Capture]:
    """Per capture file: the resets the sites sent from the service address, and to whom.

    Args:
        folder: ``RUN/pcap``.
        service: the anycast service address (resets from it were sent by a site).
        owner_of: address -> node name (a client's name), or None.
        t0: the timeline's start (times in the result are relative to it).
        read: reads one file (tcpdump by default).

    Returns:
        One entry per ``*.pcap`` file (``NODE-IFACE.pcap``), sorted by name:
        ``file``, ``node`` (where it was captured), ``readable``,
        ``resets`` (from the service address), ``to`` (client -> count) and
        ``first_s`` / ``last_s`` (None without resets).
    """
    result: List[Capture] = []
    for path in sorted(folder.glob("*.pcap")):
        resets = read(path)
        mine = [r for r in resets or [] if service is None or r.src == service]
        to: Dict[str, int] = {}
        for r in mine:
            name = owner_of(r.dst) or r.dst
            to[name] = to.get(name, 0) + 1
        result.append(
            Capture(
                file=path.name,
                node=path.stem.rsplit("-", 1)[0],
                readable=resets is not None,
                resets=len(mine),
                to=dict(sorted(to.items())),
                first_s=round(mine[0].t - t0, 3) if mine else None,
                last_s=round(mine[-1].t - t0, 3) if mine else None,
            )
        )
    return result


def run_captures(run_dir: Path, t0: float) -> List[Capture]:
    """:func:`summarise_captures` for a run folder (empty when it has no ``pcap/``)."""
    folder = run_dir / "pcap"
    if not folder.is_dir():
        return []
    service: Optional[str] = None
    owners: Callable[[str], Optional[str]] = lambda _address: None  # noqa: E731
    topology = run_dir / "topology.yaml"
    if topology.exists():
        try:
            from testbed.topology.load import load_topology
            from testbed.topology.plan import make_plan

            topo = load_topology(str(topology))
            plan = make_plan(topo)
            service = str(topo.sites[0].service) if topo.sites else None
            owners = lambda address: plan.owner_of(IPv4Address(address))  # noqa: E731
        except Exception:  # noqa: BLE001 - a report never fails on a capture
            pass
    return summarise_captures(folder, service, owners, t0)
