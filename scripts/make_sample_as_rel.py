"""Write topologies/sample.as-rel.txt, the sample file of the CAIDA importer (deterministic).

    .venv/bin/python scripts/make_sample_as_rel.py

The relationships of ``internet:200`` (seed 0) in CAIDA's AS-relationship
format; ``tests/unit/topology/test_caida.py`` checks the shipped file is
exactly what this writes.
"""

from pathlib import Path

from testbed.topology.internet import SAMPLE_FILE, sample_as_rel

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    (ROOT / SAMPLE_FILE).write_text(sample_as_rel(), encoding="utf-8")
    print(f"wrote {SAMPLE_FILE}")
