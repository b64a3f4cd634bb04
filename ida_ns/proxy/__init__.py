"""The neural proxy X_k: a small causal transformer mapping (goal, context) to step text.

Importing this package is cheap: torch and transformers load only when :class:`Proxy`,
:func:`ensemble_disagreement` is first touched, or ``ida_ns.proxy.model`` /
``ida_ns.proxy.distill`` is imported (the trainer: ``from ida_ns.proxy.distill import
distill``).  Without them, that access raises
:class:`~ida_ns.errors.BackendMissing` naming the extra to install.

    >>> from ida_ns.proxy import Candidate, ProxyConfig, DistillConfig
    >>> Candidate("induct xs", -0.25, 3)
    Candidate(text='induct xs', logprob=-0.25, tokens=3)

What the proxy writes is untrusted data: the prover parses each candidate's text into a typed
step and the verify gate checks it; nothing here interprets the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import DistillConfig, ProxyConfig


@dataclass(frozen=True, order=False)
class Candidate:
    """One proposed step: its text (one line, whitespace collapsed) and its log-probability
    ``log p(step tokens, EOS | prompt)`` under the model (temperature 1, no top-k); ``tokens``:
    how many tokens that is (0 = unknown), for length-normalised scores."""

    text: str
    logprob: float
    tokens: int = 0


_LAZY = {
    "Proxy": "model", "ensemble_disagreement": "model",
    "train_tokenizer": "tokenizer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ida_ns.proxy' has no attribute {name!r}")
    try:
        import importlib

        mod = importlib.import_module(f"ida_ns.proxy.{module}")
    except ModuleNotFoundError as e:  # torch / transformers / tokenizers absent
        if e.name and e.name.split(".")[0] in ("torch", "transformers", "tokenizers"):
            from ida_ns.errors import BackendMissing

            raise BackendMissing(
                f"ida_ns.proxy.{name} needs {e.name!r}; install it with "
                "`pip install -e '.[neural]'`") from e
        raise
    return getattr(mod, name)


__all__ = ["Candidate", "DistillConfig", "ProxyConfig", *_LAZY]
