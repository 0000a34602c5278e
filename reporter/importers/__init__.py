"""Importers for native tool outputs: one module per format, registered in `registry.py`."""
