"""The playbook: which site action moves how much of the service's load, measured.

``anycast-testbed playbook TOPOLOGY`` brings a topology up once and, for each
site and each action (prepend 1, 2, 3; withdraw; the action communities its
upstream ASes offer), applies it, waits for BGP to converge, asks every client
which site answers it, reverts, and moves on.  The emulated, measured version
of the published "anycast agility" playbook tables.

- :mod:`testbed.playbook.model` -- the ``playbook.json`` format (pydantic);
- :mod:`testbed.playbook.actions` -- the actions of a topology's sites and the
  selection ``--sites``/``--actions`` make of them (pure);
- :mod:`testbed.playbook.table` -- shares, moves and the table (pure);
- :mod:`testbed.playbook.runner` -- applying, waiting and asking on a running
  testbed;
- :mod:`testbed.playbook.output` -- ``playbook.json``, ``.csv``, ``.md`` and
  ``.png`` written into the playbook's folder.
"""
