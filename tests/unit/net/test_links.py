"""tc commands for link shaping, with and without netem."""

from testbed.net.links import shaping_commands
from testbed.topology.model import LinkParams


def test_netem_delay_jitter_loss_rate():
    cmds = shaping_commands(
        "na-e0", LinkParams(delay="20ms", jitter="2ms", loss=0.5, bandwidth=100), netem=True
    )
    assert cmds == [
        "tc qdisc replace dev na-e0 root handle 1: netem delay 20ms 2ms "
        "distribution normal loss 0.5% rate 100mbit"
    ]


def test_delay_only():
    assert shaping_commands("x", LinkParams(delay="0.5s"), netem=True) == [
        "tc qdisc replace dev x root handle 1: netem delay 500ms"
    ]


def test_without_netem_delay_is_skipped_but_bandwidth_uses_tbf():
    assert shaping_commands("x", LinkParams(delay="20ms"), netem=False) == []
    cmds = shaping_commands("x", LinkParams(delay="20ms", bandwidth=10), netem=False)
    assert cmds == ["tc qdisc replace dev x root handle 1: tbf rate 10mbit burst 5000 latency 50ms"]


def test_nothing_to_shape():
    assert shaping_commands("x", LinkParams(), netem=True) == []
