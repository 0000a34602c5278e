"""The control library: framework catalogs, controls, organisation packs, lint, framework status."""
