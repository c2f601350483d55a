"""Bad knob values: one line naming --set (or --param) and the key, exit status 2."""

import pytest

from testbed.cli import main


def fail(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("bfd=maybe", "--set: bfd: must be on or off (got 'maybe')"),
        ("bfd=3", "--set: bfd: must be on or off (got '3')"),
        ("bfd.interval=5", "--set: bfd.interval: Input should be greater than or equal to 10"),
        ("bfd.multiplier=1", "--set: bfd.multiplier: Input should be greater than or equal to 2"),
        ("bfd.multiplier=x", "--set: bfd.multiplier: Input should be a valid integer"),
        ("bfd.jitter=1", "--set: bfd.jitter: unknown field"),
        ("bgp.hold=2", "--set: bgp.hold: Input should be greater than or equal to 3"),
        ("bgp.mrai=-1", "--set: bgp.mrai: Input should be greater than or equal to 0"),
        ("bgp.mrai=soon", "--set: bgp.mrai: Input should be a valid integer"),
        ("bgp.connect_retry=0", "--set: bgp.connect_retry: Input should be greater than or equal"),
    ],
)
def test_run_rejects_bad_knobs(capsys, item, expected):
    err = fail(capsys, "run", "two-sites-failover", "--set", item)
    assert err.startswith(f"anycast-testbed: {expected}"), err


def test_hold_below_three_keepalives(capsys):
    err = fail(capsys, "run", "two-sites-failover", "--set", "bgp.keepalive=3")
    assert "hold (3) must be at least 3 x keepalive (3)" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--param", "bgp.hold=3,2"], "--param: bgp.hold: Input should be greater than or equal"),
        (["--param", "bfd=off,maybe"], "--param: bfd: must be on or off (got 'maybe')"),
        (["--param", "bgp.hold"], "--param: expected KEY=V1,V2,..., got 'bgp.hold'"),
        (["--param", "bgp.hold=3,,9"], "--param: bgp.hold: empty value"),
        (["--param", "bgp.hold=3,3"], "--param: bgp.hold: value '3' is given twice"),
        (["--param", "bgp.hold=3", "--param", "bgp.hold=9"], "--param: bgp.hold: swept twice"),
        (["--param", "bgp.hold=9", "--set", "bgp.hold=3"], "--param: bgp.hold: also given"),
        (["--param", "colour=red"], "--param: colour: unknown key"),
        (["--repeat", "0"], "Invalid value for '--repeat'"),
    ],
)
def test_sweep_rejects_bad_params(capsys, argv, expected):
    err = fail(capsys, "sweep", "two-sites-failover", "--dry-run", *argv)
    assert expected in err, err


def test_reproduce_unknown_experiment(capsys):
    err = fail(capsys, "reproduce", "flat-earth")
    assert "no experiment 'flat-earth'" in err and "delayed-convergence" in err
