"""Names from outside become paths only as plain components, and no link is followed."""

import os

import pytest

from surgeproof.confine import UnsafePath, checked_name, confined_path, open_confined

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
