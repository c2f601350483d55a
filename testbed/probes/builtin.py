"""The built-in probe kinds and services: ``dns`` (NSD) and ``tcp-stream`` (the stream service).

Both keep their own summary parts (``clients.NAME.dns`` and ``.tcp``) and
record files (``dns-CLIENT.jsonl``, ``tcp-CLIENT.jsonl``), as before kinds
existed; the transport remedies register themselves in their own modules.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.probes import defaults
from testbed.probes.kinds import (
    ProbeContext,
    ProbeKind,
    ServiceKind,
    register,
    register_service,
)


def service_address(topo: Any) -> str:
    """The anycast service address: the one every site's servers hold and the clients probe.

    Topology validation makes every site hold the same service address
    (``sites[i].service``), so the first site's is every site's.
    """
    return str(topo.sites[0].service) if topo.sites else defaults.SERVICE_ADDRESS


@register_service("dns")
class NsdService(ServiceKind):
    """NSD on the site's service address (``python -m testbed.services.dns`` execs it)."""

    process = "nsd"

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """NSD's wrapper, with the server's own directory in the run folder."""
        also = ["--also", str(host.unicast)] if getattr(host, "unicast", None) else []
        service = getattr(topo, "service", None)
        ttl = ["--ttl", str(service.ttl)] if service is not None else []
        return [
            sys.executable, "-m", "testbed.services.dns", "--site", host.site,
            "--address", service_address(topo), *also, *ttl,
            "--dir", str(run / "services" / host.name / "nsd"),
        ]  # fmt: skip

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """NSD answers ``id.server`` with its site's name, or the problem."""
        address = service_address(testbed.topo)
        out = testbed.cmd(
            host.name, f"dig +short +time=1 +tries=1 @{address} CH TXT id.server"
        ).strip()
        if out != f'"{host.site}"':
            return f"{host.name}: NSD does not answer ({out or 'no answer'})"
        return None


@register_service("tcp")
class StreamService(ServiceKind):
    """The stream service (answers ``SEQ`` with ``SITE SEQ``) on the service address."""

    process = "stream"

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The stream service on the service address and the run's TCP port."""
        return [
            sys.executable, "-m", "testbed.services.stream", "--site", host.site,
            "--bind", service_address(topo), "--port", str(params.tcp_port),
        ]  # fmt: skip

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """Something listens on the stream port, or the problem."""
        port = params.tcp_port
        if not testbed.cmd(host.name, f"ss -Hltn 'sport = :{port}'").strip():
            return f"{host.name}: stream service not listening on {port}"
        return None


@register("dns")
class DnsKind(ProbeKind):
    """DNS queries over UDP at a fixed rate (``testbed.probes.dns``)."""

    record_prefix = "dns"
    services = ("dns",)
    process = "dns-probe"
    claim = "stateless UDP carries on: only the queries in flight during the outage are lost"

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The DNS probe's command line."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.dns", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--rate", str(p.dns_rate),
            "--timeout", str(p.dns_timeout), "--seed", str(p.seed), "--out", ctx.out("dns"),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Dict[str, Any]]) -> Any:
        """Each query a flow: answered or lost (:func:`dns_outcome`)."""
        return dns_outcome(records)


@register("tcp-stream")
class TcpStreamKind(ProbeKind):
    """Long bidirectional TCP streams (``testbed.probes.tcp``); ``tcp_streams`` of them."""

    record_prefix = "tcp"
    services = ("tcp",)
    process = "tcp-probe"
    long_lived = True
    claim = "a long connection breaks when its client's catchment changes (the new site resets it)"

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The TCP probe's command line."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.tcp", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--port", str(p.tcp_port),
            "--streams", str(p.tcp_streams), "--interval", str(p.tcp_interval),
            "--timeout", str(p.tcp_timeout), "--seed", str(p.seed), "--out", ctx.out("tcp"),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Dict[str, Any]]) -> Any:
        """Each connection a flow (:func:`tcp_stream_outcome`)."""
        return tcp_stream_outcome(records)


def tcp_stream_outcome(records: List[Dict[str, Any]]) -> Any:
    """tcp-stream's :class:`~testbed.analysis.model.TransportOutcome` from its records (pure).

    A flow is one connection that answered (``connected``); it ends by
    ``reset``, ``timeout``, ``eof`` or ``closed`` (the run's end: survived);
    a break followed by another ``connected`` of the same stream is recovered,
    after its ``since_answer`` (the time without service, from the last answer
    before the break; ``gap``, from the break itself, where that is missing).
    """
    from testbed.analysis.model import TransportOutcome

    out = TransportOutcome(kind="tcp-stream")
    up: Dict[Any, bool] = {}
    ends: Dict[str, int] = {}
    for r in records:
        event, stream = r.get("event"), r.get("stream")
        if event == "connected":
            out.flows += 1
            up[stream] = True
            without = r.get("since_answer", r.get("gap"))
            if r.get("attempt", 1) != 1 and without is not None:
                out.recovered += 1
                out.recover_s = [*out.recover_s, round(float(without), 3)]
        elif event in ("reset", "timeout", "eof") and up.pop(stream, False):
            ends[event] = ends.get(event, 0) + 1
    out.reset = ends.get("reset", 0)
    out.timed_out = ends.get("timeout", 0)
    out.survived = out.flows - sum(ends.values())
    out.ends = {**ends, "survived": out.survived}
    return out


def dns_outcome(records: List[Dict[str, Any]]) -> Any:
    """dns's :class:`~testbed.analysis.model.TransportOutcome` (pure): each query a flow."""
    from testbed.analysis.model import TransportOutcome

    out = TransportOutcome(kind="dns", lost_unit="queries")
    answers: List[float] = []
    for r in records:
        status = r.get("status")
        if status == "ok":
            out.flows += 1
            out.survived += 1
            answers.append(float(r["t"]) + float(r.get("rtt") or 0.0))
        elif status == "timeout":
            out.flows += 1
            out.failed += 1
    answers.sort()
    gaps = [b - a for a, b in zip(answers, answers[1:], strict=False)]
    out.longest_gap_s = round(max(gaps), 3) if gaps else None
    out.lost = out.failed
    out.ends = {"answered": out.survived, "lost": out.failed}
    return out
