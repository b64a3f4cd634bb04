"""Configuration of the neural proxy and of its distillation trainer.

Plain dataclasses (no torch import), one field per knob; every field carries
``metadata={"help": ...}`` so a CLI can be generated from it (see :func:`cli_fields`) and flags
never drift from the config.  Defaults are sized for a 2-core CPU box: a 2-layer, 128-wide
GPT-2 trains a few hundred (goal -> step) pairs for a few epochs in seconds on one thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator


def _help(text: str, default: Any) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class ProxyConfig:
    """Shape of the proxy network, its tokenizer and how it samples proposals."""

    # --- network (a GPT-2 built from this config in code; never downloaded) ---
    n_layer: int = _help("Transformer blocks.", 2)
    n_embd: int = _help("Hidden width; must be divisible by n_head.", 128)
    n_head: int = _help("Attention heads per block.", 4)
    # Prompt (goal, context) plus the generated step must fit; longer prompts are truncated
    # (goal head kept, context shortened first, a <trunc> token marks the cut).
    n_positions: int = _help("Maximum sequence length in tokens (prompt + step).", 256)
    # 0.0: the tiny models underfit rather than overfit, and no dropout keeps CPU training
    # deterministic without an RNG stream in the forward pass.
    dropout: float = _help("Dropout in embeddings, attention and MLP.", 0.0)

    # --- tokenizer (byte-level BPE over SMT-LIB symbols; vocabulary fixed at generation 0) ---
    # Large enough that every symbol of a TIP-sized theory corpus becomes one token; symbols
    # outside the vocabulary still encode, as byte pieces (see ida_ns.proxy.tokenizer).
    vocab_size: int = _help("Target BPE vocabulary size (including the 256 byte tokens).", 2048)
    min_frequency: int = _help("Minimum pair count for a BPE merge.", 1)

    # --- sampling (Proxy.propose) ---
    num_candidates: int = _help("Default number of sampled candidates per goal (plus greedy).", 8)
    # Top-k filtering keeps sampled steps near the mode; 0 disables it.
    top_k: int = _help("Sample only among the k most likely tokens (0 = no limit).", 20)
    temperature: float = _help("Sampling temperature (> 0).", 1.0)
    # Steps are one line; lemmas are the longest, ~30-60 tokens for TIP-sized formulas.
    max_new_tokens: int = _help("Longest step generated, in tokens (EOS included).", 64)
    # "auto" = on for CUDA (fixed shapes: no re-allocation per token, CUDA-graph friendly),
    # off on CPU (the dynamic cache is faster there); "on" forces it (tests use it on CPU).
    static_cache: str = _help('Static KV cache while proposing: "auto", "on" or "off".', "auto")

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if self.max_new_tokens >= self.n_positions - 8:
            raise ValueError(f"max_new_tokens={self.max_new_tokens} leaves no room for a prompt "
                             f"in n_positions={self.n_positions}")
        if self.static_cache not in ("auto", "on", "off"):
            raise ValueError(f'static_cache={self.static_cache!r} must be "auto", "on" or "off"')
        if self.temperature <= 0:
            raise ValueError(f"temperature={self.temperature} must be > 0")
        if self.vocab_size < 300:
            raise ValueError(f"vocab_size={self.vocab_size} must be >= 300 "
                             "(256 byte tokens + specials + some merges)")
        for name in ("n_layer", "n_head", "num_candidates", "max_new_tokens"):
            if getattr(self, name) < (0 if name == "num_candidates" else 1):
                raise ValueError(f"{name}={getattr(self, name)} is out of range")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProxyConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ProxyConfig fields {unknown}; known: {sorted(known)}")
        return cls(**d)


# The GPU preset (``ida-ns run --preset gpu``): 6 layers x 512, a longer window so prompts
# carry more of the definitions; proposals run in bf16 with a static KV cache on CUDA.
GPU_PRESET = ProxyConfig(n_layer=6, n_embd=512, n_head=8, n_positions=512, vocab_size=4096,
                         max_new_tokens=96)


@dataclass(frozen=True)
class DistillConfig:
    """How X_{k+1} is trained from X_k on verified (goal, context, step) pairs."""

    epochs: int = _help("Passes over the training set.", 4)
    # When set, training stops after this many optimizer steps even if epochs remain.
    max_steps: int | None = _help("Cap on optimizer steps (None = epochs decide).", None)
    # 1e-3 suits 2-4 layer models trained from scratch with AdamW; continued training of a
    # parent uses the same rate (each generation sees a small dataset for few epochs).
    lr: float = _help("Peak AdamW learning rate.", 1e-3)
    weight_decay: float = _help("AdamW weight decay (not applied to biases/LayerNorm).", 0.01)
    # Linear warmup over this share of the steps, then cosine decay to min_lr_ratio * lr.
    warmup_ratio: float = _help("Share of steps spent in linear warmup.", 0.05)
    min_lr_ratio: float = _help("Final learning rate as a share of lr.", 0.1)
    grad_clip: float = _help("Gradient norm clip (0 = off).", 1.0)
    batch_size: int = _help("Sequences per optimizer step.", 16)

    # --- replay of earlier rounds' verified pairs (against forgetting) ---
    # At most this many replayed pairs per new pair; a deterministic (seeded) subsample is
    # taken when more are offered.  None keeps every replayed pair.
    replay_ratio: float | None = _help("Max replayed pairs per new pair (None = all).", 1.0)

    seed: int = _help("Seed for initialisation, shuffling and replay subsampling.", 0)
    device: str = _help('"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".',
                        "auto")
    # On a small CPU box one thread was ~15x faster than two for these model sizes (thread
    # synchronisation dominates tiny matmuls).  0 = leave torch's setting alone.
    num_threads: int = _help("CPU threads for training (0 = torch default).", 1)
    # "auto" = on for CUDA, off on CPU.  bf16 autocast and torch.compile pay off only on GPUs.
    bf16: str = _help('bf16 autocast: "auto", "on" or "off".', "auto")
    compile: str = _help('torch.compile the model: "auto", "on" or "off".', "auto")
    log_every: int = _help("Record the loss every this many steps (avoids GPU syncs).", 10)

    def __post_init__(self) -> None:
        for name in ("bf16", "compile"):
            if getattr(self, name) not in ("auto", "on", "off"):
                raise ValueError(f'{name}={getattr(self, name)!r} must be "auto", "on" or "off"')
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(f"epochs={self.epochs}, batch_size={self.batch_size} and "
                             f"lr={self.lr} must be positive")
        if self.replay_ratio is not None and self.replay_ratio < 0:
            raise ValueError(f"replay_ratio={self.replay_ratio} must be >= 0 or None")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def cli_fields(cls: type) -> Iterator[tuple[str, Any, str]]:
    """``(flag name, default, help)`` for each field of a config class, for CLI generation.

    >>> next(cli_fields(ProxyConfig))
    ('--n-layer', 2, 'Transformer blocks.')
    """
    for f in dataclasses.fields(cls):
        yield "--" + f.name.replace("_", "-"), f.default, f.metadata.get("help", "")
