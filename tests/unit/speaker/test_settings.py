"""Ryu site speakers: the timers they are given, what Ryu honours, and the run's caveats."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.speaker import ryu_speaker
from testbed.speaker.ryu import speaker_argv
from testbed.speaker.settings import RYU_MIN_HOLD, neighbor_settings, session_timers
from testbed.topology.capabilities import speaker_caveats
from testbed.topology.generate import TopologyBuilder
from testbed.topology.model import Topology
from testbed.topology.plan import make_plan


def ryu_topology(upstreams=("ta",), **bgp: Any) -> Topology:
    """One Ryu site behind ``upstreams``, one client; ``bgp``: timer defaults."""
    b = TopologyBuilder("ryu-timers", bgp=bgp) if bgp else TopologyBuilder("ryu-timers")
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb")
    b.anycast(64500).site("east", upstream=list(upstreams), speaker="ryu")
    b.eyeball("isp", 64512).link("isp", "tb").client("ca", "isp")
    return b.build()


def parsed_neighbors(topo: Topology) -> List[Any]:
    """The speaker's --neighbor values, as its own parser reads the command line."""
    router = make_plan(topo).routers["east"]
    argv = speaker_argv(router, Path("/run/x/records"), Path("/run/x/east.sock"))
    args = ryu_speaker._parser().parse_args(argv[3:])  # after python -m MODULE
    assert args.out == "/run/x/records/speaker-east.jsonl"
    return args.neighbor


def test_hold_9_keepalive_3_reaches_the_speaker_and_is_negotiated():
    topo = ryu_topology(hold=9, keepalive=3)
    (upstream,) = parsed_neighbors(topo)
    address, asn, hold = upstream
    assert (asn, hold) == (65001, 9)
    settings = neighbor_settings(address, asn, hold)
    assert settings == {
        "ip_address": address,
        "remote_as": 65001,
        "cap_mbgp_ipv4": True,
        "connect_mode": "passive",
        "hold_time": RYU_MIN_HOLD,  # Ryu refuses 9; the OPEN exchange brings it to 9
    }
    got = session_timers(hold, upstream_hold=9, upstream_connect_retry=1)
    assert (got.configured_hold, got.hold, got.keepalive, got.connect_retry) == (10, 9, 3, 1)
    assert speaker_caveats(topo) == []


def test_a_hold_time_above_ryus_default_is_passed_as_it_is():
    (upstream,) = parsed_neighbors(ryu_topology(hold=90, keepalive=30))
    assert neighbor_settings(*upstream)["hold_time"] == 90  # Ryu's default would be 40
    assert session_timers(90, 90, 1).hold == 90


def test_a_keepalive_ryu_cannot_send_is_a_caveat():
    caveats = speaker_caveats(ryu_topology(hold=9, keepalive=1))
    assert caveats == [
        "site east (ryu): Ryu has no keepalive setting; it sends keepalives to ta every "
        "hold / 3 = 3 s (asked: 1 s)"
    ]


def test_bfd_and_mrai_stay_caveats():
    topo = ryu_topology(mrai=5)
    topo = topo.model_copy(update={"bfd": topo.bfd.model_copy(update={"enabled": True})})
    caveats = speaker_caveats(topo)
    assert len(caveats) == 2
    assert "no BFD" in caveats[0] and "asked: 5 s" in caveats[1]


def test_ryu_refuses_a_hold_time_below_its_minimum():
    base = pytest.importorskip("ryu.services.protocols.bgp.rtconf.base")
    neighbors = pytest.importorskip("ryu.services.protocols.bgp.rtconf.neighbors")
    validate = base.get_validator(base.HOLD_TIME)
    assert validate(RYU_MIN_HOLD) == RYU_MIN_HOLD
    with pytest.raises(Exception, match="hold_time"):
        validate(RYU_MIN_HOLD - 1)
    # the setting names are Ryu's own
    assert set(neighbor_settings("1.2.3.4", 1, 9)) == {
        neighbors.IP_ADDRESS,
        neighbors.REMOTE_AS,
        base.CAP_MBGP_IPV4,
        neighbors.CONNECT_MODE,
        base.HOLD_TIME,
    }


class FakeModule:
    """Stands for Ryu's bgpspeaker module: records the API calls."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    def call(self, name: str, **kwargs: Any) -> None:
        self.calls.append({"call": name, **kwargs})


class FakeSpeaker:
    def __init__(self) -> None:
        self.prefixes: List[str] = []
        self.calls: List[tuple] = []

    def prefix_add(self, prefix: str) -> None:
        self.prefixes.append(prefix)
        self.calls.append(("prefix_add", prefix))

    def prefix_del(self, prefix: str) -> None:
        self.calls.append(("prefix_del", prefix))

    def neighbor_update(self, address: str, key: str, value: Any) -> None:
        self.calls.append(("neighbor_update", address, key, value))


class ListWriter:
    def __init__(self) -> None:
        self.records: List[Dict[str, Any]] = []

    def write(self, record: Dict[str, Any]) -> None:
        self.records.append(record)


def test_start_creates_each_neighbor_with_its_hold_time():
    args = ryu_speaker._parser().parse_args(
        ["--site", "east", "--asn", "64500", "--router-id", "100.127.0.9",
         "--prefix", "192.0.2.0/24", "--neighbor", "100.64.0.14,65001,9",
         "--neighbor", "100.64.0.18,65002,30", "--control", "c.sock", "--out", "o.jsonl"]
    )  # fmt: skip
    site = ryu_speaker.SiteSpeaker.__new__(ryu_speaker.SiteSpeaker)
    site.args, site.writer, site.library = args, ListWriter(), "ryu"
    site.module, site.speaker = FakeModule(), FakeSpeaker()
    site.announced, site.med, site.peers = False, None, {}
    site.start()
    assert [(c["call"], c["ip_address"], c["hold_time"]) for c in site.module.calls] == [
        ("neighbor.create", "100.64.0.14", 10),
        ("neighbor.create", "100.64.0.18", 30),
    ]
    start = site.writer.records[0]
    assert start["event"] == "start" and start["library"] == "ryu" and start["hold"] == [10, 30]
    assert site.speaker.prefixes == ["192.0.2.0/24"]


def fake_site(*extra: str) -> Any:
    """A Ryu speaker process's site on the fake API, from its command line."""
    args = ryu_speaker._parser().parse_args(
        ["--site", "east", "--asn", "64500", "--router-id", "100.127.0.9",
         "--prefix", "192.0.2.0/24", "--neighbor", "100.64.0.14,65001,9",
         "--control", "c.sock", "--out", "o.jsonl", *extra]
    )  # fmt: skip
    site = ryu_speaker.SiteSpeaker.__new__(ryu_speaker.SiteSpeaker)
    site.args, site.writer, site.library = args, ListWriter(), "ryu"
    site.module, site.speaker = FakeModule(), FakeSpeaker()
    site.module.MULTI_EXIT_DISC = "multi_exit_disc"
    site.announced, site.med, site.peers = False, None, {}
    return site


def test_the_unicast_prefix_reaches_the_speakers_command_line():
    b = TopologyBuilder("ryu-unicast", unicast=True)
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb")
    b.anycast(64500).site("east", upstream="ta", speaker="ryu")
    b.eyeball("isp", 64512).link("isp", "tb").client("ca", "isp")
    router = make_plan(b.build()).routers["east"]
    argv = speaker_argv(router, Path("/run/x/records"), Path("/run/x/east.sock"))
    args = ryu_speaker._parser().parse_args(argv[3:])
    assert (args.prefix, args.unicast) == ("192.0.2.0/24", "100.66.0.0/24")
    plain = make_plan(ryu_topology()).routers["east"]
    argv = speaker_argv(plain, Path("/run/x/records"), Path("/run/x/east.sock"))
    assert "--unicast" not in argv


def test_the_unicast_prefix_is_announced_at_start_and_never_withdrawn():
    """withdraw and announce steer the anycast prefix alone; the MED (a neighbour setting in
    Ryu) goes out on both routes, as on an FRR site."""
    site = fake_site("--unicast", "100.66.0.0/24")
    site.start()
    assert site.speaker.calls == [("prefix_add", "192.0.2.0/24"), ("prefix_add", "100.66.0.0/24")]
    assert site.handle({"cmd": "withdraw"})["announced"] is False
    assert site.handle({"cmd": "med", "value": 50})["med"] == 50
    status = site.handle({"cmd": "announce"})
    assert status["announced"] is True and status["unicast"] == "100.66.0.0/24"
    assert site.speaker.calls[2:] == [
        ("prefix_del", "192.0.2.0/24"),
        ("neighbor_update", "100.64.0.14", "multi_exit_disc", 50),
        ("prefix_add", "192.0.2.0/24"),
    ]
    start, *announces = [r for r in site.writer.records if r["event"] in ("start", "announce")]
    assert start["unicast"] == "100.66.0.0/24"
    assert [(r["prefix"], r.get("unicast", False)) for r in announces] == [
        ("192.0.2.0/24", False),
        ("100.66.0.0/24", True),
        ("192.0.2.0/24", False),
    ]


def test_without_a_unicast_prefix_only_the_anycast_one_is_announced():
    site = fake_site()
    site.start()
    assert site.speaker.prefixes == ["192.0.2.0/24"]
    assert site.handle({"cmd": "status"})["unicast"] is None


@pytest.mark.parametrize("bad", ["100.64.0.14", "100.64.0.14,65001,2", "x,65001", "1.2.3.4,1,2,3"])
def test_a_bad_neighbor_argument_is_refused(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        ryu_speaker._parser().parse_args(
            ["--site", "e", "--asn", "1", "--router-id", "1.1.1.1", "--prefix", "192.0.2.0/24",
             "--neighbor", bad, "--control", "c", "--out", "o"]
        )  # fmt: skip
    assert exc.value.code == 2
    assert "ADDRESS,AS[,HOLD]" in capsys.readouterr().err
