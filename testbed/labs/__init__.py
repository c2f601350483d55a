"""Course labs: hand-outs, per-student variants and automatic checkers.

A lab is a folder under ``labs/`` (the student hand-out: README, templates of
the files the student edits) and one under ``labs/solutions/`` (the
instructor's solution, kept apart).  ``anycast-testbed lab start N`` renders
a working copy for one student's variant; ``lab check N`` checks it, one line
per item.

Modules: :mod:`~testbed.labs.variant` (per-student variants),
:mod:`~testbed.labs.reasoning` (the answers, by BGP path reasoning),
:mod:`~testbed.labs.workcopy` (rendering working copies),
:mod:`~testbed.labs.answers` (reading answer and prediction files),
:mod:`~testbed.labs.items` (check items and their report),
:mod:`~testbed.labs.runner` (running a lab scenario), ``lab1`` ... ``lab6``
(one checker per lab), :mod:`~testbed.labs.registry` and
:mod:`~testbed.labs.cli`.
"""
