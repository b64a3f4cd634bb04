"""Tamper-evident, append-only audit log: hash-chained JSON Lines plus an atomically written head.

Every amplification step, verdict and distillation of a run is appended as one record::

    {"data": {...}, "hash": "<sha256>", "kind": "verdict", "prev": "<hash of previous record>",
     "seq": 7, "time": "2025-01-01T12:00:00.000000+00:00"}

``seq`` counts from 1 (record *n* is on line *n*); the first record's ``prev`` is
:data:`GENESIS`.  ``hash`` is the SHA-256 of the canonical JSON (sorted keys, ``(",", ":")``
separators, ASCII only, no NaN) of the record without ``hash``, and each line *is* the
canonical JSON of the whole record.  So any change to the file -- a byte anywhere, a record
deleted, inserted, reordered or truncated -- shows up in :func:`verify_log` as bad JSON, a
non-canonical line, a hash mismatch, a seq gap or a chain break, named by line and seq.

After each append, the head file (``<log>.head``, e.g. ``audit.jsonl`` -> ``audit.head``)
is rewritten atomically with the last seq and hash, so deleting trailing records is detected
too.  The chain is keyless: it detects accidents, crashes and edits, not an adversary who
recomputes every hash and the head (sign or publish the head hash for that).

Crash safety: a record is written with one ``O_APPEND`` write and fsync; a crash can leave a
torn final line (no newline) or a head one record behind.  Opening the log for writing repairs
both -- it truncates exactly the torn bytes and rewrites the head -- and appends a
``"recovered"`` record that says what it did.  One writer at a time: :class:`AuditLog` holds an
exclusive ``fcntl.flock`` on ``<log>.lock`` while open.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
>>> with AuditLog(p) as log:
...     h = log.append("verdict", {"goal": "g1", "result": "proved"})
>>> verify_log(p).ok
True
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import IdaNsError
from .storage import PathLike, append_line_durable, atomic_write_json

GENESIS = "0" * 64
FIELDS = frozenset({"seq", "time", "kind", "data", "prev", "hash"})
RECOVERED = "recovered"


class AuditError(IdaNsError):
    """The audit log cannot be opened or appended to (locked, tampered with, bad record)."""


def canonical_json(obj: Any) -> str:
    """The one serialization that is hashed: sorted keys, no whitespace, ASCII, no NaN.

    >>> canonical_json({"b": [1, 2.5], "a": "\u00e9"})
    '{"a":"\\\\u00e9","b":[1,2.5]}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``record`` without its ``hash`` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def head_path_for(log_path: PathLike) -> Path:
    """``runs/audit.jsonl`` -> ``runs/audit.head``."""
    return Path(log_path).with_suffix(".head")


def lock_path_for(log_path: PathLike) -> Path:
    """``runs/audit.jsonl`` -> ``runs/audit.lock``."""
    return Path(log_path).with_suffix(".lock")


# --------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class AuditReport:
    """Outcome of :func:`verify_log`.

    ``records``: records that verified (all of them when ``ok``).  ``broken_at``: 1-based line
    number of the first bad line (for a head mismatch: the line where the head says the log
    should end, or the first line past the head), ``None`` when ``ok``.  ``seq``: the seq the
    bad line should carry (equal to its line number).  ``reason``: what is wrong, or "ok".
    ``last_hash``: hash of the last verified record (``GENESIS`` when none).
    """

    ok: bool
    records: int
    broken_at: int | None
    reason: str
    seq: int | None = None
    last_hash: str = GENESIS

    def __str__(self) -> str:
        return self.reason


def _check_line(raw: bytes, lineno: int, prev: str) -> tuple[dict | None, str | None]:
    """Parse and check one complete line (without its newline).  Returns (record, None) or
    (None, why)."""
    try:
        rec = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        return None, f"bad JSON ({e})"
    if not isinstance(rec, dict) or set(rec) != FIELDS:
        keys = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
        return None, f"malformed record: expected fields {sorted(FIELDS)}, found {keys}"
    if not (isinstance(rec["seq"], int) and not isinstance(rec["seq"], bool)
            and isinstance(rec["kind"], str) and isinstance(rec["time"], str)
            and isinstance(rec["data"], dict) and isinstance(rec["prev"], str)
            and isinstance(rec["hash"], str)):
        return None, "malformed record: a field has the wrong type"
    try:
        canon = canonical_json(rec).encode("ascii")
    except ValueError as e:  # NaN or infinity smuggled in
        return None, f"malformed record: {e}"
    if canon != raw:
        return None, "line is not in canonical form (bytes were altered)"
    if record_hash(rec) != rec["hash"]:
        return None, "hash mismatch (record content was altered)"
    if rec["seq"] != lineno:
        return None, f"seq gap or reorder: expected seq {lineno}, found {rec['seq']}"
    if rec["prev"] != prev:
        return None, "chain break: prev does not match the previous record's hash"
    return rec, None


def _scan(raw: bytes) -> tuple[list[dict], AuditReport | None, int]:
    """Check the complete lines of ``raw``.  Returns (good records, failure or None, offset
    where a torn tail starts or len(raw))."""
    cut = raw.rfind(b"\n") + 1
    good: list[dict] = []
    prev = GENESIS
    for lineno, line in enumerate(raw[:cut].split(b"\n")[:-1], start=1):
        rec, why = _check_line(line, lineno, prev)
        if why is not None:
            return good, AuditReport(False, len(good), lineno, f"line {lineno} (seq {lineno}): "
                                     f"{why}", lineno, prev), cut
        good.append(rec)
        prev = rec["hash"]
    return good, None, cut


def _read_head(head: Path) -> tuple[dict | None, str | None]:
    try:
        obj = json.loads(head.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None, f"head file {head} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, f"head file {head} is unreadable: {e}"
    if (not isinstance(obj, dict) or not isinstance(obj.get("seq"), int)
            or not isinstance(obj.get("hash"), str)):
        return None, f"head file {head} is malformed: {obj!r}"
    return obj, None


def verify_log(path: PathLike, *, head: PathLike | None = None,
               require_head: bool = True) -> AuditReport:
    """Check the whole chain of the log at ``path`` and compare its end with the head file
    (``head`` or ``<log>.head``).  Never raises for a bad log: the report says what is wrong
    and where.  ``require_head=False`` accepts a log whose head file is absent (a copied log)."""
    path = Path(path)
    head = Path(head) if head is not None else head_path_for(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        return AuditReport(False, 0, None, f"{path}: cannot read log: {e}")
    good, failure, cut = _scan(raw)
    if failure is not None:
        return failure
    n = len(good)
    last = good[-1]["hash"] if good else GENESIS
    if cut < len(raw):
        return AuditReport(False, n, n + 1, f"line {n + 1} (seq {n + 1}): torn final line "
                           f"({len(raw) - cut} bytes without a newline at byte {cut}); open the "
                           "log with AuditLog to recover", n + 1, last)
    h, why = _read_head(head)
    if h is None:
        if require_head or head.exists():
            return AuditReport(False, n, None, why or "", None, last)
        return AuditReport(True, n, None, f"ok: {n} records (no head file)", None, last)
    if h["seq"] > n:
        return AuditReport(False, n, n + 1, f"head says the log ends at seq {h['seq']} but it "
                           f"ends at seq {n}: trailing records were deleted", n + 1, last)
    if h["seq"] < n:
        return AuditReport(False, h["seq"], h["seq"] + 1, f"line {h['seq'] + 1} (seq "
                           f"{h['seq'] + 1}): {n - h['seq']} record(s) after the head (a crash "
                           "before the head was updated, or records were appended behind the "
                           "writer's back)", h["seq"] + 1, last)
    if h["hash"] != last:
        return AuditReport(False, n, n if n else None, f"line {n} (seq {n}): last record's hash "
                           "differs from the head's hash", n if n else None, last)
    return AuditReport(True, n, None, f"ok: {n} records", None, last)


def read_records(path: PathLike, **kw: Any) -> tuple[dict, ...]:
    """All records of a log that verifies; raises :class:`AuditError` with the report's reason
    otherwise.  (For resuming a run: which traces were already verified.)"""
    report = verify_log(path, **kw)
    if not report.ok:
        raise AuditError(f"{path}: {report.reason}")
    raw = Path(path).read_bytes()
    return tuple(json.loads(line) for line in raw.split(b"\n")[:-1])


# --------------------------------------------------------------------------------------------
# Writing


class AuditLog:
    """The single writer of a hash-chained log (see the module docstring).

    Opening takes an exclusive lock on ``<log>.lock`` (waiting up to ``lock_timeout`` seconds;
    0 fails at once), checks the existing chain, repairs a crash's torn tail or stale head and
    records the repair.  A log that fails verification for any other reason is refused with
    :class:`AuditError`: nothing is ever appended to a tampered chain.  Thread-safe.
    """

    def __init__(self, path: PathLike, *, lock_timeout: float = 0.0):
        self.path = Path(path)
        self.head_path = head_path_for(self.path)
        self.lock_path = lock_path_for(self.path)
        self._mutex = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = self._acquire(lock_timeout)
        try:
            self._seq, self._last = self._open_chain()
        except BaseException:
            self.close()
            raise

    # -- lock -----------------------------------------------------------------------------
    def _acquire(self, timeout: float) -> int:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AuditError(f"{self.path}: another writer holds {self.lock_path}"
                                     ) from None
                time.sleep(0.05)

    def close(self) -> None:
        """Release the writer lock (the log and head are always durable already)."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not keep the lock forever
        try:
            self.close()
        except Exception:
            pass

    # -- open and recover -----------------------------------------------------------------
    def _open_chain(self) -> tuple[int, str]:
        if not self.path.exists():
            if self.head_path.exists():
                raise AuditError(f"{self.path}: log is missing but its head "
                                 f"{self.head_path} exists")
            self.path.touch()
            atomic_write_json(self.head_path, {"seq": 0, "hash": GENESIS})
            return 0, GENESIS
        raw = self.path.read_bytes()
        good, failure, cut = _scan(raw)
        if failure is not None:
            raise AuditError(f"{self.path}: refusing to append to a broken log: "
                             f"{failure.reason}")
        n = len(good)
        last = good[-1]["hash"] if good else GENESIS
        repair: dict[str, Any] = {}
        head, why = _read_head(self.head_path)
        if head is None:
            if self.head_path.exists() or n > 0:
                raise AuditError(f"{self.path}: refusing to append: {why}")
        elif head["seq"] == n - 1 and head["hash"] == (good[-2]["hash"] if n > 1 else GENESIS):
            repair.update(head_was_behind=True)  # crash between the append and the head write
        elif head["seq"] != n or head["hash"] != last:
            raise AuditError(f"{self.path}: refusing to append: head file {self.head_path} "
                             f"(seq {head['seq']}) does not match the log (seq {n})")
        # Only now, with the log known to be a crash artifact rather than an edit, repair it.
        if cut < len(raw):
            tail = raw[cut:]
            with open(self.path, "r+b") as f:
                f.truncate(cut)
                f.flush()
                os.fsync(f.fileno())
            repair.update(torn_offset=cut, torn_bytes=len(tail),
                          torn_sha256=hashlib.sha256(tail).hexdigest())
        if repair or head is None:
            atomic_write_json(self.head_path, {"seq": n, "hash": last})
        self._seq, self._last = n, last
        if repair:
            self._append(RECOVERED, repair)
        return self._seq, self._last

    # -- append ---------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Seq of the last record (0 for an empty log)."""
        return self._seq

    @property
    def last_hash(self) -> str:
        return self._last

    def append(self, kind: str, data: dict[str, Any]) -> str:
        """Append one record durably and return its hash.  ``data`` must be a JSON object
        without NaN or infinities."""
        if not isinstance(kind, str) or not kind:
            raise AuditError(f"{self.path}: record kind must be a non-empty string, got {kind!r}")
        if not isinstance(data, dict):
            raise AuditError(f"{self.path}: data of a {kind!r} record must be a dict, "
                             f"got {type(data).__name__}")
        with self._mutex:
            if self._lock_fd is None:
                raise AuditError(f"{self.path}: log is closed")
            return self._append(kind, data)

    def _append(self, kind: str, data: dict[str, Any]) -> str:
        rec = {"seq": self._seq + 1,
               "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
               "kind": kind, "data": data, "prev": self._last}
        try:
            rec["hash"] = record_hash(rec)
            line = canonical_json(rec)
        except (TypeError, ValueError) as e:
            raise AuditError(f"{self.path}: cannot log {kind!r} record: {e}") from e
        append_line_durable(self.path, line)
        atomic_write_json(self.head_path, {"seq": rec["seq"], "hash": rec["hash"]})
        self._seq, self._last = rec["seq"], rec["hash"]
        return rec["hash"]
