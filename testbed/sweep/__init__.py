"""Parameter sweeps: run a scenario over a grid of ``--set`` values, repeated.

- :mod:`~testbed.sweep.grid`: ``--param KEY=V1,V2`` parsing and the grid of runs
- :mod:`~testbed.sweep.figures`: one run's figures (a CSV row) from its summary
- :mod:`~testbed.sweep.table`: ``sweep.csv``, written row by row
- :mod:`~testbed.sweep.eta`: estimate of the time left
- :mod:`~testbed.sweep.runner`: runs the grid with progress; Ctrl-C keeps finished rows
- :mod:`~testbed.sweep.plots`: figures against each parameter, spread over repeats
- :mod:`~testbed.sweep.command`: the ``anycast-testbed sweep`` command
"""
