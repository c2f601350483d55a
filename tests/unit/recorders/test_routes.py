"""Route monitor: every RTM_NEWROUTE / RTM_DELROUTE message is one record, none is lost."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network
from typing import Any, List, Optional, Sequence

from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from testbed.recorders.routes import (
    RouteMessage,
    RouteMonitor,
    RouterRoutes,
    parse_datagram,
    parse_route_message,
)

ANYCAST = IPv4Network("192.0.2.0/24")
RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWLINK = 24, 25, 16


def route(
    kind: int,
    gateways: Sequence[str] = (),
    prefix: str = "192.0.2.0/24",
    metric: int = 20,
    rtype: int = 1,
    table: int = 254,
    family: int = socket.AF_INET,
) -> bytes:
    """A route message on the wire, as the kernel multicasts it."""
    dst, length = prefix.split("/")
    m = rtmsg()
    m["family"], m["dst_len"], m["table"], m["type"] = family, int(length), table, rtype
    attrs: List[Any] = [("RTA_TABLE", table), ("RTA_DST", dst), ("RTA_PRIORITY", metric)]
    if len(gateways) == 1:
        attrs.append(("RTA_GATEWAY", gateways[0]))
    elif gateways:
        hops = [{"attrs": [("RTA_GATEWAY", g)], "oif": 2 + i} for i, g in enumerate(gateways)]
        attrs.append(("RTA_MULTIPATH", hops))
    m["attrs"] = attrs
    m["header"]["type"] = kind
    m.encode()
    return bytes(m.data)


def link_down() -> bytes:
    m = ifinfmsg()
    m["index"], m["flags"], m["change"] = 2, 0, 1
    m["attrs"] = [("IFLA_IFNAME", "ta-e0")]
    m["header"]["type"] = RTM_NEWLINK
    m.encode()
    return bytes(m.data)


def parsed(wire: bytes) -> Optional[RouteMessage]:
    (msg,) = parse_datagram(wire)
    return parse_route_message(msg)


def test_messages_are_parsed_from_the_wire():
    assert parsed(route(RTM_NEWROUTE, ["100.64.0.2"])) == RouteMessage(
        "add", ANYCAST, 20, ("100.64.0.2",)
    )
    assert parsed(route(RTM_DELROUTE, ["100.64.0.6", "100.64.0.2"])) == RouteMessage(
        "del", ANYCAST, 20, ("100.64.0.2", "100.64.0.6")
    )
    assert parsed(route(RTM_NEWROUTE, [], metric=0, rtype=6)).hops == ("blackhole",)
    assert parsed(route(RTM_NEWROUTE, [], prefix="100.64.0.0/30", metric=0)).hops == ("connected",)
    assert parsed(route(RTM_NEWROUTE, ["100.64.0.2"], table=255)) is None  # local table
    assert parsed(link_down()) is None


def test_path_exploration_keeps_every_short_lived_route():
    table = RouterRoutes([ANYCAST])
    burst = [
        route(RTM_NEWROUTE, ["100.64.0.2"]),
        route(RTM_NEWROUTE, ["100.64.0.6"]),  # replaced a few ms later
        route(RTM_NEWROUTE, ["100.64.0.6", "100.64.0.10"]),
        route(RTM_NEWROUTE, ["100.64.0.6", "100.64.0.10"]),  # the same again: no change
        route(RTM_DELROUTE, ["100.64.0.6", "100.64.0.10"]),
        route(RTM_NEWROUTE, ["100.64.0.2"], prefix="198.18.0.0/24"),  # not watched
    ]
    changes = [table.apply(parsed(wire)) for wire in burst]
    assert changes == [
        ("added", ("100.64.0.2",)),
        ("nexthop", ("100.64.0.6",)),
        ("nexthop", ("100.64.0.10", "100.64.0.6")),
        None,
        ("removed", ()),
        None,
    ]


def test_the_route_in_use_is_the_one_with_the_lowest_metric():
    table = RouterRoutes([ANYCAST])
    assert table.apply(parsed(route(RTM_NEWROUTE, [], metric=0, rtype=6))) == (
        "added",
        ("blackhole",),
    )
    assert table.apply(parsed(route(RTM_NEWROUTE, ["100.64.0.2"], metric=20))) is None
    assert table.apply(parsed(route(RTM_DELROUTE, [], metric=0, rtype=6))) == (
        "nexthop",
        ("100.64.0.2",),
    )


class FakePlan:
    owners = {"100.64.0.2": "nyc", "100.64.0.6": "lon"}

    def owner_of(self, address: IPv4Address) -> Optional[str]:
        return self.owners.get(str(address))


class FakeTestbed:
    plan = FakePlan()


class FakeIPRoute:
    """Answers a table dump with what the kernel holds after a silent flush."""

    def __init__(self, wires: Sequence[bytes]):
        self.wires = wires

    def get_routes(self, family: int, table: int) -> List[Any]:
        return [m for w in self.wires for m in parse_datagram(w)]


class ListWriter:
    def __init__(self) -> None:
        self.records: List[dict] = []

    def write(self, record: dict) -> None:
        self.records.append(record)


def test_the_monitor_records_each_message_and_resyncs_after_a_link_change():
    monitor = RouteMonitor(FakeTestbed(), [ANYCAST], path=None)
    monitor.tables["ta"] = RouterRoutes([ANYCAST])
    kernel, ours = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ours.setblocking(False)
    writer = ListWriter()
    try:
        for wire in (
            route(RTM_NEWROUTE, ["100.64.0.2"]),
            route(RTM_NEWROUTE, ["100.64.0.6"]),
            link_down(),  # the kernel flushed the route through the link, silently
        ):
            kernel.send(wire)
        ipr = FakeIPRoute([route(RTM_NEWROUTE, [], metric=0, rtype=6, prefix="10.0.0.0/8")])
        monitor._read(writer, "ta", ours, ipr)
    finally:
        kernel.close()
        ours.close()
    got = [(r["change"], r["nexthops"], r["via"], r.get("resync", False)) for r in writer.records]
    assert got == [
        ("added", ["100.64.0.2"], ["nyc"], False),
        ("nexthop", ["100.64.0.6"], ["lon"], False),
        ("removed", [], [], True),
    ]
    assert {r["router"] for r in writer.records} == {"ta"}
    assert monitor.changes == 3 and monitor.resyncs == 1
