"""Proposal throughput: candidate steps/s of the proxy's batched sampler against HF
``generate`` on the same model, in one run.

The workload is a search frontier: ``--nodes`` goals (prompts) each needing ``k + 1``
candidate steps (one greedy, ``k`` sampled, top-k filtered, up to ``max_new_tokens``).

* ours: :meth:`ida_ns.proxy.model.Proxy.propose_batch` on all nodes at once (one prefill per
  prompt, the KV cache repeated into k + 1 rows, one decoding loop for the whole frontier;
  bf16 + static KV cache on CUDA);
* HF: ``model.generate(do_sample=True, top_k, num_return_sequences=k + 1)`` per node (what a
  search calling the model once per expansion does), and once more for all nodes in one
  left-padded ``generate`` call (HF's best case).

Candidate steps/s = sequences produced (k + 1 per node, whether or not they end) / wall
seconds; each side runs ``--repeats`` times and the best counts.  The model is briefly
distilled on synthetic pairs first so step lengths are realistic.  Target on a GPU: >= 3x the
per-node ``generate``.

    python benchmarks/bench_proposals.py [--nodes 32] [--k 6] [--preset cpu|gpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_distill import synthetic_pairs  # noqa: E402

from ida_ns.proxy import DistillConfig, ProxyConfig  # noqa: E402
from ida_ns.proxy.distill import distill  # noqa: E402


def hf_generate(proxy, items, k: int, batched: bool) -> int:
    """Sequences produced by HF generate (per node, or all nodes in one call)."""
    tok, model, cfg = proxy.tokenizer, proxy.model, proxy.config
    prompts = [proxy.encode_prompt(g, c) for g, c in items]
    groups = [prompts] if batched else [[p] for p in prompts]
    n = 0
    for group in groups:
        width = max(map(len, group))
        ids = torch.full((len(group), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, p in enumerate(group):
            ids[i, width - len(p):] = torch.tensor(p)
            mask[i, width - len(p):] = 1
        out = model.generate(input_ids=ids.to(proxy.device), attention_mask=mask.to(proxy.device),
                             do_sample=True, top_k=cfg.top_k, temperature=cfg.temperature,
                             max_new_tokens=cfg.max_new_tokens, num_return_sequences=k + 1,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        n += out.shape[0]
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=32, help="frontier goals per call")
    ap.add_argument("--k", type=int, default=6, help="samples per goal (plus greedy)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--preset", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else (
        "cpu" if args.device == "auto" else args.device)
    from ida_ns.proxy.config import GPU_PRESET

    pcfg = GPU_PRESET if args.preset == "gpu" else ProxyConfig()
    pairs = synthetic_pairs(200)
    with tempfile.TemporaryDirectory() as tmp:
        proxy, _ = distill(None, pairs, [], DistillConfig(epochs=2, device=device,
                                                          num_threads=args.threads),
                           Path(tmp) / "p", proxy_config=pcfg)
    proxy.model.eval()
    proxy.generation_config = None
    items = [(g, c) for g, c, _ in pairs[: args.nodes]]
    print(f"device={proxy.device} threads={torch.get_num_threads()} model={pcfg.n_layer}x"
          f"{pcfg.n_embd} nodes={len(items)} k={args.k} max_new_tokens={pcfg.max_new_tokens} "
          f"static_cache={'on' if proxy.device.type == 'cuda' else 'off'}")
    results: dict[str, list[float]] = {"ours (batched frontier)": [],
                                       "HF generate per node": [],
                                       "HF generate one batch": []}
    with torch.inference_mode():
        for r in range(args.repeats):
            t0 = time.perf_counter()
            proxy.propose_batch(items, args.k, seed=r)
            if proxy.device.type == "cuda":
                torch.cuda.synchronize()
            results["ours (batched frontier)"].append(len(items) * (args.k + 1) /
                                                      (time.perf_counter() - t0))
            for name, batched in (("HF generate per node", False),
                                  ("HF generate one batch", True)):
                t0 = time.perf_counter()
                n = hf_generate(proxy, items, args.k, batched)
                if proxy.device.type == "cuda":
                    torch.cuda.synchronize()
                results[name].append(n / (time.perf_counter() - t0))
    base = max(results["HF generate per node"])
    for name, v in results.items():
        print(f"{name:26} {max(v):10.1f} candidate steps/s   x{max(v) / base:.2f} vs per-node "
              "generate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
