"""File trees a learner could have touched, read and written without ever following a link.

A submission is a folder the learner made (from an archive, a shared drive,
nbgrader's exchange), and the folder learner code runs in is theirs while it
runs. Either can hold what is not a plain file: symbolic links (``tar`` and
``zip`` keep them), hard links to files elsewhere, FIFOs, sockets, device
files, thousands of files, deep trees, huge files, names with control
characters. The grader reads such a tree only through :func:`read_tree`:

* every folder and file is opened relative to its parent's descriptor with
  ``O_NOFOLLOW``, so a link is refused even if it is swapped in between a
  check and the read;
* only regular files are read; anything else is refused with a reason naming it;
* a regular file with more links than the tree holds is a hard link to a file
  outside it, and is refused;
* :class:`TreeLimits` bound the number of files, the depth and the bytes read.

What the grader writes goes through :func:`write_tree`: a folder it creates
itself, filled and then swapped in whole, so no path in it was ever a learner's.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CourseError

#: A learner id, which is also a folder name in nbgrader's layout (``submitted/<learner>/``) and in a roster.
LEARNER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

#: Folders that Jupyter and Python make on their own: never part of what a learner hands in.
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", "__pycache__"})


@dataclass(frozen=True)
class TreeLimits:
    """How much of a file tree the grader reads: ``files`` regular files, folders ``depth`` deep, ``total_mb`` MiB."""

    files: int = 1_000
    depth: int = 8
    total_mb: int = 256


class RefusedTree(CourseError):
    """A file tree holds something the grader does not read (the message names it and says why)."""


_NO_FOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


def kind_of(mode: int) -> str:
    """What a file-system object is, in words (``a symbolic link``, ``a FIFO``, ...)."""
    return next((name for test, name in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode) else
                "a special file")


def printable_name(name: str) -> str:
    """``name`` as a reason may show it: odd characters escaped, at most 120 characters."""
    shown = name if _name_problem(name) is None else ascii(name)[1:-1]
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _name_problem(name: str) -> str | None:
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):  # bytes that are not UTF-8 (os.fsdecode's surrogates)
        return "is not valid UTF-8"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        return "holds control characters"
    return None


def read_tree(folder: Path, limits: TreeLimits = TreeLimits(), outside_links: bool = False) -> dict[str, bytes]:
    """Every regular file under ``folder`` as ``{relative POSIX path: content}``, sorted by path.

    ``folder`` itself must be a real folder, not a link to one. Folders in
    :data:`SKIPPED_FOLDERS` are not read. Raises :class:`RefusedTree` naming
    the first entry that is not a regular file, a hard link to a file outside
    the tree (unless ``outside_links``: for the grader's own trees, where a
    learner's hard link *to* one of their files must not make them unreadable),
    a name that is not printable UTF-8, or a tree past ``limits``.
    """
    shown = Path(folder).name or str(folder)
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            raise RefusedTree(f"{printable_name(shown)} is {kind_of(info.st_mode)}, not a folder")
        top = os.open(folder, _NO_FOLLOW | os.O_DIRECTORY)
    except OSError as exc:
        raise RefusedTree(_open_problem(shown, exc, "folder")) from None
    reader = _Reader(limits)
    try:
        reader.read_folder(top, "", 0)
    finally:
        os.close(top)
    if not outside_links:
        reader.check_hard_links()
    return dict(sorted(reader.files.items()))


class _Reader:
    def __init__(self, limits: TreeLimits):
        self.limits = limits
        self.files: dict[str, bytes] = {}
        self.bytes_left = limits.total_mb * 2**20
        self.links: dict[tuple[int, int], tuple[str, int, int]] = {}  # inode -> (first name, st_nlink, seen)

    def read_folder(self, fd: int, prefix: str, depth: int) -> None:
        with os.scandir(fd) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            path = prefix + name
            problem = _name_problem(name)
            if problem:
                raise RefusedTree(f"the name '{printable_name(path)}' {problem}")
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if name in SKIPPED_FOLDERS:
                    continue
                if depth + 1 > self.limits.depth:
                    raise RefusedTree(f"{printable_name(path)}/ is nested more than {self.limits.depth} folders deep")
                self.read_folder_at(fd, name, path, depth + 1)
            elif stat.S_ISREG(info.st_mode):
                self.read_file(fd, name, path)
            else:
                raise RefusedTree(f"{printable_name(path)} is {kind_of(info.st_mode)}, not a regular file")

    def read_folder_at(self, parent: int, name: str, path: str, depth: int) -> None:
        try:
            fd = os.open(name, _NO_FOLLOW | os.O_DIRECTORY, dir_fd=parent)
        except OSError as exc:
            raise RefusedTree(_open_problem(path, exc, "folder")) from None
        try:
            self.read_folder(fd, path + "/", depth)
        finally:
            os.close(fd)

    def read_file(self, parent: int, name: str, path: str) -> None:
        if len(self.files) >= self.limits.files:
            raise RefusedTree(f"it holds more than {self.limits.files} files")
        try:
            # O_NONBLOCK: a FIFO swapped in after the check must not hang the grader.
            fd = os.open(name, _NO_FOLLOW | os.O_NONBLOCK, dir_fd=parent)
        except OSError as exc:
            raise RefusedTree(_open_problem(path, exc, "file")) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RefusedTree(f"{printable_name(path)} is {kind_of(info.st_mode)}, not a regular file")
            if info.st_nlink > 1:
                first, links, seen = self.links.get((info.st_dev, info.st_ino), (path, info.st_nlink, 0))
                self.links[info.st_dev, info.st_ino] = (first, links, seen + 1)
            content = _read_at_most(fd, self.bytes_left)
        finally:
            os.close(fd)
        if content is None:
            raise RefusedTree(f"it holds more than {self.limits.total_mb} MiB (at {printable_name(path)})")
        self.bytes_left -= len(content)
        self.files[path] = content

    def check_hard_links(self) -> None:
        for first, links, seen in self.links.values():
            if seen < links:
                raise RefusedTree(f"{printable_name(first)} is a hard link to a file outside the folder")


def _read_at_most(fd: int, limit: int) -> bytes | None:
    """The file's content, or None if it holds more than ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := os.read(fd, min(1 << 20, limit - size + 1)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)


def _open_problem(path: str, exc: OSError, what: str) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # it was swapped for a link or a file after it was looked at
        return f"{printable_name(path)} changed while it was read: it is no longer a {what}"
    return f"{printable_name(path)} could not be read: {exc.strerror}"


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files`` (``{relative POSIX path: content}``), swapped in whole.

    The files are written into a fresh folder created beside ``folder`` and
    then renamed into place, so a reader never sees half of it and no path
    written was there before. A name that is absolute or climbs out (``..``)
    is refused: :class:`RefusedTree`, with nothing changed.
    """
    for name in files:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or ".." in parts or _name_problem(name):
            raise RefusedTree(f"'{printable_name(name)}' is not a path inside the folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, content in files.items():
            path = fresh / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as out:
                out.write(content)
        fresh.chmod(0o755)
        old = folder.with_name(f".{folder.name}-old-{fresh.name}")
        if folder.is_symlink() or folder.exists():
            folder.rename(old)  # renames a link itself, never what it points to
        fresh.rename(folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if old.is_symlink():
        old.unlink()
    else:
        shutil.rmtree(old, ignore_errors=True)
