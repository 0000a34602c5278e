"""exposure-reporter: audit-grade gap reports from security evidence bundles."""

__version__ = "0.1.0"
