"""``proc.daemon_main``: the one ``main()`` of the wrappers that render a daemon's config and
become the daemon (NSD, PowerDNS, unbound, nginx), in process, the exec caught."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, List, Optional

import pytest

from testbed import proc
from testbed.services import dns, gslb, http, resolver


class Execd(Exception):
    """``os.execv`` was called (instead of replacing the test's process)."""


@pytest.fixture
def execv(monkeypatch) -> List[List[str]]:
    """The command lines ``os.execv`` was called with (it raises :class:`Execd`)."""
    calls: List[List[str]] = []

    def fake(path: str, argv: List[str]) -> None:
        calls.append([path, *argv[1:]])
        raise Execd

    monkeypatch.setattr(os, "execv", fake)
    return calls


def toy_parser() -> proc.Parser:
    p = proc.Parser(prog="toy", description="a toy daemon wrapper")
    proc.add_daemon_dir(p, "toyd")
    p.add_argument("--input", type=Path, default=None)
    proc.add_also(p, "another one")
    proc.add_render_only(p, "toyd", "the config, print its path")
    return p


def toy_main(
    argv: List[str],
    problem: Optional[str] = None,
    installed: bool = True,
    with_input: bool = False,
) -> None:
    def write(args: Any, data: Any) -> Path:
        args.dir.mkdir(parents=True, exist_ok=True)
        conf = args.dir / "toyd.conf"
        conf.write_text(json.dumps({"input": data, "also": args.also}))
        return conf

    def load(args: Any) -> Any:
        try:
            return json.loads(args.input.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{args.input}: bad input ({type(exc).__name__})") from None

    proc.daemon_main(
        toy_parser(),
        argv,
        "toyd",
        write,
        lambda conf: problem,
        lambda conf: ["/usr/sbin/toyd", "-c", str(conf)],
        load=load if with_input else None,
        installed=lambda: installed,
        install="apt-get install toyd",
    )


def exits(capsys, call, *args: Any, **kw: Any) -> tuple:
    """(exit status, stderr) of a call that exits."""
    with pytest.raises(SystemExit) as info:
        call(*args, **kw)
    return info.value.code, capsys.readouterr().err


# -- the steps, on a toy daemon ---------------------------------------------------------


def test_it_writes_checks_and_execs_the_daemon_on_its_config(tmp_path, execv):
    with pytest.raises(Execd):
        toy_main(["--dir", str(tmp_path / "d"), "--also", "10.0.0.1"])
    conf = tmp_path / "d" / "toyd.conf"
    assert execv == [["/usr/sbin/toyd", "-c", str(conf)]]
    assert json.loads(conf.read_text()) == {"input": None, "also": ["10.0.0.1"]}


def test_render_only_prints_the_configs_path_and_starts_nothing(tmp_path, execv, capsys):
    toy_main(["--dir", str(tmp_path / "d"), "--render-only"])
    assert capsys.readouterr().out == f"{tmp_path / 'd' / 'toyd.conf'}\n"
    assert execv == []


def test_the_input_reaches_the_files_and_a_bad_one_is_one_line_and_exit_2(tmp_path, execv, capsys):
    good = tmp_path / "in.json"
    good.write_text('{"a": 1}')
    toy_main(["--dir", str(tmp_path / "d"), "--input", str(good), "--render-only"],
             with_input=True)  # fmt: skip
    conf = tmp_path / "d" / "toyd.conf"
    assert json.loads(conf.read_text())["input"] == {"a": 1}
    capsys.readouterr()
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, err = exits(capsys, toy_main, ["--dir", str(tmp_path / "e"), "--input", str(bad)],
                      with_input=True)  # fmt: skip
    assert code == 2 and err == f"toy: error: {bad}: bad input (JSONDecodeError)\n"
    assert not (tmp_path / "e").exists() and execv == []


def test_a_bad_input_is_refused_before_the_daemon_is_looked_for(tmp_path, capsys):
    code, err = exits(capsys, toy_main, ["--dir", str(tmp_path), "--input", "/nonexistent"],
                      installed=False, with_input=True)  # fmt: skip
    assert code == 2 and "bad input" in err


def test_a_missing_daemon_is_one_line_and_exit_1(tmp_path, execv, capsys):
    code, err = exits(capsys, toy_main, ["--dir", str(tmp_path / "d")], installed=False)
    assert code == 1 and err == "toy: error: toyd not found (apt-get install toyd)\n"
    assert not (tmp_path / "d").exists() and execv == []


def test_an_unwritable_folder_is_one_line_and_exit_1(tmp_path, execv, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, err = exits(capsys, toy_main, ["--dir", str(blocker / "d")])
    assert code == 1
    assert err.startswith(f"toy: error: cannot write toyd files in {blocker / 'd'}: ")
    assert err.count("\n") == 1 and execv == []


def test_a_config_the_daemon_rejects_is_one_line_and_exit_1(tmp_path, execv, capsys):
    code, err = exits(capsys, toy_main, ["--dir", str(tmp_path)], problem="line 1\nline 2")
    conf = tmp_path / "toyd.conf"
    assert code == 1 and err == f"toy: error: toyd rejects {conf}: line 1 / line 2\n"
    assert execv == []


def test_a_daemon_that_cannot_start_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    def refuse(path: str, argv: List[str]) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(os, "execv", refuse)
    code, err = exits(capsys, toy_main, ["--dir", str(tmp_path)])
    assert code == 1
    assert err == "toy: error: cannot start /usr/sbin/toyd: No such file or directory\n"


def test_bad_arguments_are_one_line_and_exit_2(capsys):
    code, err = exits(capsys, toy_main, ["--also", "nowhere"])
    assert code == 2 and err.count("\n") == 1 and err.startswith("toy: error: ")


def test_the_shared_options_help():
    text = toy_parser().format_help()
    assert "directory for every toyd file" in text
    assert "another address to serve on (another one); repeatable" in text
    assert "write and check the config, print its path, do not start toyd" in text


# -- the four wrappers ----------------------------------------------------------------


def not_installed(module: Any, monkeypatch) -> None:
    monkeypatch.setattr(module, "installed", lambda: False)


@pytest.mark.parametrize(
    "module, daemon, argv",
    [
        (gslb, "PowerDNS", ["--site", "lon", "--zone", "ZONE"]),
        (resolver, "unbound", ["--name", "res1", "--settings", "SETTINGS"]),
        (http, "nginx", ["--site", "lon", "--server", "lon-1"]),
    ],
    ids=["gslb", "resolver", "http"],
)
def test_each_wrapper_says_its_daemon_is_missing(module, daemon, argv, tmp_path, monkeypatch,
                                                capsys):  # fmt: skip
    inputs = {
        "ZONE": json.dumps(gslb.GslbZone(ttl=5, port=80, sites={"lon": "10.0.0.1"}).to_dict()),
        "SETTINGS": json.dumps({"address": "127.0.0.1"}),
    }
    for i, arg in enumerate(argv):
        if arg in inputs:
            path = tmp_path / f"{arg.lower()}.json"
            path.write_text(inputs[arg])
            argv[i] = str(path)
    not_installed(module, monkeypatch)
    code, err = exits(capsys, module.main, [*argv, "--dir", str(tmp_path / "d")])
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"python -m {module.__name__}: error: {daemon} not found (")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "module, argv, problem",
    [
        (gslb, ["--site", "lon", "--zone", "{}"], "sites"),
        (resolver, ["--name", "res1", "--settings", '{"min_ttl": 5}'], "address"),
    ],
    ids=["gslb", "resolver"],
)
def test_a_wrappers_bad_input_is_exit_2(module, argv, problem, tmp_path, capsys):
    path = tmp_path / "input.json"
    path.write_text(argv[3])
    code, err = exits(capsys, module.main, [*argv[:3], str(path), "--dir", str(tmp_path / "d")])
    assert code == 2 and err.count("\n") == 1 and f"error: {path}: " in err and problem in err
    assert not (tmp_path / "d").exists()


@pytest.mark.skipif(shutil.which("nsd-checkconf") is None, reason="NSD not installed")
def test_nsd_render_only_writes_the_files_and_prints_the_config(tmp_path, execv, capsys):
    dns.main(["--site", "lon", "--dir", str(tmp_path / "d"), "--address", "127.0.0.1",
              "--also", "127.0.0.2", "--ttl", "5", "--port", "5353", "--render-only"])  # fmt: skip
    conf = tmp_path / "d" / dns.CONF_NAME
    assert capsys.readouterr().out == f"{conf}\n" and execv == []
    assert conf.read_text() == dns.render_config("lon", tmp_path / "d", "127.0.0.1", 5353,
                                                 ["127.0.0.2"])  # fmt: skip
    assert (tmp_path / "d" / dns.ZONEFILE_NAME).read_text() == dns.render_zone(
        "lon", "127.0.0.1", 5
    )


def test_nsd_is_execd_on_its_config(tmp_path, execv, monkeypatch):
    monkeypatch.setattr(dns, "check", lambda conf: None)
    with pytest.raises(Execd):
        dns.main(["--site", "lon", "--dir", str(tmp_path)])
    conf = tmp_path / dns.CONF_NAME
    assert execv == [[dns.NSD, "-d", "-c", str(conf)]]


def test_nsd_unwritable_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, err = exits(capsys, dns.main, ["--site", "lon", "--dir", str(blocker / "d")])
    assert code == 1
    assert err.startswith(
        f"python -m testbed.services.dns: error: cannot write NSD files in {blocker / 'd'}: "
    )


def test_load_json_names_the_file_in_its_one_line(tmp_path):
    path = tmp_path / "in.json"
    with pytest.raises(ValueError, match=f"^{path}: No such file or directory$"):
        proc.load_json(path, dict)
    path.write_text("{")
    with pytest.raises(ValueError, match=f"^{path}: not JSON: "):
        proc.load_json(path, dict)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=f"^{path}: cannot convert dictionary update"):
        proc.load_json(path, dict)  # dict([1, 2]): a TypeError
    path.write_text('{"a": 1}')
    assert proc.load_json(path, dict) == {"a": 1}
