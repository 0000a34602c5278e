"""Typed models handed between stages: manifest, evidence kinds, policy, issues, catalog, results."""
