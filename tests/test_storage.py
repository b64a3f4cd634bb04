"""Atomic writes and durable JSONL appends (ida_ns.storage)."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ida_ns.storage import (StorageError, append_line_durable, atomic_write_bytes,
                            atomic_write_json, atomic_write_text, read_json, read_jsonl)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10)


def test_atomic_write_replaces_content_and_leaves_no_temp_files(tmp_path):
    p = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(p, b"old")
    atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"new"
    assert os.listdir(p.parent) == ["f.bin"]
    atomic_write_text(p, "caf\u00e9")
    assert p.read_text(encoding="utf-8") == "caf\u00e9"


def test_atomic_write_json_round_trips(tmp_path):
    obj = {"b": [1, 2.5, None], "a": {"x": "y"}}
    atomic_write_json(tmp_path / "o.json", obj)
    assert read_json(tmp_path / "o.json") == obj


def test_atomic_write_json_refuses_nan_and_keeps_old_file(tmp_path):
    p = tmp_path / "o.json"
    atomic_write_json(p, {"ok": 1})
    with pytest.raises(StorageError, match="o.json"):
        atomic_write_json(p, {"bad": float("nan")})
    assert read_json(p) == {"ok": 1}
    assert os.listdir(tmp_path) == ["o.json"]


def test_failed_write_removes_temp_file(tmp_path):
    p = tmp_path / "x"
    with pytest.raises(TypeError):
        atomic_write_bytes(p, "not bytes")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(StorageError, match="missing.json: no such file"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"a": 1,\n oops}')
    with pytest.raises(StorageError, match=r"bad.json:2:\d+: invalid JSON"):
        read_json(tmp_path / "bad.json")


@settings(max_examples=50, deadline=None)
@given(st.lists(json_values, max_size=8))
def test_jsonl_appends_round_trip(tmp_path_factory, values):
    p = tmp_path_factory.mktemp("j") / "log.jsonl"
    for v in values:
        append_line_durable(p, json.dumps(v))
    got = read_jsonl(p, missing_ok=True)
    assert list(got.records) == values
    assert not got.torn


def test_append_refuses_embedded_newline(tmp_path):
    with pytest.raises(ValueError, match="newline"):
        append_line_durable(tmp_path / "l", '{"a":\n1}')


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=6), st.data())
def test_torn_tail_is_reported_and_complete_lines_kept(tmp_path_factory, values, data):
    p = tmp_path_factory.mktemp("j") / "log.jsonl"
    for v in values:
        append_line_durable(p, json.dumps({"v": v}))
    partial = json.dumps({"v": "last one"})
    cut = data.draw(st.integers(1, len(partial)))  # even a complete JSON without newline
    with open(p, "ab") as f:
        f.write(partial[:cut].encode())
    size_before = p.stat().st_size
    got = read_jsonl(p)
    assert [r["v"] for r in got.records] == values
    assert got.torn and got.torn_tail == partial[:cut].encode()
    assert got.torn_offset == size_before - cut


def test_bad_complete_line_is_an_error_not_dropped(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(b'{"a":1}\nnot json\n{"a":2}\n')
    with pytest.raises(StorageError, match=r"log.jsonl:2: invalid JSON line"):
        read_jsonl(p)
    with pytest.raises(StorageError, match="no such file"):
        read_jsonl(tmp_path / "absent.jsonl")
    assert read_jsonl(tmp_path / "absent.jsonl", missing_ok=True).records == ()
