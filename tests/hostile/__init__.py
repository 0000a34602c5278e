"""The hostile-input corpus: generated bundles and tool files, each with its expected refusal."""
