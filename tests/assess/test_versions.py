"""Does a deployed package version fix a finding? Ecosystem-aware comparison (univers)."""

from __future__ import annotations

import pytest

from reporter.assess.versions import ecosystem, fixes


@pytest.mark.parametrize(
    ("purl", "deployed", "fixed", "expected"),
    [
        # Debian: the +debNuM security suffix, epochs and tildes order as dpkg does
        ("pkg:deb/debian/e2fsprogs@1.43.4-2?arch=amd64", "1.43.4-2+deb9u1", "1.43.4-2+deb9u1", True),
        ("pkg:deb/debian/e2fsprogs@1.43.4-2", "1.43.4-2", "1.43.4-2+deb9u1", False),
        ("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15", "3.0.2-0ubuntu1.12", True),
        ("pkg:deb/debian/x@1", "1:1.0-1", "2.0-1", True),  # an epoch outranks any upstream version
        ("pkg:deb/debian/x@1", "2.0~rc1-1", "2.0-1", False),  # a tilde sorts before the release
        # RPM: epoch:version-release
        ("pkg:rpm/amzn/openssl@1.0.2k", "1:1.0.2k-24.amzn2.0.7", "1:1.0.2k-24.amzn2.0.6", True),
        ("pkg:rpm/redhat/openssl@1.1.1k", "1:1.1.1k-9.el8_7", "1:1.1.1k-12.el8_9", False),
        # Alpine
        ("pkg:apk/alpine/musl@1.1.24-r2", "1.1.24-r3", "1.1.24-r3", True),
        # A list of fixes, one per release line (Trivy's "3.1.0, 2.6.9")
        ("pkg:npm/minimist@1.2.0", "2.6.10", "3.1.0, 2.6.9", True),
        ("pkg:npm/minimist@1.2.0", "3.0.5", "3.1.0, 2.6.9", False),
        ("pkg:npm/minimist@1.2.0", "3.1.0", "3.1.0, 2.6.9", True),
        # PyPI pre-releases come before the release; Maven and Go
        ("pkg:pypi/django@3.2", "4.2.0rc1", "4.2.0", False),
        ("pkg:maven/org.apache.commons/commons-compress@1.21", "1.26.0", "1.26.0", True),
        ("pkg:golang/golang.org/x/net@0.7.0", "0.17.0", "v0.17.0", True),
        # Not comparable: no link, never a guess
        ("pkg:generic/thing@1", "2", "1", False),
        ("pkg:npm/x@1", "not a version!", "1.0.0", False),
        ("pkg:npm/x@1", "1.0.0", "", False),
    ],
)
def test_fixes(purl: str, deployed: str, fixed: str, expected: bool) -> None:
    assert fixes(purl, deployed, fixed) is expected


def test_ecosystem_is_the_purl_type_when_univers_compares_it() -> None:
    assert ecosystem("pkg:deb/debian/bash@5.0-4?arch=amd64") == "deb"
    assert ecosystem("pkg:generic/x@1") is None
    assert ecosystem(None) is None
    assert ecosystem("deb/debian/bash") is None
