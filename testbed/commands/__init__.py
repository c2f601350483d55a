"""The ``anycast-testbed`` commands, one module per command or group.

Each module holds a thin click command: it parses its options, then calls
the library (:mod:`testbed.net.bringup`, :mod:`testbed.scenario.prepare`,
:mod:`testbed.checkfile`...) and prints the outcome with
:mod:`testbed.console`.  Options several commands share are in
:mod:`testbed.commands.options`.  :mod:`testbed.cli` adds them all to the
group; nothing here imports it.
"""
