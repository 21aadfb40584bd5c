"""Reading and writing file trees a learner could have touched (grader.files): no link is ever followed.

Every kind of file-system object a submission or learner code can create is
built here for real (links, hard links, FIFOs, sockets, device files, many
files, deep trees, huge files, odd names) and read with ``read_tree``; the
same objects graded end to end are in test_adversarial.py.
"""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from grader.files import RefusedTree, TreeLimits, read_tree, write_tree


@pytest.fixture
def tree(tmp_path):
    folder = tmp_path / "sub"
    (folder / "data").mkdir(parents=True)
    (folder / "a.ipynb").write_bytes(b"{}")
    (folder / "data" / "b.csv").write_bytes(b"x,y\n")
    (tmp_path / "outside.txt").write_bytes(b"the grader's secret")
    return folder


def refusal(folder, limits=TreeLimits()) -> str:
    with pytest.raises(RefusedTree) as caught:
        read_tree(folder, limits)
    return str(caught.value)


def test_regular_files_are_read_with_their_paths(tree):
    (tree / ".ipynb_checkpoints").mkdir()
    (tree / ".ipynb_checkpoints" / "a-checkpoint.ipynb").symlink_to("/etc/passwd")  # never read
    (tree / "my notebook (1).ipynb").write_bytes(b"1")
    assert read_tree(tree) == {"a.ipynb": b"{}", "data/b.csv": b"x,y\n", "my notebook (1).ipynb": b"1"}


@pytest.mark.parametrize("target", ["/etc/hostname", "../outside.txt", "a.ipynb"])
def test_a_link_to_a_file_is_refused_wherever_it_points(tree, target):
    (tree / "data" / "link.csv").symlink_to(target)
    assert refusal(tree) == "data/link.csv is a symbolic link, not a regular file"


def test_a_link_to_a_folder_and_a_dangling_link_are_refused(tree, tmp_path):
    (tree / "more").symlink_to(tmp_path)
    assert refusal(tree) == "more is a symbolic link, not a regular file"
    (tree / "more").unlink()
    (tree / "gone").symlink_to(tmp_path / "nothing")
    assert "gone is a symbolic link" in refusal(tree)


def test_a_folder_that_is_itself_a_link_is_refused(tree, tmp_path):
    (tmp_path / "alias").symlink_to(tree)
    assert refusal(tmp_path / "alias") == "alias is a symbolic link, not a folder"
    assert refusal(tree / "a.ipynb") == "a.ipynb is a regular file, not a folder"
    assert "could not be read" in refusal(tree / "missing")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tree):
    os.mkfifo(tree / "pipe")
    result = []
    reader = threading.Thread(target=lambda: result.append(refusal(tree)), daemon=True)
    reader.start()
    reader.join(10)
    assert result == ["pipe is a FIFO, not a regular file"]


def test_a_socket_is_refused(tree):
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tree / "sock"))
        assert refusal(tree) == "sock is a socket, not a regular file"
    finally:
        server.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device file needs root")
def test_device_files_are_refused(tree):
    os.mknod(tree / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    assert refusal(tree) == "zero is a character device, not a regular file"
    os.unlink(tree / "zero")
    os.mknod(tree / "disk", stat.S_IFBLK | 0o600, os.makedev(7, 0))
    assert refusal(tree) == "disk is a block device, not a regular file"


def test_a_hard_link_to_a_file_outside_is_refused_and_one_inside_is_not(tree, tmp_path):
    os.link(tree / "a.ipynb", tree / "data" / "same.ipynb")
    assert read_tree(tree)["data/same.ipynb"] == b"{}"
    os.link(tmp_path / "outside.txt", tree / "data" / "copy.txt")
    assert refusal(tree) == "data/copy.txt is a hard link to a file outside the folder"


def test_too_many_files_too_deep_or_too_large_is_refused(tree):
    for i in range(5):
        (tree / f"f{i}").write_bytes(b"")
    assert refusal(tree, TreeLimits(files=6)) == "it holds more than 6 files"
    assert len(read_tree(tree, TreeLimits(files=7))) == 7
    deep = tree
    for level in range(4):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    assert refusal(tree, TreeLimits(depth=3)) == "d0/d1/d2/d3/ is nested more than 3 folders deep"
    read_tree(tree, TreeLimits(depth=4))
    (tree / "big.bin").write_bytes(b"0" * (2**20 + 1))
    assert refusal(tree, TreeLimits(total_mb=1)).startswith("it holds more than 1 MiB")


@pytest.mark.parametrize("name, problem", [("new\nline.ipynb", "holds control characters"),
                                           ("bell\a", "holds control characters"),
                                           ("right\u202eto-left.ipynb", "holds control characters")])
def test_names_with_control_characters_are_refused_and_shown_escaped(tree, name, problem):
    (tree / name).write_bytes(b"")
    reason = refusal(tree)
    assert problem in reason and "\n" not in reason and "\u202e" not in reason


def test_a_name_that_is_not_utf8_is_refused(tree):
    fd = os.open(os.fsencode(tree) + b"/caf\xe9.ipynb", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    assert "is not valid UTF-8" in refusal(tree)


def test_write_tree_swaps_in_a_fresh_folder(tmp_path):
    folder = tmp_path / "autograded"
    write_tree(folder, {"old.txt": b"1"})
    write_tree(folder, {"nb.ipynb": b"{}", "data/x.csv": b"2"})
    assert read_tree(folder) == {"data/x.csv": b"2", "nb.ipynb": b"{}"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autograded"], "nothing left beside it"


def test_write_tree_never_writes_through_a_link_where_the_folder_was(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "nb.ipynb").write_bytes(b"precious")
    (tmp_path / "autograded").symlink_to(victim)
    write_tree(tmp_path / "autograded", {"nb.ipynb": b"graded"})
    assert (victim / "nb.ipynb").read_bytes() == b"precious"
    assert not (tmp_path / "autograded").is_symlink() and (tmp_path / "autograded" / "nb.ipynb").read_bytes() == b"graded"


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/evil", "a/../../b", "new\nline"])
def test_write_tree_refuses_names_outside_the_folder_and_writes_nothing(tmp_path, name):
    with pytest.raises(RefusedTree, match="is not a path inside the folder"):
        write_tree(tmp_path / "dest", {"ok.txt": b"y", name: b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_graders_own_tree_stays_readable_when_a_learner_hard_links_into_it(tree, tmp_path):
    os.link(tree / "a.ipynb", tmp_path / "learners-link.ipynb")
    assert "hard link" in refusal(tree)
    assert read_tree(tree, outside_links=True)["a.ipynb"] == b"{}"
