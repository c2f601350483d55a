"""Load a run folder's records into memory: one :class:`RunRecords` per run.

Reads ``RUN/meta.json`` and every JSONL file of ``RUN/records/`` (all of
them optional; see docs/records.md).  Records are kept as the dicts the
recorders wrote, sorted by time; nothing is computed here.  Runs made
before the load recorder and the attack sources existed have no
``load-SITE.jsonl``, ``attack-HOST.jsonl`` or ``meta.json`` ``load`` block:
their dicts are empty and every client weighs 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

from testbed.records import read_records

PathLike = Union[str, Path]
Record = Dict[str, Any]


def _read(path: Path) -> List[Record]:
    """All records of one file (none if it is missing); a cut last line is skipped."""
    if not path.is_file():
        return []
    return list(read_records(path))


def _by_time(records: Iterable[Record]) -> List[Record]:
    """Records sorted by ``t`` (then ``seq``), stable for equal keys; records without t dropped."""
    usable = [r for r in records if isinstance(r.get("t"), (int, float))]
    return sorted(usable, key=lambda r: (r["t"], r.get("seq", 0)))


def _transport(folder: Path) -> Dict[str, Dict[str, List[Record]]]:
    """Records of the probe kinds beyond ``dns`` and ``tcp-stream``, by kind then client."""
    from testbed.probes.kinds import KINDS, kinds

    kinds()  # the registry, loaded
    out = {}
    for name, kind in sorted(KINDS.items()):
        if name in ("dns", "tcp-stream"):
            continue
        per_client = _per_client(folder, kind.record_prefix)
        if per_client:
            out[name] = per_client
    return out


def _per_client(folder: Path, prefix: str) -> Dict[str, List[Record]]:
    """``PREFIX-NAME.jsonl`` files of ``folder``: name (client, site, host) -> records by time."""
    out: Dict[str, List[Record]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob(f"{prefix}-*.jsonl")):
        client = path.name[len(prefix) + 1 : -len(".jsonl")]
        out[client] = _by_time(_read(path))
    return out


@dataclass
class RunRecords:
    """Everything a run recorded, times wall-clock as written.

    Attributes:
        run_dir: the run folder.
        meta: the content of ``meta.json`` (empty if missing).
        t0: wall-clock start of the timeline (``meta["t0"]``; without it the
            earliest record's time).
        dns: client -> DNS records sorted by send time ``t`` and ``seq``.
        tcp: client -> TCP records sorted by ``t``.
        routes: route records of every router, sorted by ``t``.
        bgp: BGP records, sorted by ``t``.
        events: scenario events, sorted by ``t``.
        health: health agent records of every site (``health.jsonl``), sorted by ``t``.
        incidents: the run's own records (``run.jsonl``): processes that died on
            their own (``process_died``) and why the run stopped early
            (``run_stopped``), sorted by ``t``.
        policy: the valley-free checks (``policy.jsonl``: after convergence and
            at the end; none without relationships), sorted by ``t``.
        load: site -> its load records (``load-SITE.jsonl``: cumulative
            counters every 0.25 s), sorted by ``t``; empty without a load recorder.
        attack: attack source (host) -> its records (``attack-HOST.jsonl``:
            ``start``, ``sent`` every second, ``stop``), sorted by ``t``.
        transport: probe kind -> client -> its records, for every registered
            kind with an analysis of its own (:mod:`testbed.probes.kinds`),
            sorted by ``t``.
        resolve: client -> its ``resolve`` probe's records (``resolve-CLIENT.jsonl``:
            a ``start`` record, then a tick per method), sorted by ``t``; empty
            without the probe (:mod:`testbed.analysis.resolution`).
    """

    run_dir: Path
    meta: Dict[str, Any] = field(default_factory=dict)
    t0: float = 0.0
    dns: Dict[str, List[Record]] = field(default_factory=dict)
    tcp: Dict[str, List[Record]] = field(default_factory=dict)
    routes: List[Record] = field(default_factory=list)
    bgp: List[Record] = field(default_factory=list)
    events: List[Record] = field(default_factory=list)
    health: List[Record] = field(default_factory=list)
    incidents: List[Record] = field(default_factory=list)
    policy: List[Record] = field(default_factory=list)
    load: Dict[str, List[Record]] = field(default_factory=dict)
    attack: Dict[str, List[Record]] = field(default_factory=dict)
    transport: Dict[str, Dict[str, List[Record]]] = field(default_factory=dict)
    resolve: Dict[str, List[Record]] = field(default_factory=dict)

    @property
    def load_meta(self) -> Dict[str, Any]:
        """``meta.json``'s ``load`` block (capacity, weights, attackers); empty if absent."""
        block = self.meta.get("load")
        return block if isinstance(block, dict) else {}

    @property
    def capacities(self) -> Dict[str, Dict[str, Any]]:
        """Site -> its capacity (``bandwidth`` Mbit/s, ``packets`` packets/s, ``queue`` ms).

        Sites without a capacity are absent.
        """
        block = self.load_meta.get("capacity")
        if not isinstance(block, dict):
            return {}
        return {str(k): v for k, v in block.items() if isinstance(v, dict)}

    @property
    def weights(self) -> Dict[str, float]:
        """Client -> its weight (how many users it stands for): every client, 1 unless given."""
        given = self.load_meta.get("weights")
        given = given if isinstance(given, dict) else {}
        out: Dict[str, float] = {}
        for c in self.clients:
            w = given.get(c)
            if isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0:
                out[c] = w  # an int stays an int in the summary
            else:
                out[c] = 1
        return out

    @property
    def attackers(self) -> Dict[str, Dict[str, Any]]:
        """Attack source (host) -> ``as``, ``address``, ``access_router`` (meta.json)."""
        block = self.load_meta.get("attackers")
        if not isinstance(block, dict):
            return {}
        return {str(k): v for k, v in block.items() if isinstance(v, dict)}

    @property
    def clients(self) -> List[str]:
        """Client names: from meta.json and from the record files, sorted."""
        names = set(self.dns) | set(self.tcp)
        names.update(str(c) for c in self.meta.get("clients") or [] if isinstance(c, str))
        return sorted(names)

    @property
    def routers(self) -> List[str]:
        """Router names: from meta.json and from routes.jsonl, sorted."""
        names = {str(r["router"]) for r in self.routes if r.get("router") is not None}
        names.update(str(r) for r in self.meta.get("routers") or [] if isinstance(r, str))
        return sorted(names)

    @property
    def sites(self) -> List[str]:
        """Site names: from meta.json, every site seen in DNS or TCP records, load files; sorted."""
        names = {str(s) for s in self.meta.get("sites") or [] if isinstance(s, str)}
        names.update(self.load)
        for per_client in (self.dns, self.tcp):
            for records in per_client.values():
                names.update(str(r["site"]) for r in records if r.get("site"))
        return sorted(names)

    @property
    def end(self) -> float:
        """Wall-clock end of the run: ``t0 + duration``, or the last record if later.

        Health, load and attack records are left out: agents write theirs
        until they have drained their sites at teardown, and the load
        recorder and attack sources may outlive the timeline by a moment.
        """
        last = self.t0
        duration = self.meta.get("duration")
        if isinstance(duration, (int, float)):
            last = self.t0 + float(duration)
        for t in self._all_times():
            last = max(last, t)
        return last

    def _all_times(self) -> Iterable[float]:
        for per_client in (self.dns, self.tcp):
            for records in per_client.values():
                if records:
                    yield records[-1]["t"]
        for records in (self.routes, self.bgp, self.events):
            if records:
                yield records[-1]["t"]

    def rel(self, t: Optional[float]) -> Optional[float]:
        """A wall-clock time as seconds from t0, rounded to the millisecond (None stays None).

        Args:
            t: wall-clock seconds, or None.

        Returns:
            ``round(t - t0, 3)`` or None.
        """
        return None if t is None else round(t - self.t0, 3)


def load_run(run_dir: PathLike) -> RunRecords:
    """Read a run folder.

    Args:
        run_dir: the run folder (``meta.json`` and ``records/`` inside; both optional).

    Returns:
        The run's records.  A truncated last line of any file is skipped.

    Raises:
        FileNotFoundError: ``run_dir`` is not a folder.
        ValueError: a record file has a bad line other than its last, or
            meta.json is not a JSON object.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run folder")
    meta: Dict[str, Any] = {}
    meta_path = run_dir / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_path}: not a JSON object")
    folder = run_dir / "records"
    run = RunRecords(
        run_dir=run_dir,
        meta=meta,
        dns=_per_client(folder, "dns"),
        tcp=_per_client(folder, "tcp"),
        routes=_by_time(_read(folder / "routes.jsonl")),
        bgp=_by_time(_read(folder / "bgp.jsonl")),
        events=_by_time(_read(folder / "events.jsonl")),
        health=_by_time(_read(folder / "health.jsonl")),
        incidents=_by_time(_read(folder / "run.jsonl")),
        policy=_by_time(_read(folder / "policy.jsonl")),
        load=_per_client(folder, "load"),
        attack=_per_client(folder, "attack"),
        transport=_transport(folder),
        resolve=_per_client(folder, "resolve"),
    )
    t0 = meta.get("t0")
    if isinstance(t0, (int, float)):
        run.t0 = float(t0)
    else:
        firsts = [rs[0]["t"] for rs in (*run.dns.values(), *run.tcp.values()) if rs]
        firsts += [rs[0]["t"] for rs in (run.routes, run.bgp, run.events) if rs]
        run.t0 = min(firsts) if firsts else 0.0
    return run
