"""The display view of a report: `model` (what templates print) and `build` (how it is computed)."""
