"""The IDA loop, top to bottom: amplify, re-check, evaluate, distill (expert iteration).

    X_0 = a fresh (untrained) proxy, or a local HF causal LM (--proxy DIR)
    LEMMA BANK (round 0, once): the training sources' goals outside the sampled training goals
              are proved by H alone (no exploration, 2x the node budget, 0.75 s each); their
              re-checked proofs are distilled and fill the lemma memory and recall table
    for round r = 0 .. R:
        AMPLIFY   EVERY training goal is searched again (expert iteration), with theory
                  exploration: round 0 by the overseer H alone (X_0 is untrained, so round 0 is
                  the H-alone baseline that seeds the data); later rounds by X_r proposing and H
                  taking over when X_r's calibrated confidence is low (or its candidates fail)
        RE-CHECK  every proof found is re-checked independently (certificate checker, the
                  *other* solver first) -> VerifiedPairs; hindsight: subgoals closed in any
                  search (failed ones too) and proved explored lemmas, re-checked the same way;
                  proved lemmas join the training goals (curriculum).  Pair hashes -> audit log
        EVALUATE  held-out goals (a whole source never trained on) at a fixed node budget,
                  H alone / X_r with H / X_r alone, cold verdict caches; KPIs -> metrics.jsonl
        DISTILL   (r < R) X_{r+1} = X_r trained on everything kept: the cheapest verified proof
                  per goal over all rounds (lemma bank included), plus every verified
                  hindsight pair (round 0 from scratch; later rounds continue X_r briefly).
                  An empty training set keeps X_{r+1} = X_r (logged and audited); the loop
                  never dies.

Distillation accepts only :class:`ida_ns.recheck.VerifiedPairs`; ``--no-verify`` is the
separately named unsafe path (:func:`ida_ns.recheck.unverified_pairs`) and marks the generation
cards and the audit log unverified.  Everything (steps, verdicts, re-checks, training sets,
distillations, metrics) goes to the hash-chained audit log.  The run directory is crash-safe:
traces are appended durably per problem, generations and state are written atomically, and
``--resume`` continues where a killed run stopped without losing or duplicating a verified
trace.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from .audit import AuditLog
from .errors import IdaNsError
from .ida_config import RunConfig
from .storage import append_line_durable, atomic_write_json, read_json, read_jsonl

METRIC_KEYS = ("round", "train_solved", "train_total", "heldout_H", "heldout_solved",
               "proxy_only_solved", "heldout_total", "heldout_refuted", "proxy_precision",
               "gate_acceptance", "overrides", "nodes_per_proof", "drift", "agree_H", "ece",
               "accepted_but_false", "pairs", "origin_shares", "distill_loss", "time_s")


@dataclass
class RunState:
    round: int = 0  # the round in progress
    phase: str = "amplify"  # amplify | evaluate | distill | done
    generation: str = ""  # directory of X_round


def run(cfg: RunConfig) -> list[dict]:
    """The IDA loop (``--seeds K``: K loops in OUT/seed-N, then the summary)."""
    if cfg.seeds > 1:
        return run_seeds(cfg)
    both = set(cfg.train) & set(cfg.heldout)
    if both and not (cfg.spec or cfg.tiny):  # before anything is created or loaded
        raise IdaNsError(f"{', '.join(sorted(both))}: named as both a training and a "
                         "held-out source (held-out means never trained on)")
    if not (cfg.resume and Path(cfg.out, "state.json").exists()):
        _splits(cfg)  # bad sources fail here, before a run directory is created
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from ida_ns.solvers.pool import SolverPool

    from .prover.verify import Checker, VerdictCache
    from .recheck import Rechecker

    run_dir, cfg, state = _open_run(cfg)
    audit = AuditLog(run_dir / "audit.jsonl")  # first: it repairs a crash's torn tail or head
    attested = _attested(run_dir)  # pair hashes the audit log says were re-checked
    train, heldout, name = _splits(cfg)
    bank = _bank(cfg, train)
    audit.append("run", {"config": cfg.as_dict(), "sources": name, "train": len(train),
                         "heldout": len(heldout), "bank": len(bank),
                         "resumed_at": [state.round, state.phase],
                         "round0": "overseer H alone (X_0 untrained)"})
    metrics = [m for m in read_jsonl(run_dir / "metrics.jsonl", missing_ok=True).records]
    print(f"ida-ns run: {name}: {len(train)} training goals, {len(heldout)} held out"
          + (f", lemma bank of {len(bank)}" if bank else "")
          + f"; rounds 0..{cfg.rounds}; run directory {run_dir}", flush=True)
    other = "cvc5" if cfg.solver == "z3" else "z3"
    with SolverPool(cfg.solver, workers=cfg.workers, timeout_s=cfg.leaf_timeout_s) as pool, \
            SolverPool(other, workers=1, timeout_s=cfg.recheck_timeout_s) as pool2:
        checker = Checker.from_pool(pool, leaf_timeout_s=cfg.leaf_timeout_s,
                                    cache=VerdictCache(run_dir / "verdicts.jsonl"),
                                    seed=cfg.seed,
                                    on_event=lambda kind, data: audit.append(kind, data))
        rechecker = Rechecker({cfg.solver: pool.prove_many, other: pool2.prove_many},
                              cfg.solver, run_dir / "certs", cfg.recheck_timeout_s)
        proxy = _current_proxy(run_dir, cfg, state, train + bank, audit)
        previous = None
        while state.round <= cfg.rounds:
            r = state.round
            t0 = time.perf_counter()
            if state.phase == "amplify":  # ---------------------------------- AMPLIFY
                amplify(r, train, proxy, checker, rechecker, cfg, run_dir, audit, attested,
                        bank if r == 0 else ())
                _save_state(run_dir, state, phase="evaluate")
            if state.phase == "evaluate":  # -------------------------------- EVALUATE
                row = evaluate(r, train, heldout, proxy, previous, pool.prove_many, rechecker,
                               cfg, run_dir, audit)
                row["time_s"] = round(time.perf_counter() - t0, 1)
                if not any(m["round"] == r for m in metrics):
                    append_line_durable(run_dir / "metrics.jsonl", json.dumps(row))
                    audit.append("metrics", row)
                    metrics.append(row)
                print(kpi_table(metrics), flush=True)
                _save_state(run_dir, state, phase="distill" if r < cfg.rounds else "done")
            if state.phase == "distill":  # ---------------------------------- DISTILL
                previous = proxy
                proxy = distill_round(r, proxy, cfg, run_dir, audit, attested,
                                      train + bank, heldout)
                state.generation = proxy.path
                state.round = r + 1
                _save_state(run_dir, state, phase="amplify")
                continue
            break
    plot_kpis(metrics, run_dir / "kpis.png")
    audit.append("done", {"rounds": len(metrics)})
    audit.close()
    print(f"done: {run_dir}/metrics.jsonl, {run_dir}/kpis.png, audit log "
          f"{run_dir}/audit.jsonl ({len(metrics)} rounds)", flush=True)
    return metrics


# ============================================================================== AMPLIFY
def amplify(r: int, train, proxy, checker, rechecker, cfg: RunConfig, run_dir: Path, audit,
            attested: set, bank=()) -> None:
    """Search every training goal (and the curriculum of lemmas proved so far) with X_r + H;
    re-check each proof independently; append one trace per goal to traces.jsonl.  ``bank``
    (round 0 only): the lemma bank's goals, proved once by H alone without exploration
    (:func:`_bank`); their traces are marked ``"bank": true``."""
    from .prover.proof import LemmaLibrary
    from .prover.prover import ProverConfig, prove_problem

    done = {(t["round"], t["problem"]) for t in _traces(run_dir)}
    libraries: dict = {}
    verified_lemmas: dict = {}
    proved_cache: dict = {}
    pcfg = ProverConfig(budget_s=cfg.problem_budget_s, solver=cfg.solver,
                        leaf_timeout_s=cfg.leaf_timeout_s, max_nodes=4 * cfg.node_budget,
                        test_trials=150, seed=cfg.seed)
    calibrator = _calibrator(proxy)
    rechecker.cert_dir = run_dir / "certs" / f"round-{r:03d}"
    bank_cfg = replace(pcfg, budget_s=cfg.bank_budget_s, explore=False,
                       max_nodes=2 * cfg.node_budget)
    in_bank = {sp.id for sp in bank}
    goals = list(train) + _curriculum(run_dir, train, r) + list(bank)
    for sp in _progress(goals, f"round {r} amplify"):
        if (r, sp.id) in done:
            continue  # resumed: trace already on disk
        try:
            problem = sp.problem()
        except IdaNsError as e:
            _trace(run_dir, audit, {"round": r, "problem": sp.id, "status": "error",
                                    "label": sp.label, "reason": str(e)[:300], "pairs": []})
            continue
        library = libraries.setdefault(str(sp.theory_path), LemmaLibrary())
        vlemmas = verified_lemmas.setdefault(str(sp.theory_path), set())
        lib_before, cache_before = set(library.proofs), set(proved_cache)
        policies: list = []
        banked = sp.id in in_bank  # the lemma bank is the machine overseer's, H alone
        policy = None if banked else _policy_factory(proxy, cfg, r, calibrator, policies)
        prove = prove_problem
        if getattr(cfg, "overseer", "H") == "human" and not banked:
            from .human import prove_with_human as prove  # thinking time is not budget
        from .report.recorder import SearchRecorder
        from .report.tree import result_tree

        with SearchRecorder(checker) as recorder:  # what was tried, for `ida-ns report`
            result = prove(problem, checker, bank_cfg if banked else pcfg,
                           policy=recorder.policy(policy),
                           library=library, proved_cache=proved_cache,
                           accept_unverified=cfg.no_verify,
                           on_event=recorder.wrap(lambda kind, data: audit.append(kind, data)))
        record = {"round": r, "problem": sp.id, "status": result.status, "label": sp.label,
                  "stats": result.stats.as_dict() if result.stats else {},
                  "time_s": round(result.time_s, 3), "pairs": [], "proof": None,
                  "hindsight": [], "accepted_but_false": 0,
                  "curriculum": isinstance(sp, LemmaGoal), "bank": banked}
        if result.proof is not None:
            if cfg.no_verify:  # UNSAFE ablation path: nobody re-checks what is kept
                from .recheck import unverified_pairs

                kept = unverified_pairs(sp.id, result)
                ok, _, _ = rechecker.check_problem(problem, result.proof, result.lemmas,
                                                   f"r{r}-{sp.id}")  # for the KPI only
                record["accepted_but_false"] = int(not ok or not sp.label)
            else:
                kept = rechecker.verified_proof(f"{sp.id}", problem, result)
                record["accepted_but_false"] = int(kept is None or not sp.label)
                if kept is not None:
                    vlemmas.update(result.lemmas)
            if kept is not None:
                record["proof"] = kept.record()
                record["pairs"] = [list(p) for p in kept.pairs]
        if not cfg.no_verify and cfg.hindsight and not banked:
            record["hindsight"] = _hindsight(sp, problem, result, library, lib_before,
                                             proved_cache, cache_before, vlemmas, rechecker,
                                             cfg.hindsight)
        record["confidence"] = _confidence(policies, result, proved_cache)
        record["report"] = result_tree(result, recorder)  # the proof tree for `ida-ns report`
        for rec in ([record["proof"]] if record["proof"] else []) + record["hindsight"]:
            verified = rec["checked_by"] != "UNVERIFIED"
            audit.append("verified" if verified else "UNVERIFIED",
                         {"round": r, "problem": sp.id, "kind": rec["kind"],
                          "sha256": rec["sha256"], "pairs": len(rec["pairs"]),
                          "checked_by": rec["checked_by"]})
            if verified:
                attested.add(rec["sha256"])
        _trace(run_dir, audit, record)


def _trace(run_dir: Path, audit, record: dict) -> None:
    append_line_durable(run_dir / "traces.jsonl", json.dumps(record))
    audit.append("trace", {"round": record["round"], "problem": record["problem"],
                           "status": record["status"], "pairs": len(record["pairs"]),
                           "hindsight": len(record.get("hindsight", []))})


def _hindsight(sp, problem, result, library, lib_before, proved_cache, cache_before,
               vlemmas, rechecker, limit: int) -> list[dict]:
    """Verified pairs from what this search closed besides its final proof: every proved
    explored lemma (a closed formula: checked as a problem of its own) and up to ``limit``
    subgoals closed by a real step (failed searches included), largest proofs first."""
    from .evaluation import proof_steps
    from .prover.steps import Direct

    out = []
    for formula in [f for f in library.proofs if f not in lib_before]:
        if formula in (result.lemmas or {}):
            continue  # already part of the re-checked proof
        lp = library.proofs[formula]
        from .prover.prover import used_lemmas

        vp = rechecker.verified_lemma(sp.id, problem, formula, lp, used_lemmas(lp, library))
        if vp is not None:
            from .logic.printer import print_term

            vlemmas.add(formula)
            out.append({**vp.record(), "lemma": print_term(formula)})
    in_proof = set(proof_steps(result.proof, result.lemmas)) if result.proof else set()
    fresh = [proved_cache[k] for k in proved_cache if k not in cache_before
             and k not in in_proof and not isinstance(proved_cache[k].step, Direct)]
    fresh.sort(key=lambda p: -p.size())
    for proof in fresh[:limit]:
        vp = rechecker.verified_subgoal(sp.id, proof.goal, proof, vlemmas)
        if vp is not None:
            out.append(vp.record())
    return out


def _curriculum(run_dir: Path, train, r: int) -> list:
    """Proved explored lemmas of earlier rounds join the training goals as problems of their
    own (curriculum): the smallest one per training goal, at most a quarter of the goals."""
    by_id = {sp.id: sp for sp in train}
    out, seen = [], set()
    for t in _traces(run_dir):
        if t["round"] >= r or t["problem"] not in by_id:
            continue
        lemmas = sorted((h["lemma"] for h in t.get("hindsight", []) if h.get("lemma")),
                        key=len)
        for f in lemmas[:1]:
            g = LemmaGoal.make(by_id[t["problem"]], f)
            if g.id not in seen:
                seen.add(g.id)
                out.append(g)
    return out[: max(1, len(train) // 4)]


@dataclass(frozen=True)
class LemmaGoal:
    """A proved explored lemma as a training goal of its own (curriculum)."""

    id: str
    base: object
    formula: str
    label: bool = True
    difficulty: str = "easy"
    split: str = "train"

    @classmethod
    def make(cls, base, formula: str) -> "LemmaGoal":
        import hashlib

        h = hashlib.sha256(formula.encode()).hexdigest()[:10]
        return cls(f"{base.id}#lemma-{h}", base, formula)

    @property
    def source(self):
        return f"{self.base.source} lemma {self.formula[:60]}"

    @property
    def theory_path(self):
        return self.base.theory_path

    def theory_text(self) -> str:
        return self.base.theory_text()

    @property
    def goal_text(self) -> str:
        return self.formula

    def problem(self):
        from .logic.ast import BOOL, Problem
        from .logic.parser import parse_term

        base = self.base.problem()
        goal = parse_term(self.formula, base.theory, {}, expected=BOOL, file=self.id)
        return Problem(base.theory, goal, source=self.id)


def _policy_factory(proxy, cfg: RunConfig, r: int, calibrator, policies: list):
    """Round 0 and --no-proxy: the overseer alone; later: X_r, escalating to H."""
    from .policies import EscalatingPolicy
    from .prover.overseer import Overseer

    def escalating(conjectures):
        p = EscalatingPolicy(proxy, Overseer(conjectures=conjectures), k=cfg.k,
                             threshold=cfg.threshold, seed=cfg.seed + r,
                             drop_direct=not cfg.no_verify, calibrator=calibrator,
                             members=_members(proxy, cfg), trust_uncalibrated=False,
                             consult_h=True)
        policies.append(p)
        return p

    # round 0 and --no-proxy: None, prove_problem's default (H with exploration)
    inner = None if cfg.no_proxy or proxy is None or r == 0 else escalating
    if getattr(cfg, "overseer", "H") == "human":  # a person decides (ida_ns.human)
        from .human import human_policy_factory

        return human_policy_factory(inner, cfg)
    return inner


def _confidence(policies, result, proved_cache) -> list:
    """(raw confidence, outcome) of the proxy's proposals in this goal's searches: outcome 1
    when a verified proof of that goal (the final one, or any subgoal closed) applied one of
    the steps it proposed there."""
    from .evaluation import proof_steps
    from .policies import proposal_hit
    from .prover.steps import step_text

    used = proof_steps(result.proof, result.lemmas) if result.proof is not None else {}
    out = []
    for p in policies:
        for key, text, conf in p.log:
            step = used.get(key)
            if step is None and key in proved_cache:
                step = step_text(proved_cache[key].step)
            out.append((round(conf, 4), int(proposal_hit(step, text))))
    return out


def _calibrator(proxy):
    from .policies import Calibrator

    return Calibrator.from_dict((getattr(proxy, "card", None) or {}).get("calibration"))


_MEMBERS: dict = {}


def _members(proxy, cfg: RunConfig) -> list:
    """Ensemble members of X_r (``--ensemble N``): X_r and its sibling members trained with
    other seeds, saved in ``<gen>/members/``."""
    if cfg.ensemble <= 1 or not proxy.path:
        return []
    from .proxy.model import Proxy

    key = proxy.path
    if key not in _MEMBERS:
        root = Path(proxy.path) / "members"
        ms = [proxy] + [Proxy.load(d) for d in sorted(root.iterdir())
                        if (d / "card.json").exists()] if root.is_dir() else [proxy]
        _MEMBERS.clear()
        _MEMBERS[key] = ms
    return _MEMBERS[key]


# ============================================================================= EVALUATE
def evaluate(r: int, train, heldout, proxy, previous, prove_many, rechecker, cfg: RunConfig,
             run_dir: Path, audit) -> dict:
    """KPIs of round r: held-out goals at a fixed node budget, H alone / X_r+H / X_r alone."""
    from .evaluation import EvalSettings, evaluate_problems, summarize
    from .policies import expected_calibration_error

    settings = EvalSettings(node_budget=cfg.node_budget, wall_s=cfg.eval_budget_s,
                            leaf_timeout_s=cfg.leaf_timeout_s, solver=cfg.solver, k=cfg.k,
                            threshold=cfg.threshold, seed=cfg.seed, no_verify=cfg.no_verify)
    pols = ("H",) if cfg.no_proxy else ("H", "proxy+H", "proxy")
    rechecker.cert_dir = run_dir / "certs" / f"eval-{r:03d}"
    rows = evaluate_problems(heldout, proxy, prove_many, settings, rechecker, pols,
                             calibrator=_calibrator(proxy), members=_members(proxy, cfg),
                             progress=lambda xs: _progress(xs, f"round {r} evaluate"))
    atomic_write_json(run_dir / "eval" / f"round-{r:03d}.json", rows)
    summ = summarize(rows, cfg.node_budget)
    main = summ.get("proxy+H", summ.get("H", {}))
    traces = [t for t in _traces(run_dir) if t["round"] == r]
    train_ids = {sp.id for sp in train}
    solved = {t["problem"] for t in traces if t["status"] == "proved" and t["label"]
              and t.get("proof") and t["problem"] in train_ids}
    raw = [tuple(c) for row in rows if row["policy"] == "proxy+H"
           for c in row.get("confidence", [])]
    cal = _calibrator(proxy)
    conf = [(cal(c), y) for c, y in raw]
    drift, agree_h = _drift(proxy, previous, heldout, run_dir)
    origins = {"proxy": 0, "H": 0, "hindsight": 0}
    for p in _dataset_pairs(run_dir, r, None):
        origins[p[3] if p[3] in origins else "H"] += 1
    total = sum(origins.values())
    t_prop = sum(t["stats"].get("proposed", {}).get("proxy", 0) for t in traces)
    t_used = sum(t["stats"].get("used", {}).get("proxy", 0) for t in traces if t.get("proof"))
    return {
        "round": r,
        "train_solved": len(solved),  # this round's re-amplification (expert iteration)
        "train_kept": sum(1 for rec in _dataset(run_dir, r, None)
                          if rec["kind"] == "proof" and rec["problem"] in train_ids),
        "train_total": sum(1 for sp in train if sp.label),
        "bank_solved": sum(1 for t in traces if t.get("bank") and t.get("proof")),
        "bank_total": sum(1 for t in traces if t.get("bank")),
        "heldout_H": summ.get("H", {}).get("solved", 0),
        "heldout_solved": main.get("solved", 0),  # proxy+H
        "proxy_only_solved": summ.get("proxy", {}).get("solved", 0),
        "heldout_total": main.get("true", 0),
        "heldout_refuted": main.get("refuted", 0),
        "proxy_precision": main.get("proxy_precision", 0.0),
        "gate_acceptance": main.get("gate_acceptance", 0.0),
        "train_proxy_precision": round(t_used / t_prop, 4) if t_prop else 0.0,
        "overrides": main.get("overrides_per_node", 0.0),
        "nodes_per_proof": main.get("nodes_per_goal", 0.0),
        "nodes_per_goal_H": summ.get("H", {}).get("nodes_per_goal", 0.0),
        "drift": drift,
        "agree_H": agree_h,
        "ece": expected_calibration_error(conf),  # of the calibrated confidence used
        "ece_raw": expected_calibration_error(raw),
        "accepted_but_false": sum(s.get("accepted_but_false", 0) for s in summ.values())
        + sum(t.get("accepted_but_false", 0) for t in traces),
        "pairs": total,
        "origin_shares": {k: round(v / total, 3) if total else 0.0 for k, v in origins.items()},
        "recheck": dict(rechecker.stats),
        "verified": not cfg.no_verify,
        "distill_loss": None,
    }


def eval_prover_config(cfg: RunConfig):
    from .prover.prover import ProverConfig

    return ProverConfig(budget_s=cfg.eval_budget_s, solver=cfg.solver,
                        leaf_timeout_s=cfg.leaf_timeout_s, max_nodes=cfg.node_budget,
                        explore=False, test_trials=150, seed=cfg.seed)


def evaluate_problem(sp, proxy, checker, cfg: RunConfig, pcfg) -> dict:
    """One held-out goal: guided (X_r with H) and proxy-only; its contributions to the KPIs."""
    from .policies import EscalatingPolicy, ProxyPolicy
    from .prover.overseer import Overseer
    from .prover.prover import prove_problem

    one = {"proved": 0, "refuted": 0, "nodes": [], "expanded": 0, "overrides": 0,
           "proposed": 0, "accepted": 0, "false": 0, "only": 0}
    problem = sp.problem()
    if cfg.no_proxy:
        policy = Overseer()
    else:
        policy = EscalatingPolicy(proxy, Overseer(), k=cfg.k, threshold=cfg.threshold,
                                  seed=cfg.seed, drop_direct=not cfg.no_verify)
    res = prove_problem(problem, checker, pcfg, policy=policy,
                        accept_unverified=cfg.no_verify)
    s = res.stats
    if s is not None:
        one["expanded"] += s.expanded
        one["overrides"] += s.overrides
        one["proposed"] += s.proposed.get("proxy", 0)
        one["accepted"] += s.accepted.get("proxy", 0)
    if res.status == "proved":
        one["false"] += _false_nodes(res, checker) + (0 if sp.label else 1)
        if sp.label:
            one["proved"] += 1
            one["nodes"].append(s.expanded if s else 0)
    elif res.status == "refuted" and not sp.label:
        one["refuted"] += 1
    if not cfg.no_proxy:
        res2 = prove_problem(problem, checker, pcfg,
                             policy=ProxyPolicy(proxy, cfg.k, cfg.seed,
                                                drop_direct=not cfg.no_verify),
                             accept_unverified=cfg.no_verify)
        if res2.status == "proved":
            one["false"] += _false_nodes(res2, checker) + (0 if sp.label else 1)
            one["only"] += 1 if sp.label else 0
    return one


def _false_nodes(result, checker) -> int:
    """Ground-truth re-check of an accepted proof by random testing: goals of its nodes (and
    lemmas) that testing refutes (the --no-verify ablation shows what the gate stops)."""
    count = 0
    nodes = list(result.proof.nodes())
    for p in result.lemmas.values():
        nodes.extend(p.nodes())
    seen = set()
    for n in nodes:
        k = n.goal.key()
        if k in seen:
            continue
        seen.add(k)
        if checker.counterexample(n.goal) is not None:
            count += 1
    return count


def _drift(proxy, previous, heldout, run_dir: Path) -> tuple[float | None, float | None]:
    """Drift on a held-out probe: share of the held-out root goals on which X_r's greedy step
    differs from X_{r-1}'s (first value); and X_r's top-1 agreement with H's verified steps
    on a probe of round-0 training pairs (second value)."""
    if proxy is None:
        return None, None
    from .policies import goal_prompt
    from .prover.goal import Goal

    items = []
    for sp in list(heldout)[:40]:
        try:
            p = sp.problem()
        except IdaNsError:
            continue
        items.append(goal_prompt(Goal(p.theory, p.goal)))
    agree_h = None
    probe = [p for t in _traces(run_dir) if t["round"] == 0 for p in t["pairs"][:2]][:60]
    if probe:
        top = [c[0].text if c else "" for c in proxy.propose_batch(
            [(g, c) for g, c, *_ in probe], 0)]
        agree_h = round(sum(a == p[2] for a, p in zip(top, probe)) / len(probe), 4)
    if previous is None or not items:
        return None, agree_h
    now = [c[0].text if c else "" for c in proxy.propose_batch(items, 0)]
    prev = [c[0].text if c else "" for c in previous.propose_batch(items, 0)]
    return round(sum(a != b for a, b in zip(now, prev)) / len(items), 4), agree_h


# ============================================================================== DISTILL
def _dataset(run_dir: Path, r: int, attested: set | None):
    """Everything kept up to round r: the cheapest re-checked proof per goal over all rounds
    plus every re-checked hindsight record (deduplicated by hash), as VerifiedPairs (or, with
    ``attested=None`` for statistics, as raw records)."""
    from .recheck import VerifiedPairs

    best: dict = {}
    hind: dict = {}
    for t in _traces(run_dir):
        if t["round"] > r:
            continue
        rec = t.get("proof")
        if rec and (t["problem"] not in best or rec["cost"] < best[t["problem"]]["cost"]):
            best[t["problem"]] = rec
        for h in t.get("hindsight", []):
            hind.setdefault(h["sha256"], h)
    recs = list(best.values()) + list(hind.values())
    if attested is None:
        return recs
    return [VerifiedPairs.from_record(x, attested) for x in recs]


def _dataset_pairs(run_dir: Path, r: int, attested) -> list[tuple]:
    seen, out = set(), []
    for rec in _dataset(run_dir, r, None):
        for p in rec["pairs"]:
            if tuple(p[:3]) not in seen:
                seen.add(tuple(p[:3]))
                out.append(tuple(p))
    return out


def training_pairs(records) -> list[tuple[str, str, str]]:
    """The verified trainer's input: VerifiedPairs only (by type, not by a flag)."""
    from .recheck import VerifiedPairs

    seen, out = set(), []
    for rec in records:
        if not isinstance(rec, VerifiedPairs):
            raise TypeError(f"distillation takes VerifiedPairs only, got {type(rec).__name__}"
                            " (the --no-verify ablation uses unsafe_training_pairs)")
        for g, c, s, _ in rec.pairs:
            if (g, c, s) not in seen:
                seen.add((g, c, s))
                out.append((g, c, s))
    return out


def unsafe_training_pairs(run_dir: Path, r: int) -> list[tuple[str, str, str]]:
    """UNSAFE (``--no-verify`` only): pairs of proofs nobody re-checked."""
    return [p[:3] for p in _dataset_pairs(run_dir, r, None)]


def lemma_memory(records, train):
    """The lemma memory of X_{r+1}: every closed lemma of the verified records that parses
    over its problem's theory, with its functions' fingerprints
    (:mod:`ida_ns.proxy.candidates`): ``lemma`` steps of kept proofs (calculated, explored
    and conjectured lemmas, and the library lemmas a leaf used), then the root goal of every
    record (training goals, curriculum lemmas, hindsight lemmas and subgoals), then other
    closed goals of the proofs that are not mere instances of a definition (a function applied
    to a constant constructor, such as ``(len nil)``).  Pair texts are in the proxy's
    canonical names; they are mapped back to the theory's names before parsing."""
    from .logic.ast import BOOL
    from .logic.parser import parse_term
    from .proxy.candidates import MAX_MEMORY, LemmaMemory
    from .proxy.canon import function_names, inverse, rename_tokens
    from .recheck import VerifiedPairs

    by_id = {sp.id: sp for sp in train}
    problems: dict = {}
    ranked: list = []  # (priority, text, base id)
    for rec in records:
        if not isinstance(rec, VerifiedPairs):
            raise TypeError("the lemma memory is built from VerifiedPairs only")
        base = by_id.get(rec.problem.split("#lemma-")[0])
        if base is None:
            continue
        for i, (g, c, s, _) in enumerate(rec.pairs):
            if s.startswith("lemma "):
                ranked.append((0, s[len("lemma "):], base.id))
            if not c.startswith(("fix ", "hyp ")):  # a closed formula standing alone
                ranked.append((1 if i == 0 else 2, g, base.id))
    entries, seen, texts = [], set(), set()
    for prio, text, bid in sorted(ranked, key=lambda x: x[0]):
        if (text, bid) in seen:
            continue
        seen.add((text, bid))
        if bid not in problems:
            try:
                problems[bid] = by_id[bid].problem()
            except IdaNsError:
                problems[bid] = None
        prob = problems[bid]
        if prob is None:
            continue
        plain = rename_tokens(text, inverse(function_names(prob.theory)))
        try:
            formula = parse_term(plain, prob.theory, {}, expected=BOOL, file="<memory>")
        except (IdaNsError, RecursionError):
            continue  # mentions the goal's own variables: not a closed lemma
        if prio == 2 and _definition_instance(formula, prob.theory):
            continue
        e = LemmaMemory.entry(formula, prob.theory)
        if e is not None and e["text"] not in texts:
            texts.add(e["text"])
            e["origin"] = ("lemma step", "root goal", "subgoal")[prio]
            e["source"] = bid  # the training problem it was verified on (provenance)
            entries.append(e)
    entries.sort(key=lambda e: (len(e["text"]), e["text"]))
    return LemmaMemory(entries[:MAX_MEMORY], recall_table(records))


def recall_table(records) -> dict:
    """Goal key -> the steps verified training proofs applied there (canonical names; no
    ``direct``: the search tries it on every goal anyway), cheapest proofs first."""
    from .proxy.candidates import MAX_RECALL, MAX_RECALL_STEPS, recall_key
    from .recheck import VerifiedPairs

    table: dict = {}
    for rec in sorted(records, key=lambda r: (r.kind != "proof", r.cost)):
        if not isinstance(rec, VerifiedPairs):
            raise TypeError("the recall table is built from VerifiedPairs only")
        for g, c, s, _ in rec.pairs:
            if s == "direct":
                continue
            steps = table.setdefault(recall_key(g, c), [])
            if s not in steps and len(steps) < MAX_RECALL_STEPS:
                steps.append(s)
        if len(table) >= MAX_RECALL:
            break
    return table


def check_memory_provenance(memory, train, heldout=()) -> None:
    """Refuse a lemma memory with an entry not verified on a training problem (held-out
    means never trained on: no held-out goal or lemma derived from one may be offered)."""
    ids = {sp.id for sp in train}
    held = {sp.id for sp in heldout}
    bad = [e for e in memory.entries if e.get("source") not in ids or e.get("source") in held]
    if bad:
        raise IdaNsError(f"lemma memory: {len(bad)} entries not from a training problem "
                         f"(first: {bad[0].get('source')!r}: {bad[0]['text'][:120]})")


def _definition_instance(formula, theory) -> bool:
    """Whether a defined function is applied to a constant constructor in ``formula`` (an
    induction base case such as ``(= (len (snoc nil x)) (S (len nil)))``: it unfolds by the
    definitions, so it is no lemma worth offering)."""
    from .logic.ast import App, subterms

    ctors = {c.name for dt in theory.all_datatypes() for c in dt.ctors if not c.fields}
    for t in subterms(formula):
        if isinstance(t, App) and theory.fundef(t.fn) is not None and any(
                isinstance(a, App) and a.fn in ctors and not a.args for a in t.args):
            return True
    return False


def distill_round(r: int, proxy, cfg: RunConfig, run_dir: Path, audit, attested: set,
                  train=(), heldout=()):
    """X_{r+1} from X_r on everything kept so far (this round's records as new pairs, the
    rest replayed in full); an empty training set keeps X_{r+1} = X_r."""
    from .proxy.distill import distill
    from .proxy.model import Proxy

    target = run_dir / "proxies" / f"gen-{r + 1:03d}"
    if (target / "card.json").exists():  # resumed after the generation was saved
        return Proxy.load(target)
    if cfg.no_verify:
        pairs = unsafe_training_pairs(run_dir, r)
        shas = [rec["sha256"] for rec in _dataset(run_dir, r, None)]
    else:
        records = _dataset(run_dir, r, attested)
        pairs = training_pairs(records)
        shas = [v.sha256 for v in records]
    now = {tuple(p[:3]) for t in _traces(run_dir) if t["round"] == r
           for p in t["pairs"] + [q for h in t.get("hindsight", []) for q in h["pairs"]]}
    new = [p for p in pairs if p in now]
    replay = [p for p in pairs if p not in now]
    from .recheck import pairs_sha256

    audit.append("trainset", {"round": r, "verified": not cfg.no_verify, "pairs": len(pairs),
                              "records": shas, "sha256": pairs_sha256(pairs)})
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    dcfg = _distill_config(cfg, r)
    if not pairs:
        print(f"round {r}: no verified pairs kept; X_{r + 1} = X_{r}", flush=True)
        shutil.copytree(proxy.path, tmp)
        card = read_json(tmp / "card.json")
        card.update({"generation": r + 1, "parent": str(Path(proxy.path).resolve()),
                     "note": f"empty round {r}: X_{r + 1} = X_{r}",
                     "verified": not cfg.no_verify})
        atomic_write_json(tmp / "card.json", card)
        os.replace(tmp, target)
        audit.append("distill", {"round": r, "generation": target.name, "empty": True,
                                 "parent": Path(proxy.path).name, "verified": not cfg.no_verify,
                                 "model_sha256": card.get("model_sha256")})
        return Proxy.load(target)
    child, m = distill(proxy, new, replay, dcfg, tmp)
    if not cfg.no_verify:  # the lemma memory: lemmas of verified records only
        child.memory = lemma_memory(records, train)
        check_memory_provenance(child.memory, train, heldout)
    card = read_json(tmp / "card.json")
    if not cfg.no_verify and (len(child.memory) or child.memory.recall):
        card.update({"lemma_memory_sha256": child.memory.save(tmp),
                     "lemma_memory": len(child.memory)})
    card["verified"] = not cfg.no_verify
    if cfg.no_verify:
        card["note"] = "UNVERIFIED: trained with --no-verify on proofs nobody re-checked"
    card["calibration"] = _fit_calibration(run_dir, r)
    atomic_write_json(tmp / "card.json", card)
    if cfg.ensemble > 1:
        for i in range(1, cfg.ensemble):
            distill(proxy, new, replay, replace(dcfg, seed=dcfg.seed + 1000 * i),
                    tmp / "members" / f"m{i}")
    os.replace(tmp, target)
    child.path = str(target)
    audit.append("distill", {"round": r, "generation": target.name,
                             "parent": Path(proxy.path).name if proxy.path else None,
                             "verified": not cfg.no_verify,
                             "dataset_sha256": card.get("dataset_sha256"),
                             "model_sha256": card.get("model_sha256"),
                             "pairs": len(new), "replay": len(replay),
                             "ensemble": cfg.ensemble, "config": dcfg.to_dict(),
                             "loss": m.get("final_loss"), "tokens_per_s": m.get("tokens_per_s")})
    print(f"round {r}: distilled {target.name} on {len(new)} new + {len(replay)} replayed "
          f"pairs; loss {m.get('final_loss')}", flush=True)
    return Proxy.load(target)


def _fit_calibration(run_dir: Path, r: int) -> dict:
    """The calibrator X_{r+1} starts with: fitted on the confidence log of the rounds so far
    (the proxy's top step vs. the verified proofs found)."""
    from .policies import Calibrator

    data = [tuple(c) for t in _traces(run_dir) if 0 < t["round"] <= r
            for c in t.get("confidence", [])]
    return Calibrator.fit(data).to_dict()


# Epochs of a round after the first: X_r already fitted the replayed pairs, so continued
# training takes fewer passes (the new pairs are few; the round-0 model learned from scratch).
CONTINUE_EPOCHS = 4


def _distill_config(cfg: RunConfig, r: int = 0):
    from .proxy.config import DistillConfig

    epochs = cfg.epochs if r == 0 else min(cfg.epochs, CONTINUE_EPOCHS)
    return DistillConfig(epochs=epochs if not cfg.tiny else min(epochs, 3),
                         seed=cfg.seed, num_threads=1, replay_ratio=None)


def _proxy_config(cfg: RunConfig):
    from .proxy.config import GPU_PRESET, ProxyConfig

    if cfg.tiny:
        return ProxyConfig(n_layer=1, n_embd=32, n_head=2, vocab_size=600)
    if cfg.preset == "gpu":
        return GPU_PRESET
    return ProxyConfig()


def _current_proxy(run_dir: Path, cfg: RunConfig, state: RunState, train, audit):
    """X_round: loaded from the run directory, or X_0 created (fresh and untrained, or the
    local HF model named by --proxy)."""
    from .proxy.model import Proxy

    if state.generation and Path(state.generation, "card.json").exists():
        return Proxy.load(state.generation)
    gen0 = run_dir / "proxies" / "gen-000"
    if not (gen0 / "card.json").exists():
        if cfg.proxy:
            x0 = Proxy.from_pretrained(cfg.proxy, _proxy_config(cfg))
            note = f"X_0 = {cfg.proxy} (local HF causal LM)"
        else:
            corpus = [sp.theory_text() for sp in train] + [sp.goal_text for sp in train]
            corpus += _canonical_corpus(train)  # fingerprint names become whole tokens
            corpus += ["direct", "induct x", "cases x", "lemma (forall", "generalize"]
            x0 = Proxy.new(_proxy_config(cfg), corpus, seed=cfg.seed)
            note = "untrained X_0"
        tmp = gen0.with_name("gen-000.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        card = x0.save(tmp, {"format": "ida-ns-proxy-card/1", "generation": 0, "parent": None,
                             "dataset_sha256": None, "note": note, "verified": True})
        if cfg.ensemble > 1 and not cfg.proxy:
            for i in range(1, cfg.ensemble):
                Proxy.new(_proxy_config(cfg), corpus, seed=cfg.seed + 1000 * i).save(
                    tmp / "members" / f"m{i}", {"generation": 0, "note": note})
        os.replace(tmp, gen0)
        audit.append("proxy", {"generation": "gen-000", "model_sha256":
                               card.get("model_sha256"), "config": x0.config.to_dict(),
                               "note": note})
    state.generation = str(gen0)
    return Proxy.load(gen0)


def _canonical_corpus(train) -> list[str]:
    """The training goals as the proxy reads them (canonical variable and function names,
    :mod:`ida_ns.proxy.canon`), for the tokenizer of X_0."""
    from .policies import goal_prompt
    from .prover.goal import Goal

    out = []
    for sp in train:
        try:
            p = sp.problem()
        except IdaNsError:
            continue
        out.extend(goal_prompt(Goal(p.theory, p.goal)))
    return out


def _attested(run_dir: Path) -> set:
    """Pair hashes the run's audit log records as independently re-checked."""
    from .audit import read_records

    path = run_dir / "audit.jsonl"
    if not path.exists():
        return set()
    return {rec["data"]["sha256"] for rec in read_records(path) if rec.get("kind") == "verified"}


# ================================================================================ seeds
def run_seeds(cfg: RunConfig) -> list[dict]:
    """``--seeds K``: K runs (seed, seed+1, ...) in OUT/seed-N; per round, mean and spread
    (population standard deviation, min, max) of the KPIs -> OUT/summary.json and a table."""
    out = Path(cfg.out)
    per_seed = {}
    for i in range(cfg.seeds):
        s = cfg.seed + i
        sub = replace(cfg, seeds=1, seed=s, out=str(out / f"seed-{s}"),
                      resume=cfg.resume and (out / f"seed-{s}" / "state.json").exists())
        per_seed[s] = run(sub)
    keys = ("heldout_H", "heldout_solved", "proxy_only_solved", "overrides",
            "accepted_but_false", "proxy_precision", "nodes_per_proof", "ece")
    rounds = sorted({m["round"] for ms in per_seed.values() for m in ms})
    summary = []
    for r in rounds:
        row = {"round": r}
        for k in keys:
            vals = [m[k] for ms in per_seed.values() for m in ms
                    if m["round"] == r and isinstance(m.get(k), (int, float))]
            if vals:
                row[k] = {"mean": round(statistics.fmean(vals), 3),
                          "sd": round(statistics.pstdev(vals), 3),
                          "min": min(vals), "max": max(vals), "n": len(vals)}
        summary.append(row)
    atomic_write_json(out / "summary.json", {"seeds": sorted(per_seed), "rounds": summary})
    print(seed_table(summary), flush=True)
    return summary


def seed_table(summary: list[dict]) -> str:
    cols = ("heldout_H", "heldout_solved", "proxy_only_solved", "overrides",
            "accepted_but_false")
    lines = ["round  " + "  ".join(f"{c:>20}" for c in cols)]
    for row in summary:
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append(f"{v['mean']:>9.2f} ± {v['sd']:<8.2f}" if v else f"{'-':>20}")
        lines.append(f"{row['round']:>5}  " + "  ".join(cells))
    return "\n".join(lines)


# =========================================================================== bookkeeping
def _repair_tails(run_dir: Path) -> None:
    """A crash mid-append leaves a torn last line; cut it so the next append starts clean
    (complete lines are never touched)."""
    for name in ("traces.jsonl", "metrics.jsonl", "verdicts.jsonl"):
        path = run_dir / name
        contents = read_jsonl(path, missing_ok=True)
        if contents.torn:
            with open(path, "r+b") as f:
                f.truncate(contents.torn_offset)
                f.flush()
                os.fsync(f.fileno())


def _open_run(cfg: RunConfig) -> tuple[Path, RunConfig, RunState]:
    run_dir = Path(cfg.out)
    state_file = run_dir / "state.json"
    if run_dir.is_dir():
        _repair_tails(run_dir)
    if state_file.exists():
        if not cfg.resume:
            raise IdaNsError(f"{run_dir} already holds a run; pass --resume to continue it "
                             "or choose another --out")
        saved = read_json(run_dir / "config.json")
        cfg = RunConfig(**{**saved, "resume": True, "out": str(run_dir)})
        s = read_json(state_file)
        return run_dir, cfg, RunState(s["round"], s["phase"], s.get("generation", ""))
    if run_dir.is_dir() and any(run_dir.iterdir()) and not cfg.resume:
        raise IdaNsError(f"{run_dir} is not empty and holds no run state; choose another "
                         "--out (or --resume to start over in it)")
    # (killed before the first state was saved: --resume starts over in place; the audit
    # log, if any, is kept and continued)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / "config.json", cfg.as_dict())
    state = RunState()
    _save_state(run_dir, state, phase="amplify")
    return run_dir, cfg, state


def _save_state(run_dir: Path, state: RunState, phase: str) -> None:
    state.phase = phase
    atomic_write_json(run_dir / "state.json", {"round": state.round, "phase": state.phase,
                                               "generation": state.generation})


def _traces(run_dir: Path) -> list[dict]:
    """Traces on disk, first record per (round, problem) only."""
    seen, out = set(), []
    for t in read_jsonl(run_dir / "traces.jsonl", missing_ok=True).records:
        key = (t["round"], t["problem"])
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _splits(cfg: RunConfig):
    """(training goals easy -> hard, held-out goals, a name for the log).  ``--spec`` and
    ``--tiny`` use one problem set's own split; otherwise whole sources (--train/--heldout);
    a source named on both sides is refused: held-out means never trained on."""
    from .sources import load_sources
    from .specs import load_problem_set

    order = {"easy": 0, "medium": 1, "hard": 2}
    if cfg.spec or cfg.tiny:
        pset = load_problem_set(cfg.spec or "default")
        train = [p for p in pset.problems if p.split == "train"]
        heldout = [p for p in pset.problems if p.split == "heldout"]
        name = pset.name
        if cfg.tiny:
            train = [p for p in train if p.difficulty == "easy"][:6]
            heldout = [p for p in heldout if p.difficulty == "easy"][:3]
    else:
        both = set(cfg.train) & set(cfg.heldout)
        if both:
            raise IdaNsError(f"{', '.join(sorted(both))}: named as both a training and a "
                             "held-out source")
        train = load_sources(cfg.train, cfg.train_limit, cfg.seed)
        heldout = load_sources(cfg.heldout, cfg.heldout_limit, cfg.seed)
        overlap = {p.id for p in train} & {p.id for p in heldout}
        if overlap:
            raise IdaNsError(f"problems in both training and held-out sources: "
                             f"{', '.join(sorted(overlap)[:5])}")
        name = f"train {' + '.join(cfg.train)}; held out {' + '.join(cfg.heldout)}"
    train = sorted(train, key=lambda p: (order.get(p.difficulty, 3), p.id))  # curriculum
    return train, heldout, name


def _bank(cfg: RunConfig, train) -> list:
    """The lemma bank: the training sources' goals outside the sampled training goals
    (``--bank-limit N``: a seeded sample of N), which H proves once, in round 0.  None with
    ``--no-bank``, ``--spec``, ``--tiny`` or ``--train-limit 0`` (nothing left outside)."""
    from .sources import load_sources, seeded_sample

    if cfg.no_bank or cfg.spec or cfg.tiny or not cfg.train_limit:
        return []
    have = {sp.id for sp in train}
    rest = [p for p in load_sources(cfg.train, 0, cfg.seed) if p.id not in have]
    return seeded_sample(rest, cfg.bank_limit, cfg.seed + 1)


def _progress(items, desc: str):
    """A progress bar on a terminal only (logs and pipes get the plain lines)."""
    if not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the neural extra; plain iteration otherwise
        return items
    return tqdm(items, desc=desc, leave=False, dynamic_ncols=True, mininterval=1.0)


def kpi_table(rows: list[dict]) -> str:
    cols = [("round", "rnd"), ("train_solved", "train"), ("heldout_H", "H alone"),
            ("heldout_solved", "proxy+H"),
            ("proxy_only_solved", "proxy-only"), ("proxy_precision", "precision"),
            ("overrides", "overrides/node"), ("nodes_per_proof", "nodes/proof"),
            ("drift", "probe drift"), ("agree_H", "agree H"), ("ece", "ECE"),
            ("accepted_but_false", "acc-but-false"), ("pairs", "pairs"), ("time_s", "time s")]
    head = "  ".join(f"{h:>{max(len(h), 6)}}" for _, h in cols)
    lines = [head]
    for r in rows:
        cells = []
        for k, h in cols:
            v = r.get(k)
            if k == "train_solved":
                v = f"{r['train_solved']}/{r['train_total']}"
            elif k in ("heldout_solved", "heldout_H", "proxy_only_solved"):
                v = f"{r.get(k, 0)}/{r['heldout_total']}"
            elif v is None:
                v = "-"
            elif isinstance(v, float):
                v = f"{v:.2f}"
            cells.append(f"{v!s:>{max(len(h), 6)}}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def plot_kpis(rows: list[dict], path: Path) -> None:
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    rounds = [r["round"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
    last = rows[-1]
    total = last.get("heldout_total")
    fig.suptitle(f"ida-ns run: KPIs per round (final round {last['round']}: held-out "
                 f"H alone {last.get('heldout_H', 0)}, proxy+H {last['heldout_solved']}, "
                 f"proxy only {last['proxy_only_solved']}"
                 + (f" of {total}" if total else "") + "; accepted-but-false "
                 f"{sum(r['accepted_but_false'] for r in rows)} in all rounds)", fontsize=10)
    ax = axes[0]
    ax.plot(rounds, [r.get("heldout_H", 0) for r in rows], "x--", label="held-out (H alone)")
    ax.plot(rounds, [r["heldout_solved"] for r in rows], "o-", label="held-out (proxy+H)")
    ax.plot(rounds, [r["proxy_only_solved"] for r in rows], "s-", label="held-out (proxy only)")
    ax.plot(rounds, [r["train_solved"] for r in rows], "^-", label="train")
    ax.set_title("goals solved")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(rounds, [r["overrides"] for r in rows], "o-", label="overrides / node")
    ax.plot(rounds, [r["proxy_precision"] for r in rows], "s-", label="proxy precision")
    ax.plot(rounds, [r["agree_H"] or 0 for r in rows], "^-", label="agreement with H")
    ax.set_ylim(0, 1.05)
    ax.set_title("proxy")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(rounds, [r["nodes_per_proof"] for r in rows], "o-", label="nodes / proof")
    ax.plot(rounds, [r["accepted_but_false"] for r in rows], "s-", label="accepted but false")
    ax.set_title("search")
    ax.legend(fontsize=8)
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of goals
    axes[0].set_ylabel("goals" + (f" (held-out of {total})" if total else ""))
    for ax in axes:
        ax.set_xlabel("round")
        ax.set_xticks(rounds)
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def list_proxies(run_dir: Path) -> str:
    """The lineage of a run's proxy generations, from their cards."""
    root = run_dir / "proxies"
    if not root.is_dir():
        raise IdaNsError(f"{run_dir}: no proxies/ folder (is this a run directory?)")
    lines = [f"{'generation':12} {'parent':12} {'pairs':>6} {'loss':>8} {'dataset':14} model"]
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".tmp")):
        card = read_json(d / "card.json")
        parent = Path(card["parent"]).name if card.get("parent") else "-"
        m = card.get("metrics") or {}
        pairs = (card.get("dataset") or {}).get("trained", "-")
        loss = m.get("final_loss")
        loss = f"{loss:.4f}" if isinstance(loss, (int, float)) and math.isfinite(loss) else "-"
        lines.append(f"{d.name:12} {parent:12} {pairs!s:>6} {loss:>8} "
                     f"{(card.get('dataset_sha256') or '-')[:12]:14} "
                     f"{(card.get('model_sha256') or '-')[:12]}")
    return "\n".join(lines)
