"""Crash-safe file helpers: atomic whole-file writes and durable JSONL appends.

Whole files (configs, checkpoints' metadata, the audit head) are written to a temporary file in
the same directory, flushed to disk, and renamed over the target, so a reader sees either the
old content or the new, never a mix.  Logs are JSON Lines appended one line per ``write`` with
``O_APPEND`` and ``fsync``; a crash can leave at most one *torn* final line (no trailing
newline), which :func:`read_jsonl` reports and ignores, and never a complete line lost.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_json(d / "a.json", {"b": 1})
>>> read_json(d / "a.json")
{'b': 1}
>>> append_line_durable(d / "log.jsonl", '{"x": 1}')
>>> read_jsonl(d / "log.jsonl").records
({'x': 1},)
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IdaNsError

PathLike = str | os.PathLike


class StorageError(IdaNsError):
    """A file could not be read or written as expected; the message names the file."""


# --------------------------------------------------------------------------------------------
# Atomic whole-file writes


def _fsync_dir(directory: Path) -> None:
    """Make a rename or file creation in ``directory`` durable (best effort off POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms where directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same directory, fsync,
    ``os.replace``, fsync of the directory.  A crash leaves the old file or the new one."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON atomically (sorted keys; NaN and infinities are refused)."""
    try:
        text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageError(f"{path}: cannot encode as JSON: {e}") from e
    atomic_write_text(path, text + "\n")


def read_json(path: PathLike) -> Any:
    """Parse a JSON file; errors name the file (and line:col for syntax errors)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise StorageError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise StorageError(f"{path}: cannot read: {e}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StorageError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from e


# --------------------------------------------------------------------------------------------
# Durable JSONL appends


def append_line_durable(path: PathLike, line: str) -> None:
    """Append one line (a newline is added; ``line`` itself must not contain one) with a
    single ``write`` on an ``O_APPEND`` descriptor, then fsync.  The file is created if absent
    (and its directory entry made durable)."""
    if "\n" in line or "\r" in line:
        raise ValueError(f"{path}: a JSONL line must not contain a newline: {line[:80]!r}")
    path = Path(path)
    data = (line + "\n").encode("utf-8")
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):  # regular files do not short-write except on a full disk
            raise StorageError(f"{path}: short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent if str(path.parent) else Path("."))


@dataclass(frozen=True)
class JsonlContents:
    """What :func:`read_jsonl` found.

    ``records``: the parsed complete lines, in order.  ``torn_tail``: the bytes of a final line
    without its newline (a crash mid-append), ignored; ``None`` when the file ends cleanly.
    ``torn_offset``: byte offset where that tail begins (truncate there to repair the file).
    """

    records: tuple[Any, ...]
    torn_tail: bytes | None = None
    torn_offset: int | None = None

    @property
    def torn(self) -> bool:
        return self.torn_tail is not None


def read_jsonl(path: PathLike, *, missing_ok: bool = False) -> JsonlContents:
    """Read a JSON Lines file.  A final line without a trailing newline is a torn append: it is
    reported in ``torn_tail`` and ignored.  A *complete* line that is not valid JSON is an
    error naming file and line number: complete lines are never dropped silently.  Empty lines
    are an error too (the writer never produces them)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        if missing_ok:
            return JsonlContents(())
        raise StorageError(f"{path}: no such file") from e
    except OSError as e:
        raise StorageError(f"{path}: cannot read: {e}") from e
    cut = raw.rfind(b"\n") + 1  # end of the last complete line (0 when none)
    body, tail = raw[:cut], raw[cut:]
    records = []
    for lineno, line in enumerate(body.split(b"\n")[:-1], start=1):
        try:
            records.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StorageError(f"{path}:{lineno}: invalid JSON line: {e}") from e
    return JsonlContents(tuple(records), tail if tail else None, cut if tail else None)
