"""Signing end to end through the command line: `keygen`, `report --sign`, `verify` (signature, every
file, re-performance) and `seal`, with their exit codes: 0 verified, 6 not verified (naming the file),
2 usage, 3 invalid bundle, 4 a key file that exists."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
import yaml
from support.bundles import minimal_valid
from typer.testing import CliRunner

from reporter.attest import dsse, keys
from reporter.attest.interface import ATTESTATION_FILE, REPORT_PREDICATE_TYPE, SEAL_FILE
from reporter.attest.intoto import sign_statement
from reporter.cli import app

FORMATS = "html,json,csv,oscal,poam"  # everything but the PDF (tests/report/test_pdf.py signs that one)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env={"SOURCE_DATE_EPOCH": "", **(env or {})}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    code, _, err = run("keygen", str(tmp_path / "keys" / "signer"))
    assert code == 0, err
    return tmp_path / "keys" / "signer.key", tmp_path / "keys" / "signer.pub"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return minimal_valid(tmp_path / "bundle").write()


@pytest.fixture
def signed(tmp_path: Path, bundle: Path, pair: tuple[Path, Path]) -> Path:
    out = tmp_path / "out"
    code, stdout, err = run("report", str(bundle), "-o", str(out), "--format", FORMATS, "--sign", str(pair[0]))
    assert code == 0, err
    assert f"signed with key {keys.key_id(keys.read_public_key(pair[1]))}" in stdout
    return out


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    private, public = pair
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    code, _, err = run("keygen", str(tmp_path / "keys" / "signer.key"))  # same pair, named by its file
    assert code == 4
    assert "exists; refusing to overwrite it" in err
    code, out, _ = run("keygen", str(tmp_path / "keys" / "signer"), "--force")
    assert code == 0
    line = next(x for x in out.splitlines() if x.strip().startswith("public_key: "))
    declared = keys.parse_public(line.split(": ", 1)[1])
    assert keys.key_id(declared) == keys.key_id(keys.read_public_key(public))


def test_keygen_encrypts_with_the_password_variable(tmp_path: Path) -> None:
    env = {keys.KEY_PASSWORD_ENV: "s3cret"}
    code, out, _ = run("keygen", str(tmp_path / "enc"), env=env)
    assert code == 0
    assert "(private key, encrypted)" in out
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "enc.key").read_bytes()
    code, _, err = run("report", "x", "-o", str(tmp_path / "o"), "--sign", str(tmp_path / "enc.key"))
    assert code == 2
    assert "set EXPOSURE_REPORTER_KEY_PASSWORD" in err


def test_a_signed_set_verifies_and_reperforms(signed: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    assert (signed / ATTESTATION_FILE).exists()
    code, out, err = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 0, err
    assert "verified — 8 file(s) of report ER-" in out
    code, out, err = run("verify", str(signed), "--key", str(pair[1]), "--bundle", str(bundle))
    assert code == 0, err
    assert "re-performed: results.json identical" in out
    code, out, _ = run("verify", str(signed), "--key", str(pair[1]), "--bundle", str(bundle), "--format", "json")
    outcome = json.loads(out)
    assert outcome["verified"] is True
    assert outcome["reperformed"] is True
    assert {f["name"] for f in outcome["files"]} == {p.name for p in signed.iterdir()} - {ATTESTATION_FILE}


def test_quiet_verify_prints_the_problems_and_the_verdict_only(signed: Path, pair: tuple[Path, Path]) -> None:
    code, loud, _ = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 0
    code, quiet, err = run("verify", str(signed), "--key", str(pair[1]), "--quiet")
    assert code == 0, err
    assert len(loud.splitlines()) == 9  # a line per attested file, then the verdict
    assert quiet.splitlines() == loud.splitlines()[-1:]
    (signed / "findings.csv").write_bytes(b"changed\n")
    code, quiet, err = run("verify", str(signed), "--key", str(pair[1]), "-q")
    assert code == 6
    assert [line.split() for line in quiet.splitlines()] == [["CHANGED", "findings.csv"]]
    assert "NOT VERIFIED" in err


def test_a_set_without_results_json_reperforms_against_the_attested_digest(
    tmp_path: Path, bundle: Path, pair: tuple[Path, Path]
) -> None:
    out = tmp_path / "html-only"
    code, _, err = run("report", str(bundle), "-o", str(out), "--format", "html", "--sign", str(pair[0]))
    assert code == 0, err
    code, text, err = run("verify", str(out), "--key", str(pair[1]), "--bundle", str(bundle))
    assert code == 0, err
    assert "re-performed: the results match the SHA-256 the attestation records (the set holds no results.json)" in text
    assert "results.json identical" not in text


def test_reperformance_with_a_baseline_takes_the_signed_comparison(
    tmp_path: Path, bundle: Path, pair: tuple[Path, Path]
) -> None:
    """The baselines are earlier report sets, not evidence: the comparison section comes from the signed
    results.json, every other byte is reproduced from the bundle."""
    code, _, err = run("assess", str(bundle), "-o", str(tmp_path / "earlier.json"))
    assert code == 0, err
    out = tmp_path / "compared"
    code, _, err = run(
        "report", str(bundle), "-o", str(out), "--format", "json", "--baseline", str(tmp_path / "earlier.json"),
        "--sign", str(pair[0]),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads((out / "results.json").read_bytes())["comparison"] is not None
    code, out_text, err = run("verify", str(out), "--key", str(pair[1]), "--bundle", str(bundle))
    assert code == 0, err
    assert "re-performed: results.json identical" in out_text


@pytest.mark.parametrize(
    "name",
    [
        "report.html",
        "results.json",
        "findings.csv",
        "ledger.csv",
        "exceptions.csv",
        "samples.csv",
        "assessment-results.json",
        "plan-of-action-and-milestones.json",
    ],
)
def test_a_changed_byte_anywhere_names_the_file(signed: Path, pair: tuple[Path, Path], name: str) -> None:
    path = signed / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, out, err = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 6
    assert f"CHANGED     {name}" in out
    assert f"error: {name}: SHA-256 is" in err
    assert "NOT VERIFIED" in err
    assert "Traceback" not in err


def test_a_changed_attestation_or_another_key_does_not_verify(signed: Path, pair: tuple[Path, Path]) -> None:
    path = signed / ATTESTATION_FILE
    original = path.read_bytes()
    data = bytearray(original)
    data[40] = ord("A") if data[40] != ord("A") else ord("B")
    path.write_bytes(bytes(data))
    code, _, err = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 6
    assert "attestation.intoto.jsonl: " in err
    path.write_bytes(original)
    other = Path(str(pair[1]).replace("signer", "other"))
    run("keygen", str(other.with_suffix("")))
    code, _, err = run("verify", str(signed), "--key", str(other))
    assert code == 6
    assert "the signature does not verify with key" in err


def test_an_unsigned_rerun_removes_the_stale_attestation(signed: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    code, _, err = run("report", str(bundle), "-o", str(signed), "--format", "json")
    assert code == 0, err
    assert not (signed / ATTESTATION_FILE).exists()
    code, _, err = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 6
    assert "the report set was not signed" in err


def test_reperformance_refuses_other_evidence(tmp_path: Path, signed: Path, pair: tuple[Path, Path]) -> None:
    other = minimal_valid(tmp_path / "other")
    other.period = ("2026-04-01", "2026-06-30")
    other.write()
    code, _, err = run("verify", str(signed), "--key", str(pair[1]), "--bundle", str(tmp_path / "other"))
    assert code == 6
    assert "the bundle is not the attested evidence" in err


def test_reperformance_catches_signed_but_wrong_results(signed: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    """A signer who signs results the evidence does not support: the signature and digests verify,
    re-performance does not."""
    results = json.loads((signed / "results.json").read_bytes())
    results["headline"]["verified_removed"]["display"] = "100.0 % (5/5)"
    forged = (json.dumps(results, indent=2) + "\n").encode()
    (signed / "results.json").write_bytes(forged)
    envelope = json.loads((signed / ATTESTATION_FILE).read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    digests = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    digests["results.json"] = hashlib.sha256(forged).hexdigest()
    statement["predicate"]["assessment"]["results_sha256"] = digests["results.json"]
    signer = keys.read_private_key(pair[0], {})
    resigned = sign_statement(digests, REPORT_PREDICATE_TYPE, statement["predicate"], signer)
    (signed / ATTESTATION_FILE).write_bytes(dsse.dumps(resigned))
    code, _, err = run("verify", str(signed), "--key", str(pair[1]))
    assert code == 0, err
    code, _, err = run("verify", str(signed), "--key", str(pair[1]), "--bundle", str(bundle))
    assert code == 6
    assert "results.json: re-performing the assessment gives different results" in err
    assert "$.headline.verified_removed.display" in err


def test_reperformance_of_an_invalid_bundle_exits_3(signed: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    (bundle / "findings.jsonl").write_text("{broken\n")
    code, _, err = run("verify", str(signed), "--key", str(pair[1]), "--bundle", str(bundle))
    assert code == 3
    assert "sha256" in err.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "{keys}/absent.pub"], "cannot read it"),
        (["--key", "{keys}/signer.key"], "not a public key"),
    ],
)
def test_unusable_keys_are_usage_errors(signed: Path, pair: tuple[Path, Path], args: list[str], message: str) -> None:
    code, _, err = run("verify", str(signed), *[a.format(keys=pair[0].parent) for a in args])
    assert code == 2
    assert message in err


def test_seal_then_report_shows_the_seal_on_the_cover(tmp_path: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    private, public = pair
    code, _, err = run("seal", str(bundle), "--key", str(private))
    assert code == 2
    assert "names no prepared_by.public_key" in err
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["prepared_by"]["public_key"] = public.read_text()
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    code, out, err = run("seal", str(bundle), "--key", str(private))
    assert code == 0, err
    assert f"wrote {bundle / SEAL_FILE}" in out
    kid = keys.key_id(keys.read_public_key(public))
    out_dir = tmp_path / "sealed-report"
    code, _, err = run("report", str(bundle), "-o", str(out_dir), "--format", "html,json", "--seal-key", str(public))
    assert code == 0, err
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "Sealed by Tester on 2026-" in html
    assert f"with Ed25519 key {kid}; signature verified against the trusted key given with --seal-key" in html
    seal = json.loads((out_dir / "results.json").read_bytes())["bundle"]["seal"]
    assert seal["key_id"] == kid
    assert seal["signer"] == "Tester"


def test_seal_refuses_what_it_cannot_vouch_for(tmp_path: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    private, public = pair
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["prepared_by"]["public_key"] = public.read_text()
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (bundle / "assets.jsonl").write_text((bundle / "assets.jsonl").read_text() + "\n")
    code, _, err = run("seal", str(bundle), "--key", str(private))
    assert code == 3
    assert "cannot seal: assets.jsonl does not match its sha256" in err
    assert not (bundle / SEAL_FILE).exists()
    code, _, err = run("seal", str(tmp_path / "nowhere"), "--key", str(private))
    assert code == 2
    assert "is not a bundle directory" in err


def test_an_untrusted_seal_makes_report_exit_3(tmp_path: Path, bundle: Path, pair: tuple[Path, Path]) -> None:
    code, _, _ = run("keygen", str(tmp_path / "forger"))
    manifest = yaml.safe_load((bundle / "bundle.yaml").read_text())
    manifest["prepared_by"]["public_key"] = (tmp_path / "forger.pub").read_text()
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    assert run("seal", str(bundle), "--key", str(tmp_path / "forger.key"))[0] == 0
    out = tmp_path / "out"
    code, _, err = run("report", str(bundle), "-o", str(out), "--format", "json", "--seal-key", str(pair[1]))
    assert code == 3
    assert "seal.untrusted" in err
    assert not out.exists() or not list(out.iterdir())
    code, stdout, _ = run("validate", str(bundle), "--seal-key", str(pair[1]), "-q")
    assert code == 3
    assert "seal.untrusted" in stdout
    results = tmp_path / "results.json"
    code, _, err = run("assess", str(bundle), "-o", str(results), "--seal-key", str(pair[1]))
    assert code == 3
    assert "seal.untrusted" in err
    assert not results.exists()
    code, _, err = run("assess", str(bundle), "-o", str(results), "--seal-key", str(tmp_path / "forger.pub"))
    assert code == 0, err
    assert json.loads(results.read_bytes())["bundle"]["seal"]["signer"] == "Tester"
