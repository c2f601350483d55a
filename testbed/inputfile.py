"""Read the files a user hands the testbed: regular files only, bounded, strict YAML.

Every topology, scenario, sweep and answers file goes through here, so the
rules hold for all of them:

- Only a regular file is read (not ``/dev/zero``, a FIFO, a socket or a
  directory), opened without blocking, and at most :data:`MAX_BYTES` of it.
- YAML is read with the YAML 1.2 core schema: ``true``/``false`` are the
  only booleans (``yes``, ``no``, ``on``, ``off`` stay text, so ``asn: yes``
  is not AS 1), integers are decimal, ``0o`` or ``0x`` (no ``1:30`` = 90, no
  leading-zero octal), dates stay text.
- A key given twice in one mapping is refused with both line numbers
  (YAML's own rule; PyYAML would keep the last silently), keys must be text,
  nesting is at most :data:`MAX_DEPTH` levels and aliases at most
  :data:`MAX_ALIASES`.

Every problem is one :class:`~testbed.errors.InputError` naming the file and,
where it can be told, the line.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any, Optional, Union

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from testbed.errors import InputError

#: The most bytes read from one input file (the biggest generated topologies are well under).
MAX_BYTES = 8 * 1024 * 1024
#: The deepest nesting of mappings and lists a file may have.
MAX_DEPTH = 32
#: The most alias uses (``*name``) in one document.
MAX_ALIASES = 64


class InputYamlError(yaml.YAMLError):
    """A strict-YAML rule broken, with the line it was found on (1-based)."""

    def __init__(self, problem: str, line: Optional[int]):
        super().__init__(problem)
        self.problem = problem
        self.line = line


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema and the limits above."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Optional[Node], index: Any) -> Optional[Node]:
        """Compose as PyYAML does, counting nesting depth and aliases."""
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise InputYamlError(f"more than {MAX_ALIASES} aliases (*name)", mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise InputYamlError(f"nested deeper than {MAX_DEPTH} levels", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        """A mapping whose keys are text and each given once."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        out: dict = {}
        lines: dict = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise InputYamlError(f"key {key!r} is not text (quote it)", line)
            if key in out:
                first = lines[key]
                where = f"lines {first} and {line}" if first != line else f"twice on line {line}"
                raise InputYamlError(f"duplicate key {key!r} ({where})", line)
            lines[key] = line
            out[key] = self.construct_object(value_node, deep=deep)
        return out

    def construct_yaml_int(self, node: Node) -> int:
        """Decimal, ``0o`` octal or ``0x`` hexadecimal (YAML 1.2 core)."""
        text = str(self.construct_scalar(node)).lstrip("+")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("-")
        if text.startswith("0o"):
            return sign * int(text[2:], 8)
        if text.startswith("0x"):
            return sign * int(text[2:], 16)
        return sign * int(text, 10)


def _resolve(tag: str, pattern: str, first: str) -> None:
    StrictLoader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema).
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_resolve("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolve("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolve(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text strictly (see the module docstring).

    Args:
        text: the document.
        source: the file (or ``--set``) it came from, for messages.

    Returns:
        The plain data (mappings, lists, text, numbers, booleans, None).

    Raises:
        InputError: a syntax error or a broken rule, with its line.
    """
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a safe loader
    except InputYamlError as exc:
        raise InputError(exc.problem, source, f"line {exc.line}" if exc.line else None) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"YAML syntax error: {problem}", source, where) from None
    except (ValueError, RecursionError, OverflowError) as exc:  # e.g. a 5000-digit number
        problem = str(exc).split(";")[0]
        raise InputError(f"YAML value cannot be read: {problem}", source) from None


def read_bytes(
    path: Union[str, Path], source: Optional[str] = None, limit: int = MAX_BYTES
) -> bytes:
    """Read a regular file of at most ``limit`` bytes.

    Args:
        path: the file.
        source: how to name it in messages (default: the path).
        limit: the most bytes accepted.

    Returns:
        Its content.

    Raises:
        InputError: missing, a directory, not a regular file (a device, FIFO
            or socket), unreadable, or larger than ``limit``.
    """
    where = source or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file", where) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where) from None
    except PermissionError:
        raise InputError("permission denied: cannot read the file", where) from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO with no writer on some systems
            raise InputError("not a regular file", where) from None
        raise InputError(f"cannot read the file: {exc.strerror or exc}", where) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("is a directory, not a file", where)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise InputError(f"not a regular file ({kind})", where)
        if info.st_size > limit:
            raise InputError(f"too large: {info.st_size} bytes (at most {limit})", where)
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:  # grew while being read
                raise InputError(f"too large: more than {limit} bytes", where)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", where) from None
    finally:
        os.close(fd)


def read_text(path: Union[str, Path], source: Optional[str] = None, limit: int = MAX_BYTES) -> str:
    """Read a regular file as UTF-8 text (see :func:`read_bytes`).

    Raises:
        InputError: as :func:`read_bytes`, or not UTF-8 (with the line).
    """
    raw = read_bytes(path, source, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
            source or str(path),
            f"line {line}",
        ) from None


def read_yaml(path: Union[str, Path], source: Optional[str] = None) -> Any:
    """Read a YAML file strictly; every problem is one InputError naming the file.

    Args:
        path: the file.
        source: how to name it in messages (default: the path).

    Returns:
        The parsed content.
    """
    where = source or str(path)
    return parse_yaml(read_text(path, where), where)
