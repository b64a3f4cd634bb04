"""Distillation: train X_{k+1} from X_k on verified (goal, context, step) pairs plus replay.

One function, :func:`distill`, read top to bottom: build the dataset (dedupe, canonical order,
hash), initialise from the parent (or a fresh model), run the training loop (AdamW, warmup +
cosine, loss on the step tokens only), save with a card.  CUDA gets bf16 autocast and
``torch.compile``; CPU runs eager in float32 on ``num_threads`` threads (default 1: on small
boxes thread synchronisation costs more than it buys for models this size).

Determinism: with dropout 0 (the default) the only randomness is the initialisation (seeded,
in a forked RNG) and the batch order (a private ``torch.Generator``), so on CPU the same inputs
give bit-identical weights and the same ``model_sha256``.

Tokenizer vocabulary: fixed at generation 0 (see :mod:`ida_ns.proxy.tokenizer`).  Symbols the
parent's tokenizer never saw are spelled with byte-level pieces, so X_{k+1} keeps X_k's token
ids and embedding table; no resizing, no re-training of the tokenizer between generations.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import torch

import ida_ns
from ida_ns.proxy.config import DistillConfig, ProxyConfig
from ida_ns.proxy.model import Proxy, cpu_threads, normalize

Pair = tuple[str, str, str]  # (goal text, context text, step text)
IGNORE = -100  # label of tokens that carry no loss (prompt, padding)


# -- dataset ---------------------------------------------------------------------------------


def canonical_pairs(pairs: Iterable[Sequence[str]]) -> list[Pair]:
    """Whitespace-normalised, deduplicated, sorted (goal, context, step) triples."""
    out = set()
    for p in pairs:
        if len(p) != 3:
            raise ValueError(f"a training pair is (goal, context, step); got {p!r}")
        g, c, s = (normalize(str(x)) for x in p)
        if not g or not s:
            raise ValueError(f"empty goal or step in training pair {p!r}")
        out.add((g, c, s))
    return sorted(out)


def build_dataset(pairs: Iterable[Sequence[str]], replay: Iterable[Sequence[str]],
                  replay_ratio: float | None, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(new pairs, replayed pairs): both canonical; replay excludes pairs already new and is
    capped at ``replay_ratio * len(new)`` by a seeded subsample."""
    new = canonical_pairs(pairs)
    seen = set(new)
    rep = [p for p in canonical_pairs(replay) if p not in seen]
    if replay_ratio is not None:
        cap = math.floor(replay_ratio * len(new))
        if len(rep) > cap:
            rep = sorted(random.Random(seed).sample(rep, cap))
    return new, rep


def dataset_sha256(examples: Iterable[Pair]) -> str:
    """sha256 of the canonical dataset: one JSON array ``[goal, context, step]`` per line."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps(list(e), ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def encode_all(proxy: Proxy, examples: Sequence[Pair]) -> tuple[list[tuple[list[int], int]], int]:
    """Token sequences and prompt lengths; the count of pairs skipped because the step does
    not fit in ``max_new_tokens``."""
    encoded, skipped = [], 0
    for g, c, s in examples:
        e = proxy.encode_example(g, c, s)
        if e is None:
            skipped += 1
        else:
            encoded.append(e)
    return encoded, skipped


def collate(seqs: Sequence[tuple[list[int], int]], pad_id: int, pad_to_multiple: int = 1,
            pad_rows_to: int = 0) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (``-100`` on prompt and
    padding, so the loss covers the step and its ``<eos>`` only).  ``pad_rows_to`` adds rows of
    padding with no loss (fixed shapes for ``torch.compile``)."""
    width = max(len(ids) for ids, _ in seqs)
    width = -(-width // pad_to_multiple) * pad_to_multiple
    n = max(len(seqs), pad_rows_to)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    mask[len(seqs):] = 1  # filler rows attend to padding: finite activations, no loss
    for i, (ids, n_prompt) in enumerate(seqs):
        t = torch.tensor(ids)
        input_ids[i, :len(ids)] = t
        mask[i, :len(ids)] = 1
        labels[i, n_prompt:len(ids)] = t[n_prompt:]
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def epoch_batches(encoded: Sequence[tuple[list[int], int]], batch_size: int,
                  gen: torch.Generator, pad_id: int, pad_to_multiple: int = 1,
                  fixed_rows: bool = False) -> Iterator[tuple[dict[str, torch.Tensor], int]]:
    """One epoch in a shuffled order: (batch, number of real tokens in it)."""
    order = torch.randperm(len(encoded), generator=gen).tolist()
    for i in range(0, len(order), batch_size):
        seqs = [encoded[j] for j in order[i:i + batch_size]]
        batch = collate(seqs, pad_id, pad_to_multiple, batch_size if fixed_rows else 0)
        yield batch, sum(len(ids) for ids, _ in seqs)


# -- runtime choices ---------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} but CUDA is not available; use 'auto' or 'cpu'")
    return dev


def _switch(value: str, default: bool) -> bool:
    return default if value == "auto" else value == "on"


def lr_at(step: int, total: int, cfg: DistillConfig) -> float:
    """Linear warmup over ``warmup_ratio`` of the steps, then cosine to ``min_lr_ratio * lr``."""
    warm = max(1, int(cfg.warmup_ratio * total))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    frac = (step - warm) / max(1, total - warm)
    floor = cfg.min_lr_ratio * cfg.lr
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def make_optimizer(model: torch.nn.Module, cfg: DistillConfig, device: torch.device):
    """AdamW; no weight decay on biases and LayerNorm weights (tensors with < 2 dims)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95),
                             fused=device.type == "cuda")


# -- the trainer -------------------------------------------------------------------------------


def distill(parent: Proxy | None, pairs: Iterable[Sequence[str]],
            replay: Iterable[Sequence[str]], cfg: DistillConfig, out_dir: str | Path, *,
            proxy_config: ProxyConfig | None = None,
            tokenizer_corpus: Iterable[str] | None = None) -> tuple[Proxy, dict[str, Any]]:
    """Train X_{k+1} on ``pairs`` (+ ``replay``) starting from ``parent`` = X_k, save it in
    ``out_dir`` with its card, and return it with the metrics.

    ``parent=None`` starts generation 0: a fresh model of ``proxy_config`` (default
    :class:`ProxyConfig`) whose tokenizer is trained on ``tokenizer_corpus`` (default: the
    texts of the pairs; pass a theory-wide corpus so later rounds' symbols are whole tokens).
    The parent itself is never modified.
    """
    device = resolve_device(cfg.device)
    # 1. dataset
    pairs, replay = list(pairs), list(replay)
    new, rep = build_dataset(pairs, replay, cfg.replay_ratio, cfg.seed)
    examples = sorted(new + rep)
    if not examples:
        raise ValueError("nothing to train on: 0 pairs offered (and no replay)")
    data_hash = dataset_sha256(examples)

    # 2. initialisation: X_{k+1} starts as a copy of X_k (or fresh)
    if parent is None:
        corpus = tokenizer_corpus if tokenizer_corpus is not None else \
            [t for e in examples for t in e]
        proxy = Proxy.new(proxy_config or ProxyConfig(), corpus, seed=cfg.seed)
    else:
        if proxy_config is not None and proxy_config != parent.config:
            raise ValueError("proxy_config differs from the parent's; a child keeps its "
                             "parent's shape (pass proxy_config=None)")
        if tokenizer_corpus is not None:
            raise ValueError("tokenizer_corpus is for generation 0 only: a child keeps its "
                             "parent's vocabulary (pass tokenizer_corpus=None)")
        proxy = parent.clone()
    encoded, skipped = encode_all(proxy, examples)
    if not encoded:
        raise ValueError(f"nothing to train on: {len(examples)} pairs offered, {skipped} had "
                         f"steps longer than max_new_tokens={proxy.config.max_new_tokens}")

    cuda = device.type == "cuda"
    use_bf16 = _switch(cfg.bf16, cuda) and (not cuda or torch.cuda.is_bf16_supported())
    use_compile = _switch(cfg.compile, cuda)
    with cpu_threads(0 if cuda else cfg.num_threads):
        metrics = _train(proxy, encoded, cfg, device, use_bf16, use_compile)
    metrics["skipped_too_long"] = skipped

    # 3. save with the card
    card = {
        "format": "ida-ns-proxy-card/1",
        "generation": (parent.card.get("generation", 0) + 1) if parent is not None else 0,
        "parent": str(Path(parent.path).resolve()) if parent is not None and parent.path
        else None,
        "parent_model_sha256": parent.card.get("model_sha256") if parent is not None else None,
        "dataset_sha256": data_hash,
        "dataset": {"pairs": len(new), "replay": len(rep), "offered_pairs": len(pairs),
                    "offered_replay": len(replay), "trained": len(encoded)},
        "distill_config": cfg.to_dict(),
        "proxy_config": proxy.config.to_dict(),
        "metrics": metrics,
        "versions": {"ida_ns": ida_ns.__version__, "torch": torch.__version__,
                     "transformers": __import__("transformers").__version__},
    }
    proxy.save(out_dir, card)
    return proxy, metrics


def _train(proxy: Proxy, encoded, cfg: DistillConfig, device: torch.device, use_bf16: bool,
           use_compile: bool) -> dict[str, Any]:
    """The training loop; leaves ``proxy.model`` trained, in eval mode, on ``device``."""
    model = proxy.model.to(device).train()
    step_model = torch.compile(model) if use_compile else model
    opt = make_optimizer(model, cfg, device)
    gen = torch.Generator().manual_seed(cfg.seed)
    pad_id = proxy.tokenizer.pad_token_id
    per_epoch = math.ceil(len(encoded) / cfg.batch_size)
    total = cfg.epochs * per_epoch if cfg.max_steps is None else \
        min(cfg.max_steps, cfg.epochs * per_epoch)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if use_bf16 else nullcontext()
    # Fixed shapes under compile: lengths in multiples of 64, full batches.
    pad_multiple, fixed_rows = (64, True) if use_compile else ((8, False) if device.type == "cuda"
                                                              else (1, False))

    step, tokens, curve = 0, 0, []
    first_loss = None
    epoch_loss = torch.zeros((), device=device)
    last_epoch_loss = None
    t0, cpu0 = time.perf_counter(), time.process_time()
    t_first, tokens_first = None, 0
    for epoch in range(cfg.epochs):
        epoch_loss.zero_()
        n_batches = 0
        for batch, n_tok in epoch_batches(encoded, cfg.batch_size, gen, pad_id, pad_multiple,
                                          fixed_rows):
            if step >= total:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, cfg)
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with autocast:
                loss = step_model(**batch).loss
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            epoch_loss += loss.detach()
            n_batches += 1
            tokens += n_tok
            if step == 0:
                first_loss = float(loss.detach())
                t_first, tokens_first = time.perf_counter(), tokens
            elif step % cfg.log_every == 0:
                curve.append((step, float(loss.detach())))
            step += 1
        if n_batches:
            last_epoch_loss = float(epoch_loss) / n_batches
        if step >= total:
            break
    model.eval()
    return train_metrics(device, t0, cpu0, t_first, tokens_first, step=step, epochs=cfg.epochs,
                         examples=len(encoded), tokens=tokens, first_loss=first_loss,
                         final_loss=last_epoch_loss, curve=curve, bf16=use_bf16,
                         compiled=use_compile)


def train_metrics(device, t0: float, cpu0: float, t_first: float | None, tokens_first: int, *,
                  step: int, epochs: int, examples: int, tokens: int, first_loss, final_loss,
                  curve, bf16: bool, compiled: bool) -> dict:
    """The metrics a training loop reports (this trainer's and the DDP one's): throughput from
    the wall and CPU clocks started at ``t0``/``cpu0``; None where not measurable (JSON-safe)."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    steady = time.perf_counter() - t_first if t_first is not None else wall
    return {
        "steps": step, "epochs": epochs, "examples": examples, "tokens": tokens,
        "train_time_s": wall, "train_cpu_s": cpu,  # CPU time: robust to a busy machine
        "tokens_per_s": tokens / wall if wall > 0 else None,
        # Excluding the first step (compilation, allocator warm-up):
        "steady_tokens_per_s": (tokens - tokens_first) / steady if step > 1 and steady > 0
        else None,
        "first_loss": first_loss, "final_loss": final_loss,
        "loss_curve": curve, "device": str(device), "bf16": bf16, "compiled": compiled,
        "num_threads": torch.get_num_threads(),
    }
