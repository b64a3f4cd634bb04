"""Honest evaluation: H alone, proxy+H and proxy alone on the same problems, same node budget.

Each (problem, policy) search gets a *cold* verdict cache (no policy profits from another's
solver calls), the same fixed node budget (``max_nodes``; the wall-clock cap only stops
runaway solver time) and no theory exploration (the budget is the policy's).  A proof counts
only if the goal is labelled true and an independent re-check (:mod:`ida_ns.recheck`, other
solver first) accepts it; a proof of a false goal, or one the re-check rejects, is counted as
*accepted but false*.

Rows: ``{"file", "problem", "policy": "H" | "proxy+H" | "proxy", "status", "nodes", ...}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

POLICIES = ("H", "proxy+H", "proxy")


@dataclass(frozen=True)
class EvalSettings:
    node_budget: int = 12
    wall_s: float = 1.5
    leaf_timeout_s: float = 0.2
    solver: str = "z3"
    k: int = 0
    threshold: float = 0.35
    seed: int = 0
    no_verify: bool = False


def evaluate_problems(problems, proxy, prove_many, settings: EvalSettings, rechecker=None,
                      policies=POLICIES, calibrator=None, members=(), progress=None,
                      on_event=None) -> list[dict]:
    """One row per (problem, policy).  ``prove_many``: the leaf solver's batch prover."""
    from .errors import IdaNsError
    from .policies import EscalatingPolicy, ProxyPolicy
    from .prover.overseer import Overseer
    from .prover.prover import ProverConfig, prove_problem
    from .prover.verify import Checker, VerdictCache

    pcfg = ProverConfig(budget_s=settings.wall_s, solver=settings.solver,
                        leaf_timeout_s=settings.leaf_timeout_s, max_nodes=settings.node_budget,
                        explore=False, test_trials=150, seed=settings.seed)
    rows = []
    items = progress(problems) if progress else problems
    for sp in items:
        try:
            problem = sp.problem()
        except IdaNsError as e:
            for pol in policies:
                rows.append({"file": str(sp.source), "problem": sp.id, "policy": pol,
                             "status": "error", "nodes": 0, "label": sp.label,
                             "reason": str(e)[:300]})
            continue
        for pol in policies:
            if pol != "H" and proxy is None:
                continue
            checker = Checker(prove_many, solver=settings.solver,
                              leaf_timeout_s=settings.leaf_timeout_s, cache=VerdictCache(),
                              test_trials=150, seed=settings.seed)
            if pol == "H":
                policy = Overseer()
            elif pol == "proxy+H":
                policy = EscalatingPolicy(proxy, Overseer(), k=settings.k,
                                          threshold=settings.threshold, seed=settings.seed,
                                          drop_direct=not settings.no_verify,
                                          calibrator=calibrator, members=members,
                                          trust_uncalibrated=False)
            else:
                policy = ProxyPolicy(proxy, settings.k, settings.seed,
                                     drop_direct=not settings.no_verify)
            t0 = time.perf_counter()
            res = prove_problem(problem, checker, pcfg, policy=policy,
                                accept_unverified=settings.no_verify and pol != "H")
            s = res.stats
            row = {"file": str(sp.source), "problem": sp.id, "policy": pol,
                   "status": res.status, "nodes": s.expanded if s else 0, "label": sp.label,
                   "overrides": s.overrides if s else 0,
                   "proposed": s.proposed.get("proxy", 0) if s else 0,
                   "accepted": s.accepted.get("proxy", 0) if s else 0,
                   "used_proxy": s.used.get("proxy", 0) if s else 0,
                   "time_s": round(time.perf_counter() - t0, 3), "accepted_but_false": 0,
                   "confidence": _confidence_log(policy, res)}
            if res.status == "proved":
                bad = not sp.label
                if not bad and rechecker is not None:
                    ok, how, _ = rechecker.check_problem(problem, res.proof, res.lemmas,
                                                         f"eval-{pol}-{sp.id}")
                    bad = not ok
                    row["checked_by"] = how
                if bad:
                    row["accepted_but_false"] = 1
                    row["status"] = "accepted-but-false"
            rows.append(row)
            if on_event:
                on_event("eval", {k: v for k, v in row.items() if k != "confidence"})
    return rows


def _confidence_log(policy, res) -> list:
    """(raw confidence, outcome) per goal the proxy proposed for: outcome 1 when a step it
    proposed is the step a verified proof applied to that goal."""
    from .policies import proposal_hit

    log = getattr(policy, "log", None)
    if not log:
        return []
    used = proof_steps(res.proof, res.lemmas) if res.proof is not None else {}
    return [(round(c, 4), int(proposal_hit(used.get(k), t))) for k, t, c in log]


def proof_steps(proof, lemmas=None) -> dict:
    """goal key -> step text for every node of a proof (and its lemma proofs)."""
    from .prover.steps import step_text

    out = {}
    for tree in [proof, *(lemmas or {}).values()]:
        for n in tree.nodes():
            out.setdefault(n.goal.key(), step_text(n.step))
    return out


def summarize(rows: list[dict], node_budget: int) -> dict:
    """Per policy: solved (true goals, independently re-checked), accepted-but-false,
    nodes per true goal (an unsolved true goal counts the whole budget), overrides per node,
    proxy precision (proxy steps used in proofs / proxy proposals) and gate acceptance."""
    out = {}
    for pol in POLICIES:
        rs = [r for r in rows if r["policy"] == pol and r["status"] != "error"]
        if not rs:
            continue
        true = [r for r in rs if r["label"]]
        solved = [r for r in true if r["status"] == "proved"]
        nodes = sum(r["nodes"] if r["status"] == "proved" else node_budget for r in true)
        expanded = sum(r["nodes"] for r in rs)
        proposed = sum(r.get("proposed", 0) for r in rs)
        out[pol] = {
            "problems": len(rs), "true": len(true), "solved": len(solved),
            "refuted": sum(1 for r in rs if r["status"] == "refuted" and not r["label"]),
            "accepted_but_false": sum(r.get("accepted_but_false", 0) for r in rs),
            "nodes_per_goal": round(nodes / len(true), 2) if true else 0.0,
            "overrides_per_node": round(sum(r.get("overrides", 0) for r in rs) / expanded, 4)
            if expanded else 0.0,
            "proxy_precision": round(sum(r.get("used_proxy", 0) for r in rs) / proposed, 4)
            if proposed else 0.0,
            "gate_acceptance": round(sum(r.get("accepted", 0) for r in rs) / proposed, 4)
            if proposed else 0.0,
        }
    return out


def summary_table(summary: dict) -> str:
    lines = [f"{'policy':8} {'solved':>9} {'acc-but-false':>13} {'nodes/goal':>10} "
             f"{'overrides/node':>14} {'precision':>9} {'gate-acc':>8}"]
    for pol, s in summary.items():
        lines.append(f"{pol:8} {s['solved']:>4}/{s['true']:<4} {s['accepted_but_false']:>13} "
                     f"{s['nodes_per_goal']:>10.2f} {s['overrides_per_node']:>14.2f} "
                     f"{s['proxy_precision']:>9.2f} {s['gate_acceptance']:>8.2f}")
    return "\n".join(lines)


def run_eval(run_dir, sources, gen: int | None = None, out=None, limit: int = 0,
             node_budget: int | None = None, wall_s: float | None = None) -> dict:
    """``ida-ns eval``: one run's proxy generation on any sources, all three policies."""
    import os
    from pathlib import Path

    from .errors import IdaNsError
    from .ida_config import RunConfig
    from .sources import load_sources
    from .storage import atomic_write_json, read_json

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise IdaNsError(f"{run_dir}: not a run directory (no config.json); give the --out of "
                         "an `ida-ns run`")
    cfg = RunConfig(**{k: v for k, v in read_json(run_dir / "config.json").items()
                       if k in RunConfig.__dataclass_fields__})
    gens = sorted(d for d in (run_dir / "proxies").glob("gen-[0-9][0-9][0-9]")
                  if (d / "card.json").exists())
    if not gens:
        raise IdaNsError(f"{run_dir}: no saved proxy generation")
    if gen is None:
        gdir = gens[-1]
    else:
        gdir = run_dir / "proxies" / f"gen-{gen:03d}"
        if not (gdir / "card.json").exists():
            raise IdaNsError(f"{run_dir}: no generation {gen} (have "
                             f"{', '.join(d.name for d in gens)})")
    problems = load_sources(sources, limit, cfg.seed)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from ida_ns.solvers.pool import SolverPool

    from .policies import Calibrator
    from .proxy.model import Proxy
    from .recheck import Rechecker

    proxy = Proxy.load(gdir)
    settings = EvalSettings(node_budget=node_budget or cfg.node_budget,
                            wall_s=wall_s or cfg.eval_budget_s,
                            leaf_timeout_s=cfg.leaf_timeout_s, solver=cfg.solver, k=cfg.k,
                            threshold=cfg.threshold, seed=cfg.seed)
    other = "cvc5" if cfg.solver == "z3" else "z3"
    import tempfile

    print(f"ida-ns eval: {gdir.name} of {run_dir} on {len(problems)} problems; node budget "
          f"{settings.node_budget}, cold verdict caches", flush=True)
    with SolverPool(cfg.solver, workers=cfg.workers, timeout_s=cfg.leaf_timeout_s) as pool, \
            SolverPool(other, workers=1, timeout_s=cfg.recheck_timeout_s) as pool2, \
            tempfile.TemporaryDirectory() as tmp:
        rechecker = Rechecker({cfg.solver: pool.prove_many, other: pool2.prove_many},
                              cfg.solver, Path(tmp), cfg.recheck_timeout_s)
        rows = evaluate_problems(problems, proxy, pool.prove_many, settings, rechecker,
                                 calibrator=Calibrator.from_dict(proxy.card.get("calibration")),
                                 progress=_progress)
    for r in rows:
        r.pop("confidence", None)
        r["generation"] = gdir.name
    summ = summarize(rows, settings.node_budget)
    print(summary_table(summ), flush=True)
    if out:
        atomic_write_json(out, rows)
        print(f"rows: {out}", flush=True)
    return summ


def _progress(items):
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc="eval", leave=False, dynamic_ncols=True, mininterval=1.0)
