"""A gitleaks v8 finding carrying a planted secret, shared by the importer and hostile-input tests."""

from __future__ import annotations

from typing import Any


def gitleaks_v8_finding(secret: str, date: str = "2024-01-01T00:00:00Z", *, in_metadata: bool = True) -> dict[str, Any]:
    """One gitleaks v8 finding whose Secret and Match hold `secret`; with `in_metadata` the secret is
    also planted in the author e-mail, commit message and tags, fields an importer must not copy."""
    return {
        "RuleID": "generic-api-key",
        "Description": "Generic API Key",
        "StartLine": 3,
        "EndLine": 3,
        "Match": f'token = "{secret}"',
        "Secret": secret,
        "File": "cfg/app.py",
        "Commit": "abc123",
        "Author": "dev",
        "Email": f"{secret}@example.invalid" if in_metadata else "dev@example.invalid",
        "Date": date,
        "Message": f"add {secret}" if in_metadata else "add key",
        "Tags": [secret] if in_metadata else [],
        "Fingerprint": "abc123:cfg/app.py:generic-api-key:3",
    }
