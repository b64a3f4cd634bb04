"""Distributed distillation: the trainer of :mod:`ida_ns.proxy.distill` under ``torchrun`` (DDP).

    torchrun --nproc-per-node 2 -m ida_ns.cli distill --parent RUN/proxies/gen-001 \\
        --pairs RUN/traces.jsonl --round 1 --out gen-002

Every rank builds the same canonical dataset (the single-process trainer's functions), walks
the same seeded shuffled order, and takes its share of each global batch of ``batch_size``
sequences; DDP sums the gradients.  The loss on a rank is its tokens' cross-entropy *sum*
divided by the token count of the whole global batch, times the world size (DDP averages over
ranks), so each step's gradient is the single-process gradient of the same batch, up to float
summation order.  Gloo on CPU, NCCL on GPUs (one per rank, ``LOCAL_RANK``); on CUDA bf16
autocast and ``torch.compile`` as in the single-process trainer (that path is written for GPUs
and has not been run here: the development machine has none).

Rank 0 saves the generation exactly as the single-process trainer does (``save_pretrained``,
tokenizer, ``proxy_config.json``, ``card.json`` written last; the card carries the same keys,
its ``metrics`` add ``world_size`` and ``backend``), into ``OUT.tmp`` first and then renamed,
so a killed job never leaves a half-written generation under ``OUT``.

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) the same command runs as one
process.  torch is imported only when a command here runs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

from .errors import IdaNsError


class DistillInputError(IdaNsError):
    """Unusable distillation input (pairs file, parent generation, output folder)."""


# ---- input ---------------------------------------------------------------------------------


def read_pairs(path: str | Path, round_: int | None = None) -> tuple[list, list]:
    """(new pairs, replay pairs) from a JSON-lines file whose lines are ``[goal, context,
    step]`` triples or trace records ``{"round": r, "pairs": [...]}`` (a run's
    ``traces.jsonl``).  With ``round_``, trace pairs of that round are new and those of earlier
    rounds are replayed (what ``ida-ns run`` does); without it every pair is new."""
    path = Path(path)
    if not path.is_file():
        raise DistillInputError(f"{path}: no such pairs file")
    new, replay = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DistillInputError(f"{path}:{n}: not JSON ({e.msg}): {line[:80]!r}") \
                    from None
            if isinstance(rec, dict) and isinstance(rec.get("pairs"), list):
                r = rec.get("round")
                items = [_triple(p, path, n) for p in rec["pairs"]]
                if round_ is None or r == round_:
                    new.extend(items)
                elif isinstance(r, int) and r < round_:
                    replay.extend(items)
            else:
                new.append(_triple(rec, path, n))
    return new, replay


def _triple(p: Any, path: Path, n: int) -> tuple[str, str, str]:
    if not (isinstance(p, list) and len(p) == 3 and all(isinstance(x, str) for x in p)):
        raise DistillInputError(f"{path}:{n}: a pair is [goal, context, step] (three strings); "
                                f"got {json.dumps(p)[:80]}")
    return p[0], p[1], p[2]


# ---- process group -------------------------------------------------------------------------


def dist_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) without it."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
            int(os.environ.get("LOCAL_RANK", 0)))


def _setup(device_name: str):
    import torch
    import torch.distributed as dist

    from .proxy.distill import resolve_device

    rank, world, local = dist_env()
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local if device.index is None else device.index)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend=backend, device_id=device if device.type == "cuda"
                                else None)
    return rank, world, device, backend


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


# ---- the trainer ---------------------------------------------------------------------------


def distill_distributed(parent_dir: str | Path | None, pairs: Sequence, replay: Sequence, cfg,
                        out_dir: str | Path, proxy_config=None) -> dict[str, Any] | None:
    """Train X_{k+1} from the generation in ``parent_dir`` (None: a fresh generation 0 of
    ``proxy_config``) on ``pairs`` + ``replay`` across the torchrun ranks; rank 0 saves it in
    ``out_dir`` and returns its card (other ranks return None)."""
    import torch
    import torch.distributed as dist

    import ida_ns
    from .proxy.config import ProxyConfig
    from .proxy.distill import _switch, build_dataset, dataset_sha256, encode_all
    from .proxy.model import Proxy, cpu_threads

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    rank, world, device, backend = _setup(cfg.device)
    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise DistillInputError(f"{out_dir} exists and is not empty; choose another --out "
                                    "(a generation is never overwritten)")
        pairs, replay = list(pairs), list(replay)
        new, rep = build_dataset(pairs, replay, cfg.replay_ratio, cfg.seed)
        examples = sorted(new + rep)
        if not examples:
            raise DistillInputError("nothing to train on: 0 pairs offered (and no replay)")
        parent = None
        if parent_dir is not None:
            parent = Proxy.load(parent_dir)
            if not parent.card:
                raise DistillInputError(f"{parent_dir}: no card.json (an incomplete save?)")
            proxy = parent.clone()
        else:  # generation 0: rank 0 trains the tokenizer once, the others load its copy
            init = out_dir.with_name(out_dir.name + ".init")
            if rank == 0:
                shutil.rmtree(init, ignore_errors=True)
                Proxy.new(proxy_config or ProxyConfig(), [t for e in examples for t in e],
                          seed=cfg.seed).save(init, {"note": "initialisation"})
            _barrier(world)
            proxy = Proxy.load(init)
            _barrier(world)
            if rank == 0:
                shutil.rmtree(init, ignore_errors=True)
        encoded, skipped = encode_all(proxy, examples)
        if not encoded:
            raise DistillInputError(f"nothing to train on: {len(examples)} pairs offered, "
                                    f"{skipped} had steps longer than max_new_tokens="
                                    f"{proxy.config.max_new_tokens}")
        data_hash = dataset_sha256(examples)
        cuda = device.type == "cuda"
        use_bf16 = _switch(cfg.bf16, cuda) and (not cuda or torch.cuda.is_bf16_supported())
        use_compile = _switch(cfg.compile, cuda)
        with cpu_threads(0 if cuda else cfg.num_threads):
            metrics = _train(proxy, encoded, cfg, device, use_bf16, use_compile, rank, world)
        metrics.update(skipped_too_long=skipped, world_size=world, backend=backend)
        card = None
        if rank == 0:  # the same card as ida_ns.proxy.distill.distill writes
            card = {
                "format": "ida-ns-proxy-card/1",
                "generation": (parent.card.get("generation", 0) + 1) if parent else 0,
                "parent": str(Path(parent.path).resolve()) if parent and parent.path
                else None,
                "parent_model_sha256": parent.card.get("model_sha256") if parent else None,
                "dataset_sha256": data_hash,
                "dataset": {"pairs": len(new), "replay": len(rep), "offered_pairs": len(pairs),
                            "offered_replay": len(replay), "trained": len(encoded)},
                "distill_config": cfg.to_dict(),
                "proxy_config": proxy.config.to_dict(),
                "metrics": metrics,
                "versions": {"ida_ns": ida_ns.__version__, "torch": torch.__version__,
                             "transformers": __import__("transformers").__version__},
            }
            proxy.model.to("cpu")
            shutil.rmtree(tmp, ignore_errors=True)
            card = proxy.save(tmp, card)
            os.replace(tmp, out_dir)
        _barrier(world)
        return card
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _shard_batches(encoded, batch_size: int, gen, rank: int, world: int):
    """Per global batch: this rank's share (every ``world``-th sequence from ``rank``) and the
    global batch's count of loss tokens (the same on every rank)."""
    import torch

    order = torch.randperm(len(encoded), generator=gen).tolist()
    for i in range(0, len(order), batch_size):
        seqs = [encoded[j] for j in order[i:i + batch_size]]
        loss_tokens = sum(len(ids) - n_prompt for ids, n_prompt in seqs)
        yield seqs[rank::world], loss_tokens, sum(len(ids) for ids, _ in seqs)


def _train(proxy, encoded, cfg, device, use_bf16: bool, use_compile: bool, rank: int,
           world: int) -> dict[str, Any]:
    """The single-process loop of ida_ns.proxy.distill._train, data-parallel."""
    import torch
    import torch.nn.functional as F

    from .proxy.distill import IGNORE, collate, lr_at, make_optimizer, train_metrics

    model = proxy.model.to(device).train()
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ddp = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    else:
        ddp = model
    step_model = torch.compile(ddp) if use_compile else ddp
    opt = make_optimizer(model, cfg, device)
    gen = torch.Generator().manual_seed(cfg.seed)
    pad_id = proxy.tokenizer.pad_token_id
    per_rank = -(-cfg.batch_size // world)
    per_epoch = math.ceil(len(encoded) / cfg.batch_size)
    total = cfg.epochs * per_epoch if cfg.max_steps is None else \
        min(cfg.max_steps, cfg.epochs * per_epoch)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if use_bf16 else nullcontext()
    pad_multiple, fixed_rows = (64, True) if use_compile else ((8, False) if device.type == "cuda"
                                                              else (1, False))
    step, tokens, curve, first_loss = 0, 0, [], None
    last_epoch_loss = None
    t0, cpu0 = time.perf_counter(), time.process_time()
    t_first, tokens_first = None, 0
    for _epoch in range(cfg.epochs):
        epoch_loss, n_batches = 0.0, 0
        for seqs, loss_tokens, n_tok in _shard_batches(encoded, cfg.batch_size, gen, rank,
                                                       world):
            if step >= total:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, cfg)
            # a rank left without sequences (last, short batch) still joins the all-reduce:
            # one row of padding that carries no loss
            rows = seqs or [([pad_id], 1)]
            batch = collate(rows, pad_id, pad_multiple, per_rank if fixed_rows else 0)
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with autocast:
                logits = step_model(input_ids=batch["input_ids"],
                                    attention_mask=batch["attention_mask"]).logits
                labels = batch["labels"][:, 1:]
                loss_sum = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)).float(),
                                           labels.reshape(-1), ignore_index=IGNORE,
                                           reduction="sum")
                loss = loss_sum * world / max(1, loss_tokens)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            # the global batch's mean loss, for the record
            mean = loss_sum.detach() / max(1, loss_tokens)
            if world > 1:
                import torch.distributed as dist

                dist.all_reduce(mean)
            mean = float(mean)
            epoch_loss += mean
            n_batches += 1
            tokens += n_tok
            if step == 0:
                first_loss = mean
                t_first, tokens_first = time.perf_counter(), tokens
            elif step % cfg.log_every == 0:
                curve.append((step, mean))
            step += 1
        if n_batches:
            last_epoch_loss = epoch_loss / n_batches
        if step >= total:
            break
    model.eval()
    return train_metrics(device, t0, cpu0, t_first, tokens_first, step=step, epochs=cfg.epochs,
                         examples=len(encoded), tokens=tokens, first_loss=first_loss,
                         final_loss=last_epoch_loss, curve=curve, bf16=use_bf16,
                         compiled=use_compile)


# ---- command line --------------------------------------------------------------------------


def add_distill_arguments(p) -> None:
    from .proxy.config import DistillConfig, cli_fields

    p.add_argument("--pairs", required=True,
                   help="JSON lines: [goal, context, step] triples, or a run's traces.jsonl")
    p.add_argument("--round", type=int, default=None,
                   help="with trace records: this round's pairs are new, earlier rounds' are "
                        "replayed")
    p.add_argument("--parent", default=None,
                   help="the generation to train from (a saved proxy folder); default: a "
                        "fresh generation 0 with the default ProxyConfig")
    p.add_argument("--out", required=True, help="folder for the new generation")
    for flag, default, help_ in cli_fields(DistillConfig):
        kind = type(default) if default is not None else (int if flag == "--max-steps"
                                                          else float)
        p.add_argument(flag, type=kind, default=default, help=help_)


def run_distill(args) -> int:
    """``ida-ns distill``: one process, or one rank of a torchrun job."""
    import dataclasses

    from .proxy.config import DistillConfig

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    fields = {f.name for f in dataclasses.fields(DistillConfig)}
    try:
        cfg = DistillConfig(**{k: v for k, v in vars(args).items() if k in fields})
    except ValueError as e:
        raise DistillInputError(str(e)) from None
    new, replay = read_pairs(args.pairs, args.round)
    if args.parent is not None and not Path(args.parent, "card.json").is_file():
        raise DistillInputError(f"{args.parent}: not a saved generation (no card.json)")
    card = distill_distributed(args.parent, new, replay, cfg, args.out)
    if card is not None:
        m = card["metrics"]
        print(f"distilled {args.out}: generation {card['generation']}, "
              f"{card['dataset']['trained']} examples, {m['steps']} steps on "
              f"{m['world_size']} process(es) ({m['backend']}, {m['device']}), final loss "
              f"{_num(m['final_loss'], '.4f')}, {_num(m['tokens_per_s'], '.0f')} tokens/s",
              flush=True)
    return 0


def _num(x, fmt: str) -> str:
    """A metric for people: formatted, or '-' when it could not be measured (None)."""
    return format(x, fmt) if isinstance(x, (int, float)) else "-"
