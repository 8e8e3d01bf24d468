"""Names from outside become paths only as plain components, and no link is followed."""

import os

import pytest

from surgeproof.confine import (
    TooLarge,
    UnsafePath,
    checked_name,
    confined_path,
    create_exclusive,
    entries,
    lstat_confined,
    open_append,
    open_confined,
    parse_size,
    read_bounded,
    replace_bytes,
    replacing,
    unlink_confined,
)

HOSTILE = [
    "..",
    ".",
    "../x",
    "/etc/passwd",
    "a/b",
    ".hidden",
    "",
    "a\x00b",
    "a\nb",
    "x" * 129,
    "ü",
    "a\\b",
    None,
    7,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_that_is_not_one_plain_component_is_refused(name):
    with pytest.raises(UnsafePath, match="worker source"):
        checked_name(name, "worker source")


@pytest.mark.parametrize("name", ["worker-1a2b3c4d", "local", "run.json", "a_b.c-d", "x" * 128])
def test_plain_names_pass_unchanged(name):
    assert checked_name(name, "n") == name


def test_confined_path_checks_every_component(tmp_path):
    assert confined_path(tmp_path, "records/w.bin", "shard") == tmp_path / "records" / "w.bin"
    with pytest.raises(UnsafePath):
        confined_path(tmp_path, "records/../../etc", "shard")


def test_open_confined_creates_inside_and_refuses_links_on_the_way(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    fd = open_confined(root, "records/a.bin", os.O_WRONLY | os.O_CREAT, "shard", make_dirs=True)
    os.write(fd, b"x")
    os.close(fd)
    assert (root / "records" / "a.bin").read_bytes() == b"x"

    (root / "linked").symlink_to(outside)
    with pytest.raises(UnsafePath, match="link"):
        open_confined(root, "linked/b.bin", os.O_WRONLY | os.O_CREAT, "shard", make_dirs=True)
    (root / "records" / "c.bin").symlink_to(outside / "c.bin")
    with pytest.raises(UnsafePath, match="link"):
        open_confined(root, "records/c.bin", os.O_WRONLY | os.O_CREAT, "shard")
    assert list(outside.iterdir()) == []


def _outside(tmp_path):
    """A folder outside the root, with one file whose bytes must never change."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret").write_bytes(b"keep")
    return outside


def test_create_exclusive_never_overwrites_a_file_or_a_link(tmp_path):
    root = tmp_path / "run"
    (root / "records").mkdir(parents=True)
    outside = _outside(tmp_path)
    with create_exclusive(root, "records/new.bin", "shard") as f:
        f.write(b"new")
    with pytest.raises(UnsafePath, match=r"records/new\.bin already exists; it is not overwritten"):
        create_exclusive(root, "records/new.bin", "shard")
    (root / "records" / "planted.bin").symlink_to(outside / "secret")
    with pytest.raises(UnsafePath, match=r"planted\.bin already exists"):
        create_exclusive(root, "records/planted.bin", "shard")
    (root / "records" / "dangling.bin").symlink_to(outside / "created-through-the-link")
    with pytest.raises(UnsafePath, match=r"dangling\.bin already exists"):
        create_exclusive(root, "records/dangling.bin", "shard")
    assert (root / "records" / "new.bin").read_bytes() == b"new"
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"keep"


def test_replacing_renames_a_fresh_file_in_place_and_refuses_a_link(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    outside = _outside(tmp_path)
    replace_bytes(root, "run.json", b"one", "run directory")
    replace_bytes(root, "run.json", b"two", "run directory")
    assert (root / "run.json").read_bytes() == b"two"
    with pytest.raises(RuntimeError), replacing(root, "run.json", "run directory") as f:
        f.write(b"half")
        raise RuntimeError("the writer failed half-way")
    assert (root / "run.json").read_bytes() == b"two"
    assert sorted(p.name for p in root.iterdir()) == ["run.json"]  # no temporary file left
    (root / "linked.json").symlink_to(outside / "secret")
    with pytest.raises(UnsafePath, match=r"linked\.json is a symbolic link; it is not replaced"):
        replace_bytes(root, "linked.json", b"x", "run directory")
    # A planted link at an old-style temporary name is never written through either.
    (root / "run.json.tmp").symlink_to(outside / "secret")
    replace_bytes(root, "run.json", b"three", "run directory")
    assert (outside / "secret").read_bytes() == b"keep"
    assert (root / "linked.json").is_symlink() and (root / "run.json.tmp").is_symlink()


def test_reads_are_bounded_by_apparent_size_and_only_of_regular_files(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    with open(root / "sparse.bin", "wb") as f:
        f.truncate(4 << 30)  # 4 GiB apparent, no blocks on disk
    with pytest.raises(TooLarge, match=r"sparse\.bin: 4,294,967,296 bytes, more than the 1,024"):
        read_bounded(root, "sparse.bin", 1024, "input")
    (root / "small").write_bytes(b"abc")
    assert read_bounded(root, "small", 3, "input") == b"abc"
    os.mkfifo(root / "fifo")
    with pytest.raises(UnsafePath, match="fifo is not a regular file"):
        read_bounded(root, "fifo", 10, "input")  # a FIFO would block a plain open for ever
    outside = _outside(tmp_path)
    (root / "link").symlink_to(outside / "secret")
    with pytest.raises(UnsafePath, match="link is a symbolic link"):
        read_bounded(root, "link", 10, "input")


def test_the_root_is_the_callers_and_may_be_a_link_but_nothing_below_it(tmp_path):
    real = tmp_path / "real"
    (real / "records").mkdir(parents=True)
    (tmp_path / "latest").symlink_to(real)
    with open_append(tmp_path / "latest", "records/a.bin", "run directory") as f:
        f.write(b"x")
    assert (real / "records" / "a.bin").read_bytes() == b"x"
    kinds = {e.name: (e.kind, e.size) for e in entries(tmp_path / "latest", "records")}
    assert kinds == {"a.bin": ("file", 1)}
    (real / "records" / "l").symlink_to(tmp_path)
    assert {e.name: e.kind for e in entries(real, "records")} == {"a.bin": "file", "l": "link"}
    assert lstat_confined(real, "records/missing", "x") is None


def test_the_tools_own_dot_names_are_allowed_only_when_said_so(tmp_path):
    with pytest.raises(UnsafePath, match="not a plain name"):
        replace_bytes(tmp_path, ".surgeproof-probe", b"t", "run directory")
    replace_bytes(tmp_path, ".surgeproof-probe", b"t", "run directory", any_name=True)
    with pytest.raises(UnsafePath, match="not one path component"):
        replace_bytes(tmp_path, "..", b"t", "run directory", any_name=True)
    unlink_confined(tmp_path, ".surgeproof-probe", "run directory", any_name=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "size"),
    [("512MiB", 512 << 20), ("4G", 4 << 30), ("1.5GiB", 3 << 29), ("1073741824", 1 << 30)],
)
def test_sizes_read_like_the_other_flags(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1G", "1e9", "nan", "inf", "١٢٣", "4X", "1_000"])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="expected a size such as 512MiB"):
        parse_size(text)
