"""The generic registry behind probe kinds, service kinds and site speakers (no root)."""

from __future__ import annotations

import sys
import types

import pytest

from testbed.probes import kinds as probe_kinds
from testbed.registry import Registry
from testbed.speaker import base as speaker_base


class Thing:
    name = ""


def test_register_sets_the_name_and_get_finds_the_class():
    things: Registry[Thing] = Registry("thing")

    @things.register("one")
    class One(Thing):
        pass

    assert things.get("one") is One and One.name == "one"
    assert things.names() == ["one"] and "one" in things and "two" not in things
    assert things.register("one")(One) is One  # the same class again: no change


def test_a_second_class_for_a_name_is_refused():
    things: Registry[Thing] = Registry("thing")
    things.register("one")(type("One", (Thing,), {}))
    with pytest.raises(ValueError, match=r"^thing 'one' registered twice \(One, Other\)$"):
        things.register("one")(type("Other", (Thing,), {}))


def test_an_unknown_name_is_one_line_naming_the_known_ones():
    things: Registry[Thing] = Registry("thing", attribute="kind")
    things.register("b")(type("B", (Thing,), {}))
    things.register("a")(type("A", (Thing,), {}))
    with pytest.raises(KeyError, match=r"unknown thing 'c' \(one of a, b\)"):
        things.get("c")
    custom: Registry[Thing] = Registry("thing", unknown="no {what} {name} (known: {known})")
    with pytest.raises(KeyError, match=r"no thing 'c' \(known: \)"):
        custom.get("c")


def test_builtin_modules_are_imported_on_the_first_lookup_only(monkeypatch):
    things: Registry[Thing] = Registry("thing", ["fake_builtin_things"])
    imported = []

    def module_code() -> types.ModuleType:
        imported.append(1)
        module = types.ModuleType("fake_builtin_things")
        things.register("built-in")(type("BuiltIn", (Thing,), {}))
        return module

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name != "fake_builtin_things":
                return None
            from importlib.machinery import ModuleSpec

            class Loader:
                def create_module(self, spec):
                    return module_code()

                def exec_module(self, module):
                    pass

            return ModuleSpec(name, Loader())

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "fake_builtin_things", raising=False)
    assert things.entries == {}  # nothing imported by making the registry
    assert things.names() == ["built-in"]
    assert things.get("built-in").name == "built-in"
    assert imported == [1]


def test_a_failed_builtin_import_is_tried_again():
    things: Registry[Thing] = Registry("thing", ["testbed.no_such_module_for_the_test"])
    for _ in range(2):
        with pytest.raises(ModuleNotFoundError):
            things.names()


def test_the_three_registries_share_the_shape():
    assert probe_kinds.KINDS is probe_kinds.PROBE_KINDS.entries
    assert probe_kinds.SERVICES is probe_kinds.SERVICE_KINDS.entries
    assert probe_kinds.service_class("dns").name == "dns"
    with pytest.raises(KeyError, match=r"unknown service 'nope' \(one of .*dns"):
        probe_kinds.service_class("nope")
    assert speaker_base.SPEAKERS.names() == speaker_base.kinds()
    assert speaker_base.speaker_class("frr").kind == "frr"
