"""What attack packets carry: DNS queries for random names, or junk (pure).

``dns``: a valid DNS query (QTYPE A, class IN, no recursion wanted) with a
random DNS id for a random name under the served zone, so the server looks
every one up (and answers NXDOMAIN) instead of dropping it.  Its size is set
by the name: random labels are chosen to fill the requested size exactly, up
to the longest name (255 bytes, a 271-byte query); larger queries carry one
random 12-character label and an EDNS OPT record with a padding option
(RFC 7830) that fills the rest.  A size below the smallest query (a 1-character
label under the zone: 27 bytes under ``example.``) gives that smallest query.

``junk``: random bytes, exactly the requested size.

The sender cycles through a :func:`pool` of distinct payloads made once from
a seeded generator, so the same seed sends the same packets.
"""

from __future__ import annotations

import random
import struct
from typing import List, Optional, Tuple

import dns.exception
import dns.name

#: The kinds of attack payload.
KINDS = ("dns", "junk")
#: The zone the random names go under unless told otherwise.
DEFAULT_ZONE = "example."

#: Characters of the random labels.
LABEL_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789"
#: The random label of a padded query (36**12 names).
LABEL = 12
#: DNS header, and QTYPE + QCLASS after the name.
HEADER = 12
QUESTION_TAIL = 4
#: An OPT record without options (root name, type, class, TTL, RDLENGTH) and
#: the padding option's code and length.
OPT = 11
PADDING_HEAD = 4
#: Longest name and label on the wire.
MAX_NAME = 255
MAX_LABEL = 63
#: EDNS UDP payload size advertised by padded queries.
EDNS_PAYLOAD = 1232

_TYPE_A = 1
_CLASS_IN = 1
_TYPE_OPT = 41
_OPTION_PADDING = 12


def zone_wire(zone: str) -> bytes:
    """The zone's name in wire form (``example.`` -> ``b"\\x07example\\x00"``).

    Raises:
        ValueError: not a valid DNS name, or too long to hold a label below it.
    """
    try:
        wire = dns.name.from_text(zone).to_wire()
    except dns.exception.DNSException as exc:
        raise ValueError(f"invalid zone name {zone!r}: {exc}") from None
    assert wire is not None
    if len(wire) + 2 > MAX_NAME:
        raise ValueError(f"zone name {zone!r} leaves no room for a label below it")
    return wire


def dns_layout(size: int, zone_len: int) -> Tuple[int, Optional[int]]:
    """How a DNS query of about ``size`` bytes is made up.

    Args:
        size: the wanted UDP payload bytes.
        zone_len: the zone's name length on the wire.

    Returns:
        (bytes of random labels on the wire, padding bytes or None for no OPT record).
    """
    fixed = HEADER + zone_len + QUESTION_TAIL
    most = MAX_NAME - zone_len  # random-label bytes that fit in a name
    wanted = size - fixed
    if wanted <= most:
        return max(2, wanted), None
    labels = min(LABEL + 1, most)
    padding = size - fixed - labels - OPT - PADDING_HEAD
    if padding < 0:  # between the longest name and the smallest padded query
        return most, None
    return labels, padding


def dns_size(size: int, zone: str = DEFAULT_ZONE) -> int:
    """The size of the DNS queries :func:`dns_query` makes for ``size``."""
    zone_len = len(zone_wire(zone))
    labels, padding = dns_layout(size, zone_len)
    extra = 0 if padding is None else OPT + PADDING_HEAD + padding
    return HEADER + labels + zone_len + QUESTION_TAIL + extra


def random_labels(rng: random.Random, length: int) -> bytes:
    """Random labels taking exactly ``length`` bytes on the wire (``length >= 2``)."""
    out = bytearray()
    left = length
    while left > 0:
        n = min(MAX_LABEL, left - 1)
        if left - (n + 1) == 1:  # a 1-byte rest cannot be a label: take one less
            n -= 1
        out.append(n)
        out += bytes(rng.choices(LABEL_CHARS, k=n))
        left -= n + 1
    return bytes(out)


def dns_query(rng: random.Random, size: int, zone: str = DEFAULT_ZONE) -> bytes:
    """A DNS query (A, IN) for a random name under ``zone``, of about ``size`` bytes.

    Args:
        rng: the random generator (names and DNS id).
        size: the wanted UDP payload bytes (see the module's docstring).
        zone: the zone the name goes under.

    Returns:
        The query's wire form.
    """
    zone_bytes = zone_wire(zone)
    labels, padding = dns_layout(size, len(zone_bytes))
    header = struct.pack("!HHHHHH", rng.getrandbits(16), 0, 1, 0, 0, 0 if padding is None else 1)
    question = random_labels(rng, labels) + zone_bytes + struct.pack("!HH", _TYPE_A, _CLASS_IN)
    if padding is None:
        return header + question
    opt = b"\x00" + struct.pack(
        "!HHIHHH", _TYPE_OPT, EDNS_PAYLOAD, 0, PADDING_HEAD + padding, _OPTION_PADDING, padding
    )
    return header + question + opt + bytes(padding)


def junk(rng: random.Random, size: int) -> bytes:
    """``size`` random bytes."""
    return rng.randbytes(size)


def payload(kind: str, rng: random.Random, size: int, zone: str = DEFAULT_ZONE) -> bytes:
    """One payload of ``kind`` (``dns`` or ``junk``)."""
    if kind == "dns":
        return dns_query(rng, size, zone)
    if kind == "junk":
        return junk(rng, size)
    raise ValueError(f"unknown attack kind {kind!r}: one of {', '.join(KINDS)}")


def pool(
    kind: str, size: int, count: int, rng: random.Random, zone: str = DEFAULT_ZONE
) -> List[bytes]:
    """``count`` payloads, distinct where the size allows it (tiny names repeat).

    Args:
        kind: ``dns`` or ``junk``.
        size: the wanted UDP payload bytes.
        count: how many.
        rng: the random generator (seeded by the caller).
        zone: the zone of the ``dns`` names.
    """
    seen = set()
    out: List[bytes] = []
    for _ in range(count * 4):
        if len(out) == count:
            break
        one = payload(kind, rng, size, zone)
        if one not in seen:
            seen.add(one)
            out.append(one)
    while len(out) < count:  # so few distinct payloads exist: repeat them
        out.append(out[len(out) % len(seen)])
    return out
