"""Atomic writes: the one way this package writes a file or a folder.

Bytes go to a temporary sibling (``.NAME.*.part`` for a file, ``.NAME.partial-*``
for a folder) that is renamed onto the destination only when everything was
written, so an interruption or an error never leaves a half-written file.
Results get the permissions of the user's umask (like ``open()`` would give),
not the private 0600/0700 of ``tempfile``, so a shared data folder on a lab
server stays readable by the group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

STALE_SECONDS = 24 * 3600  #: temporary leftovers older than this are removed by ``remove_stale``


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it the portable way and put it back
    os.umask(mask)
    return mask


def _writable_parent(dest: Path, hint: str) -> None:
    parent = dest.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(
            f"cannot write {dest}: {parent} is a file, not a folder; {hint}".rstrip("; ")
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PermissionError(
            f"cannot create the folder {parent} for {dest.name}: {exc.strerror or exc}; {hint}".rstrip("; ")
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {dest}: the folder {parent} is not writable; {hint}".rstrip("; "))


def remove_stale(folder: str | os.PathLike, name: str, max_age: float = STALE_SECONDS) -> list[Path]:
    """Delete temporary leftovers of ``name`` in ``folder`` older than ``max_age`` seconds.

    A process killed mid-write (power cut, ``kill -9``) cannot clean up after
    itself; the next write of the same file does. Returns the removed paths.
    """
    folder = Path(folder)
    removed = []
    now = time.time()
    for pattern in (f".{name}.*.part", f".{name}.partial-*"):
        for path in folder.glob(pattern):
            try:
                if now - path.stat().st_mtime > max_age:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                    removed.append(path)
            except OSError:
                continue
    return removed


@contextlib.contextmanager
def atomic_file(dest: str | os.PathLike, hint: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it becomes ``dest``, on error it is deleted.

    ``hint`` ends the error message when the folder cannot be written (how to
    fix it, e.g. "set MEDIMGKIT_DATA to a writable folder").
    """
    dest = Path(dest)
    _writable_parent(dest, hint)
    remove_stale(dest.parent, dest.name)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike, hint: str = "") -> Iterator[Path]:
    """Yield a temporary folder; on success it is renamed to ``dest`` (which must not exist)."""
    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest}: already exists; expected a new folder (choose another path or delete it)")
    _writable_parent(dest, hint)
    remove_stale(dest.parent, dest.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
