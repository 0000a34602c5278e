"""AWS SSM describe-instance-patches: a deployment per installed, pending-reboot or failed patch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from importer_helpers import import_path, of_kind, run_import, sample

from reporter.errors import ImportFormatError
from reporter.importers._common import stable_id
from reporter.importers.aws_ssm_patches import TOOL, cve_ids, patch_id_of

FORMAT = "aws-ssm-instance-patches"
ASSET = "a-win-01"


def _deployments(name: str, asset: str = ASSET) -> list[dict[str, Any]]:
    """The deployments of a sample, by patch_id (records come sorted by id)."""
    return sorted(of_kind(run_import(FORMAT, name, asset_id=asset), "deployments"), key=lambda d: d["patch_id"])


def _dep(patch_id: str, completed: str | None, status: str, **extra: Any) -> dict[str, Any]:
    data = {
        "id": stable_id("ssm-patch", TOOL, ASSET, patch_id, completed),
        "asset_id": ASSET,
        "patch_id": patch_id,
        "status": status,
        "tool": TOOL,
        **extra,
    }
    if completed:
        data["completed_at"] = completed
    return data


def test_cli_example_installed_and_installed_other_are_succeeded_deployments() -> None:
    assert _deployments("cli-example-1-installed.json") == [
        _dep("KB4480979", "2019-01-09T00:00:00+00:00", "succeeded"),
        _dep("KB4481031", "2019-02-08T00:00:00+00:00", "succeeded"),
    ]


def test_the_2019_epoch_float_output_gives_the_same_records() -> None:
    assert _deployments("cli-example-2019-epoch-installed.json") == _deployments("cli-example-1-installed.json")


def test_missing_patches_are_not_deployments_whatever_the_time_style() -> None:
    assert run_import(FORMAT, "cli-example-2-missing.json", asset_id=ASSET) == []
    assert run_import(FORMAT, "cli-example-2019-epoch-missing.json", asset_id=ASSET) == []


def test_2017_example_with_z_times_and_other_key_order() -> None:
    assert [(d["patch_id"], d["completed_at"]) for d in _deployments("cli-example-2017-windows-8.1.json")] == [
        ("KB2919355", "2014-03-18T12:00:00+00:00"),
        ("KB2977765", "2014-10-15T12:00:00+00:00"),
        ("KB2978126", "2014-11-18T12:00:00+00:00"),
    ]


def test_rhel_packages_become_name_version_with_epoch_and_utc_times() -> None:
    records = {d["patch_id"]: d for d in _deployments("api-reference-rhel8-sample-response.json")}
    assert sorted(records) == [
        "NetworkManager=1:1.30.0-7.el8",
        "bash=4.4.19-14.el8",
        "kernel-modules=4.18.0-305.10.2.el8_4",
    ]
    assert records["bash=4.4.19-14.el8"]["completed_at"] == "2024-05-19T17:03:25+00:00"  # -07:00 in the file
    assert {d["status"] for d in records.values()} == {"succeeded"}


def test_linux_pages_map_every_state() -> None:
    records = {d["patch_id"]: d for d in _deployments("variant-linux-pages.json")}
    assert records == {
        "openssl-libs=1:1.1.1k-12.el8_9": _dep(
            "openssl-libs=1:1.1.1k-12.el8_9", "2024-07-02T03:15:00+00:00", "pending_reboot"
        ),
        # InstalledTime 0.0 is "unknown": no time; only well-formed CVE ids are kept
        "glibc=2.28-236.el8_9.13": _dep(
            "glibc=2.28-236.el8_9.13",
            None,
            "failed",
            vuln_ids=["CVE-2024-2961", "CVE-2024-33599", "CVE-2024-33600"],
        ),
        "tzdata=2024a-1.el8": _dep("tzdata=2024a-1.el8", "2024-06-01T00:00:00+00:00", "succeeded"),  # INSTALLED_OTHER
        "python3-pip": _dep("python3-pip", "2024-06-01T00:00:00+00:00", "succeeded"),  # shape unknown: verbatim
    }  # Missing, InstalledRejected, NotApplicable, AVAILABLE_SECURITY_UPDATE: no deployment


def test_the_bare_patches_array_of_query_patches() -> None:
    assert _deployments("variant-query-patches-array.json") == [
        _dep("KB5035857", "2024-03-13T01:41:17+00:00", "succeeded"),
        _dep("KB5035970", "2024-03-13T01:40:02+00:00", "pending_reboot"),
    ]


def test_the_instance_must_be_named_by_asset_id() -> None:
    with pytest.raises(ImportFormatError, match=r"does not name the instance: set asset_id"):
        run_import(FORMAT, "cli-example-1-installed.json")


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        ({"Patches": [{"KBId": "KB1", "State": "Rebooting"}]}, "Patches[0].State", "not a known patch state"),
        ({"Patches": [{"KBId": "KB1"}]}, "Patches[0].State", "is missing"),
        ({"Patches": [{"State": "Installed"}]}, "Patches[0].KBId", "is missing"),
        (
            {"Patches": [{"KBId": "KB1", "State": "Installed", "InstalledTime": "soon"}]},
            "Patches[0].InstalledTime",
            "not a recognised timestamp",
        ),
        ({"Patches": {"KBId": "KB1"}}, "Patches", "expected an array"),
        ({"InstancePatchStates": []}, None, "not describe-instance-patches output"),
        ([{"Patches": []}, {"KBId": "KB1", "State": "Installed"}], "[1]", "mixes pages"),
    ],
)
def test_bad_input_names_its_json_path(tmp_path: Path, document: Any, field: str | None, message: str) -> None:
    path = tmp_path / "patches.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ImportFormatError, match=message) as caught:
        import_path(FORMAT, path, asset_id=ASSET)
    assert caught.value.location.file == "patches.json"
    assert caught.value.location.field == field
    assert "Rebooting" not in caught.value.message  # values are never quoted


def test_patch_id_grammar() -> None:
    assert patch_id_of("KB5034441", "anything") == "KB5034441"
    assert patch_id_of("kb890830", None) == "KB890830"
    assert patch_id_of("bash.x86_64", "bash.x86_64:0:4.4.19-14.el8") == "bash=4.4.19-14.el8"
    assert (
        patch_id_of("vim-common.x86_64", "vim-common.x86_64:2:8.0.1763-19.el8_6.4")
        == "vim-common=2:8.0.1763-19.el8_6.4"
    )
    assert patch_id_of("python3.11.noarch", "python3.11.noarch:0:3.11.5-1.el9") == "python3.11=3.11.5-1.el9"
    # not reliably parseable: kept verbatim
    assert patch_id_of("bash.x86_64", "bash.x86_64:0:4.4.19") == "bash.x86_64"  # no release
    assert patch_id_of("bash.x86_64", "other.x86_64:0:4.4.19-14.el8") == "bash.x86_64"  # title of another package
    assert patch_id_of("libc6", "libc6:amd64:2.35-0ubuntu3.6") == "libc6"  # Debian shape not documented
    assert patch_id_of("foo.bar", "foo.bar:0:1-1") == "foo.bar"  # not an rpm architecture


def test_cve_ids_keep_only_well_formed_ids() -> None:
    assert cve_ids("CVE-2024-1234,cve-2023-0001 CVE-99-1;CVE-2024-1234") == ["CVE-2023-0001", "CVE-2024-1234"]
    assert cve_ids(None) == []


def test_output_is_deterministic(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reporter.cli import app

    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        out = tmp_path / name
        args = ["import", FORMAT, str(sample(FORMAT, "variant-linux-pages.json")), "-o", str(out), "--asset-id", ASSET]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 4


PATCH = st.fixed_dictionaries(
    {},
    optional={
        "KBId": st.sampled_from(["KB1", "bash.x86_64", "", "kb12"]) | st.text(max_size=12),
        "Title": st.sampled_from(["bash.x86_64:0:4.4-1", "bash.x86_64:x:1-1"]) | st.text(max_size=20),
        "State": st.sampled_from(["Installed", "FAILED", "Missing", "InstalledPendingReboot", "x"]),
        "InstalledTime": st.sampled_from([0.0, 1546992000.0, "2019-01-09T00:00:00+00:00", "x", None, -1e300]),
        "CVEIds": st.text(max_size=30) | st.just("CVE-2024-1234"),
    },
)


@settings(max_examples=300, deadline=None)
@given(patches=st.lists(PATCH, max_size=4))
def test_fuzzed_patches_give_records_or_a_format_error(
    tmp_path_factory: pytest.TempPathFactory, patches: list[Any]
) -> None:
    path = tmp_path_factory.mktemp("ssm") / "p.json"
    path.write_text(json.dumps({"Patches": patches}))
    try:
        records = import_path(FORMAT, path, asset_id=ASSET)
    except ImportFormatError as error:
        failure = error
    else:
        assert all(r.data["status"] in ("succeeded", "failed", "pending_reboot") for r in records)
        return
    assert failure.message
    assert failure.location.file == "p.json"
