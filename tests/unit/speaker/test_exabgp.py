"""ExaBGP site speakers: the config and settings rendered, the API lines, the API program.

Refresh the golden file after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/speaker/test_exabgp.py``.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.scenario.effective import effective_topology
from testbed.speaker import exabgp_api
from testbed.speaker.exabgp import (
    api_argv,
    exabgp_argv,
    render_config,
    render_env,
    session_timers,
)
from testbed.topology.capabilities import speaker_caveats
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "exabgp"


def exabgp_two_sites(**overrides: Any):
    return effective_topology(
        load_topology("two-sites"), topology_overrides={"speaker": "exabgp", **overrides}
    )


def east_config(**overrides: Any) -> str:
    plan = make_plan(exabgp_two_sites(**overrides))
    router = plan.routers["east"]
    api = api_argv(router, Path("/run/x/records"), Path("/run/at/speakers/east.sock"))
    api[0] = "/usr/bin/python3"  # the venv's python differs between machines
    return render_config(router, api, "two-sites")


@pytest.mark.parametrize(
    "name, overrides",
    [("two-sites-east.conf", {}), ("two-sites-unicast-east.conf", {"unicast": True})],
)
def test_east_config_golden(name, overrides):
    text = east_config(**overrides)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_config_carries_the_topologys_hold_time_and_the_uplink_address():
    plan = make_plan(exabgp_two_sites(**{"bgp.hold": 9, "bgp.keepalive": 3}))
    router = plan.routers["east"]
    (n,) = router.neighbors
    text = render_config(router, ["/usr/bin/python3", "-m", "x"])
    local = next(i for i in router.interfaces if i.peer_address == n.address).address.ip
    assert f"neighbor {n.address} {{" in text
    assert f"    local-address {local};" in text
    assert "    hold-time 9;" in text and "    peer-as 65001;" in text
    assert "    passive true;" in text and "    listen 179;" in text
    assert "processes [ anycast ];" in text and "run /usr/bin/python3 -m x;" in text


def test_the_api_program_reads_its_own_command_line():
    plan = make_plan(exabgp_two_sites())
    router = plan.routers["east"]
    argv = api_argv(router, Path("/r/records"), Path("/s/east.sock"))
    assert argv[1:3] == ["-m", "testbed.speaker.exabgp_api"]
    args = exabgp_api._parser().parse_args(argv[3:])
    assert (args.site, args.asn, args.prefix) == ("east", 64500, "192.0.2.0/24")
    assert args.neighbor == [str(router.neighbors[0].address)]
    assert (args.prepend, args.med, args.control) == (0, None, "/s/east.sock")
    assert args.out == "/r/records/speaker-east.jsonl"
    assert args.unicast is None  # no unicast prefix unless the topology gives one


def test_the_sites_unicast_prefix_reaches_the_api_program():
    router = make_plan(exabgp_two_sites(unicast=True)).routers["west"]
    argv = api_argv(router, Path("/r/records"), Path("/s/west.sock"))
    args = exabgp_api._parser().parse_args(argv[3:])
    assert (args.prefix, args.unicast) == ("192.0.2.0/24", "100.66.1.0/24")


def test_a_site_prepend_and_med_reach_the_api_program():
    topo = exabgp_two_sites()
    topo.sites[0].prepend, topo.sites[0].med = 2, 50
    router = make_plan(topo).routers["east"]
    args = exabgp_api._parser().parse_args(api_argv(router, Path("/r"), Path("/s"))[3:])
    assert (args.prepend, args.med) == (2, 50)


def test_settings_and_exabgp_command_line():
    env = render_env()
    for line in ("daemonize = false", "drop = false", "cli = false", "bind = ''", "ack = true"):
        assert line in env.splitlines()
    argv = exabgp_argv(Path("/f/exabgp.env"), Path("/f/exabgp.conf"))
    assert argv[1:] == ["-m", "exabgp", "--env-file", "/f/exabgp.env", "server", "/f/exabgp.conf"]


def test_api_lines_for_announce_prepend_med_and_withdraw():
    line = exabgp_api.route_line
    assert line("192.0.2.0/24", 64500) == "announce route 192.0.2.0/24 next-hop self"
    assert line("192.0.2.0/24", 64500, med=1000) == (
        "announce route 192.0.2.0/24 next-hop self med 1000"
    )
    assert line("192.0.2.0/24", 64500, prepend=3) == (
        "announce route 192.0.2.0/24 next-hop self as-path [ 64500 64500 64500 64500 ]"
    )
    assert line("192.0.2.0/24", 64500, announce=False, med=5) == (
        "withdraw route 192.0.2.0/24 next-hop self"
    )


class Memory:
    def __init__(self) -> None:
        self.records: List[Dict[str, Any]] = []

    def write(self, record: Dict[str, Any]) -> None:
        self.records.append(record)


def api_site(**kw: Any) -> exabgp_api.ApiSite:
    argv = ["--site", "east", "--asn", "64500", "--prefix", "192.0.2.0/24"]
    argv += ["--neighbor", "100.64.0.1", "--control", "/x.sock", "--out", "/x.jsonl"]
    return exabgp_api.ApiSite(exabgp_api._parser().parse_args(argv), Memory(), io.StringIO())


def test_api_site_turns_control_commands_into_api_lines():
    site = api_site()
    site.announce()
    assert site.handle({"cmd": "announce"})["announced"] is True  # idempotent: one line
    assert site.handle({"cmd": "policy", "prepend": 2, "med": 7})["ok"]
    assert site.handle({"cmd": "med", "value": None})["med"] is None
    assert site.handle({"cmd": "withdraw"})["announced"] is False
    assert site.handle({"cmd": "policy", "prepend": 0, "med": None})["prepend"] == 0
    assert site.out.getvalue().splitlines() == [
        "announce route 192.0.2.0/24 next-hop self",
        "announce route 192.0.2.0/24 next-hop self med 7 as-path [ 64500 64500 64500 ]",
        "announce route 192.0.2.0/24 next-hop self as-path [ 64500 64500 64500 ]",
        "withdraw route 192.0.2.0/24 next-hop self",
    ]  # a withdrawn route is not announced by a policy change
    events = [r["event"] for r in site.writer.records]
    assert events == ["announce", "policy", "policy", "withdraw", "policy"]


def unicast_site(**kw: Any) -> exabgp_api.ApiSite:
    argv = ["--site", "east", "--asn", "64500", "--prefix", "192.0.2.0/24"]
    argv += ["--unicast", "100.66.0.0/24", "--neighbor", "100.64.0.1"]
    argv += ["--control", "/x.sock", "--out", "/x.jsonl"]
    for key, value in kw.items():
        argv += [f"--{key}", str(value)]
    return exabgp_api.ApiSite(exabgp_api._parser().parse_args(argv), Memory(), io.StringIO())


def test_the_unicast_prefix_is_announced_at_start_and_never_withdrawn():
    """withdraw/announce steer the anycast prefix alone; a policy change (prepend, MED,
    communities) goes out on both routes, as an FRR site's route-map applies to both."""
    site = unicast_site(community="64500:100")
    site.announce()
    site.announce_unicast()
    assert site.handle({"cmd": "withdraw"})["announced"] is False
    assert site.handle({"cmd": "policy", "prepend": 1, "med": 5, "communities": []})["ok"]
    status = site.handle({"cmd": "announce"})
    assert status["announced"] is True and status["unicast"] == "100.66.0.0/24"
    assert site.out.getvalue().splitlines() == [
        "announce route 192.0.2.0/24 next-hop self community [ 64500:100 ]",
        "announce route 100.66.0.0/24 next-hop self community [ 64500:100 ]",
        "withdraw route 192.0.2.0/24 next-hop self",
        # the withdrawn anycast route stays withdrawn; the unicast one takes the policy
        "announce route 100.66.0.0/24 next-hop self med 5 as-path [ 64500 64500 ]",
        "announce route 192.0.2.0/24 next-hop self med 5 as-path [ 64500 64500 ]",
    ]
    assert not any(x.startswith("withdraw route 100.66") for x in site.out.getvalue().splitlines())
    unicast = [r for r in site.writer.records if r.get("unicast")]
    assert [(r["event"], r["prefix"]) for r in unicast] == [("announce", "100.66.0.0/24")]


def test_without_a_unicast_prefix_nothing_more_is_announced():
    site = api_site()
    site.announce_unicast()
    assert site.out.getvalue() == "" and site.writer.records == []
    assert site.handle({"cmd": "status"})["unicast"] is None


def test_a_bad_unicast_prefix_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        exabgp_api._parser().parse_args(
            ["--site", "e", "--asn", "1", "--prefix", "192.0.2.0/24", "--unicast", "100.66.0.1/24",
             "--control", "c", "--out", "o"]
        )  # fmt: skip
    assert exc.value.code == 2 and "invalid IPv4 prefix '100.66.0.1/24'" in capsys.readouterr().err


def test_api_site_refuses_bad_input():
    site = api_site()
    assert site.handle({"cmd": "med", "value": -1})["ok"] is False
    assert site.handle({"cmd": "policy", "prepend": "3"})["ok"] is False
    assert site.handle({"cmd": "reboot"}) == {"ok": False, "error": "unknown command 'reboot'"}


def test_api_site_follows_exabgps_neighbor_changes_and_acks():
    site = api_site()
    state = {"type": "state", "neighbor": {"address": {"peer": "100.64.0.1"}, "state": "up"}}
    site.from_exabgp(json.dumps(state) + "\n")
    assert site.handle({"cmd": "status"})["peers"] == {"100.64.0.1": "Established"}
    state["neighbor"]["state"] = "down"
    site.from_exabgp(json.dumps(state))
    site.from_exabgp("done")
    site.from_exabgp("error")
    status = site.handle({"cmd": "status"})
    assert status["peers"] == {"100.64.0.1": "Down"} and status["errors"] == 1
    assert [r["event"] for r in site.writer.records] == ["peer_up", "peer_down", "error"]


@pytest.mark.parametrize(
    "keepalive,hold,caveat",
    [(1, 3, False), (3, 9, False), (2, 9, True)],
)
def test_caveats_only_when_keepalive_is_not_hold_over_3(keepalive, hold, caveat):
    topo = exabgp_two_sites(**{"bgp.hold": hold, "bgp.keepalive": keepalive})
    got = session_timers(hold, hold, 1)
    assert (got.hold, got.keepalive, got.connect_retry) == (hold, hold // 3, 1)
    lines = speaker_caveats(topo)
    assert any("ExaBGP has no keepalive setting" in x for x in lines) == caveat, lines


def test_caveats_name_mrai_and_bfd_for_exabgp_sites():
    topo = exabgp_two_sites(**{"bgp.mrai": 5, "bfd.enabled": True})
    lines = speaker_caveats(topo)
    assert any("site east (exabgp): no BFD" in x for x in lines), lines
    assert any("site west (exabgp): no advertisement-interval" in x for x in lines), lines


@pytest.mark.parametrize("name", ["two-sites-east.conf", "two-sites-unicast-east.conf"])
def test_exabgp_itself_accepts_the_rendered_config(tmp_path, name):
    """``exabgp validate`` (the installed ExaBGP's own parser) takes the golden configs."""
    import subprocess
    import sys

    pytest.importorskip("exabgp")
    done = subprocess.run(
        [sys.executable, "-m", "exabgp", "validate", str(GOLDEN / name)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
