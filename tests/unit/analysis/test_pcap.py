"""Resets in packet captures: tcpdump output parsed, attributed to sites and clients."""

from pathlib import Path

from testbed.analysis.model import Summary
from testbed.analysis.pcap import Reset, parse_resets, summarise_captures
from testbed.analysis.report import render_markdown

TCPDUMP = """\
1795397722.908968 IP 192.0.2.53.8053 > 198.18.5.2.44188: Flags [R], seq 3206337337, win 0, length 0
1795397722.909006 IP 192.0.2.53.8053 > 198.18.5.2.44192: Flags [R], seq 2496570641, win 0, length 0
1795397722.950000 IP 198.18.6.2.40000 > 192.0.2.53.8053: Flags [R.], seq 1, ack 2, win 0, length 0
reading from file nyc-e0.pcap, link-type EN10MB (Ethernet), snapshot length 262144
1795397722.960000 IP 198.18.6.2.40000 > 192.0.2.53.8053: Flags [P.], seq 1:9, length 8
"""


def test_parse_resets_keeps_rst_segments_only():
    resets = parse_resets(TCPDUMP)
    assert [r.src for r in resets] == ["192.0.2.53", "192.0.2.53", "198.18.6.2"]
    assert resets[0] == Reset(1795397722.908968, "192.0.2.53", 8053, "198.18.5.2", 44188)


def test_summary_names_the_clients_each_site_reset(tmp_path: Path):
    for name in ("nyc-e0", "lon-e0", "tyo-e0"):
        (tmp_path / f"{name}.pcap").write_bytes(b"")
    files = {
        "nyc-e0.pcap": parse_resets(TCPDUMP),
        "lon-e0.pcap": [],
        "tyo-e0.pcap": None,  # tcpdump could not read it
    }
    owners = {"198.18.5.2": "tokyo", "198.18.6.2": "sydney"}
    out = summarise_captures(
        tmp_path, "192.0.2.53", owners.get, t0=1795397714.0, read=lambda p: files[p.name]
    )
    by_file = {c.file: c for c in out}
    nyc = by_file["nyc-e0.pcap"]
    # the client's own RST (sydney -> service) is not a reset sent by the site
    assert nyc.node == "nyc" and nyc.resets == 2 and nyc.to == {"tokyo": 2}
    assert nyc.first_s == 8.909 and nyc.last_s == 8.909
    assert by_file["lon-e0.pcap"].resets == 0 and by_file["lon-e0.pcap"].first_s is None
    assert by_file["tyo-e0.pcap"].readable is False
    assert nyc.model_dump() == {"file": "nyc-e0.pcap", "node": "nyc", "readable": True,
                                "resets": 2, "to": {"tokyo": 2}, "first_s": 8.909,
                                "last_s": 8.909}  # fmt: skip

    text = render_markdown(Summary(scenario="x", pcap=out))
    assert "## Packet captures" in text
    assert "| `nyc-e0.pcap` | nyc | 2 | tokyo 2 | 8.909 – 8.909 |" in text
    assert "| `tyo-e0.pcap` | tyo | unreadable | - | - |" in text


def test_no_captures_no_section():
    assert "Packet captures" not in render_markdown({"scenario": "x", "pcap": []})


def test_caveats_are_in_the_report():
    text = render_markdown({"scenario": "x", "caveats": ["site tyo (ryu) has no BFD"]})
    assert "## Caveats\n\n- site tyo (ryu) has no BFD\n" in text
