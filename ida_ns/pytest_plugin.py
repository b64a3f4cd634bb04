"""pytest plugin: the goals of SMT-LIB/TIP spec files as test items, proof first.

Registered through the ``pytest11`` entry point (and usable as ``-p ida_ns.pytest_plugin``);
it does nothing unless spec files are asked for::

    pytest --ida-ns-specs 'examples/**/*.smt2'                # or, in the ini file:
    [tool.pytest.ini_options]                                 #   ida_ns_specs = specs/*.smt2
    ida_ns_specs = ["specs/*.smt2"]

Each goal of a matching file (``(prove ...)``/``(assert-not ...)``; named by ``:named``,
else ``goal1``, ``goal2``...) becomes one item ``FILE::NAME``, proved with the project's
prover (consistency gate, counterexample testing, verified decomposition):

* proved -> pass (``--ida-ns-certs DIR`` writes each proof certificate to DIR);
* refuted -> fail, showing the counterexample as Python values and SMT-LIB terms;
* unknown -> skip with the reason (fail with ``--ida-ns-strict``).

``--ida-ns-budget S`` (seconds per goal), ``--ida-ns-solver z3|cvc5|cvc5-ind`` (leaf solver),
``--ida-ns-strong cvc5-ind|none``, ``--ida-ns-workers N``.  Every option has an ini twin
(``ida_ns_budget`` ...).  Works with ``pytest -n auto`` (each worker proves its own items);
the junit XML carries the verdict as the property ``ida_ns_verdict`` of each test case.
Spec files outside the paths pytest collects are added to the collection.

Importing this module imports nothing heavy; the prover loads when the first goal runs.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

_KEY = pytest.StashKey[dict]()
_OPTIONS = (  # (option, ini name, help, default)
    ("budget", "ida_ns_budget", "seconds per goal", "5"),
    ("solver", "ida_ns_solver", "leaf solver: z3, cvc5 or cvc5-ind", "z3"),
    ("strong", "ida_ns_strong", "closer tried once on each goal: cvc5-ind or none", "cvc5-ind"),
    ("workers", "ida_ns_workers", "solver worker processes per pytest process", "1"),
    ("certs", "ida_ns_certs", "folder for the certificates of proved goals", ""),
)


def pytest_addoption(parser):
    group = parser.getgroup("ida-ns", "ida-ns spec files as tests (proof first)")
    group.addoption("--ida-ns-specs", action="append", default=[], metavar="GLOB",
                    help="collect the goals of spec files matching GLOB (repeatable)")
    parser.addini("ida_ns_specs", "globs of spec files whose goals are collected", "linelist",
                  default=[])
    for name, ini, help_, default in _OPTIONS:
        group.addoption(f"--ida-ns-{name}", default=None, help=f"{help_} (default {default})")
        parser.addini(ini, help_, default=default)
    group.addoption("--ida-ns-strict", action="store_true", default=None,
                    help="an unknown verdict fails instead of skipping")
    parser.addini("ida_ns_strict", "unknown verdicts fail", "bool", default=False)


def _setting(config, name: str, ini: str):
    v = config.getoption(f"ida_ns_{name}")
    return v if v is not None else config.getini(ini)


def pytest_configure(config):
    config.addinivalue_line("markers", "ida_ns_spec: a goal of an SMT-LIB/TIP spec file")
    specs = list(config.getoption("ida_ns_specs") or [])
    base_cli = Path(config.invocation_params.dir)
    patterns = [(p, base_cli) for p in specs]
    patterns += [(p, Path(config.rootpath)) for p in config.getini("ida_ns_specs")]
    if not patterns:
        return
    files: set[Path] = set()
    for pattern, base in patterns:
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        found = {Path(f).resolve() for f in glob.glob(full, recursive=True) if os.path.isfile(f)}
        if not found:
            config.issue_config_time_warning(pytest.PytestConfigWarning(
                f"ida-ns: spec glob {pattern!r} matched no file (relative to {base})"),
                stacklevel=2)
        files.update(found)
    try:
        budget = float(_setting(config, "budget", "ida_ns_budget"))
        workers = int(_setting(config, "workers", "ida_ns_workers"))
    except ValueError as e:
        raise pytest.UsageError(f"ida-ns: --ida-ns-budget and --ida-ns-workers take numbers "
                                f"({e})") from None
    options = dict(budget_s=budget, solver=str(_setting(config, "solver", "ida_ns_solver")),
                   strong=str(_setting(config, "strong", "ida_ns_strong")), workers=workers)
    from .errors import IdaNsError
    from .spec_goals import configure_shared

    try:
        configure_shared(**options)
    except IdaNsError as e:
        raise pytest.UsageError(f"ida-ns: {e}") from None
    strict = config.getoption("ida_ns_strict")
    certs = _setting(config, "certs", "ida_ns_certs")
    config.stash[_KEY] = {
        "files": files, "strict": bool(strict if strict is not None
                                       else config.getini("ida_ns_strict")),
        "certs": Path(base_cli / certs) if certs else None}
    _add_outside_files(config, files)


def _add_outside_files(config, files: set[Path]) -> None:
    """Spec files that no collection argument covers join the arguments."""
    base = Path(config.invocation_params.dir)
    roots = []
    for a in config.args:
        p = Path(a.split("::")[0])
        roots.append((p if p.is_absolute() else base / p).resolve())
    for f in sorted(files):
        if not any(f == r or r in f.parents for r in roots):
            config.args.append(str(f))
            roots.append(f)


def pytest_unconfigure(config):
    if _KEY in config.stash:
        from .spec_goals import close_shared

        close_shared()


def pytest_collect_file(file_path, parent):
    state = parent.config.stash.get(_KEY, None)
    if state is not None and Path(file_path).resolve() in state["files"]:
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    """A spec file: one :class:`SpecItem` per goal."""

    def collect(self):
        from .spec_goals import load_goals

        for g in load_goals(self.path):
            item = SpecItem.from_parent(self, name=g.name, goal=g)
            item.add_marker("ida_ns_spec")
            yield item

    def repr_failure(self, excinfo, style=None):
        from .errors import IdaNsError

        if excinfo.errisinstance(IdaNsError):
            return f"ida-ns: {excinfo.value}"
        return super().repr_failure(excinfo, style)


def _skip(message: str) -> BaseException:
    """A skip reported at the goal's line in the spec file (not at this module)."""
    try:
        return pytest.skip.Exception(message, _use_item_location=True)
    except TypeError:  # a pytest without the keyword
        return pytest.skip.Exception(message)


class GoalRefuted(AssertionError):
    pass


class GoalUnknown(AssertionError):
    pass


class SpecItem(pytest.Item):
    """One goal: proved passes, refuted fails, unknown skips (or fails when strict)."""

    def __init__(self, *, goal, **kw):
        super().__init__(**kw)
        self.goal = goal

    def runtest(self):
        from .spec_goals import prove_goal

        state = self.config.stash[_KEY]
        result = prove_goal(self.goal)
        v = result.verdict
        self.user_properties.append(("ida_ns_verdict", v.status))
        self.user_properties.append(("ida_ns_solver", v.solver))
        self.user_properties.append(("ida_ns_time_s", f"{result.time_s:.3f}"))
        if v.status == "proved":
            if state["certs"] is not None and result.proof is not None:
                self._write_certificate(state["certs"], result)
            return
        if v.status == "refuted":
            raise GoalRefuted(self._refuted_text(v))
        reason = getattr(v, "reason", "") or "no verdict"
        if state["strict"]:
            raise GoalUnknown(f"goal {self.name} ({self._where()}) was not proved: {reason} "
                              f"(--ida-ns-strict)")
        raise _skip(f"ida-ns: unknown: {reason}")

    def _write_certificate(self, folder: Path, result) -> None:
        from .prover.certificate import save_certificate

        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{self.path.stem}.{self.name}.json"
        save_certificate(out, self.goal.problem, result, result.verdict.solver or "z3")
        self.user_properties.append(("ida_ns_certificate", str(out)))

    def _where(self) -> str:
        return f"{self.path.name}:{self.goal.line}"

    def _refuted_text(self, v) -> str:
        from .logic.printer import print_term
        from .spec_goals import counterexample_rows

        rows = counterexample_rows(self.goal.problem, v.counterexample)
        how = "testing" if v.solver == "testing" else v.solver or "a solver"
        lines = [f"goal {self.name} ({self._where()}) is false (refuted by {how})",
                 "counterexample:"]
        lines += [f"  {r.render()}" for r in rows] or ["  (the solver gave no values)"]
        text = print_term(self.goal.problem.goal, theory=self.goal.problem.theory)
        lines.append(f"goal: {text if len(text) < 300 else text[:300] + '...'}")
        return "\n".join(lines)

    def repr_failure(self, excinfo, style=None):
        if excinfo.errisinstance((GoalRefuted, GoalUnknown)):
            return str(excinfo.value)
        from .errors import IdaNsError

        if excinfo.errisinstance(IdaNsError):
            return f"ida-ns: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.goal.line - 1, f"ida-ns goal {self.name}"


def pytest_runtest_makereport(item, call):
    """``@proves`` tests: their verdict joins the junit properties too."""
    fn = getattr(item, "function", None)
    if call.when == "call" and fn is not None and hasattr(fn, "ida_ns_goal"):
        status = getattr(fn, "ida_ns_verdict", None)
        if status and ("ida_ns_verdict", status) not in item.user_properties:
            item.user_properties.append(("ida_ns_verdict", status))
