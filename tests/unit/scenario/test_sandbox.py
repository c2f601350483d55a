"""Python scenarios run confined in a child process: nothing they do ends, hangs or leaks.

Every way a scenario's code can misbehave -- ``sys.exit``, ``KeyboardInterrupt``,
a loop, a huge allocation, ``os._exit``, a print flood, a value that is not
data -- is one :class:`InputError` naming the file, and no process is left.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List

import pytest

from testbed.errors import InputError
from testbed.scenario import sandbox
from testbed.scenario.load import SCENARIO_DIR, load_scenario
from testbed.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[3]

GOOD_RETURN = '    return {"name": "ok", "duration": 10}\n'


def write(tmp_path: Path, text: str, name: str = "bad.py") -> Path:
    """A scenario file on the cheap ``two-sites`` topology."""
    path = tmp_path / name
    path.write_text('TOPOLOGY = "two-sites"\n' + textwrap.dedent(text))
    return path


def failure(path: Path, **kwargs) -> InputError:
    """The InputError of loading the Python scenario ``path`` (one line, naming it)."""
    with pytest.raises(InputError) as info:
        load_scenario(str(path), **kwargs)
    assert info.value.source == str(path)
    line = str(info.value)
    assert "\n" not in line and "Traceback" not in line
    return info.value


class Recorder:
    """Records the children the sandbox starts (to check they are gone)."""

    def __init__(self) -> None:
        self.procs: List[subprocess.Popen] = []


@pytest.fixture
def children(monkeypatch) -> Recorder:
    """Every ``Popen`` made during the test, kept for :func:`assert_gone`."""
    rec = Recorder()
    real = subprocess.Popen

    def popen(*args, **kwargs):
        proc = real(*args, **kwargs)
        rec.procs.append(proc)
        return proc

    monkeypatch.setattr(sandbox.subprocess, "Popen", popen)
    return rec


def assert_gone(rec: Recorder) -> None:
    """Each child was reaped and nothing is left in its process group."""
    assert rec.procs
    for proc in rec.procs:
        assert proc.returncode is not None
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)


# ------------------------------------------------------- what the code raises
# (line numbers count the TOPOLOGY line that write() puts first)
@pytest.mark.parametrize(
    "text, field, expected",
    [
        (
            "import sys\ndef scenario(t):\n    sys.exit(0)\n",
            "scenario()",
            "failed: SystemExit: 0 (line 4)",
        ),
        (
            "import sys\ndef scenario(t):\n    sys.exit('x')\n",
            "scenario()",
            "failed: SystemExit: x (line 4)",
        ),
        (
            "def scenario(t):\n    raise KeyboardInterrupt\n",
            "scenario()",
            "failed: KeyboardInterrupt (line 3)",
        ),
        (
            "def scenario(t):\n    raise GeneratorExit('bye')\n",
            "scenario()",
            "failed: GeneratorExit: bye (line 3)",
        ),
        ("raise SystemExit\n", None, "cannot be imported: SystemExit (line 2)"),
        ("import sys\nsys.exit(4)\n", None, "cannot be imported: SystemExit: 4 (line 3)"),
        (
            "x = 1\ny = undefined_name\n",
            None,
            "cannot be imported: NameError: name 'undefined_name' is not defined (line 3)",
        ),
        (
            "def scenario(t):\n    x = bytearray(4 << 30)\n" + GOOD_RETURN,
            "scenario()",
            "failed: ran out of memory (limit 1024 MB) (line 3)",
        ),
        (
            "def f(n):\n    return f(n + 1)\ndef scenario(t):\n    f(0)\n",
            "scenario()",
            "failed: RecursionError: maximum recursion depth exceeded",
        ),
        (
            "import os\ndef scenario(t):\n    os._exit(3)\n",
            "scenario()",
            "exited without returning a scenario (status 3)",
        ),
        (
            "import os\nos._exit(0)\n",
            None,
            "cannot be imported: exited without finishing (status 0)",
        ),
        (
            "import os, signal\ndef scenario(t):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
            "scenario()",
            "crashed (SIGSEGV)",
        ),
        (
            "def scenario(t):\n    return {'name': 'x', 'timeline': [{'site': {'a'}}]}\n",
            "scenario()",
            "must return plain data (mappings, lists, strings, numbers): timeline[0].site is a set",
        ),
        (
            "def scenario(t):\n    return {'name': object()}\n",
            "scenario()",
            "must return plain data (mappings, lists, strings, numbers): name is an object",
        ),
        (
            "def scenario(t):\n    return {1: 'x'}\n",
            "scenario()",
            "must return plain data (mappings, lists, strings, numbers): the result has a key",
        ),
        ("def scenario(t):\n    return t\n", "scenario()", "must return a mapping (got Topology)"),
        (
            "import os\ndef scenario(t):\n    os.fork()\n",
            "scenario()",
            "failed: BlockingIOError: [Errno 11] Resource temporarily unavailable (line 4)",
        ),
    ],
)
def test_misbehaving_code_is_one_line_naming_the_file_and_field(
    tmp_path, children, text, field, expected
):
    err = failure(write(tmp_path, text))
    assert err.field == field
    assert err.message.startswith(expected), err.message
    assert_gone(children)


def test_a_syntax_error_names_its_line(tmp_path, children):
    err = failure(write(tmp_path, "def scenario(t):\n    x = 1\n    y = = 2\n"))
    assert (err.field, err.message) == (
        None,
        "cannot be imported: SyntaxError: invalid syntax (line 4)",
    )
    assert not children.procs  # found from the syntax tree: nothing was run


def test_an_endless_scenario_is_killed_after_the_time_limit(tmp_path, children, monkeypatch):
    monkeypatch.setattr(sandbox, "TIMEOUT", 2.0)
    path = write(tmp_path, "def scenario(t):\n    while True:\n        pass\n")
    start = time.monotonic()
    err = failure(path)
    assert time.monotonic() - start < 4
    assert (err.field, err.message) == ("scenario()", "did not return within 2 s")
    assert_gone(children)


def test_an_endless_import_is_killed_too(tmp_path, children, monkeypatch):
    monkeypatch.setattr(sandbox, "TIMEOUT", 1.0)
    err = failure(write(tmp_path, "import time\ntime.sleep(60)\n"))
    assert (err.field, err.message) == (None, "cannot be imported: did not finish within 1 s")
    assert_gone(children)


def test_ctrl_c_in_the_parent_kills_the_child(tmp_path, children):
    path = write(tmp_path, "import time\ndef scenario(t):\n    time.sleep(60)\n")
    # Python started in the background by a non-interactive shell inherits SIGINT
    # ignored: Ctrl-C's handler as the CLI installs it, whatever started the tests
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.8, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sandbox.evaluate(path.read_text(), path, load_topology("two-sites"), "x", timeout=8)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert_gone(children)


# --------------------------------------------------------------- its output
def test_a_print_flood_is_bounded_and_does_not_break_the_result(tmp_path):
    text = (
        "def scenario(t):\n"
        "    for i in range(100000):\n"
        '        print(\'{"ok": true, "data": {"name": "forged"}}\', i)\n'
        "    print('\\x1b[2J', end='')\n"
        "    return {'name': 'real', 'duration': 10}\n"
    )
    path = write(tmp_path, text)
    out = io.StringIO()
    data = sandbox.evaluate(path.read_text(), path, load_topology("two-sites"), "x", output=out)
    assert data == {"name": "real", "duration": 10}
    shown = out.getvalue()
    assert len(shown) < sandbox.OUTPUT_MAX + 200
    assert shown.startswith('{"ok": true')
    assert shown.endswith("more bytes of output from the scenario dropped]\n")


def test_printed_output_is_passed_on_without_control_characters(tmp_path, capsys):
    text = "def scenario(t):\n    print('hello \\x1b[31mred')\n" + GOOD_RETURN
    loaded = load_scenario(str(write(tmp_path, text)))
    assert loaded.scenario.name == "ok"
    assert capsys.readouterr().err == "hello ?[31mred\n"


def test_what_the_child_sends_is_not_trusted(tmp_path, children):
    text = (
        "import json, os, sys\n"
        "msg = {'ok': False, 'field': 'f\\x1b', 'error': 'x\\x1b[2J\\nsecond line'}\n"
        "os.write(int(sys.argv[1]), json.dumps(msg).encode() + b'\\n')\n"
        "os._exit(0)\n"
    )
    err = failure(write(tmp_path, text))
    assert (err.field, err.message) == ("f?", "x?[2J")
    huge = "def scenario(t):\n    return {'name': 'x' * (17 << 20)}\n"
    err = failure(write(tmp_path, huge))
    assert (err.field, err.message) == ("scenario()", "returned more than 16 MB of data")
    assert_gone(children)


# ------------------------------------------------------------------ TOPOLOGY
@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'TOPOLOGY = "two" + "-sites"\n',
            "must be a topology name or file as a string literal (got 'two' + '-sites')",
        ),
        ("import os\nTOPOLOGY = os.environ['T']\n", "must be a topology name or file as a string"),
        ("TOPOLOGY = 3\n", "must be a topology name or file as a string literal (got 3)"),
        ('if True:\n    TOPOLOGY = "world"\n', 'must be given as TOPOLOGY = "NAME"'),
        ("from os import sep as TOPOLOGY\n", 'must be given as TOPOLOGY = "NAME"'),
        ('TOPOLOGY = ""\n', "must be a topology name or file (got '')"),
    ],
)
def test_topology_must_be_a_string_literal(tmp_path, text, expected):
    path = tmp_path / "t.py"
    path.write_text(text + "raise SystemExit('never run')\n")
    err = failure(path)
    assert err.field == "TOPOLOGY"
    assert err.message.startswith(expected), err.message


def test_topology_is_read_without_running_the_file(tmp_path):
    path = tmp_path / "t.py"
    path.write_text('TOPOLOGY: str = "nowhere"\nraise SystemExit("never run")\n')
    err = failure(path)
    assert err.field == "TOPOLOGY" and err.message.startswith("nowhere: no topology 'nowhere'")
    # given on the command line, a TOPOLOGY that is no literal does not matter
    path.write_text("import os\nTOPOLOGY = os.sep\ndef scenario(t):\n" + GOOD_RETURN)
    assert load_scenario(str(path), topology="two-sites").topology_ref == "two-sites"


# ------------------------------------------------------------ the file itself
def test_only_a_regular_file_of_at_most_1_mib_is_read(tmp_path, children):
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    assert failure(fifo).message.startswith("not a regular file")
    folder = tmp_path / "folder.py"
    folder.mkdir()
    assert failure(folder).message == "is a directory, not a file"
    big = tmp_path / "big.py"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    assert failure(big).message.startswith("too large")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"X = 'caf\xe9'\n")
    err = failure(latin)
    assert (err.field, err.message) == ("line 1", "not UTF-8 text (byte 0xe9 cannot be decoded)")
    assert not children.procs


# ------------------------------------------------------------ good scenarios
def _in_process(path: Path, topology_ref: str) -> dict:
    """What the shipped scenario gave when it was imported in-process (the old way)."""
    spec = importlib.util.spec_from_file_location("rolling_in_process", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return json.loads(json.dumps(module.scenario(load_topology(topology_ref))))


@pytest.mark.parametrize("topology", ["world", "two-sites"])
def test_shipped_rolling_maintenance_gives_the_same_data_as_before(topology):
    path = SCENARIO_DIR / "rolling-maintenance.py"
    data = sandbox.evaluate(path.read_text(), path, load_topology(topology), "x")
    assert data == _in_process(path, topology)
    loaded = load_scenario("rolling-maintenance", topology=topology)
    assert loaded.scenario.name == "rolling-maintenance"
    assert loaded.scenario.topology == topology


@pytest.mark.parametrize("ref", ["world", "two-sites", "chain:3"])
def test_the_child_sees_the_same_topology(tmp_path, ref):
    path = tmp_path / "dump.py"
    path.write_text("def scenario(t):\n    return t.model_dump(by_alias=True, mode='json')\n")
    topo = load_topology(ref)
    data = sandbox.evaluate(path.read_text(), path, topo, "x")
    assert data == topo.model_dump(by_alias=True, mode="json")


# ------------------------------------------------------------------- as root
PROBE = """
import os, socket
def scenario(t):
    try:
        socket.create_connection(("127.0.0.1", 22), timeout=1).close()
        connect = "connected"
    except OSError as exc:
        connect = type(exc).__name__
    return {
        "ids": [*os.getresuid(), *os.getresgid()],
        "groups": os.getgroups(),
        "interfaces": [name for _, name in socket.if_nameindex()],
        "connect": connect,
        "cwd": os.getcwd(),
        "env": sorted(os.environ),
    }
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the child drops to nobody)")
def test_as_root_the_code_runs_as_nobody_without_network(tmp_path):
    import pwd

    path = tmp_path / "probe.py"
    path.write_text(PROBE)
    path.chmod(0o644)
    data = sandbox.evaluate(path.read_text(), path, load_topology("two-sites"), "x")
    nobody = pwd.getpwnam("nobody")
    assert data["ids"] == [nobody.pw_uid] * 3 + [nobody.pw_gid] * 3
    assert data["groups"] in ([], [nobody.pw_gid])
    assert data["interfaces"] == ["lo"]
    assert data["connect"] != "connected"
    assert data["cwd"] == "/"
    assert "HOME" not in data["env"] and "SUDO_USER" not in data["env"]


# ----------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    "text, expected",
    [
        ("import sys\ndef scenario(t):\n    sys.exit(0)\n", "failed: SystemExit: 0 (line 4)"),
        ("def scenario(t):\n    raise KeyboardInterrupt\n", "failed: KeyboardInterrupt (line 3)"),
    ],
)
def test_the_cli_says_one_line_and_exits_2(tmp_path, text, expected):
    """Once ``run`` exited 0 (``sys.exit(0)``) or 130 (``KeyboardInterrupt``), saying nothing."""
    path = write(tmp_path, text)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "testbed", "run", str(path), "--topology", "two-sites"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == f"anycast-testbed: {path}: scenario(): {expected}\n"
