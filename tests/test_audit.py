"""The hash-chained audit log (ida_ns.audit): every change to the file is detected and named."""

from __future__ import annotations

import json
import multiprocessing as mp
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.audit import (GENESIS, RECOVERED, AuditError, AuditLog, canonical_json,
                          head_path_for, read_records, record_hash, verify_log)

kinds = st.sampled_from(["amplify", "verdict", "distill", "evaluate"])
json_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10))
datas = st.dictionaries(st.text(max_size=6),
                        json_scalars | st.lists(json_scalars, max_size=3), max_size=4)
entries = st.lists(st.tuples(kinds, datas), min_size=1, max_size=6)


def build(path, items):
    with AuditLog(path) as log:
        return [log.append(k, d) for k, d in items]


def lines(path):
    return path.read_bytes().split(b"\n")[:-1]


# --- should succeed -------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(entries)
def test_untouched_log_verifies(tmp_path_factory, items):
    p = tmp_path_factory.mktemp("a") / "audit.jsonl"
    hashes = build(p, items)
    rep = verify_log(p)
    assert rep.ok and rep.records == len(items) and rep.broken_at is None
    assert rep.last_hash == hashes[-1]
    recs = read_records(p)
    assert [(r["kind"], r["data"]) for r in recs] == [tuple(x) for x in items]
    assert [r["seq"] for r in recs] == list(range(1, len(items) + 1))
    assert recs[0]["prev"] == GENESIS
    assert all(recs[i]["prev"] == recs[i - 1]["hash"] for i in range(1, len(recs)))
    assert all(record_hash(r) == r["hash"] for r in recs)


def test_reopening_continues_the_chain(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("amplify", {"n": 1})])
    build(p, [("verdict", {"n": 2})])
    rep = verify_log(p)
    assert rep.ok and rep.records == 2
    assert json.loads((tmp_path / "audit.head").read_text())["seq"] == 2


def test_empty_log_verifies(tmp_path):
    p = tmp_path / "audit.jsonl"
    AuditLog(p).close()
    assert verify_log(p).ok and verify_log(p).records == 0


def test_canonical_json_is_fixed():
    assert canonical_json({"b": 1, "a": [1.5, "\u00e9"]}) == '{"a":[1.5,"\\u00e9"],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


# --- should fail: any single-byte change is detected ---------------------------------------

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries, st.data())
def test_any_single_byte_change_is_detected(tmp_path_factory, items, data):
    p = tmp_path_factory.mktemp("a") / "audit.jsonl"
    build(p, items)
    pristine = p.read_bytes()
    for _ in range(5):  # several flips per (fsync-bound) log build
        raw = bytearray(pristine)
        pos = data.draw(st.integers(0, len(raw) - 1), label="position")
        new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]), label="new byte")
        raw[pos] = new
        p.write_bytes(bytes(raw))
        rep = verify_log(p)
        assert not rep.ok
        assert rep.broken_at is not None and rep.broken_at >= 1
        # The report names the line that holds the altered byte (or the torn/merged line).
        bad_line = raw[:pos].count(b"\n") + 1
        assert rep.broken_at <= bad_line, (rep, bad_line)
        assert re.search(rf"line {rep.broken_at} \(seq {rep.broken_at}\)|head", rep.reason), rep
        # A writer refuses to append to the damaged log, and leaves it as it is.
        with pytest.raises(AuditError, match="refusing to append"):
            AuditLog(p)
        assert p.read_bytes() == bytes(raw)


@pytest.mark.parametrize("edit, line, reason", [
    ("delete_middle", 3, "expected seq 3, found 4"),
    ("swap", 2, "seq gap or reorder: expected seq 2, found 3"),
    ("duplicate", 4, "expected seq 4, found 3"),
    ("truncate_middle", 3, "bad JSON"),
    ("change_data", 3, "hash mismatch"),
    ("change_prev_and_rehash", 3, "chain break"),
])
def test_structural_edits_are_named(tmp_path, edit, line, reason):
    p = tmp_path / "audit.jsonl"
    build(p, [("amplify", {"i": i}) for i in range(5)])
    ls = lines(p)
    if edit == "delete_middle":
        del ls[2]
    elif edit == "swap":
        ls[1], ls[2] = ls[2], ls[1]
    elif edit == "duplicate":
        ls.insert(3, ls[2])
    elif edit == "truncate_middle":
        ls[2] = ls[2][: len(ls[2]) // 2]
    elif edit == "change_data":
        ls[2] = ls[2].replace(b'"i":2', b'"i":7')
    elif edit == "change_prev_and_rehash":  # a self-consistent record that does not chain
        rec = json.loads(ls[2])
        rec["prev"] = "f" * 64
        rec["hash"] = record_hash(rec)
        ls[2] = canonical_json(rec).encode()
    p.write_bytes(b"".join(x + b"\n" for x in ls))
    rep = verify_log(p)
    assert not rep.ok
    assert rep.broken_at == line and rep.seq == line
    assert rep.reason.startswith(f"line {line} (seq {line}): ") and reason in rep.reason


def test_deleting_the_last_record_is_detected_via_head(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("verdict", {"i": i}) for i in range(4)])
    p.write_bytes(b"".join(x + b"\n" for x in lines(p)[:-1]))
    rep = verify_log(p)
    assert not rep.ok and "trailing records were deleted" in rep.reason
    assert rep.broken_at == 4
    with pytest.raises(AuditError, match="does not match the log"):
        AuditLog(p)
    # Without the head the shortened chain is self-consistent: that is what the head is for.
    assert verify_log(p, require_head=False).ok is False  # head exists and disagrees
    head_path_for(p).unlink()
    assert verify_log(p, require_head=False).ok
    assert not verify_log(p).ok


def test_appended_forged_record_is_detected_via_head(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("verdict", {"i": 0})])
    (prev,) = [json.loads(x) for x in lines(p)]
    forged = {"seq": 2, "time": prev["time"], "kind": "verdict", "data": {"i": 1},
              "prev": prev["hash"]}
    forged["hash"] = record_hash(forged)
    with open(p, "ab") as f:
        f.write(canonical_json(forged).encode() + b"\n")
    rep = verify_log(p)
    assert not rep.ok and "after the head" in rep.reason and rep.broken_at == 2


def test_missing_or_corrupt_head_is_reported(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("verdict", {})])
    head_path_for(p).write_text("{not json")
    assert "unreadable" in verify_log(p).reason
    head_path_for(p).unlink()
    assert "missing" in verify_log(p).reason
    assert not verify_log(tmp_path / "nope.jsonl").ok


# --- crash recovery -------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(entries, st.data())
def test_torn_tail_recovery_keeps_all_complete_records(tmp_path_factory, items, data):
    p = tmp_path_factory.mktemp("a") / "audit.jsonl"
    build(p, items)
    before = p.read_bytes()
    # Simulate a crash mid-append: part of a next record, no newline, head not updated.
    nxt = canonical_json({"seq": len(items) + 1, "kind": "verdict", "data": {"x": 1}})
    torn = nxt[: data.draw(st.integers(1, len(nxt)))].encode()
    with open(p, "ab") as f:
        f.write(torn)
    rep = verify_log(p)
    assert not rep.ok and "torn final line" in rep.reason and rep.broken_at == len(items) + 1
    with AuditLog(p) as log:
        assert log.seq == len(items) + 1  # the "recovered" record
        log.append("verdict", {"after": True})
    assert p.read_bytes().startswith(before)
    recs = read_records(p)
    assert [(r["kind"], r["data"]) for r in recs[: len(items)]] == [tuple(x) for x in items]
    rec = recs[len(items)]
    assert rec["kind"] == RECOVERED
    assert rec["data"]["torn_bytes"] == len(torn) and rec["data"]["torn_offset"] == len(before)
    assert recs[-1]["data"] == {"after": True}


def test_head_one_behind_after_crash_is_repaired(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("verdict", {"i": 0})])
    old_head = head_path_for(p).read_bytes()
    build(p, [("verdict", {"i": 1})])
    head_path_for(p).write_bytes(old_head)  # crash between the append and the head write
    assert not verify_log(p).ok
    with AuditLog(p) as log:
        assert log.seq == 3
    recs = read_records(p)
    assert recs[2]["kind"] == RECOVERED and recs[2]["data"] == {"head_was_behind": True}


def test_writer_refuses_a_tampered_log(tmp_path):
    p = tmp_path / "audit.jsonl"
    build(p, [("verdict", {"i": i}) for i in range(3)])
    p.write_bytes(p.read_bytes().replace(b'"i":1', b'"i":9'))
    with pytest.raises(AuditError, match=r"line 2 \(seq 2\): hash mismatch"):
        AuditLog(p)


def test_bad_data_is_refused_and_nothing_written(tmp_path):
    p = tmp_path / "audit.jsonl"
    with AuditLog(p) as log:
        with pytest.raises(AuditError, match="'verdict'"):
            log.append("verdict", {"t": float("nan")})
        with pytest.raises(AuditError, match="must be a dict"):
            log.append("verdict", [1])  # type: ignore[arg-type]
        with pytest.raises(AuditError, match="non-empty string"):
            log.append("", {})
    assert p.read_bytes() == b"" and verify_log(p).ok


# --- one writer at a time -------------------------------------------------------------------

def _try_open(path, q):
    try:
        AuditLog(path).close()
        q.put("opened")
    except AuditError as e:
        q.put(str(e))


def test_second_writer_is_locked_out(tmp_path):
    p = tmp_path / "audit.jsonl"
    with AuditLog(p) as log:
        log.append("amplify", {})
        with pytest.raises(AuditError, match="another writer"):
            AuditLog(p)
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        proc = ctx.Process(target=_try_open, args=(p, q))
        proc.start()
        proc.join(10)
        assert "another writer" in q.get(timeout=5)
    with AuditLog(p) as log:  # released on close
        log.append("amplify", {})
    with pytest.raises(AuditError, match="closed"):
        log.append("amplify", {})


def test_threads_append_without_interleaving(tmp_path):
    import threading
    p = tmp_path / "audit.jsonl"
    with AuditLog(p) as log:
        ts = [threading.Thread(target=lambda i=i: [log.append("verdict", {"t": i, "k": k})
                                                    for k in range(20)]) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    rep = verify_log(p)
    assert rep.ok and rep.records == 80
