"""The IDA loop, top to bottom: amplify, verify, distill, evaluate.

    X_0 = a fresh (untrained) proxy
    for round r = 0 .. R:
        AMPLIFY   every training goal (curriculum: easy -> hard) is searched with X_r proposing
                  steps and the overseer H taking over when X_r is unsure; every step passes
                  the verify gate, every leaf is closed by a solver
        KEEP      fully verified proof trees only -> (goal -> step) pairs
        EVALUATE  held-out goals at a fixed node budget: X_r with H (guided), X_r alone
                  (proxy only); KPIs -> metrics.jsonl, the table, the plot
        DISTILL   (r < R) X_{r+1} = X_r trained on this round's pairs + replay of earlier ones

Everything (steps, verdicts, distillations, metrics) goes to the hash-chained audit log.  The
run directory is crash-safe: traces are appended durably per problem, generations and state
are written atomically, and ``--resume`` continues where a killed run stopped without losing or
duplicating a verified trace.  Left out to keep the structure visible: multi-GPU distillation
(torchrun/DDP), distributed solver pools (Ray).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .audit import AuditLog
from .errors import IdaNsError
from .ida_config import RunConfig
from .storage import append_line_durable, atomic_write_json, read_json, read_jsonl

METRIC_KEYS = ("round", "train_solved", "train_total", "heldout_solved", "heldout_total",
               "heldout_refuted", "proxy_only_solved", "proxy_precision", "overrides",
               "nodes_per_proof", "drift", "agree_H", "accepted_but_false", "pairs",
               "distill_loss", "time_s")


@dataclass
class RunState:
    round: int = 0  # the round in progress
    phase: str = "amplify"  # amplify | evaluate | distill | done
    generation: str = ""  # directory of X_round


def run(cfg: RunConfig) -> list[dict]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from solvers.pool import SolverPool

    from .prover.verify import Checker, VerdictCache
    from .specs import load_problem_set

    run_dir, cfg, state = _open_run(cfg)
    audit = AuditLog(run_dir / "audit.jsonl")
    pset = load_problem_set(cfg.spec)
    train, heldout = _splits(pset, cfg)
    audit.append("run", {"config": cfg.as_dict(), "spec": pset.name, "train": len(train),
                         "heldout": len(heldout), "resumed_at": [state.round, state.phase]})
    metrics = [m for m in read_jsonl(run_dir / "metrics.jsonl", missing_ok=True).records]
    print(f"ida-ns run: {pset.name}: {len(train)} training goals, {len(heldout)} held out; "
          f"rounds 0..{cfg.rounds}; run directory {run_dir}", flush=True)

    with SolverPool(cfg.solver, workers=cfg.workers, timeout_s=cfg.leaf_timeout_s) as pool:
        checker = Checker.from_pool(pool, leaf_timeout_s=cfg.leaf_timeout_s,
                                    cache=VerdictCache(run_dir / "verdicts.jsonl"),
                                    seed=cfg.seed,
                                    on_event=lambda kind, data: audit.append(kind, data))
        proxy = _current_proxy(run_dir, cfg, state, pset, train, audit)
        previous = None
        while state.round <= cfg.rounds:
            r = state.round
            t0 = time.perf_counter()
            if state.phase == "amplify":  # ---------------------------------- AMPLIFY
                amplify(r, train, proxy, checker, cfg, run_dir, audit)
                _save_state(run_dir, state, phase="evaluate")
            if state.phase == "evaluate":  # -------------------------------- EVALUATE
                row = evaluate(r, train, heldout, proxy, previous, checker, cfg, run_dir,
                               audit)
                row["time_s"] = round(time.perf_counter() - t0, 1)
                if not any(m["round"] == r for m in metrics):
                    append_line_durable(run_dir / "metrics.jsonl", json.dumps(row))
                    audit.append("metrics", row)
                    metrics.append(row)
                print(kpi_table(metrics), flush=True)
                _save_state(run_dir, state, phase="distill" if r < cfg.rounds else "done")
            if state.phase == "distill":  # ---------------------------------- DISTILL
                previous = proxy
                proxy = distill_round(r, proxy, cfg, run_dir, audit)
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
def amplify(r: int, train, proxy, checker, cfg: RunConfig, run_dir: Path, audit) -> None:
    """Search every training goal with X_r + H (with theory exploration); append each
    problem's verified proof as (goal -> step) pairs to traces.jsonl, once per round."""
    from .prover.proof import LemmaLibrary
    from .prover.prover import ProverConfig, prove_problem
    from .traces import proof_pairs

    traces = _traces(run_dir)
    done = {(t["round"], t["problem"]) for t in traces}
    # Goals settled in an earlier round (proved, or refuted by testing) keep their verified
    # traces (replayed in distillation); each round amplifies what is still open.
    settled = {t["problem"] for t in traces if t["round"] < r and t["status"] != "unknown"}
    libraries: dict = {}
    proved_cache: dict = {}
    pcfg = ProverConfig(budget_s=cfg.problem_budget_s, solver=cfg.solver,
                        leaf_timeout_s=cfg.leaf_timeout_s, max_nodes=4 * cfg.node_budget,
                        test_trials=150, seed=cfg.seed)
    for sp in _progress(train, f"round {r} amplify"):
        if (r, sp.id) in done or sp.id in settled:
            continue  # resumed (trace already on disk), or settled in an earlier round
        problem = sp.problem()
        library = libraries.setdefault(sp.theory_path, LemmaLibrary())
        policy = _policy_factory(proxy, cfg, r)
        prove = prove_problem
        if getattr(cfg, "overseer", "H") == "human":  # a person's thinking time is not budget
            from .human import prove_with_human as prove
        from .report.recorder import SearchRecorder
        from .report.tree import result_tree

        with SearchRecorder(checker) as rec:  # what was tried, for `ida-ns report`
            result = prove(problem, checker, pcfg, policy=rec.policy(policy),
                           library=library, proved_cache=proved_cache,
                           accept_unverified=cfg.no_verify,
                           on_event=rec.wrap(lambda kind, data: audit.append(kind, data)))
        pairs = proof_pairs(result.proof, result.lemmas) if result.proof is not None else []
        stats = result.stats.as_dict() if result.stats else {}
        record = {"round": r, "problem": sp.id, "status": result.status, "label": sp.label,
                  "pairs": pairs, "stats": stats, "time_s": round(result.time_s, 3),
                  "false_nodes": _false_nodes(result, checker) if result.proof else 0}
        record["report"] = result_tree(result, rec)  # the proof tree for `ida-ns report`
        append_line_durable(run_dir / "traces.jsonl", json.dumps(record))
        audit.append("trace", {"round": r, "problem": sp.id, "status": result.status,
                               "pairs": len(pairs)})


def _policy_factory(proxy, cfg: RunConfig, r: int):
    """Round 0 and --no-proxy: the overseer alone; later: the proxy, escalating to H."""
    from .policies import EscalatingPolicy
    from .prover.overseer import Overseer

    if cfg.no_proxy or proxy is None:
        inner = None  # prove_problem's default: H with theory exploration
    else:
        def inner(conjectures):
            return EscalatingPolicy(proxy, Overseer(conjectures=conjectures), k=cfg.k,
                                    threshold=cfg.threshold, seed=cfg.seed + r,
                                    drop_direct=not cfg.no_verify)
    if getattr(cfg, "overseer", "H") == "human":  # a person decides (ida_ns.human)
        from .human import human_policy_factory

        return human_policy_factory(inner, cfg)
    return inner


# ============================================================================= EVALUATE
def evaluate(r: int, train, heldout, proxy, previous, checker, cfg: RunConfig, run_dir: Path,
             audit) -> dict:
    """KPIs of round r: held-out goals at a fixed node budget, guided and proxy-only."""
    from .policies import EscalatingPolicy, ProxyPolicy
    from .prover.overseer import Overseer
    from .prover.prover import ProverConfig, prove_problem

    pcfg = ProverConfig(budget_s=cfg.eval_budget_s, solver=cfg.solver,
                        leaf_timeout_s=cfg.leaf_timeout_s, max_nodes=cfg.node_budget,
                        explore=False, test_trials=150, seed=cfg.seed)
    guided = {"proved": 0, "refuted": 0, "nodes": [], "expanded": 0, "overrides": 0,
              "proposed": 0, "accepted": 0, "false": 0}
    only = 0
    for sp in _progress(heldout, f"round {r} evaluate"):
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
            guided["expanded"] += s.expanded
            guided["overrides"] += s.overrides
            guided["proposed"] += s.proposed.get("proxy", 0)
            guided["accepted"] += s.accepted.get("proxy", 0)
        if res.status == "proved":
            guided["false"] += _false_nodes(res, checker) + (0 if sp.label else 1)
            if sp.label:
                guided["proved"] += 1
                guided["nodes"].append(s.expanded if s else 0)
        elif res.status == "refuted" and not sp.label:
            guided["refuted"] += 1
        if not cfg.no_proxy:
            res2 = prove_problem(problem, checker, pcfg,
                                 policy=ProxyPolicy(proxy, cfg.k, cfg.seed,
                                                    drop_direct=not cfg.no_verify),
                                 accept_unverified=cfg.no_verify)
            if res2.status == "proved":
                guided["false"] += _false_nodes(res2, checker) + (0 if sp.label else 1)
                only += 1 if sp.label else 0
    all_traces = _traces(run_dir)
    traces = [t for t in all_traces if t["round"] == r]
    solved_so_far = {t["problem"] for t in all_traces
                     if t["round"] <= r and t["status"] == "proved" and t["label"]}
    train_false = sum(t.get("false_nodes", 0) + (1 if t["status"] == "proved" and
                                                 not t["label"] else 0) for t in traces)
    t_prop = sum(t["stats"].get("proposed", {}).get("proxy", 0) for t in traces)
    t_acc = sum(t["stats"].get("accepted", {}).get("proxy", 0) for t in traces)
    proposed = guided["proposed"] + t_prop
    drift, agree_h = _drift(proxy, previous, run_dir)
    return {
        "round": r,
        "train_solved": len(solved_so_far),  # cumulative: verified proofs held so far
        "train_total": sum(1 for sp in train if sp.label),
        "heldout_solved": guided["proved"],
        "heldout_total": sum(1 for sp in heldout if sp.label),
        "heldout_refuted": guided["refuted"],
        "proxy_only_solved": only,
        "proxy_precision": round((guided["accepted"] + t_acc) / proposed, 4) if proposed else 0.0,
        "overrides": round(guided["overrides"] / guided["expanded"], 4)
        if guided["expanded"] else 0.0,
        "nodes_per_proof": round(sum(guided["nodes"]) / len(guided["nodes"]), 2)
        if guided["nodes"] else 0.0,
        "drift": drift,
        "agree_H": agree_h,
        "accepted_but_false": guided["false"] + train_false,
        "pairs": sum(len(t["pairs"]) for t in traces),
        "distill_loss": None,
    }


def _false_nodes(result, checker) -> int:
    """Ground-truth re-check of an accepted proof: goals of its nodes (and lemmas) that random
    testing refutes.  Zero for anything the gate let through; the --no-verify ablation shows
    what happens without it."""
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


def _drift(proxy, previous, run_dir: Path) -> tuple[float | None, float | None]:
    """Top-1 agreement of X_r with X_{r-1} and with H's verified step on a fixed probe set
    (the round-0 traces' first pairs)."""
    probe = []
    for t in _traces(run_dir):
        if t["round"] == 0:
            probe.extend(t["pairs"][:2])
    probe = probe[:60]
    if not probe or proxy is None:
        return None, None
    items = [(g, c) for g, c, _ in probe]
    top = [c[0].text if c else "" for c in proxy.propose_batch(items, 0)]
    agree_h = sum(a == s for a, (_, _, s) in zip(top, probe)) / len(probe)
    if previous is None:
        return None, round(agree_h, 4)
    prev = [c[0].text if c else "" for c in previous.propose_batch(items, 0)]
    return round(sum(a == b for a, b in zip(top, prev)) / len(probe), 4), round(agree_h, 4)


# ============================================================================== DISTILL
def distill_round(r: int, proxy, cfg: RunConfig, run_dir: Path, audit):
    """X_{r+1} from X_r on round r's verified pairs, replaying earlier rounds' pairs."""
    from .proxy.distill import distill
    from .proxy.model import Proxy

    traces = _traces(run_dir)
    new = [tuple(p) for t in traces if t["round"] == r for p in t["pairs"]]
    replay = [tuple(p) for t in traces if t["round"] < r for p in t["pairs"]]
    target = run_dir / "proxies" / f"gen-{r + 1:03d}"
    if (target / "card.json").exists():  # resumed after the generation was saved
        return Proxy.load(target)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    dcfg = _distill_config(cfg)
    if not new and not replay:
        print(f"round {r}: no verified pairs; X_{r + 1} = X_{r}", flush=True)
        shutil.copytree(proxy.path, tmp)
        os.replace(tmp, target)
        return Proxy.load(target)
    child, m = distill(proxy, new, replay, dcfg, tmp)
    card = read_json(tmp / "card.json")
    os.replace(tmp, target)
    child.path = str(target)
    audit.append("distill", {"round": r, "generation": target.name,
                             "parent": Path(proxy.path).name if proxy.path else None,
                             "dataset_sha256": card.get("dataset_sha256"),
                             "model_sha256": card.get("model_sha256"),
                             "pairs": len(new), "replay": len(replay),
                             "config": dcfg.to_dict(),
                             "loss": m.get("final_loss"), "tokens_per_s": m.get("tokens_per_s")})
    print(f"round {r}: distilled {target.name} on {len(new)} new + {len(replay)} replayed "
          f"pairs; loss {m.get('final_loss')}", flush=True)
    return Proxy.load(target)


def _distill_config(cfg: RunConfig):
    from .proxy.config import DistillConfig

    return DistillConfig(epochs=cfg.epochs if not cfg.tiny else min(cfg.epochs, 3),
                         seed=cfg.seed, num_threads=1)


def _proxy_config(cfg: RunConfig):
    from .proxy.config import ProxyConfig

    if cfg.tiny:
        return ProxyConfig(n_layer=1, n_embd=32, n_head=2, vocab_size=600)
    return ProxyConfig()


def _current_proxy(run_dir: Path, cfg: RunConfig, state: RunState, pset, train, audit):
    """X_round: loaded from the run directory, or X_0 created fresh (untrained)."""
    from .proxy.model import Proxy

    if state.generation and Path(state.generation, "card.json").exists():
        return Proxy.load(state.generation)
    gen0 = run_dir / "proxies" / "gen-000"
    if not (gen0 / "card.json").exists():
        corpus = [sp.theory_text() for sp in train] + [sp.goal_text for sp in train]
        corpus += ["direct", "induct x", "cases x", "lemma (forall", "generalize"]
        x0 = Proxy.new(_proxy_config(cfg), corpus, seed=cfg.seed)
        tmp = gen0.with_name("gen-000.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        card = x0.save(tmp, {"format": "ida-ns-proxy-card/1", "generation": 0, "parent": None,
                             "dataset_sha256": None, "note": "untrained X_0"})
        os.replace(tmp, gen0)
        audit.append("proxy", {"generation": "gen-000", "model_sha256":
                               card.get("model_sha256"), "config": x0.config.to_dict()})
    state.generation = str(gen0)
    return Proxy.load(gen0)


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


def _splits(pset, cfg: RunConfig):
    order = {"easy": 0, "medium": 1, "hard": 2}
    train = sorted((p for p in pset.problems if p.split == "train"),
                   key=lambda p: (order.get(p.difficulty, 3), p.id))  # curriculum
    heldout = [p for p in pset.problems if p.split == "heldout"]
    if cfg.tiny:
        train = [p for p in train if p.difficulty == "easy"][:6]
        heldout = [p for p in heldout if p.difficulty == "easy"][:3]
    return train, heldout


def _progress(items, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the neural extra; plain iteration otherwise
        return items
    return tqdm(items, desc=desc, leave=False, dynamic_ncols=True, mininterval=1.0)


def kpi_table(rows: list[dict]) -> str:
    cols = [("round", "rnd"), ("train_solved", "train"), ("heldout_solved", "heldout"),
            ("proxy_only_solved", "proxy-only"), ("proxy_precision", "precision"),
            ("overrides", "overrides/node"), ("nodes_per_proof", "nodes/proof"),
            ("drift", "agree prev"), ("agree_H", "agree H"),
            ("accepted_but_false", "acc-but-false"), ("pairs", "pairs"), ("time_s", "time s")]
    head = "  ".join(f"{h:>{max(len(h), 6)}}" for _, h in cols)
    lines = [head]
    for r in rows:
        cells = []
        for k, h in cols:
            v = r.get(k)
            if k == "train_solved":
                v = f"{r['train_solved']}/{r['train_total']}"
            elif k == "heldout_solved":
                v = f"{r['heldout_solved']}/{r['heldout_total']}"
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

    rounds = [r["round"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    ax = axes[0]
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
