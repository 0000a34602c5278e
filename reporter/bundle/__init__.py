"""Opening evidence bundles safely: confinement, limits, hashing, manifest and policy documents."""
