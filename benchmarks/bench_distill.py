"""Distillation throughput: our trainer against a plain HF training loop, in one run.

Both train the same model (a copy of one saved parent) on the same batches (same collation,
same shuffled order) for the same number of steps; the baseline is the loop everyone writes::

    for batch in batches: model(**batch).loss.backward(); opt.step(); opt.zero_grad()

Tokens/s counts real (non-padding) tokens over the training loop's wall time; each side runs
``--repeats`` times, alternating, and the best run counts.  On CPU the same ratio per second of
process CPU time is printed as well: on a machine shared with other jobs wall time is noisy.  Our trainer's number is the one its
own metrics report (the loop, without dataset building and saving); its end-to-end ``distill``
time is printed too.  On CUDA a second row compares both with bf16 autocast and
``torch.compile``.  Target: ratio >= 0.9.

    python benchmarks/bench_distill.py [--pairs 400] [--epochs 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from ida_ns.proxy import DistillConfig, Proxy, ProxyConfig
from ida_ns.proxy.distill import (build_dataset, distill, encode_all, epoch_batches,
                                  make_optimizer)

SORTS = {"xs": "list", "ys": "list", "zs": "list", "n": "Nat", "m": "Nat", "k": "Nat",
         "t": "Tree", "u": "Tree", "x": "Nat", "y": "Nat"}
FUNS = {"list": ["rev", "len", "sort", "dedup", "butlast"], "Nat": ["plus", "double", "half"],
        "Tree": ["mirror", "height", "flatten"]}


def synthetic_pairs(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """Goals of TIP's shape with the step a prover might have found (induction or a lemma)."""
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        vs = rng.sample(sorted(SORTS), rng.randint(1, 3))
        binders = " ".join(f"({v} {SORTS[v]})" for v in vs)
        f = rng.choice(FUNS[SORTS[vs[0]]])
        g = rng.choice(FUNS[SORTS[vs[-1]]])
        lhs = f"({f} ({g} {vs[-1]}))" if len(vs) == 1 else f"({f} {vs[0]} ({g} {vs[-1]}))"
        goal = f"(forall ({binders}) (= {lhs} ({g} ({f} {' '.join(vs)}))))"
        ctx = "; ".join(f"{h} : {s} -> {s}" for s in sorted({SORTS[v] for v in vs}) for h in FUNS[s])
        if i % 3 == 0:
            v = vs[0]
            step = f"lemma (forall (({v} {SORTS[v]})) (= ({f} ({f} {v})) {v}))"
        else:
            step = f"induct {vs[rng.randrange(len(vs))]}"
        pairs.append((goal, ctx + f"; case {i}", step))
    return pairs


def plain_loop(parent: Proxy, pairs, cfg: DistillConfig, device: torch.device, bf16: bool,
               compile_: bool) -> tuple[float, float, int]:
    """The plain HF loop on the batches our trainer sees; returns (wall s, CPU s, tokens)."""
    model = parent.clone().model.to(device).train()
    step_model = torch.compile(model) if compile_ else model
    opt = make_optimizer(model, cfg, device)
    new, rep = build_dataset(pairs, [], cfg.replay_ratio, cfg.seed)
    encoded, _ = encode_all(parent, sorted(new + rep))
    gen = torch.Generator().manual_seed(cfg.seed)
    pad_multiple, fixed = (64, True) if compile_ else ((8, False) if device.type == "cuda"
                                                      else (1, False))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    tokens = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(cfg.epochs):
        for batch, n_tok in epoch_batches(encoded, cfg.batch_size, gen,
                                          parent.tokenizer.pad_token_id, pad_multiple, fixed):
            batch = {k: v.to(device) for k, v in batch.items()}
            with autocast:
                loss = step_model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            tokens += n_tok
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0, time.process_time() - cpu0, tokens


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (both sides)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--n-layer", type=int, default=ProxyConfig.n_layer)
    ap.add_argument("--n-embd", type=int, default=ProxyConfig.n_embd)
    ap.add_argument("--compile", action="store_true",
                    help="also compare with torch.compile on CPU (always done on CUDA)")
    ap.add_argument("--preset", choices=("cpu", "gpu"), default="cpu",
                    help="gpu: the 6 x 512 GPU preset shape")
    args = ap.parse_args(argv)
    if args.preset == "gpu":
        args.n_layer, args.n_embd = 6, 512

    pairs = synthetic_pairs(args.pairs)
    pcfg = ProxyConfig(n_layer=args.n_layer, n_embd=args.n_embd,
                       n_head=8 if args.n_embd % 8 == 0 and args.n_embd >= 256 else 4)
    base = DistillConfig(epochs=args.epochs, batch_size=args.batch_size, device=args.device,
                         num_threads=args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    modes = [("fp32 eager", False, False)]
    if device.type == "cuda":
        modes.append(("bf16 + compile", True, True))
    elif args.compile:
        modes.append(("fp32 + compile", False, True))

    with tempfile.TemporaryDirectory() as tmp:
        parent = Proxy.new(pcfg, [t for p in pairs for t in p], seed=0)
        parent.save(Path(tmp) / "parent", {"generation": 0})
        parent = Proxy.load(Path(tmp) / "parent")
        n_params = sum(p.numel() for p in parent.model.parameters())
        print(f"device={device} threads={torch.get_num_threads()} model={pcfg.n_layer}x"
              f"{pcfg.n_embd} ({n_params / 1e6:.2f}M params, vocab {len(parent.tokenizer)}) "
              f"pairs={len(pairs)} epochs={args.epochs} batch={args.batch_size}")
        for name, bf16, comp in modes:
            cfg = dataclasses.replace(base, bf16="on" if bf16 else "off",
                                      compile="on" if comp else "off")
            ours, plain, ours_cpu, plain_cpu, e2e = [], [], [], [], []
            for r in range(args.repeats):
                secs, cpu, toks = plain_loop(parent, pairs, cfg, device, bf16, comp)
                plain.append(toks / secs)
                plain_cpu.append(toks / cpu)
                t0 = time.perf_counter()
                _, m = distill(parent, pairs, [], cfg, Path(tmp) / f"child-{name[:4]}-{r}")
                e2e.append(time.perf_counter() - t0)
                ours.append(m["tokens_per_s"])
                ours_cpu.append(m["tokens"] / m["train_cpu_s"])
                assert m["tokens"] == toks, (m["tokens"], toks)
            best_ours, best_plain = max(ours), max(plain)
            print(f"[{name}] tokens/step-loop={m['tokens']}  steps={m['steps']}  "
                  f"final_loss={m['final_loss']:.4f}")
            print(f"[{name}] plain HF loop: {best_plain:,.0f} tok/s   ours: {best_ours:,.0f} "
                  f"tok/s   ratio: {best_ours / best_plain:.3f}   "
                  f"(distill end-to-end {min(e2e):.2f} s incl. dataset + save)")
            if device.type == "cpu":  # CPU time: what a busy shared machine cannot skew
                print(f"[{name}] per CPU-second: plain {max(plain_cpu):,.0f} tok/s   ours "
                      f"{max(ours_cpu):,.0f} tok/s   ratio: "
                      f"{max(ours_cpu) / max(plain_cpu):.3f}")
            if not math.isfinite(best_ours / best_plain):
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
