"""Crash-safe file writes for run artifacts and the run history.

A reader (or a later run) must never see a half-written export: files are written to a
temp file in the same directory, fsynced and renamed over the target, so the target is
always either the old complete content or the new complete content, even if the process
is SIGKILLed. Export folders are created exclusively and never reused. The history is a
JSONL file that is rewritten whole (under a lock) on every append, so earlier lines
survive any crash and concurrent appenders never lose each other's lines.

A process killed mid-write can leave a stray temp file: a dot-file named
``.<target>.<random>.tmp`` next to the target. Nothing ever points at it; it is safe to
delete.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import threading
from pathlib import Path

_umask_lock = threading.Lock()
_umask: int | None = None


def _current_umask() -> int:
    """The process umask (read once; Python has no side-effect-free getter before 3.13)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            try:
                with open("/proc/self/status", encoding="ascii") as status:
                    for line in status:
                        if line.startswith("Umask:"):
                            _umask = int(line.split()[1], 8)
                            break
            except (OSError, ValueError, IndexError):
                pass
            if _umask is None:
                _umask = os.umask(0o022)
                os.umask(_umask)
        return _umask


def _target_mode(path: Path) -> int:
    """Keep an existing file's permissions; new files get what `open()` would give them.

    mkstemp creates 0600 files, which would make every export private by surprise.
    """
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_current_umask()


def _fsync_dir(directory: Path) -> None:
    """Persist a rename in `directory`. Best effort: some platforms cannot open directories."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that no reader or crash ever sees a partial file.

    The parent directory must exist. On any error the temp file is removed and the
    target is left as it was.
    """
    path = Path(path)
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), _target_mode(path))
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Replace `path` with `text` atomically (see `atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


def append_line_atomic(path: Path, line: str) -> None:
    """Append one line to a JSONL file without ever risking the lines already in it.

    A plain O_APPEND write can be torn by a crash and interleaved by another process.
    Instead the whole file is rewritten with the new line added and atomically renamed
    into place, under an exclusive `flock`. That costs O(file size) per append, which is
    fine for a run history. A missing trailing newline on the last line is repaired first.

    The lock is taken on the history file itself, so nothing is left beside it (a
    sibling ``.lock`` file would be: deleting one is unsafe, as two appenders could then
    lock different files). The rename gives the path a new inode, and a process waiting
    on the old one would wake up holding a lock nobody else checks; so, once locked, the
    descriptor must still be the file at `path` (same device and inode), else it is
    closed and the lock taken again on the new file. Whoever holds the lock on the
    file now at `path` is the only writer; an appender still holding the old one has
    already renamed and is done. A ``<name>.lock`` left by an earlier version is removed.
    """
    if "\n" in line or "\r" in line:
        raise ValueError("a history line must not contain a line break")
    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                continue  # removed while we waited: lock whatever is there next
            if (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino):
                continue  # replaced while we waited: this lock guards nothing
            current = _read_all(fd)
            if current and not current.endswith(b"\n"):
                current += b"\n"
            atomic_write_bytes(path, current + line.encode("utf-8") + b"\n")
            with contextlib.suppress(OSError):
                os.unlink(path.with_name(path.name + ".lock"))
            return
        finally:
            os.close(fd)  # releases the flock


def _read_all(fd: int) -> bytes:
    """The whole file behind `fd`, from its start."""
    parts: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        parts.append(chunk)
        offset += len(chunk)
    return b"".join(parts)
