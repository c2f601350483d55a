"""A pydantic ``ValidationError`` as one :class:`~testbed.errors.InputError` line.

The topology and scenario loaders validate plain data (from YAML, a
generator or a Python scenario) with pydantic models and report the first
error the same way, ``FILE: field: problem``: the location as the file
writes it (``links[3].delay``, ``timeline[2].how``), pydantic's message with
the value that was given (``(got 'soon')``), and plain words for unknown and
missing fields.

Two things differ by model, and are arguments:

- ``unions``: the model's discriminated unions (a scenario's events and
  checks), whose tag pydantic puts in the location (``timeline, 2,
  fail_site, how``) and whose bad or missing tag is reported with the
  choices (``unknown event 'explode' (one of fail_site, ...)``);
- ``plain_words``: literal and model-type errors in the testbed's words
  (``must be one of a, b, c (got 'x')``, ``must be a mapping``) rather than
  pydantic's (``Input should be 'a', 'b' or 'c' (got 'x')``, ``Input should
  be a valid dictionary or instance of Site``).  Scenarios use them; the
  topology loader keeps pydantic's, which its tests and docs quote.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Tuple, get_args

from pydantic import ValidationError

from testbed.errors import InputError

#: Parts of a pydantic error location that name a type, not a field.
TYPE_PREFIXES = ("function-", "union[", "tagged-union[", "literal[", "list[")
TYPE_PARTS = ("str", "float", "int", "bool")
#: Fields named after a Python keyword, as files write them.
ALIASES = {"as_": "as"}
#: Discriminator field -> its tags, for a model with discriminated unions.
Unions = Mapping[str, Sequence[str]]


def union_tags(union: Any, discriminator: str) -> Tuple[str, ...]:
    """The discriminator values of an annotated discriminated union, in order.

    Args:
        union: ``Annotated[Union[A, B, ...], Field(discriminator=...)]``.
        discriminator: the field whose ``Literal`` value tells the members apart.
    """
    members = get_args(get_args(union)[0])
    return tuple(tag for m in members for tag in get_args(m.model_fields[discriminator].annotation))


def error_field(loc: Sequence[Any], tags: Sequence[str] = ()) -> str:
    """Render a pydantic error location as ``links[3].delay`` or ``timeline[2].how``.

    Type names pydantic puts in a location (``str``, ``function-after[...]``,
    ``union[...]``) are left out, and so are union tags (``tags``) that follow
    a list index (``timeline, 2, fail_site, how``).
    """
    out = ""
    previous: Any = None
    for part in loc:
        tag = isinstance(previous, int) and part in tags
        previous = part
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (tag or part in TYPE_PARTS or str(part).startswith(TYPE_PREFIXES)):
            out += ("." if out else "") + ALIASES.get(str(part), str(part))
    return out or "(top level)"


def _choices(expected: str) -> str:
    """``"'a', 'b' or 'c'"`` (pydantic's wording) as ``a, b, c``."""
    return expected.replace(" or ", ", ").replace("'", "")


def problem(
    err: Mapping[str, Any], unions: Optional[Unions] = None, plain_words: bool = False
) -> Tuple[str, str]:
    """One pydantic error (an item of ``ValidationError.errors()``) as (field, message).

    Args:
        err: the error.
        unions: the model's discriminated unions (discriminator -> tags).
        plain_words: literal and model-type errors in the testbed's words.
    """
    unions = unions or {}
    kind, ctx = err["type"], err.get("ctx") or {}
    field = error_field(tuple(err["loc"]), [t for tags in unions.values() for t in tags])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    tag = str(ctx.get("discriminator", "")).strip("'")
    if kind == "extra_forbidden":
        msg = "unknown field"
    elif kind == "missing":
        msg = "required field is missing"
    elif kind in ("union_tag_invalid", "union_tag_not_found") and tag in unions:
        kinds = ", ".join(unions[tag])
        field = f"{field}.{tag}"
        if kind == "union_tag_not_found":
            msg = f"required field is missing (one of {kinds})"
        else:
            msg = f"unknown {tag} {ctx.get('tag')!r} (one of {kinds})"
    elif plain_words and kind == "literal_error":
        msg = f"must be one of {_choices(str(ctx.get('expected', '')))} (got {err['input']!r})"
    elif plain_words and kind in ("model_type", "model_attributes_type"):
        msg = "must be a mapping"
    elif (
        "input" in err
        and kind != "model_type"
        and not isinstance(err["input"], (dict, list))
        and "(got " not in msg
    ):
        msg = f"{msg} (got {err['input']!r})"
    return field, msg


def from_validation_error(
    exc: ValidationError,
    source: Optional[str],
    unions: Optional[Unions] = None,
    plain_words: bool = False,
) -> InputError:
    """Pydantic's first error as one InputError naming ``source``, the field and the problem.

    Args:
        exc: what ``Model.model_validate`` raised.
        source: the file (or other input) the data came from.
        unions: the model's discriminated unions (discriminator -> tags).
        plain_words: literal and model-type errors in the testbed's words.
    """
    field, msg = problem(exc.errors()[0], unions, plain_words)
    return InputError(msg, source, field)


__all__ = ["error_field", "from_validation_error", "problem", "union_tags"]
