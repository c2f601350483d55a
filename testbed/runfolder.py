"""Read run folders back: ``meta.json``, ``summary.json``, ``records/``, ``topology.yaml``.

``report``, ``compare`` and the labs' past runs read run folders through
here, so a folder that is not a run folder, or a file in it that is not what
it should be (missing, a directory, a FIFO, not UTF-8, not JSON, a JSON list
where an object belongs), is one :class:`~testbed.errors.InputError` naming
the file, never a crash or a hang.  Files are read with
:func:`testbed.inputfile.read_text`: regular files only, without blocking.
(``sweep`` and ``reproduce`` take a run's summary from the engine in memory
and read no run folder.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from pydantic import ValidationError

from testbed.analysis.model import HealthEntry, Summary
from testbed.errors import InputError
from testbed.pydantic_errors import from_validation_error, union_tags

PathLike = Union[str, Path]
#: The largest summary.json or meta.json read (a summary of a long run with
#: many clients is a few MB).
MAX_JSON_BYTES = 256 * 1024 * 1024
RECORDS = "records"
SUMMARY = "summary.json"
META = "meta.json"
#: The summary's discriminated unions, for pydantic's error locations (``health[2].moved``).
SUMMARY_UNIONS = {"event": union_tags(HealthEntry, "event")}


def _json_type(value: Any) -> str:
    """What a JSON value is, for messages: ``a list``, ``a number``, ``null``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def read_json_object(path: PathLike, limit: int = MAX_JSON_BYTES) -> Dict[str, Any]:
    """Read a file that must hold one JSON object.

    Args:
        path: the file.
        limit: the most bytes read.

    Returns:
        The object.

    Raises:
        InputError: naming the file: missing, not a regular file, unreadable,
            too large, not UTF-8, not JSON (with the line), or not an object.
    """
    from testbed.inputfile import read_text

    text = read_text(path, str(path), limit)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", str(path), f"line {exc.lineno}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON: {exc}", str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"must hold a JSON object, not {_json_type(data)}", str(path))
    return data


def read_meta(run_dir: PathLike) -> Optional[Dict[str, Any]]:
    """``RUN/meta.json``: None when there is none, else its object.

    Raises:
        InputError: meta.json is there but not a readable JSON object (naming it).
    """
    path = Path(run_dir) / META
    if not os.path.lexists(path):
        return None
    return read_json_object(path)


def read_summary(run_dir: PathLike) -> Summary:
    """``RUN/summary.json``, validated into the model (:class:`~testbed.analysis.model.Summary`).

    Spellings of older versions are converted on the way
    (:func:`testbed.analysis.model.upgrade`); fields it lacks get their
    defaults.  ``clients`` must be an object of objects (their ``dns`` and
    ``tcp`` objects too) and ``events`` a list of objects, when they are
    there; every value must have its field's type.

    Raises:
        InputError: no summary.json, or one that is unreadable or of the wrong
            shape (naming the file and the field).
    """
    path = Path(run_dir) / SUMMARY
    if not os.path.lexists(path):
        raise InputError(
            "no such file: not a run folder, or a run never analysed "
            "(anycast-testbed report RUN writes it)",
            str(path),
        )
    summary = read_json_object(path)
    clients = summary.get("clients", {})
    if not isinstance(clients, dict):
        raise InputError(f"must be a JSON object, not {_json_type(clients)}", str(path), "clients")
    for name, client in clients.items():
        if not isinstance(client, dict):
            what = f"must be a JSON object, not {_json_type(client)}"
            raise InputError(what, str(path), f"clients.{name}")
        for part in ("dns", "tcp"):
            value = client.get(part, {})
            if not isinstance(value, dict):
                what = f"must be a JSON object, not {_json_type(value)}"
                raise InputError(what, str(path), f"clients.{name}.{part}")
    events = summary.get("events", [])
    if not isinstance(events, list):
        raise InputError(f"must be a JSON list, not {_json_type(events)}", str(path), "events")
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            what = f"must be a JSON object, not {_json_type(event)}"
            raise InputError(what, str(path), f"events[{i}]")
    try:
        return Summary.model_validate(summary)
    except ValidationError as exc:
        raise from_validation_error(exc, str(path), unions=SUMMARY_UNIONS) from None


def record_files(run_dir: PathLike) -> List[Path]:
    """The record files (``*.jsonl``, regular files) in ``RUN/records/``, sorted.

    Raises:
        InputError: there is no ``records/`` folder (not a run folder), it is
            not a folder, or it cannot be listed.
    """
    run_dir = Path(run_dir)
    folder = run_dir / RECORDS
    if not os.path.lexists(folder):
        raise InputError(f"not a run folder (no {RECORDS}/ inside)", str(run_dir))
    if not folder.is_dir():
        raise InputError("is not a folder: not a run folder", str(folder))
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(f"cannot read the folder: {exc.strerror or exc}", str(folder)) from None
    return [Path(e.path) for e in entries if e.name.endswith(".jsonl") and e.is_file()]


def check_report_folder(run_dir: PathLike) -> Optional[Dict[str, Any]]:
    """Check that a folder holds a run that can be reported; its meta.json (None if none).

    A run folder has ``records/``, and record files in it or a ``meta.json``
    (a run that wrote no record still has one).

    Raises:
        InputError: not a run folder, nothing to report, or a bad meta.json.
    """
    records = record_files(run_dir)
    meta = read_meta(run_dir)
    if not records and meta is None:
        raise InputError(
            f"not a run folder: {RECORDS}/ holds no records and there is no {META} "
            "(nothing to report)",
            str(run_dir),
        )
    return meta


def read_run_topology(run_dir: PathLike) -> Any:
    """``RUN/topology.yaml``: the topology the run ran on (settings applied).

    Raises:
        InputError: missing, unreadable, or not a valid topology (naming it).
    """
    from testbed.topology.load import parse_topology, read_yaml

    path = Path(run_dir) / "topology.yaml"
    return parse_topology(read_yaml(path), str(path))
