"""The ``ida-ns`` command line.  Each subcommand imports what it needs when it runs, so
``ida-ns check`` never loads torch or transformers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import IdaNsError

SOLVERS = ("z3", "cvc5", "cvc5-ind")


def _pool(solver: str, timeout_s: float, workers: int = 1):
    from solvers.pool import SolverPool

    return SolverPool(solver, workers=workers, timeout_s=timeout_s)


# ---- check -------------------------------------------------------------------------------
def cmd_check(args) -> int:
    from .check import check_file

    rows = []
    with _pool(args.solver, args.timeout) as pool:
        for f in args.files:
            row = check_file(f, pool, args.solver, args.timeout)
            rows.append(row)
            if args.json:
                print(json.dumps(row.as_dict()), flush=True)
            else:
                extra = row.reason or ""
                if row.counterexample:
                    extra = "counterexample: " + ", ".join(f"{k} = {v}"
                                                          for k, v in row.counterexample)
                print(f"{row.status:8} {row.time_s:7.3f}s  {row.file}  {extra}".rstrip(),
                      flush=True)
    return 1 if any(r.status == "error" for r in rows) else 0


# ---- prove -------------------------------------------------------------------------------
def cmd_prove(args) -> int:
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem
    from .prover.certificate import save_certificate
    from .prover.prover import ProverConfig, prove_problem
    from .prover.render import render_result
    from .prover.verify import Checker, VerdictCache

    if getattr(args, "overseer", "H") == "human":
        from .human import require_tty

        require_tty()
    problem = parse_file(args.file)
    sortcheck_problem(problem)
    if getattr(args, "overseer", "H") == "human":
        return _prove_human(args, problem)
    cfg = ProverConfig(budget_s=args.budget, solver=args.solver,
                       leaf_timeout_s=args.leaf_timeout)
    from contextlib import ExitStack

    with ExitStack() as stack:
        pool = stack.enter_context(_pool(args.solver, args.leaf_timeout, workers=args.workers))
        checker = Checker.from_pool(pool, leaf_timeout_s=args.leaf_timeout,
                                    cache=VerdictCache(args.cache) if args.cache else None)
        strong = None
        if args.strong != "none":
            sp = stack.enter_context(_pool(args.strong, cfg.strong_s, workers=1))
            strong = (args.strong, sp.prove_many)
        from .report.recorder import SearchRecorder

        with SearchRecorder(checker) as rec:  # what the search tried, for --html
            result = prove_problem(problem, checker, cfg, strong=strong,
                                   on_event=rec.wrap(None))
    if args.cert and result.proof is not None:
        save_certificate(args.cert, problem, result, args.solver)
    if args.graph and result.proof is not None:
        from .prover.proof import export_graph, proof_graph

        export_graph(proof_graph(result.proof, result.lemmas), args.graph)
    if getattr(args, "html", None):
        from .report.html import write_proof_report
        from .report.tree import result_tree

        write_proof_report(args.html, args.file, result_tree(result, rec), problem)
    if args.json:
        from .prover.render import result_json

        print(json.dumps(result_json(args.file, result)))
    else:
        print(render_result(args.file, result))
    return 0


def _prove_human(args, problem) -> int:
    """``prove --overseer human``: a person drives an interactive session (see ida_ns.human)."""
    from .human import prove_interactively
    from .prover.render import render_tree
    from .session import ProofSession

    proxy = None
    if getattr(args, "proxy", None):
        from .proxy.model import Proxy

        proxy = Proxy.load(args.proxy)
    with ProofSession(problem, solver=args.solver, leaf_timeout_s=max(args.leaf_timeout, 1.0),
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
            return 0
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

    report = check_certificate(args.cert, solver=args.solver, timeout_s=args.timeout)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(report.render())
    return 0 if report.ok else 1


# ---- bench -------------------------------------------------------------------------------
def cmd_bench(args) -> int:
    from .bench import run_tip_bench

    run_tip_bench(Path(args.dir), budget_s=args.budget, jobs=args.jobs, out=args.json,
                  systems=tuple(args.systems.split(",")), cert_dir=args.certs,
                  limit=args.limit)
    return 0


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
        return 0
    print(f"audit FAILED at {report.broken_at}: {report.reason} ({path})")
    return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ida-ns", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("check", help="parse, sort-check, consistency-gate and prove directly")
    c.add_argument("files", nargs="+")
    c.add_argument("--solver", choices=SOLVERS, default="z3")
    c.add_argument("--timeout", type=float, default=5.0, help="seconds per file")
    c.add_argument("--json", action="store_true", help="one JSON object per file")
    c.set_defaults(fn=cmd_check)

    c = sub.add_parser("prove", help="prove a goal by verified decomposition")
    c.add_argument("file")
    c.add_argument("--budget", type=float, default=5.0, help="wall seconds")
    c.add_argument("--solver", choices=SOLVERS, default="z3", help="leaf solver")
    c.add_argument("--leaf-timeout", type=float, default=0.25)
    c.add_argument("--strong", choices=("cvc5-ind", "none"), default="cvc5-ind",
                   help="a strong closer tried once on the root goal before decomposition "
                        "(its leaf is re-checked with the same solver by check-proof)")
    c.add_argument("--workers", type=int, default=2, help="solver worker processes")
    c.add_argument("--json", action="store_true")
    c.add_argument("--cert", help="write a proof certificate (JSON) here")
    c.add_argument("--graph", help="export the proof graph (.graphml or .json)")
    c.add_argument("--cache", help="on-disk verdict cache (JSON lines)")
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
    c.add_argument("--timeout", type=float, default=5.0, help="seconds per leaf")
    c.add_argument("--json", action="store_true")
    c.set_defaults(fn=cmd_check_proof)

    c = sub.add_parser("bench", help="benchmarks")
    bsub = c.add_subparsers(dest="bench", required=True)
    b = bsub.add_parser("tip", help="a TIP folder through ida-ns, z3 and cvc5-ind")
    b.add_argument("dir")
    b.add_argument("--budget", type=float, default=5.0, help="seconds per problem")
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--json", required=True, help="write the per-problem rows here")
    b.add_argument("--systems", default="ida-ns,z3,cvc5-ind")
    b.add_argument("--certs", help="folder for ida-ns proof certificates")
    b.add_argument("--limit", type=int, default=None, help="only the first N files")
    b.set_defaults(fn=cmd_bench)

    c = sub.add_parser("run", help="the IDA loop: amplify, verify, distill, evaluate")
    from .ida_config import add_run_arguments

    add_run_arguments(c)
    c.set_defaults(fn=cmd_run)

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
        return 2
    except KeyboardInterrupt:
        print("ida-ns: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
