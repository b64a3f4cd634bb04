"""The ``ida-ns`` command line.  Each subcommand imports what it needs when it runs, so
``ida-ns check`` never loads torch or transformers.

Exit codes, the same for every subcommand (README "Exit codes"):

    0  proved / valid / consistent / finished
    1  refuted / invalid / inconsistent (a definite negative answer)
    2  unknown (no answer within the budget)
    3  usage or input error (bad arguments, unreadable or malformed input)

``check`` and ``gate`` over several files exit with the most severe code of their rows, in the
order 3 > 1 > 2 > 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import IdaNsError

SOLVERS = ("z3", "cvc5", "cvc5-ind")

EXIT_OK, EXIT_REFUTED, EXIT_UNKNOWN, EXIT_ERROR = 0, 1, 2, 3
_STATUS_EXIT = {"proved": EXIT_OK, "valid": EXIT_OK, "consistent": EXIT_OK,
                "refuted": EXIT_REFUTED, "invalid": EXIT_REFUTED, "inconsistent": EXIT_REFUTED,
                "unknown": EXIT_UNKNOWN, "error": EXIT_ERROR}
_SEVERITY = (EXIT_ERROR, EXIT_REFUTED, EXIT_UNKNOWN, EXIT_OK)


def exit_code(statuses) -> int:
    """The exit code of a list of row statuses: the most severe, 3 > 1 > 2 > 0."""
    codes = {_STATUS_EXIT.get(s, EXIT_ERROR) for s in statuses}
    for c in _SEVERITY:
        if c in codes:
            return c
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    """argparse with this CLI's conventions: usage errors exit 3 (not argparse's 2, which is
    'unknown' here), and defaults are shown in help."""

    def __init__(self, *a, **kw):
        kw.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*a, **kw)

    def error(self, message):  # noqa: D401 - argparse API
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not x > 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return x


def positive_int(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if x < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return x


def _graph_path(text: str) -> str:
    from .prover.proof import graph_format

    try:
        graph_format(text)
    except IdaNsError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _pool(solver: str, timeout_s: float, workers: int = 1):
    from ida_ns.solvers.pool import SolverPool

    return SolverPool(solver, workers=workers, timeout_s=timeout_s)


# ---- check -------------------------------------------------------------------------------
def cmd_check(args) -> int:
    # Each file runs in its own child under a hard limit and a memory cap (ida_ns/limited.py)
    from .limited import run_check
    from .logic.bignum import abbreviate_numerals

    rows = []
    for f in args.files:
        path, name = _stdin_to_file(f)
        try:
            row, _ = run_check(path, args.solver, args.timeout, memory_mb=args.memory_mb)
        finally:
            _drop_stdin_copy(path, name)
        if name != path:
            row["file"] = name
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            extra = row.get("reason") or ""
            if row.get("counterexample"):
                extra = "counterexample: " + ", ".join(
                    f"{k} = {abbreviate_numerals(str(v))}"
                    for k, v in row["counterexample"].items())
            print(f"{row['status']:8} {row['time_s']:7.3f}s  {row['file']}  {extra}".rstrip(),
                  flush=True)
    return exit_code(r["status"] for r in rows)


def _drop_stdin_copy(path: str, name: str) -> None:
    """Remove the temporary copy :func:`_stdin_to_file` made (a named file is left alone)."""
    if name != path:
        Path(path).unlink(missing_ok=True)


def _stdin_to_file(path: str) -> tuple[str, str]:
    """``-`` is standard input: saved to a temporary file for the budgeted child.  Returns
    (path to read, name to show)."""
    if path != "-":
        return path, path
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".smt2", delete=False) as tmp:
        tmp.write(sys.stdin.read())
    return tmp.name, "<stdin>"


# ---- gate --------------------------------------------------------------------------------
def cmd_gate(args) -> int:
    from .gate import gate_file

    rows = []
    with _pool(args.solver, 2.0) as pool:
        for f in args.files:
            row = gate_file(f, pool.prove_many, args.timeout, args.solver)
            rows.append(row)
            if args.json:
                print(json.dumps({k: row[k] for k in ("file", "status", "reason", "evidence")}),
                      flush=True)
            else:
                print(f"{row['status']:12} {row['time_s']:7.3f}s  {row['file']}  "
                      f"{row['reason']}".rstrip(), flush=True)
    return exit_code(r["status"] for r in rows)


# ---- prove -------------------------------------------------------------------------------
def cmd_prove(args) -> int:
    # The whole command runs in a child under its budget (ida_ns/limited.py)
    from .limited import ProveOptions, run_prove

    if getattr(args, "overseer", "H") == "human":  # in this process: it needs the terminal
        from .human import require_tty
        from .logic.parser import parse_file
        from .logic.sortcheck import sortcheck_problem

        require_tty()
        problem = parse_file(args.file)
        sortcheck_problem(problem)
        return _prove_human(args, problem)
    path, name = _stdin_to_file(args.file)
    opts = ProveOptions(budget_s=args.budget, solver=args.solver,
                        leaf_timeout_s=args.leaf_timeout, strong=args.strong,
                        workers=args.workers, json=args.json, cert=args.cert,
                        graph=args.graph, cache=args.cache,
                        strong_root=not args.no_strong_root, html=args.html,
                        name=name if name != path else None)
    try:
        text, code, _, notes = run_prove(path, opts, memory_mb=args.memory_mb)
    finally:
        _drop_stdin_copy(path, name)
    if code == EXIT_ERROR:
        print(f"ida-ns: error: {text}", file=sys.stderr)
    else:
        print(text)
    for n in notes:
        print(n, file=sys.stderr)
    return code


def _prove_human(args, problem) -> int:
    """``prove --overseer human``: a person drives an interactive session (see ida_ns.human)."""
    from .human import prove_interactively
    from .prover.render import render_tree
    from .session import ProofSession

    proxy = None
    if getattr(args, "proxy", None):
        from .proxy.model import Proxy

        proxy = Proxy.load(args.proxy)
    with ProofSession(problem, solver=args.solver, leaf_timeout_s=max(args.leaf_timeout or 0.25, 1.0),
                      workers=args.workers) as session:
        finished = prove_interactively(session, proxy=proxy, auto_budget_s=args.budget)
        if getattr(args, "html", None):
            from .report.html import write_proof_report

            write_proof_report(args.html, args.file, {
                "status": "proved" if finished else "unknown",
                "reason": "" if finished else "unfinished interactive proof",
                "tree": session.tree(), "session_log": session.log[-500:]}, problem)
        if not finished:
            print(f"{args.file}: unknown (interactive proof unfinished: "
                  f"{len(session.goals)} open goal(s)); no certificate written")
            return EXIT_UNKNOWN
        proof = session.proof()
        print(f"{args.file}: proved interactively")
        print("proof:")
        print("\n".join(render_tree(proof, {}, "  ")))
        if args.cert:
            session.save_certificate(args.cert)
            print(f"certificate: {args.cert} (check it with: ida-ns check-proof {args.cert})")
    return 0


def cmd_check_proof(args) -> int:
    from .prover.certificate import check_certificate

    expected = None
    if args.problem:
        from .logic.parser import parse_file
        from .logic.sortcheck import sortcheck_problem

        expected = parse_file(args.problem)
        sortcheck_problem(expected)
    report = check_certificate(args.cert, solver=args.solver, timeout_s=args.timeout,
                               problem=expected, cross=args.cross)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(report.render())
    return EXIT_OK if report.ok else EXIT_REFUTED


# ---- bench -------------------------------------------------------------------------------
def cmd_bench(args) -> int:
    from .bench import run_tip_bench

    run_tip_bench(Path(args.dir), budget_s=args.budget, jobs=args.jobs, out=args.json,
                  systems=tuple(args.systems.split(",")), cert_dir=args.certs,
                  limit=args.limit, hard_limit_s=args.hard_limit,
                  memory_mb=args.memory_mb, resume=args.resume, executor=args.executor,
                  ray_address=args.ray_address,
                  strong_root=not args.no_strong_root, proxy=args.proxy,
                  lemma_library=args.lemma_library)
    return 0


# ---- distill (one process, or each rank under torchrun) ----------------------------------
def cmd_distill(args) -> int:
    from .distributed import run_distill

    return run_distill(args)


# ---- IDA loop ----------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .ida import RunConfig, run

    cfg = RunConfig.from_args(args)
    if getattr(cfg, "overseer", "H") not in ("H", "human"):
        raise IdaNsError(f"--overseer must be H or human, got {cfg.overseer!r}")
    if getattr(cfg, "overseer", "H") == "human":
        from .human import HumanBudget, require_tty

        HumanBudget(cfg.human_budget)  # validates the budget
        require_tty()
    run(cfg)
    return 0


def cmd_eval(args) -> int:
    from .evaluation import run_eval

    run_eval(Path(args.run), args.dirs, gen=args.gen, out=args.json, limit=args.limit,
             node_budget=args.node_budget, wall_s=args.wall)


def cmd_report(args) -> int:
    from .report.html import write_run_report

    info = write_run_report(Path(args.run), Path(args.output))
    print(f"report: {args.output} ({info['problems']} problems, {info['rounds']} rounds, "
          f"audit {info['audit']})")
    return 0


def cmd_proxies(args) -> int:
    from .ida import list_proxies

    print(list_proxies(Path(args.run)))
    return 0


def cmd_audit(args) -> int:
    from .audit import verify_log

    path = Path(args.run)
    if path.is_dir():
        path = path / "audit.jsonl"
    report = verify_log(path)
    if report.ok:
        print(f"audit OK: {report.records} records, chain intact ({path})")
        return EXIT_OK
    print(f"audit FAILED at {report.broken_at}: {report.reason} ({path})")
    return EXIT_REFUTED


def _executor_arguments(p: argparse.ArgumentParser) -> None:
    """``--executor local|ray`` and ``--ray-address`` (see ida_ns.executors)."""
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where per-problem tasks run: a local process pool, or Ray "
                        "(pip install 'ida-ns[ray]')")
    p.add_argument("--ray-address", default=None,
                   help="join this Ray cluster (default: $RAY_ADDRESS, else start a local "
                        "Ray with --jobs CPUs)")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="ida-ns", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ida-ns {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="parse, sort-check, consistency-gate and prove directly")
    c.add_argument("files", nargs="+", help="SMT-LIB/TIP files; - reads standard input")
    c.add_argument("--solver", choices=SOLVERS, default="z3", help="solver")
    c.add_argument("--timeout", type=positive_float, default=5.0, help="seconds per file")
    c.add_argument("--json", action="store_true", help="one JSON object per file")
    c.add_argument("--memory-mb", type=positive_int, default=4096,
                   help="address-space cap of each file's process (MiB)")
    c.set_defaults(fn=cmd_check)

    c = sub.add_parser("gate", help="the consistency gate of each file's theory, with evidence")
    c.add_argument("files", nargs="+")
    c.add_argument("--json", action="store_true", help="one JSON object per file")
    c.add_argument("--timeout", type=positive_float, default=10.0,
                   help="seconds per file (whole gate)")
    c.add_argument("--solver", choices=("z3", "cvc5"), default="z3",
                   help="solver for obligation leaves and model search")
    c.set_defaults(fn=cmd_gate)

    c = sub.add_parser("prove", help="prove a goal by verified decomposition")
    c.add_argument("file", help="SMT-LIB/TIP file; - reads standard input")
    c.add_argument("--budget", type=positive_float, default=5.0, help="wall seconds")
    c.add_argument("--solver", choices=SOLVERS, default="z3", help="leaf solver")
    c.add_argument("--leaf-timeout", type=positive_float, default=None,
                   help="solver seconds per leaf (default: scaled with --budget, 0.25 at 5 s)")
    c.add_argument("--no-strong-root", action="store_true",
                   help="ablation: no strong-closer attempt on the root goal (decomposition "
                        "alone; the strong closer still closes subgoals)")
    c.add_argument("--strong", choices=("cvc5-ind", "none"), default="cvc5-ind",
                   help="a strong closer tried once on the root goal before decomposition "
                        "(its leaf is re-checked with the same solver by check-proof)")
    c.add_argument("--workers", type=positive_int, default=2, help="solver worker processes")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--cert", help="write a proof certificate (JSON) here; an unknown result "
                                  "writes its partial proof (not a certificate)")
    c.add_argument("--graph", type=_graph_path,
                   help="export the proof graph (or partial proof graph), format by "
                        "extension: .json, .graphml, .dot/.gv")
    c.add_argument("--cache", help="on-disk verdict cache (JSON lines)")
    c.add_argument("--memory-mb", type=positive_int, default=4096,
                   help="address-space cap of the proving process (MiB); the budget's hard "
                        "wall limit is enforced on it too")
    c.add_argument("--html", help="write a self-contained HTML report of the proof here")
    c.add_argument("--overseer", choices=("H", "human"), default="H",
                   help="who decides the steps: H (automatic search) or human (you, at the "
                        "terminal, with H and the proxy advising; needs a TTY)")
    c.add_argument("--proxy", help="with --overseer human: a proxy directory whose top-k "
                                   "steps are shown as suggestions")
    c.set_defaults(fn=cmd_prove)

    c = sub.add_parser("check-proof", help="re-verify a proof certificate independently")
    c.add_argument("cert")
    c.add_argument("--solver", choices=SOLVERS, default=None,
                   help="solver for the leaves (default: the one that made the proof)")
    c.add_argument("--timeout", type=positive_float, default=5.0, help="seconds per leaf")
    c.add_argument("--problem", metavar="FILE",
                   help="refuse the certificate unless it is for exactly this problem "
                        "(same parsed theory and goal)")
    c.add_argument("--cross", nargs="?", const="auto", choices=("auto",) + SOLVERS,
                   default=None, help="also re-prove every leaf with a second solver ('auto': "
                                      "cvc5 for z3 leaves, z3 for cvc5 leaves)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(fn=cmd_check_proof)

    c = sub.add_parser("bench", help="benchmarks")
    bsub = c.add_subparsers(dest="bench", required=True)
    b = bsub.add_parser("tip", help="a TIP folder through ida-ns, z3 and cvc5-ind")
    b.add_argument("dir")
    b.add_argument("--budget", type=positive_float, default=5.0, help="seconds per problem")
    b.add_argument("--jobs", type=positive_int, default=2, help="problems in parallel")
    b.add_argument("--json", required=True,
                   help="JSON Lines output: one row per (problem, system), appended as soon "
                        "as it ends, then a summary line")
    b.add_argument("--systems", default="ida-ns,z3,cvc5-ind",
                   help="comma-separated: ida-ns, ida-ns-decomp (ida-ns without the root "
                        "strong leaf), z3, cvc5, cvc5-ind")
    b.add_argument("--hard-limit", type=positive_float, default=None,
                   help="seconds after which a problem's process is killed, whatever the "
                        "system (default 1.5 x budget + 2)")
    b.add_argument("--memory-mb", type=positive_int, default=4096,
                   help="address-space cap of each problem's process (MiB)")
    b.add_argument("--resume", action="store_true",
                   help="keep the rows already in --json and run only the missing ones")
    b.add_argument("--certs", help="folder for ida-ns proof certificates")
    b.add_argument("--limit", type=positive_int, default=None, help="only the first N files")
    _executor_arguments(b)
    b.add_argument("--no-strong-root", action="store_true",
                   help="ablation: ida-ns without the cvc5-with-induction attempt on the root "
                        "goal (decomposition alone)")
    b.add_argument("--proxy", metavar="RUN_OR_GEN",
                   help="policy: a distilled proxy generation (or a run's newest), escalating "
                        "to the overseer H")
    b.add_argument("--lemma-library", metavar="FILE", default=None,
                   help="keep the lemmas ida-ns proves in FILE (JSON Lines; FILE.ida-ns-decomp "
                        "for that system) for later problems of the run with the same "
                        "definitions, which re-prove them step by step before use (emptied "
                        "at the start unless --resume)")
    b.set_defaults(fn=cmd_bench)

    c = sub.add_parser("run", help="the IDA loop: amplify, verify, distill, evaluate")
    from .ida_config import add_run_arguments

    add_run_arguments(c)
    c.set_defaults(fn=cmd_run)

    c = sub.add_parser("distill", help="train a proxy generation on verified pairs; runs "
                       "under torchrun --nproc-per-node N for DDP (gloo on CPU, NCCL on GPUs)")
    from .distributed import add_distill_arguments

    add_distill_arguments(c)
    c.set_defaults(fn=cmd_distill)

    c = sub.add_parser("eval", help="held-out evaluation of a run's proxy: H alone, proxy+H "
                                    "and proxy alone at the same node budget")
    c.add_argument("run", help="run directory (its config.json gives budgets and solver)")
    c.add_argument("dirs", nargs="+", metavar="DIR",
                   help="folders of .smt2 files (TIP works), problem sets or files")
    c.add_argument("--gen", type=int, default=None, help="proxy generation (default: latest)")
    c.add_argument("--json", help="write one row per problem and policy here (JSON list)")
    c.add_argument("--limit", type=int, default=0, help="seeded sample of N problems (0: all)")
    c.add_argument("--node-budget", type=positive_int, default=None,
                   help="expansions per problem (default: the run's)")
    c.add_argument("--wall", type=positive_float, default=None,
                   help="wall-clock cap per problem and policy (default: the run's)")
    c.set_defaults(fn=cmd_eval)

    c = sub.add_parser("report", help="a self-contained HTML report of a run")
    c.add_argument("run", help="run directory")
    c.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    c.set_defaults(fn=cmd_report)

    c = sub.add_parser("proxies", help="list the proxy generations of a run")
    c.add_argument("run")
    c.set_defaults(fn=cmd_proxies)

    c = sub.add_parser("audit", help="audit log tools")
    asub = c.add_subparsers(dest="audit", required=True)
    a = asub.add_parser("verify", help="verify a run's hash-chained audit log")
    a.add_argument("run", help="run directory (or the audit.jsonl file)")
    a.set_defaults(fn=cmd_audit)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except IdaNsError as e:
        print(f"ida-ns: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # output piped into a reader that quit (| head): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:
        name = getattr(e, "filename", None)
        where = f"{name}: " if name else ""
        print(f"ida-ns: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ida-ns: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
