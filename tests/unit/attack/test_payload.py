"""Attack payloads: DNS queries that dnspython parses, at the asked size; junk; pools."""

from __future__ import annotations

import random

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import pytest

from testbed.attack import payload


def parse(wire: bytes) -> dns.message.Message:
    return dns.message.from_wire(wire)


@pytest.mark.parametrize("zone", ["example.", "anycast.test.", "a.b.c.d.example"])
@pytest.mark.parametrize("size", [12, 20, 27, 30, 38, 64, 65, 66, 100, 250, 271, 272, 300, 1400])
def test_dns_queries_parse_and_fill_the_size(zone, size):
    rng = random.Random(size)
    wire = payload.dns_query(rng, size, zone)
    msg = parse(wire)
    origin = dns.name.from_text(zone)
    smallest = 12 + 2 + len(origin.to_wire()) + 4
    assert len(wire) == max(size, smallest) == payload.dns_size(size, zone)
    assert msg.opcode() == dns.opcode.QUERY and not msg.flags & dns.flags.QR
    assert not msg.flags & dns.flags.RD
    (question,) = msg.question
    assert question.rdtype == dns.rdatatype.A and question.rdclass == dns.rdataclass.IN
    assert question.name.is_subdomain(origin) and question.name != origin
    random_part = question.name.relativize(origin).labels
    assert random_part and all(set(label) <= set(payload.LABEL_CHARS) for label in random_part)
    if len(wire) > 12 + 255 + 4:
        assert msg.edns == 0
        assert [o.otype for o in msg.options] == [dns.edns.OptionType.PADDING]
        assert len(question.name.labels[0]) == payload.LABEL
    else:
        assert msg.edns == -1


def test_every_dns_size_from_the_smallest_to_the_largest_is_exact():
    rng = random.Random(1)
    for size in range(27, 1401):
        assert len(payload.dns_query(rng, size)) == size


def test_random_labels_take_exactly_the_bytes_asked():
    rng = random.Random(2)
    for length in range(2, 255):  # with the root label: 255 bytes at most
        wire = payload.random_labels(rng, length)
        assert len(wire) == length
        name = dns.name.from_wire(wire + b"\x00", 0)[0]
        assert all(1 <= len(label) <= 63 for label in name.labels[:-1])


def test_query_ids_and_names_are_random():
    pool = payload.pool("dns", 100, 256, random.Random(3))
    msgs = [parse(w) for w in pool]
    assert len({m.id for m in msgs}) > 200
    assert len({m.question[0].name for m in msgs}) == 256


def test_junk_is_random_bytes_of_the_size():
    pool = payload.pool("junk", 12, 100, random.Random(4))
    assert all(len(p) == 12 for p in pool)
    assert len(set(pool)) == 100


def test_pools_are_seeded_and_distinct():
    one = payload.pool("dns", 40, 1024, random.Random("a"))
    assert one == payload.pool("dns", 40, 1024, random.Random("a"))
    assert one != payload.pool("dns", 40, 1024, random.Random("b"))
    assert len(set(one)) == 1024


def test_a_pool_larger_than_what_exists_repeats():
    # a 1-byte label under a zone: 36 names x 65536 ids, so still distinct
    assert len(set(payload.pool("dns", 12, 300, random.Random(5)))) == 300


def test_bad_kind_and_zone():
    with pytest.raises(ValueError, match="unknown attack kind"):
        payload.payload("http", random.Random(), 100)
    with pytest.raises(ValueError, match="invalid zone name"):
        payload.zone_wire("a..b")
    with pytest.raises(ValueError, match="no room"):
        payload.zone_wire(".".join(["x" * 63] * 3 + ["x" * 61]))  # 255 bytes
