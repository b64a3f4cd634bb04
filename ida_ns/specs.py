"""Problem sets: a JSON manifest of labelled goals over SMT-LIB theory files.

A manifest looks like::

    {"name": "default", "description": "...", "theory_dir": "..",
     "problems": [{"id": "nat_plus_zero_right", "theory": "theories/nat.smt2",
                   "goal": "(forall ((x Nat)) (= (plus x Z) x))", "label": true,
                   "difficulty": "easy", "split": "train", "tags": ["induction"]}, ...]}

``theory`` paths are relative to ``theory_dir``, itself relative to the manifest's folder
(default ``"."``).  ``label`` says whether the goal is true; ``split`` is ``"train"`` or
``"heldout"``; ``difficulty`` is ``"easy"``, ``"medium"`` or ``"hard"``.  Built-in sets live in
the ``specs`` package (``specs/sets/<name>.json``) and load by name; any other set loads from a
path.

>>> ps = load_problem_set("default")
>>> ps.name, len(ps) >= 100
('default', True)
>>> p = ps.by_id("nat_plus_zero_right")
>>> p.label, p.split in SPLITS, p.theory
(True, True, 'theories/nat.smt2')
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .errors import SpecError
from .logic.ast import Problem

if TYPE_CHECKING:  # importlib.resources.abc is 3.11+; annotations only
    from importlib.resources.abc import Traversable

DIFFICULTIES = ("easy", "medium", "hard")
SPLITS = ("train", "heldout")
_REQUIRED = ("id", "theory", "goal", "label", "difficulty", "split")
_OPTIONAL = ("tags",)
_ID_RE = re.compile(r"[A-Za-z0-9_.\-]+\Z")


@dataclass(frozen=True)
class SpecProblem:
    """One labelled goal of a problem set.

    ``theory``: the path as the manifest writes it; ``theory_path``: where it is read from.
    """

    id: str
    theory_path: Path | Traversable
    goal_text: str
    label: bool
    difficulty: str
    split: str
    tags: tuple[str, ...] = ()
    theory: str = ""

    @property
    def source(self) -> str:
        """The name parse errors carry: theory file and problem id."""
        return f"{self.theory} [{self.id}]"

    def theory_text(self) -> str:
        """The theory file's contents (read once per file and cached)."""
        return _read_theory(self.theory_path)

    def text(self) -> str:
        """The whole problem as SMT-LIB/TIP text: the theory, then ``(prove goal)``."""
        return f"{self.theory_text().rstrip()}\n(prove {self.goal_text})\n"

    def problem(self) -> Problem:
        """Parse theory and goal into a typed :class:`~ida_ns.logic.ast.Problem`; a
        :class:`SpecError` names ``<theory> [<id>]`` and the line and column."""
        from .logic.parser import parse_text  # the parser is heavier than this module

        text = self.text()
        key = (self.source, text)
        hit = _PARSED.get(key)
        if hit is None:  # parsed ASTs are immutable values, so sharing them is safe
            hit = _PARSED[key] = parse_text(text, self.source)
        return hit


@dataclass(frozen=True)
class ProblemSet:
    name: str
    problems: tuple[SpecProblem, ...]
    description: str = ""
    source: str = ""

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[SpecProblem]:
        return iter(self.problems)

    def by_id(self, problem_id: str) -> SpecProblem:
        for p in self.problems:
            if p.id == problem_id:
                return p
        raise KeyError(f"{self.name}: no problem with id {problem_id!r}")

    def split(self, name: str) -> tuple[SpecProblem, ...]:
        """Problems of one split (``"train"`` or ``"heldout"``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return tuple(p for p in self.problems if p.split == name)

    @property
    def train(self) -> tuple[SpecProblem, ...]:
        return self.split("train")

    @property
    def heldout(self) -> tuple[SpecProblem, ...]:
        return self.split("heldout")


# --------------------------------------------------------------------------------------------
# Loading


def builtin_sets() -> tuple[str, ...]:
    """Names of the problem sets shipped in the ``specs`` package."""
    sets = files("ida_ns._specs") / "sets"
    return tuple(sorted(p.name[:-5] for p in sets.iterdir() if p.name.endswith(".json")))


def load_problem_set(name_or_path: str | os.PathLike) -> ProblemSet:
    """Load a built-in set by name (``"default"``) or a manifest from a filesystem path."""
    text_name = os.fspath(name_or_path)
    looks_like_path = (isinstance(name_or_path, os.PathLike) or text_name.endswith(".json")
                       or os.sep in text_name or "/" in text_name)
    if looks_like_path:
        manifest: Path | Traversable = Path(text_name)
        if not manifest.is_file():
            raise SpecError(f"problem set manifest not found: {text_name}", text_name)
    else:
        manifest = files("ida_ns._specs") / "sets" / f"{text_name}.json"
        if not manifest.is_file():
            raise SpecError(f"no built-in problem set {text_name!r}; built-in sets: "
                            f"{', '.join(builtin_sets()) or 'none'}; or give a path to a "
                            "manifest .json", text_name)
    return _load_manifest(manifest, text_name if looks_like_path else
                          f"specs/sets/{text_name}.json")


def _load_manifest(manifest: Path | Traversable, where: str) -> ProblemSet:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SpecError(f"invalid JSON: {e.msg}", where, e.lineno, e.colno) from e
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read manifest: {e}", where) from e

    def fail(msg: str, token: str | None = None) -> SpecError:
        return SpecError(msg, where, token=token)

    if not isinstance(data, dict):
        raise fail(f"a manifest is a JSON object, found {type(data).__name__}")
    unknown = set(data) - {"name", "description", "theory_dir", "problems"}
    if unknown:
        raise fail(f"unknown top-level key(s) {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise fail("missing or empty 'name'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("'description' must be a string")
    theory_dir = data.get("theory_dir", ".")
    if not isinstance(theory_dir, str):
        raise fail("'theory_dir' must be a string")
    raw_problems = data.get("problems")
    if not isinstance(raw_problems, list) or not raw_problems:
        raise fail("'problems' must be a non-empty list")

    theories: dict[str, Path | Traversable] = {}
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw_problems):
        at = f"problems[{i}]"
        if not isinstance(entry, dict):
            raise fail(f"{at} must be an object")
        pid = entry.get("id")
        label = f"{at} ({pid!r})" if isinstance(pid, str) else at
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise fail(f"{label}: missing key(s) {missing}")
        extra = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
        if extra:
            raise fail(f"{label}: unknown key(s) {sorted(extra)}")
        if not isinstance(pid, str) or not _ID_RE.match(pid):
            raise fail(f"{label}: 'id' must be a non-empty string of letters, digits, "
                       "'_', '.', '-'", str(pid))
        if pid in seen:
            raise fail(f"{label}: duplicate id", pid)
        seen.add(pid)
        goal = entry["goal"]
        if not isinstance(goal, str) or not goal.strip():
            raise fail(f"{label}: 'goal' must be a non-empty string")
        if not isinstance(entry["label"], bool):
            raise fail(f"{label}: 'label' must be true or false", str(entry["label"]))
        if entry["difficulty"] not in DIFFICULTIES:
            raise fail(f"{label}: 'difficulty' must be one of {list(DIFFICULTIES)}",
                       str(entry["difficulty"]))
        if entry["split"] not in SPLITS:
            raise fail(f"{label}: 'split' must be one of {list(SPLITS)}", str(entry["split"]))
        tags = entry.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise fail(f"{label}: 'tags' must be a list of strings")
        theory = entry["theory"]
        if not isinstance(theory, str) or not theory:
            raise fail(f"{label}: 'theory' must be a path string")
        if theory not in theories:
            try:
                path = _resolve(manifest, theory_dir, theory)
            except ValueError as e:
                raise fail(f"{label}: unknown theory file: {e}", theory) from None
            if not path.is_file():
                raise fail(f"{label}: unknown theory file {theory!r} (looked for {path})",
                           theory)
            try:
                _read_theory(path)
            except (OSError, UnicodeDecodeError) as e:
                raise fail(f"{label}: cannot read theory file {theory!r}: {e}", theory) from e
            theories[theory] = path
        out.append(SpecProblem(pid, theories[theory], goal, entry["label"],
                               entry["difficulty"], entry["split"], tuple(tags), theory))
    return ProblemSet(name, tuple(out), description, where)


_THEORY_TEXT: dict[str, str] = {}
_PARSED: dict[tuple[str, str], Problem] = {}


def _read_theory(path: Path | Traversable) -> str:
    key = str(path)
    text = _THEORY_TEXT.get(key)
    if text is None:
        text = _THEORY_TEXT[key] = path.read_text(encoding="utf-8")
    return text


def _resolve(manifest: Path | Traversable, theory_dir: str, theory: str) -> Path | Traversable:
    """Where ``theory`` lives: ``<manifest folder>/<theory_dir>/<theory>``."""
    if isinstance(manifest, Path):
        return manifest.parent / theory_dir / theory
    # A built-in manifest: a Traversable under the specs package, which has no ``parent``;
    # resolve the path inside the package instead.
    rel = posixpath.normpath(posixpath.join("sets", theory_dir, theory))
    if rel.startswith(".."):
        raise ValueError(f"{theory!r} lies outside the specs package")
    out = files("ida_ns._specs")
    for part in rel.split("/"):
        out = out / part
    return out


def problem_set_summary(ps: ProblemSet) -> dict[str, Any]:
    """Counts by theory, difficulty, label and split (for reports)."""
    from collections import Counter

    return {
        "problems": len(ps),
        "theory": dict(Counter(p.theory for p in ps)),
        "difficulty": dict(Counter(p.difficulty for p in ps)),
        "label": dict(Counter("true" if p.label else "false" for p in ps)),
        "split": dict(Counter(p.split for p in ps)),
    }
