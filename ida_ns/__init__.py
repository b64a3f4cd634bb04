"""ida-ns: neuro-symbolic verification for Iterated Distillation and Amplification.

The public API (documented in README "Python API") is importable from here::

    from ida_ns import load_problem, prove, check_certificate, Policy, Proposal
    from ida_ns import Proved, Refuted, Unknown, Goal, ProofSession, RunConfig, run, evaluate

Importing this package is cheap: names are resolved on first use, so no solver, torch or
transformers import happens until a function that needs one runs.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.2.0"

# public name -> (module, attribute)
_PUBLIC = {
    "load_problem": (".api", "load_problem"),
    "prove": (".api", "prove"),
    "check_certificate": (".api", "check_certificate"),
    "ProofResult": (".api", "ProofResult"),
    "step_proposal": (".api", "step_proposal"),
    "Policy": (".prover.search", "Policy"),
    "Proposal": (".prover.search", "Proposal"),
    "Goal": (".prover.goal", "Goal"),
    "ProofNode": (".prover.proof", "ProofNode"),
    "parse_step": (".prover.steps", "parse_step"),
    "Overseer": (".prover.overseer", "Overseer"),
    "Proved": (".verdict", "Proved"),
    "Refuted": (".verdict", "Refuted"),
    "Unknown": (".verdict", "Unknown"),
    "Verdict": (".verdict", "Verdict"),
    "IdaNsError": (".errors", "IdaNsError"),
    "SpecError": (".errors", "SpecError"),
    "RunConfig": (".ida_config", "RunConfig"),
    "run": (".ida", "run"),
    "evaluate": (".evaluation", "run_eval"),
    "ProofSession": (".session", "ProofSession"),
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name: str):
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'ida_ns' has no attribute {name!r}") from None
    value = getattr(import_module(module, __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
