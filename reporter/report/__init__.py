"""Reports: a display view computed from an Assessment, rendered per format (HTML, PDF, JSON, CSV).

`view/` builds the precomputed view, `charts` draws inline SVG, `formats/` holds one renderer per
output format and the registry, `sandbox` runs WeasyPrint in a limited subprocess.
"""
