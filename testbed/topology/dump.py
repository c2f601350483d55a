"""A topology written back as a YAML file (what ``topology generate`` and ``import-caida`` write).

The file holds only what differs from the defaults, one AS, link or client
a line, and reads back (strict YAML 1.2 core) to the same topology.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Mapping, Sequence

import yaml

from testbed.errors import InputError
from testbed.topology.model import Topology


def topology_data(topo: Topology) -> Dict[str, Any]:
    """A validated topology as plain data: the fields that differ from their defaults."""
    data = topo.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for key in ("links", "sessions"):
        data[key] = [_ends_first(item) for item in data.get(key, [])]
        if not data[key]:
            del data[key]
    return data


def _ends_first(item: Mapping[str, Any]) -> Dict[str, Any]:
    """A link or session with ``a`` and ``b`` first (then ``rel``), as people write them."""
    head = {k: item[k] for k in ("a", "b", "rel") if k in item}
    return {**head, **{k: v for k, v in item.items() if k not in head}}


def topology_yaml(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """YAML text of topology data, with ``# `` comment lines on top.

    Args:
        data: the mapping (from :func:`topology_data` or a generator).
        header: comment lines (without ``#``).
    """
    body = yaml.safe_dump(
        dict(data), sort_keys=False, default_flow_style=None, width=1000, allow_unicode=True
    )
    return "".join(f"# {line}\n" for line in header) + body


def write_topology(text: str, out: Path, force: bool = False) -> None:
    """Write a topology file (through a temporary file, renamed into place).

    Raises:
        InputError: ``out`` is not a ``.yaml``/``.yml`` path, exists (without
            ``force``), is a folder, its folder is missing, or it cannot be written.
    """
    where = str(out)
    if out.suffix not in (".yaml", ".yml"):
        raise InputError("the file name must end in .yaml or .yml", where)
    if out.is_dir():
        raise InputError("is a folder, not a file", where)
    if out.exists() and not force:
        raise InputError("exists already: give --force to overwrite it", where)
    if not out.parent.is_dir():
        raise InputError(f"no such folder {str(out.parent)!r}", where)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the file: {exc.strerror or exc}", where) from None
