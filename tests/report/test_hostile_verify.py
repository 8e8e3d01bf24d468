"""``surgeproof evidence`` and ``surgeproof verify`` against crafted runs and packs.

evidence never packs anything from outside the run directory and never writes through a link;
verify checks every member's declared size and the total against a stated bound before it
extracts anything (gzip bombs, sparse members, a folder of sparse files), and refuses members no
pack holds. Each case: the exact answer through the real command (one line and exit 2 for a
refusal; ``NOT VERIFIED`` naming the member and exit 1 for an altered pack), no temporary space
left behind, and a sentinel folder outside untouched."""

from __future__ import annotations

import io
import os
import tarfile
import zlib
from pathlib import Path

import pytest
from stepruns import write_step_run

from sentinel import Sentinel, refused, surgeproof

ROOT = "x.evidence"
MIB = 1 << 20


@pytest.fixture(scope="module")
def good_pack(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    run = write_step_run(folder / "steps")
    out = folder / "steps.tar.gz"
    done = surgeproof("evidence", run, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


class Verifier:
    """``surgeproof verify`` with its temporary space in a folder of the test's own."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.sentinel = Sentinel(tmp_path / "sentinel")

    def __call__(self, *args):
        done = surgeproof("verify", *args, env={"TMPDIR": str(self.tmp)})
        assert "Traceback" not in done.stderr
        assert list(self.tmp.iterdir()) == []  # nothing extracted is left behind
        self.sentinel.assert_unchanged()
        return done


@pytest.fixture
def verify(tmp_path):
    return Verifier(tmp_path)


def not_verified(done, pack: Path, problem: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == f"NOT VERIFIED: {pack}: 1 problem(s)\n  {problem}\n", done.stderr


def gzip_stream(*parts: bytes | tuple[int, int]) -> bytes:
    """A gzip file of the given bytes, ``(count, size)`` standing for ``count`` blocks of
    ``size`` zero bytes (compressed as they stream by: a bomb needs no memory to make)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    for part in parts:
        if isinstance(part, tuple):
            count, size = part
            zeros = bytes(size)
            out.extend(z.compress(zeros) for _ in range(count))
        else:
            out.append(z.compress(part))
    out.append(z.flush())
    return b"".join(out)


def header(name: str, size: int = 0, type_=tarfile.REGTYPE, fmt=tarfile.PAX_FORMAT, **kw) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, type_
    for key, value in kw.items():
        setattr(info, key, value)
    return info.tobuf(fmt)


def member(name: str, data: bytes) -> bytes:
    pad = -len(data) % 512
    return header(name, len(data)) + data + bytes(pad)


END = bytes(1024)


# -- verify: sizes checked before anything is extracted ---------------------------------------


def test_a_member_declaring_2_gib_is_refused_from_its_header(verify, tmp_path):
    """A 2.5 MB-style bomb: the header says 2 GiB; only a megabyte of it even exists."""
    pack = tmp_path / "bomb.tar.gz"
    name = f"{ROOT}/run/records/local.bin"
    pack.write_bytes(gzip_stream(header(name, 2 << 30), (1, MIB)))
    refused(
        verify(pack),
        "verify",
        f"{pack}: expands to 2,147,483,648 bytes in member '{name}' alone, past the "
        "268,435,456 allowed (the default: at least 268,435,456 bytes; verify --max-expand "
        "SIZE allows more)",
    )


def test_members_that_add_up_past_the_bound_are_refused_before_extraction(verify, tmp_path):
    """Three 100 MiB members of zeros (a 300 KB archive): each fits, their total does not."""
    pack = tmp_path / "bomb.tar.gz"
    parts = []
    for i in range(3):
        parts += [header(f"{ROOT}/run/records/worker-{i}.bin", 100 * MIB), (100, MIB)]
    pack.write_bytes(gzip_stream(*parts, END))
    assert pack.stat().st_size < 1 * MIB
    refused(
        verify(pack),
        "verify",
        f"{pack}: expands to at least 314,572,800 bytes, past the 268,435,456 allowed (the "
        "default: at least 268,435,456 bytes; verify --max-expand SIZE allows more)",
    )


def test_the_bound_is_a_flag(verify, tmp_path):
    pack = tmp_path / "bomb.tar.gz"
    name = f"{ROOT}/run/records/local.bin"
    pack.write_bytes(gzip_stream(header(name, 2 << 30), (1, MIB)))
    refused(
        verify(pack, "--max-expand", "1GiB"),
        "verify",
        f"{pack}: expands to 2,147,483,648 bytes in member '{name}' alone, past the "
        "1,073,741,824 allowed (--max-expand; verify --max-expand SIZE allows more)",
    )
    # Allowed by the flag, the member is then found cut short: a damaged archive, not a crash.
    done = verify(pack, "--max-expand", "4GiB")
    assert done.returncode == 1 and f"{pack}: damaged archive" in done.stderr
    bad = verify(pack, "--max-expand", "lots")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "expected a size such as 512MiB or 4GiB, got 'lots'" in bad.stderr


def test_a_64_gib_member_in_a_tiny_pack_is_refused_at_once(verify, tmp_path):
    """The size a pax header declares (past what a plain header can hold) counts too."""
    pack = tmp_path / "sparse.tar.gz"
    name = f"{ROOT}/run/records/local.bin"
    pack.write_bytes(gzip_stream(header(name, 64 << 30), END))
    assert pack.stat().st_size < 4096
    refused(
        verify(pack),
        "verify",
        f"{pack}: expands to 68,719,476,736 bytes in member '{name}' alone, past the "
        "268,435,456 allowed (the default: at least 268,435,456 bytes; verify --max-expand "
        "SIZE allows more)",
    )


def test_a_gnu_sparse_member_is_refused_unread(verify, tmp_path):
    pack = tmp_path / "sparse.tar.gz"
    name = f"{ROOT}/run/records/local.bin"
    sparse = header(name, 0, tarfile.GNUTYPE_SPARSE, tarfile.GNU_FORMAT)
    pack.write_bytes(gzip_stream(sparse, END))
    not_verified(
        verify(pack),
        pack,
        f"{pack}: member '{name}' is a sparse file (a pack holds whole files); nothing extracted",
    )


def test_a_pax_sparse_member_is_refused_unread(verify, tmp_path):
    pack = tmp_path / "sparse.tar.gz"
    name = f"{ROOT}/run/records/local.bin"
    pax = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
           "GNU.sparse.realsize": str(64 << 30)}  # fmt: skip
    sparse = header(f"{ROOT}/run/records/GNUSparseFile.0/local.bin", 512, pax_headers=pax)
    pack.write_bytes(gzip_stream(sparse, b"1\n0\n0\n".ljust(512, b"\0"), END))
    not_verified(
        verify(pack),
        pack,
        f"{pack}: member '{name}' is a sparse file (a pack holds whole files); nothing extracted",
    )


def test_an_oversized_extended_header_is_refused_before_it_is_read(verify, tmp_path):
    pack = tmp_path / "pax.tar.gz"
    big = header(f"{ROOT}/x", pax_headers={"comment": "c" * (2 * MIB)})
    pack.write_bytes(gzip_stream(big, END))
    not_verified(
        verify(pack),
        pack,
        f"{pack}: an extended header of 2,097,169 bytes (at most 1,048,576); nothing extracted",
    )


def test_an_unpacked_folder_of_sparse_files_is_refused_before_hashing(verify, good_pack, tmp_path):
    folder = tmp_path / "unpacked"
    with tarfile.open(good_pack) as tar:
        tar.extractall(folder, filter="data")
    records = folder / "steps.evidence" / "run" / "records" / "local.bin"
    with open(records, "r+b") as f:
        f.truncate(64 << 30)
    done = verify(folder)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"surgeproof verify: error: {folder}: its files hold 68,7")
    assert done.stderr.endswith(
        "past the 268,435,456 allowed (the default: at least 268,435,456 bytes; verify "
        "--max-expand SIZE allows more)\n"
    )


def test_a_sound_pack_still_verifies_and_hashes_each_file_once(verify, good_pack):
    done = verify(good_pack)
    assert done.returncode == 0, done.stderr
    assert "files match the manifest" in done.stdout


# -- verify: members no pack holds ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil", "has a name that leaves the pack's folder"),
        (f"{ROOT}/../../evil", "has a name that leaves the pack's folder"),
        ("/tmp/evil", "has an absolute or overlong name"),
    ],
)
def test_a_member_named_out_of_the_pack_is_refused(verify, tmp_path, name, why):
    pack = tmp_path / "escape.tar.gz"
    pack.write_bytes(gzip_stream(member(name, b"x"), END))
    not_verified(verify(pack), pack, f"{pack}: member {name!r} {why}; nothing extracted")
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil").exists()


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        (tarfile.SYMTYPE, "a symbolic link"),
        (tarfile.LNKTYPE, "a hard link"),
        (tarfile.CHRTYPE, "a device or FIFO"),
        (tarfile.FIFOTYPE, "a device or FIFO"),
    ],
)
def test_links_and_devices_are_refused(verify, tmp_path, type_, kind):
    pack = tmp_path / "link.tar.gz"
    name = f"{ROOT}/run/run.json"
    link = header(name, 0, type_, linkname=str(tmp_path / "sentinel" / "passwd"))
    pack.write_bytes(gzip_stream(link, END))
    not_verified(
        verify(pack),
        pack,
        f"{pack}: member '{name}' is {kind} (a pack holds only files and folders); "
        "nothing extracted",
    )


def test_a_member_that_would_overwrite_another_is_refused(verify, tmp_path):
    pack = tmp_path / "twice.tar.gz"
    name = f"{ROOT}/pack.json"
    pack.write_bytes(gzip_stream(member(name, b"{}"), member(name, b"[]"), END))
    not_verified(verify(pack), pack, f"{pack}: member '{name}' appears twice; nothing extracted")


def test_a_member_under_a_file_is_refused(verify, tmp_path):
    pack = tmp_path / "under.tar.gz"
    pack.write_bytes(gzip_stream(member(f"{ROOT}/a", b"x"), member(f"{ROOT}/a/b", b"y"), END))
    not_verified(
        verify(pack), pack, f"{pack}: member '{ROOT}/a/b' lies under a file; nothing extracted"
    )


def test_a_file_that_is_not_an_archive_is_one_line(verify, tmp_path):
    notes = tmp_path / "notes.tar.gz"
    notes.write_bytes(b"hello")
    refused(verify(notes), "verify", f"{notes}: not an evidence pack (not a tar.gz archive)")


# -- evidence: nothing from outside the run, nothing written through a link ----------------


class Packer:
    def __init__(self, tmp_path: Path) -> None:
        self.sentinel = Sentinel(tmp_path / "sentinel")
        self.run = write_step_run(tmp_path / "steps")
        self.out = tmp_path / "out" / "steps.tar.gz"
        self.out.parent.mkdir()

    def __call__(self, *extra):
        done = surgeproof("evidence", self.run, "--out", self.out, *extra)
        self.sentinel.assert_unchanged()
        return done


@pytest.fixture
def evidence(tmp_path):
    return Packer(tmp_path)


@pytest.mark.parametrize("target", ["passwd", "folder"])
def test_a_run_holding_a_link_out_of_it_is_not_packed(evidence, target):
    link = evidence.run / "server" / "ledger.json"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(evidence.sentinel.path / target)
    refused(
        evidence(),
        "evidence",
        f"{link}: a symbolic link; an evidence pack holds only the run's own files (replace "
        "the link by a copy of the file)",
    )
    assert list(evidence.out.parent.iterdir()) == []


def test_a_sparse_file_in_the_run_is_not_packed(evidence):
    big = evidence.run / "locust" / "locust.log"
    big.parent.mkdir(exist_ok=True)
    with open(big, "wb") as f:
        f.truncate(64 << 30)
    refused(
        evidence(),
        "evidence",
        f"{big}: a sparse file (holes of nothing but zeros); a run's files are written end to "
        "end, so it is not packed",
    )
    assert list(evidence.out.parent.iterdir()) == []


def test_a_fifo_in_the_run_is_not_packed(evidence):
    fifo = evidence.run / "server" / "metrics.jsonl"
    fifo.parent.mkdir(exist_ok=True)
    os.mkfifo(fifo)
    refused(
        evidence(),
        "evidence",
        f"{fifo}: not a regular file; an evidence pack holds only files",
    )


@pytest.mark.parametrize("suffix", ["", ".sha256"])
def test_a_link_where_the_pack_goes_is_never_written_through(evidence, suffix):
    link = evidence.out.with_name(evidence.out.name + suffix)
    link.symlink_to(evidence.sentinel.absent)
    refused(
        evidence(),
        "evidence",
        f"evidence --out: {link} is a symbolic link; it is not replaced",
    )
    assert not evidence.sentinel.absent.exists()
    assert [p.name for p in evidence.out.parent.iterdir()] == [link.name]


def test_the_pack_holds_the_runs_own_bytes_and_nothing_else(evidence, tmp_path):
    done = evidence()
    assert done.returncode == 0, done.stderr
    with tarfile.open(evidence.out) as tar:
        names = tar.getnames()
        data = {n: tar.extractfile(n).read() for n in names if tar.getmember(n).isfile()}
    run_files = {
        str(p.relative_to(evidence.run)): p.read_bytes()
        for p in evidence.run.rglob("*")
        if p.is_file()
    }
    packed = {n.split("/run/", 1)[1]: b for n, b in data.items() if "/run/" in n}
    assert packed == run_files
    assert not any(b"root:x:0:0" in b for b in data.values())
    assert io.BytesIO(evidence.out.with_name(evidence.out.name + ".sha256").read_bytes())
