"""The manifest lists every file's SHA-256 as sha256sum does, and names each file that changed."""

import hashlib
import shutil
import subprocess

import pytest

from surgeproof.report.manifest import (
    MANIFEST,
    MANIFEST_CHECKSUM,
    check_manifest,
    parse_lines,
    write_manifest,
)


@pytest.fixture
def pack(tmp_path):
    root = tmp_path / "pack"
    (root / "run" / "records").mkdir(parents=True)
    (root / "run" / "run.json").write_text('{"run_id": "r1"}\n')
    (root / "run" / "records" / "local.bin").write_bytes(bytes(range(200)))
    (root / "INDEX.md").write_text("# index\n")
    write_manifest(root)
    return root


def test_manifest_lists_every_file_with_its_sha256(pack):
    listed = parse_lines((pack / MANIFEST).read_text(), MANIFEST)

    assert sorted(listed) == ["INDEX.md", "run/records/local.bin", "run/run.json"]
    expected = hashlib.sha256(bytes(range(200))).hexdigest()
    assert listed["run/records/local.bin"] == expected


def test_manifest_hash_is_recorded_beside_it(pack):
    own = hashlib.sha256((pack / MANIFEST).read_bytes()).hexdigest()
    assert (pack / MANIFEST_CHECKSUM).read_text() == f"{own}  {MANIFEST}\n"


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum not installed")
def test_coreutils_sha256sum_accepts_both_files(pack):
    for name in (MANIFEST_CHECKSUM, MANIFEST):
        done = subprocess.run(["sha256sum", "-c", name], cwd=pack, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_an_intact_pack_checks_clean(pack):
    report = check_manifest(pack)
    assert report.ok, report.problems
    assert report.checked == 3


def test_one_flipped_byte_names_the_file(pack):
    path = pack / "run" / "records" / "local.bin"
    data = bytearray(path.read_bytes())
    data[117] ^= 0x01
    path.write_bytes(bytes(data))

    problems = check_manifest(pack).problems

    assert len(problems) == 1
    assert problems[0].startswith("run/records/local.bin: altered")


def test_a_deleted_file_is_named_missing(pack):
    (pack / "run" / "run.json").unlink()
    assert check_manifest(pack).problems == [f"run/run.json: missing (listed in {MANIFEST})"]


def test_an_added_file_is_named(pack):
    (pack / "run" / "extra.txt").write_text("slipped in later")
    problems = check_manifest(pack).problems
    assert problems == [f"run/extra.txt: not in {MANIFEST} (added after the pack was made)"]


def test_a_manifest_fixed_up_after_an_edit_is_caught_by_its_own_hash(pack):
    # Change a file and fix its line in the manifest: the files now agree with the manifest, but
    # the manifest no longer matches its recorded hash.
    target = pack / "run" / "run.json"
    target.write_text('{"run_id": "forged"}\n')
    text = (pack / MANIFEST).read_text()
    old = parse_lines(text, MANIFEST)["run/run.json"]
    new = hashlib.sha256(target.read_bytes()).hexdigest()
    (pack / MANIFEST).write_text(text.replace(old, new))

    problems = check_manifest(pack).problems

    assert len(problems) == 1
    assert problems[0].startswith(f"{MANIFEST}: altered, or {MANIFEST_CHECKSUM} was")


def test_an_edited_manifest_checksum_is_named_with_the_manifest(pack):
    line = (pack / MANIFEST_CHECKSUM).read_text()
    (pack / MANIFEST_CHECKSUM).write_text(("0" if line[0] != "0" else "1") + line[1:])

    problems = check_manifest(pack).problems

    assert len(problems) == 1
    assert problems[0].startswith(f"{MANIFEST}: altered, or {MANIFEST_CHECKSUM} was")


def test_a_missing_manifest_is_named(pack):
    (pack / MANIFEST).unlink()
    assert check_manifest(pack).problems == [f"{MANIFEST}: missing"]


def test_malformed_manifest_line_is_refused():
    with pytest.raises(ValueError, match="line 2 is not"):
        parse_lines(f"{'a' * 64}  x\nnot a line\n", MANIFEST)
