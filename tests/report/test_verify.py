"""Evidence packs: a pack verifies offline; every alteration is detected and named."""

import hashlib
import json
import shutil
import tarfile

import pytest
from stepruns import write_step_run

from surgeproof.cli import main
from surgeproof.report.manifest import MANIFEST, parse_lines
from surgeproof.report.verify import verify_pack


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """One pack of a step run for the whole module (packing draws the report: ~1 s)."""
    folder = tmp_path_factory.mktemp("pack")
    run = write_step_run(folder / "steps")
    out = folder / "evidence.tar.gz"
    assert main(["evidence", str(run), "--out", str(out)]) == 0
    return out


@pytest.fixture
def unpacked(pack, tmp_path):
    with tarfile.open(pack) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    (root,) = (tmp_path / "x").iterdir()
    return root


def test_pack_holds_run_analysis_reports_formats_and_index(unpacked):
    listed = parse_lines((unpacked / MANIFEST).read_text(), MANIFEST)
    for path in (
        "INDEX.md",
        "pack.json",
        "environment.json",
        "formats/rundir-FORMAT.md",
        "formats/analysis-FORMAT.md",
        "run/run.json",
        "run/scenario.yaml",
        "run/profile.yaml",
        "run/records/local.bin",
        "run/events.jsonl",
        "run/analysis.json",
        "run/report.html",
        "run/report.md",
    ):
        assert path in listed, path
    index = (unpacked / "INDEX.md").read_text()
    assert "sha256sum -c MANIFEST.sha256" in index
    assert "| `run/records/local.bin` | raw records" in index
    assert json.loads((unpacked / "pack.json").read_text())["made_by"]["surgeproof"]


def test_a_pack_verifies(pack, capsys):
    assert main(["verify", str(pack)]) == 0
    assert "re-analysis of the raw data reproduces all" in capsys.readouterr().out


def test_an_unpacked_folder_verifies_too(unpacked):
    assert verify_pack(unpacked).ok


def test_pack_is_reproducible_byte_for_byte_apart_from_its_creation_time(pack):
    assert (
        pack.with_name(pack.name + ".sha256").read_text().split()[0]
        == hashlib.sha256(pack.read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    "victim",
    [
        "run/records/local.bin",
        "run/analysis.json",
        "run/run.json",
        "run/report.html",
        "INDEX.md",
        "pack.json",
        "formats/rundir-FORMAT.md",
        MANIFEST,
    ],
)
def test_one_flipped_byte_in_any_file_is_named(unpacked, victim):
    path = unpacked / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))

    problems = verify_pack(unpacked).problems()

    assert problems, victim
    assert problems[0].startswith(f"{victim}: altered"), problems


def test_a_deleted_file_is_named(unpacked):
    (unpacked / "run" / "events.jsonl").unlink()
    result = verify_pack(unpacked)
    assert not result.ok
    assert "run/events.jsonl: missing (listed in MANIFEST.sha256)" in result.problems()


def test_an_edited_number_is_caught_by_reanalysis_even_with_the_hash_fixed(unpacked):
    # A forger edits the ceiling in analysis.json and rewrites its manifest line, so that every
    # file matches the manifest again.
    path = unpacked / "run" / "analysis.json"
    doc = json.loads(path.read_text())
    doc["ceiling"]["real"]["last_pass_users"] = 700000.0
    path.write_text(json.dumps(doc, indent=1))
    manifest = unpacked / MANIFEST
    text = manifest.read_text()
    old = parse_lines(text, MANIFEST)["run/analysis.json"]
    manifest.write_text(text.replace(old, hashlib.sha256(path.read_bytes()).hexdigest()))

    result = verify_pack(unpacked)

    assert not result.ok
    assert (
        "run/analysis.json: ceiling.real.last_pass_users is 700000.0 in the pack, "
        "the raw data give 600000.0"
    ) in result.differences
    # The manifest no longer matches the fingerprint recorded beside it.
    assert result.integrity.problems[0].startswith("MANIFEST.sha256: altered")


def test_a_changed_verdict_is_listed_first(unpacked):
    path = unpacked / "run" / "analysis.json"
    doc = json.loads(path.read_text())
    doc["verdict"]["status"] = "pass"
    doc["levels"][3]["groups"]["*"]["latency_ms"]["p99"] = 20.0
    path.write_text(json.dumps(doc))

    result = verify_pack(unpacked)

    assert result.differences[0].startswith("run/analysis.json: verdict.status is 'pass'")
    assert any("levels[3].groups.*.latency_ms.p99 is 20.0" in d for d in result.differences)


def test_verify_exit_codes(pack, tmp_path, capsys):
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    not_a_pack = tmp_path / "notes.txt"
    not_a_pack.write_text("hello")

    assert main(["verify", str(damaged)]) == 1
    assert main(["verify", str(not_a_pack)]) == 2
    assert main(["verify", str(tmp_path / "absent.tar.gz")]) == 2
    err = capsys.readouterr().err
    assert "NOT VERIFIED" in err
    assert "not an evidence pack" in err


def test_evidence_refuses_to_write_inside_the_run(step_run):
    assert main(["evidence", str(step_run), "--out", str(step_run / "p.tar.gz")]) == 2


def test_evidence_of_a_real_run_verifies(real_run_copy, tmp_path):
    out = tmp_path / "real.tar.gz"
    assert main(["evidence", str(real_run_copy), "--out", str(out)]) == 0
    result = verify_pack(out)
    assert result.ok, result.problems()
    shutil.rmtree(real_run_copy)
