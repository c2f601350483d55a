"""A site's ``service`` address reaches NSD, the stream service and the probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import InputError
from testbed.probes import dns as dns_probe
from testbed.probes import tcp as tcp_probe
from testbed.services import dns as dns_service
from testbed.services import stream
from testbed.topology.generate import TopologyBuilder
from testbed.topology.plan import make_plan
from testbed.traffic import TrafficParams, probe_argvs, service_address, service_argv

RUN = Path("/run/r")


def topology(service: str = "192.0.2.10", other: str = "192.0.2.10", speaker: str = "frr"):
    b = TopologyBuilder("svc")
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb")
    b.anycast(64500)
    b.site("east", upstream="ta", service=service, speaker=speaker)
    b.site("west", upstream="tb", service=other)
    b.eyeball("isp", 64512).link("isp", "ta").client("ca", "isp")
    return b.build()


@pytest.mark.parametrize("speaker", ["frr", "ryu", "exabgp"])
def test_services_bind_to_the_sites_service_address(speaker):
    topo = topology(speaker=speaker)
    plan = make_plan(topo)
    host = plan.servers("east")[0]
    assert [str(lo) for lo in host.loopbacks] == ["192.0.2.10/32"]  # what plan.py puts on lo
    argv, name = service_argv(topo, host, "dns", RUN, TrafficParams())
    assert name == "nsd" and argv[1:3] == ["-m", "testbed.services.dns"]
    args = dns_service._parser().parse_args(argv[3:])
    nsd_dir = RUN / "services" / host.name / "nsd"
    assert (args.site, args.address, args.dir) == ("east", "192.0.2.10", nsd_dir)
    argv, name = service_argv(topo, host, "tcp", RUN, TrafficParams(tcp_port=9000))
    assert name == "stream"
    args = stream._parser().parse_args(argv[3:])
    assert (args.site, args.bind, args.port) == ("east", "192.0.2.10", 9000)
    # and NSD's own files say so
    assert "ip-address: 192.0.2.10" in dns_service.render_config("east", Path("/x"), args.bind)


def test_probes_send_to_the_service_address_with_the_seed():
    topo = topology()
    params = TrafficParams(dns_rate=50, tcp_streams=3, tcp_port=9000, seed=42)
    argvs = probe_argvs(topo, "ca", params, RUN / "records")
    assert set(argvs) == {"dns", "tcp"}
    dns = dns_probe._parser().parse_args(argvs["dns"][3:])
    assert (dns.client, dns.target, dns.rate, dns.seed) == ("ca", "192.0.2.10", 50.0, 42)
    assert dns.out == str(RUN / "records" / "dns-ca.jsonl")
    tcp = tcp_probe._parser().parse_args(argvs["tcp"][3:])
    assert (tcp.target, tcp.port, tcp.streams, tcp.seed) == ("192.0.2.10", 9000, 3, 42)
    no_streams = probe_argvs(topo, "ca", TrafficParams(tcp_streams=0), RUN / "records")
    assert set(no_streams) == {"dns"}


def test_the_default_service_address_is_192_0_2_53():
    b = TopologyBuilder("default")
    b.transit("ta", 65001).anycast(64500).site("east", upstream="ta")
    b.eyeball("isp", 64512).link("isp", "ta").client("ca", "isp")
    assert service_address(b.build()) == "192.0.2.53"
    assert service_address(topology()) == "192.0.2.10"


def test_sites_with_different_service_addresses_are_refused_by_validation():
    with pytest.raises(InputError) as exc:
        topology(service="192.0.2.10", other="192.0.2.20")
    assert str(exc.value) == (
        "builder svc: sites[1].service: 192.0.2.20 differs from sites[0].service 192.0.2.10: "
        "anycast sites announce one prefix and hold one service address"
    )
