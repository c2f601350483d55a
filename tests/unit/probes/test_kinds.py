"""The probe-kind and service registries (no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.probes import kinds as registry
from testbed.probes.kinds import ProbeContext, ProbeKind, kind_class, register, services_for
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, probe_argvs


def test_builtin_kinds_and_their_services():
    assert {"dns", "tcp-stream"} <= set(registry.kinds())
    assert kind_class("dns").record_prefix == "dns"
    assert kind_class("tcp-stream").record_prefix == "tcp"
    assert services_for(["dns", "tcp-stream"]) == ["dns", "tcp"]
    with pytest.raises(KeyError, match="unknown probe kind 'nope' \\(one of "):
        kind_class("nope")


def test_record_prefixes_do_not_shadow_each_other():
    """``PREFIX-CLIENT.jsonl`` is found by glob: no prefix may be another's plus a hyphen."""
    prefixes = [kind_class(k).record_prefix for k in registry.kinds()]
    assert len(set(prefixes)) == len(prefixes)
    assert all("-" not in p for p in prefixes), prefixes


def test_default_argvs_are_the_dns_and_tcp_probes():
    topo = load_topology("world")
    argvs = probe_argvs(topo, "paris", TrafficParams(seed=3), Path("/r"))
    assert sorted(argvs) == ["dns", "tcp"]
    assert "--out /r/dns-paris.jsonl" in " ".join(argvs["dns"])
    assert "--streams 2" in " ".join(argvs["tcp"])
    no_streams = probe_argvs(topo, "paris", TrafficParams(tcp_streams=0), Path("/r"))
    assert sorted(no_streams) == ["dns"]


def test_a_kind_registered_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):

        @register("dns")
        class Again(ProbeKind):
            def argv(self, ctx: ProbeContext) -> list:
                return []
