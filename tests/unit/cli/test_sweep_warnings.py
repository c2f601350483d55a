"""``sweep --dry-run`` names the grid points whose silent failure is restored too soon."""

from __future__ import annotations

from .helpers import run_cli


def test_dry_run_warns_once_per_point(capsys):
    code, out, err = run_cli(
        capsys, "sweep", "silent-failure", "--param", "bgp.hold=3,30", "--repeat", "2", "--dry-run"
    )
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: bgp.hold=30: timeline[1]: the restore at 40 s comes 25 s after the silent "
        "failure of timeline[0] (busiest), sooner than the hold time (30 s): BGP may never "
        "notice the failure, so no client moves"
    ]
    assert "4 runs" in out


def test_the_documented_example_has_no_warning(capsys):
    argv = ["sweep", "silent-failure", "--set", "topology=two-sites", "--param"]
    code, out, _ = run_cli(capsys, *argv, "bgp.hold=3,9,20", "--param", "bfd=off,on", "--dry-run")
    assert code == 0
    assert "warning" not in out and "6 runs" in out
