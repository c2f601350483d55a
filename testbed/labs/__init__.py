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
:mod:`~testbed.labs.runner` (running a lab scenario), ``lab1`` ... ``lab9``
(one checker per lab), :mod:`~testbed.labs.signing` (the course secret,
per-install keys, HMAC signatures), :mod:`~testbed.labs.attempts` (answers
frozen at the first graded check), :mod:`~testbed.labs.checking` (one
``lab check``), :mod:`~testbed.labs.registry`, :mod:`~testbed.labs.cli` and
:mod:`~testbed.labs.solution` (the instructors' command, not in the student
build).
"""
