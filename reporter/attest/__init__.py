"""Signing and verification: Ed25519 keys, DSSE envelopes carrying in-toto Statements, the signed
attestation of a report set, the preparer's seal on a bundle, and verifying both (docs/security.md)."""
