"""The watchdog knows every probe kind from the registry, and the load and attack processes."""

from __future__ import annotations

from testbed import watchdog


def test_probes_of_every_kind_stop_the_run_and_name_their_records():
    assert watchdog.policy("quic-probe") == watchdog.STOP
    assert watchdog.records_file("quic-probe", "ca", None) == "records/quic-ca.jsonl"
    assert watchdog.records_file("tcp-probe", "ca", None) == "records/tcp-ca.jsonl"
    assert watchdog.is_record_writer("quic-probe") and not watchdog.is_record_writer("nsd")
    assert watchdog.affects("quic-probe", "ca", None) == "ca's quic measurements end"
    assert watchdog.policy("nsd") == watchdog.CARRY_ON  # a service: the run carries on


def test_load_recorder_and_attack_sender():
    assert watchdog.policy("load-recorder") == watchdog.STOP
    assert watchdog.records_file("load-recorder", "tyo", None) == "records/load-tyo.jsonl"
    assert watchdog.records_file("attack-sender", "atk1", None) == "records/attack-atk1.jsonl"
    assert watchdog.affects("attack-sender", "atk1", None) == "the attack from atk1 stops"
