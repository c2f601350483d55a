"""The transport probes' per-run knobs (``traffic.http_rate``, ``dnstcp_rate``, the QUIC
ports and connections, tcp-retry's backoff): defaults, bad values as one line naming
the file (or ``--set``) and the field, exit 2, and the way from the scenario to the
probes' and services' command lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from testbed.cli import main
from testbed.errors import InputError
from testbed.probes import defaults, dnstcp, http, quic, quicclient, retry
from testbed.scenario.load import load_scenario
from testbed.scenario.model import Traffic
from testbed.services import quic as quic_service
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, probe_argvs, service_argv

KNOBS = (
    "http_rate",
    "dnstcp_rate",
    "quic_port",
    "quic_shared_port",
    "quic_connections",
    "retry_backoff",
    "retry_backoff_max",
)


def scenario_error(tmp_path: Path, traffic: str) -> str:
    """The one-line message of loading a scenario file with this ``traffic`` block."""
    path = tmp_path / "scen.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            name: x
            duration: 30
            traffic: {traffic}
            timeline: []
            """
        )
    )
    with pytest.raises(InputError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: traffic"), message
    return message[len(str(path)) + 2 :]


def test_defaults_are_the_probes_own():
    t = Traffic()
    assert (t.http_rate, t.dnstcp_rate) == (defaults.HTTP_RATE, dnstcp.RATE) == (5.0, 5.0)
    assert (t.quic_port, t.quic_shared_port) == (quic.QUIC_PORT, quic.QUIC_SHARED_PORT)
    assert (t.quic_port, t.quic_shared_port) == (4433, 4434)
    assert t.quic_connections == quic.QUIC_CONNECTIONS == 2
    assert (t.retry_backoff, t.retry_backoff_max) == (retry.BACKOFF, retry.BACKOFF_MAX)
    params = TrafficParams()
    assert {k: getattr(params, k) for k in KNOBS} == {k: getattr(t, k) for k in KNOBS}
    # and the probes' own command-line defaults
    assert http._parser().parse_args(["--client", "c", "--out", "o"]).rate == t.http_rate
    assert dnstcp._parser().parse_args(["--client", "c", "--out", "o"]).rate == t.dnstcp_rate
    args = quicclient._parser().parse_args(["--client", "c", "--out", "o"])
    assert (args.port, args.connections) == (t.quic_port, t.quic_connections)
    assert quic_service._parser().parse_args(["--site", "s", "--credentials", "c"]).port == 4433
    args = retry._parser().parse_args(["--client", "c", "--out", "o"])
    assert (args.backoff, args.backoff_max) == (t.retry_backoff, t.retry_backoff_max)


def test_the_upper_bounds_are_the_probes_own():
    fields = Traffic.model_fields
    bound = {name: next(m.le for m in fields[name].metadata if hasattr(m, "le")) for name in KNOBS}
    assert bound["http_rate"] == http.MAX_RATE
    assert bound["dnstcp_rate"] == dnstcp.MAX_RATE
    assert bound["quic_connections"] == quic.MAX_CONNECTIONS
    # the probes accept the largest value the scenario does
    argv = ["--client", "c", "--out", "o"]
    assert http._parser().parse_args([*argv, "--rate", f"{bound['http_rate']:g}"])
    assert dnstcp._parser().parse_args([*argv, "--rate", f"{bound['dnstcp_rate']:g}"])
    assert quicclient._parser().parse_args([*argv, "--connections", "64"])
    assert retry._parser().parse_args(
        [*argv, "--backoff", f"{bound['retry_backoff']:g}"]
        + ["--backoff-max", f"{bound['retry_backoff_max']:g}"]
    )


@pytest.mark.parametrize(
    ("traffic", "expected"),
    [
        ("{http_rate: 0}", "traffic.http_rate: Input should be greater than 0 (got 0)"),
        ("{http_rate: 201}", "traffic.http_rate: Input should be less than or equal to 200"),
        ("{http_rate: fast}", "traffic.http_rate: Input should be a valid number"),
        ("{dnstcp_rate: 500}", "traffic.dnstcp_rate: Input should be less than or equal to 100"),
        ("{dnstcp_rate: -1}", "traffic.dnstcp_rate: Input should be greater than 0"),
        ("{quic_port: 53}", "traffic.quic_port: port 53 is the DNS server's"),
        ("{quic_shared_port: 53}", "traffic.quic_shared_port: port 53 is the DNS server's"),
        ("{quic_port: 0}", "traffic.quic_port: Input should be greater than or equal to 1"),
        ("{quic_shared_port: 65536}", "traffic.quic_shared_port: Input should be less than"),
        (
            "{quic_port: 4434}",
            "traffic: quic_port and quic_shared_port are both 4434: "
            "the two QUIC services need a UDP port each",
        ),
        (
            "{quic_port: 5000, quic_shared_port: 5000}",
            "traffic: quic_port and quic_shared_port are both 5000",
        ),
        ("{quic_connections: 0}", "traffic.quic_connections: Input should be greater than"),
        ("{quic_connections: 65}", "traffic.quic_connections: Input should be less than"),
        ("{quic_connections: 1.5}", "traffic.quic_connections: Input should be a valid integer"),
        ("{retry_backoff: 0}", "traffic.retry_backoff: Input should be greater than 0"),
        ("{retry_backoff: 61}", "traffic.retry_backoff: Input should be less than or equal to 60"),
        ("{retry_backoff_max: 601}", "traffic.retry_backoff_max: Input should be less than"),
        (
            "{retry_backoff: 3, retry_backoff_max: 1}",
            "traffic: retry_backoff_max (1) must be at least retry_backoff (3)",
        ),
        ("{quic_prot: 4433}", "traffic.quic_prot: unknown field"),
    ],
)
def test_bad_values_in_a_file_are_one_line_naming_the_field(tmp_path, traffic, expected):
    assert scenario_error(tmp_path, traffic).startswith(expected)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("traffic.http_rate=0", "--set: traffic.http_rate: Input should be greater than 0"),
        ("traffic.dnstcp_rate=many", "--set: traffic.dnstcp_rate: Input should be a valid number"),
        ("traffic.quic_port=53", "--set: traffic.quic_port: port 53 is the DNS server's"),
        (
            "traffic.quic_shared_port=4433",
            "--set: traffic.quic_shared_port: quic_port and quic_shared_port are both 4433",
        ),
        ("traffic.quic_connections=100", "--set: traffic.quic_connections: Input should be less"),
        (
            "traffic.retry_backoff_max=0.05",
            "--set: traffic.retry_backoff_max: retry_backoff_max (0.05) must be at least "
            "retry_backoff (0.1)",
        ),
    ],
)
def test_bad_values_on_the_command_line_exit_2_with_one_line(capsys, item, expected):
    with pytest.raises(SystemExit) as info:
        main(["run", "two-sites-failover", "--set", item])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"anycast-testbed: {expected}"), err


def test_knobs_go_from_the_scenario_to_the_command_lines():
    loaded = load_scenario(
        "two-sites-failover",
        [
            "traffic.kinds=[dns, tcp-retry, dns-tcp, http-short, quic, quic-shared]",
            "traffic.http_rate=12",
            "traffic.dnstcp_rate=7.5",
            "traffic.quic_port=5443",
            "traffic.quic_shared_port=5444",
            "traffic.quic_connections=3",
            "traffic.retry_backoff=0.2",
            "traffic.retry_backoff_max=1.5",
        ],
    )
    params = TrafficParams.of(loaded.scenario.traffic, seed=4)
    assert (params.seed, params.kinds[0]) == (4, "dns")
    topo = load_topology("two-sites")
    records = Path("/runs/r/records")
    argvs = probe_argvs(topo, "ca", params, records)
    assert http._parser().parse_args(argvs["http"][3:]).rate == 12
    assert dnstcp._parser().parse_args(argvs["dnstcp"][3:]).rate == 7.5
    for prefix, port in (("quic", 5443), ("quicshared", 5444)):
        args = quicclient._parser().parse_args(argvs[prefix][3:])
        assert (args.port, args.connections) == (port, 3)
    args = retry._parser().parse_args(argvs["tcpretry"][3:])
    assert (args.backoff, args.backoff_max) == (0.2, 1.5)

    class Host:
        name, site = "east-s1", "east"

    for service, port in (("quic", 5443), ("quic-shared", 5444)):
        argv, _ = service_argv(topo, Host, service, records.parent, params)
        assert quic_service._parser().parse_args(argv[3:]).port == port


def test_resolve_streams_default_bounds_and_command_line(tmp_path):
    from testbed.probes import resolve
    from testbed.topology.load import parse_topology
    from testbed.topology.plan import make_plan

    t = Traffic()
    assert t.resolve_streams == TrafficParams().resolve_streams == resolve.STREAMS == 1
    bound = next(m.le for m in Traffic.model_fields["resolve_streams"].metadata if hasattr(m, "le"))
    assert bound == resolve.MAX_STREAMS == defaults.MAX_RESOLVE_STREAMS
    assert scenario_error(tmp_path, "{resolve_streams: 17}").startswith(
        "traffic.resolve_streams: Input should be less than or equal to 16"
    )
    assert scenario_error(tmp_path, "{resolve_streams: -1}").startswith(
        "traffic.resolve_streams: Input should be greater than or equal to 0"
    )
    loaded = load_scenario(
        "two-sites-failover",
        ["traffic.kinds=[dns, resolve]", "traffic.resolve_streams=3", "traffic.tcp_port=8060"],
    )
    params = TrafficParams.of(loaded.scenario.traffic, seed=4)
    data = load_topology("two-sites").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.update(service={"publish": "both"}, unicast=True)
    topo = parse_topology(data, "t.yaml")
    argvs = probe_argvs(topo, "ca", params, Path("/runs/r/records"), make_plan(topo))
    args = resolve._parser().parse_args(argvs["resolve"][3:])
    assert (args.streams, args.stream_port) == (3, 8060)
