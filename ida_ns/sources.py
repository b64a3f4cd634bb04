"""Problem sources for the IDA loop and ``ida-ns eval``: a problem set or a folder of files.

A *source* is named on the command line as

* a built-in problem set name (``default``) or the path of a set manifest (``*.json``): all of
  its problems (both of its splits: held-out means a whole *source* never trained on, so a set
  given to ``--train`` is trained on whole);
* a folder of SMT-LIB / TIP files (``benchmarks/tip/prod``): every ``*.smt2`` file in it, in
  name order.  Every goal is labelled true (TIP benchmark goals are theorems) unless the folder
  is called ``false`` (TIP's folder of false properties);
* a single ``.smt2`` file.

Relative folder paths are tried against the working directory first, then against the
repository root, so ``benchmarks/tip/prod`` works from anywhere in a clone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FileProblem:
    """One problem file used as a labelled goal (same interface as ``SpecProblem``)."""

    id: str
    path: Path
    label: bool
    difficulty: str = "medium"
    split: str = ""
    source_name: str = ""

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def theory_path(self) -> Path:
        return self.path  # one theory per file: lemmas never cross files

    def text(self) -> str:
        return self.path.read_text()

    def theory_text(self) -> str:
        """The file's declarations (its goal is the ``prove``/``assert-not``; the tokenizer
        corpus takes the whole file)."""
        return self.text()

    @property
    def goal_text(self) -> str:
        return ""

    def problem(self):
        from .logic.parser import parse_file
        from .logic.sortcheck import sortcheck_problem

        p = parse_file(self.path)
        sortcheck_problem(p)
        return p


def _resolve_dir(name: str) -> Path | None:
    for base in (Path.cwd(), REPO_ROOT):
        p = (base / name) if not Path(name).is_absolute() else Path(name)
        if p.exists():
            return p
    return None


def load_source(name: str) -> list:
    """The problems of one source (see the module docstring); a clear error otherwise."""
    from .specs import builtin_sets, load_problem_set

    if name in builtin_sets() or name.endswith(".json"):
        ps = load_problem_set(name)
        return list(ps.problems)
    path = _resolve_dir(name)
    if path is None:
        raise SpecError(f"no such problem set, folder or file (built-in sets: "
                        f"{', '.join(builtin_sets())})", file=name)
    if path.is_file():
        files = [path]
        folder = path.parent
    else:
        files = sorted(path.glob("*.smt2"))
        folder = path
        if not files:
            raise SpecError("folder holds no .smt2 files", file=str(path))
    label = folder.name != "false"
    return [FileProblem(id=f"{folder.name}/{f.stem}", path=f, label=label,
                        source_name=folder.name) for f in files]


def load_sources(names, limit: int = 0, seed: int = 0) -> list:
    """Problems of several sources, deduplicated by id; ``limit > 0`` keeps a seeded sample
    of that many (spread over the sources in proportion to their size), in source order."""
    out, seen = [], set()
    for n in names:
        for p in load_source(n):
            if p.id not in seen:
                seen.add(p.id)
                out.append(p)
    return seeded_sample(out, limit, seed)


def seeded_sample(items: list, limit: int, seed: int) -> list:
    """``limit`` of ``items`` drawn with ``seed``, in their order (all of them when
    ``limit`` is 0 or not smaller)."""
    if limit and len(items) > limit:
        keep = set(random.Random(seed).sample(range(len(items)), limit))
        return [p for i, p in enumerate(items) if i in keep]
    return items
