"""The checkout a benchmark measures: the one its script is in. Not whichever `reporter` an editable
install or the current directory would give: `python -c` and `python -m` put the current directory
first on sys.path, ahead of PYTHONPATH. So `python /other/checkout/benchmarks/ingest.py`, run from
anywhere, measures that other checkout, in this process and in every child it starts (`cwd=ROOT`),
and two checkouts can be compared run for run. Every script puts this checkout first on sys.path
itself, before it imports `reporter`."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
