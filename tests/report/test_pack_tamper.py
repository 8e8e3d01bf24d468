"""Signed evidence: a pack whose records were altered, re-analysed and re-manifested passes the
hash checks, and only the signature catches it; a run directory can never make the pack write
outside where it belongs, and verify never reads anything outside the pack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest
from stepruns import write_step_run

from surgeproof.analysis.freshness import reanalyze
from surgeproof.cli import main
from surgeproof.report.manifest import write_manifest
from surgeproof.rundir.schema import RECORD_DTYPE


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    assert main(["keygen", str(folder / "signer")]) == 0
    assert main(["keygen", str(folder / "forger")]) == 0
    return folder


@pytest.fixture(scope="module")
def signed_pack(tmp_path_factory, keys):
    folder = tmp_path_factory.mktemp("signed")
    run = write_step_run(folder / "steps")
    out = folder / "signed.tar.gz"
    assert main(["evidence", str(run), "--out", str(out), "--sign", str(keys / "signer")]) == 0
    return out


def _unpack(pack, dest):
    with tarfile.open(pack) as tar:
        tar.extractall(dest, filter="data")
    (root,) = dest.iterdir()
    return root


def _verify(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify", *map(str, argv)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def _forge(root) -> None:
    """What a careful forger does: every latency cut to 1 ms, the analysis re-run inside the
    pack on the altered records, and the manifest and its checksum written anew."""
    rec = root / "run" / "records" / "local.bin"
    arr = np.fromfile(rec, dtype=RECORD_DTYPE)
    arr["end_ns"] = arr["intended_ns"] + 1_000_000
    arr["outcome"] = 0
    arr.tofile(rec)
    (root / "run" / "analysis.json").unlink()
    reanalyze(root / "run", write=True)
    write_manifest(root)


def test_keygen_makes_a_private_key_only_its_owner_reads(keys):
    assert oct((keys / "signer").stat().st_mode & 0o777) == "0o600"
    assert (keys / "signer.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_an_untouched_signed_pack_verifies_with_the_signers_key(signed_pack, keys, capsys):
    code, out, _ = _verify(capsys, signed_pack, "--key", keys / "signer.pub")
    assert code == 0 and "signature valid (Ed25519" in out


def test_without_a_key_verify_says_the_signature_was_not_checked(signed_pack, capsys):
    code, out, _ = _verify(capsys, signed_pack)
    assert code == 0 and "signature not checked (give --key" in out


def test_a_reforged_reanalysed_remanifested_pack_fails_with_the_key(
    signed_pack, keys, tmp_path, capsys
):
    root = _unpack(signed_pack, tmp_path / "x")
    _forge(root)
    # Every hash matches and the raw data reproduce analysis.json: without the key, it passes.
    assert _verify(capsys, root)[0] == 0
    code, _, err = _verify(capsys, root, "--key", keys / "signer.pub")
    assert code == 1
    assert "MANIFEST.sha256.sig: does not match MANIFEST.sha256" in err.splitlines()[1]


def test_a_pack_resigned_with_another_key_fails(signed_pack, keys, tmp_path, capsys):
    root = _unpack(signed_pack, tmp_path / "x")
    _forge(root)
    from surgeproof.report.pack_signature import sign_manifest

    sign_manifest(root, keys / "forger")
    assert _verify(capsys, root, "--key", keys / "forger.pub")[0] == 0  # the forger's own key
    code, _, err = _verify(capsys, root, "--key", keys / "signer.pub")
    assert code == 1 and "signed with another key" in err


def test_a_pack_stripped_of_its_signature_fails_with_the_key(signed_pack, keys, tmp_path, capsys):
    root = _unpack(signed_pack, tmp_path / "x")
    (root / "MANIFEST.sha256.sig").unlink()
    code, _, err = _verify(capsys, root, "--key", keys / "signer.pub")
    assert code == 1 and "the pack is not signed" in err
    # Without a key, the missing signature that pack.json announces is still a finding.
    code, _, err = _verify(capsys, root)
    assert code == 1 and "MANIFEST.sha256.sig is missing" in err


def test_an_unsigned_pack_says_so(step_run, tmp_path, keys, capsys):
    out = tmp_path / "plain.tar.gz"
    assert main(["evidence", str(step_run), "--out", str(out)]) == 0
    code, said, _ = _verify(capsys, out)
    assert code == 0 and "the pack is not signed" in said and "; unsigned;" in said
    code, _, err = _verify(capsys, out, "--key", keys / "signer.pub")
    assert code == 1 and "not signed" in err


@pytest.mark.parametrize(
    ("key", "says"),
    [("signer.pub", "not a PEM or OpenSSH private key"), ("missing", "no such file")],
)
def test_a_bad_signing_key_is_one_line_before_anything_is_written(
    step_run, keys, tmp_path, capsys, key, says
):
    out = tmp_path / "p.tar.gz"
    capsys.readouterr()
    assert main(["evidence", str(step_run), "--out", str(out), "--sign", str(keys / key)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "--sign" in line and says in line and not out.exists()


def test_a_private_key_given_as_the_public_one_is_named(signed_pack, keys, capsys):
    code = main(["verify", str(signed_pack), "--key", str(keys / "signer")])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "that is the private key" in line


@pytest.mark.parametrize("run_id", ["../escaped", "/tmp/surgeproof-escaped", "a/../../b", ""])
def test_a_run_id_that_is_a_path_never_becomes_one(tmp_path, capsys, run_id):
    run = write_step_run(tmp_path / "reports" / "steps")
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "run_id": run_id or 5}))
    before = set(tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(["evidence", str(run)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "is not a run id" in line
    new = set(tmp_path.rglob("*")) - before
    assert all(p.is_relative_to(run) for p in new), new  # only the run's own reports
    assert not os.path.exists("/tmp/surgeproof-escaped.evidence.tar.gz")
    assert not (tmp_path / "escaped.evidence.tar.gz").exists()


def test_a_run_holding_a_symlink_is_not_packed(step_run, tmp_path, capsys):
    secret = tmp_path / "outside.txt"
    secret.write_text("not the run's")
    (step_run / "server").mkdir(exist_ok=True)
    (step_run / "server" / "ledger.json").symlink_to(secret)
    capsys.readouterr()
    assert main(["evidence", str(step_run), "--out", str(tmp_path / "p.tar.gz")]) == 2
    assert "a symbolic link" in capsys.readouterr().err


def test_a_member_linked_outside_is_flagged_and_not_read(signed_pack, tmp_path, capsys):
    root = _unpack(signed_pack, tmp_path / "x")
    outside = tmp_path / "outside.jsonl"
    shutil.copy(root / "run" / "events.jsonl", outside)
    (root / "run" / "events.jsonl").unlink()
    (root / "run" / "events.jsonl").symlink_to(outside)
    code, _, err = _verify(capsys, root)
    assert code == 1
    assert "run/events.jsonl: reached through a symbolic link; not read" in err
    assert "run/events.jsonl: a symbolic link" in err
    assert "not re-analysed: run/ holds a symbolic link" in err


def test_verify_never_opens_a_linked_member_even_a_fifo(signed_pack, tmp_path):
    """A FIFO blocks whoever opens it: verify finishing at all shows it opened nothing there."""
    root = _unpack(signed_pack, tmp_path / "x")
    fifo = tmp_path / "outside.fifo"
    os.mkfifo(fifo)
    for member in ("run/records/local.bin", "pack.json", "MANIFEST.sha256.sig"):
        (root / member).unlink()
        (root / member).symlink_to(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", "verify", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "run/records/local.bin: reached through a symbolic link; not read" in done.stderr


def test_an_archive_with_a_link_outside_is_refused_unread(tmp_path, capsys):
    pack = tmp_path / "evil.tar.gz"
    with tarfile.open(pack, "w:gz") as tar:
        info = tarfile.TarInfo("x.evidence/run/run.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    code, _, err = _verify(capsys, pack)
    assert code == 1 and "is a symbolic link (a pack holds only files and folders)" in err


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_not_a_pack_and_is_not_read(device, capsys):
    assert main(["verify", device]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "not a regular file" in line
