"""Configuration of the IDA loop.  The dataclass fields (with their help text) ARE the
``ida-ns run`` flags, so flags and config cannot drift apart."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, asdict, dataclass, field, fields


@dataclass(frozen=True)
class RunConfig:
    spec: str = field(default="default", metadata={
        "help": "problem set: a built-in name (specs/sets/NAME.json) or a path"})
    rounds: int = field(default=2, metadata={
        "help": "IDA rounds after round 0 (each: amplify, verify, distill, evaluate)"})
    out: str = field(default="runs/latest", metadata={"help": "run directory"})
    resume: bool = field(default=False, metadata={
        "help": "continue the run in --out (or the path given) after a crash"})
    no_verify: bool = field(default=False, metadata={
        "help": "ablation: accept proxy steps without the verify gate (a ground-truth "
                "re-check afterwards counts accepted-but-false)"})
    no_proxy: bool = field(default=False, metadata={"help": "ablation: overseer H only"})
    node_budget: int = field(default=12, metadata={
        "help": "goal expansions per problem (the fixed search budget of the KPIs)"})
    problem_budget_s: float = field(default=2.5, metadata={
        "help": "wall seconds per training goal in amplification (with theory exploration)"})
    eval_budget_s: float = field(default=1.5, metadata={
        "help": "wall-clock cap per held-out goal in evaluation (the node budget is the "
                "fixed budget; this only stops runaway solver time)"})
    leaf_timeout_s: float = field(default=0.2, metadata={"help": "solver seconds per leaf"})
    solver: str = field(default="z3", metadata={"help": "leaf solver: z3 | cvc5"})
    workers: int = field(default=2, metadata={"help": "solver worker processes"})
    k: int = field(default=6, metadata={"help": "proxy samples per goal"})
    threshold: float = field(default=0.35, metadata={
        "help": "escalate to the overseer when the proxy's top candidate probability is "
                "below this"})
    ensemble: int = field(default=1, metadata={
        "help": "distilled members per generation; >1 adds disagreement as a confidence "
                "signal"})
    epochs: int = field(default=30, metadata={"help": "distillation epochs per round"})
    seed: int = field(default=0, metadata={"help": "random seed"})
    executor: str = field(default="local", metadata={
        "help": "local | ray: with ray, held-out goals are evaluated as Ray tasks "
                "(pip install 'ida-ns[ray]')"})
    ray_address: str = field(default="", metadata={
        "help": "Ray cluster to join with --executor ray (default: $RAY_ADDRESS, else a "
                "local Ray)"})
    tiny: bool = field(default=False, metadata={
        "help": "a very small run (few problems, tiny model) for tests and smoke checks"})

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> "RunConfig":
        kw = {f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)}
        if isinstance(kw.get("resume"), str):  # --resume RUN: resume the run in RUN
            kw["out"], kw["resume"] = kw["resume"], True
        return cls(**kw)

    def as_dict(self) -> dict:
        return asdict(self)


# Integer settings that may be 0 (everything else numeric must be positive; seed is free).
_MAY_BE_ZERO = frozenset({"rounds"})
_FREE = frozenset({"seed"})


def _checked(name: str, kind: type):
    """An argparse type that names the flag and the rule when a value is out of range."""
    def convert(text: str):
        try:
            x = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if name in _FREE:
            return x
        low_ok = x >= 0 if name in _MAY_BE_ZERO else x > 0
        if not low_ok or x != x or x == float("inf"):
            rule = ">= 0" if name in _MAY_BE_ZERO else "> 0"
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return x

    convert.__name__ = kind.__name__
    return convert


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    for f in fields(RunConfig):
        # One spelling per concept across subcommands: seconds are plain (--leaf-timeout, as
        # in prove); the older "-s" spelling stays accepted.
        base = f.name[:-2] if f.name.endswith("_s") else f.name
        flags = ["--" + base.replace("_", "-")]
        if base != f.name:
            flags.append("--" + f.name.replace("_", "-"))
        flag = flags[0]
        help_ = f.metadata.get("help", "")
        default = f.default if f.default is not MISSING else None
        if f.name == "resume":
            p.add_argument(flag, dest=f.name, nargs="?", const=True, default=False,
                           metavar="RUN", help=help_)
        elif isinstance(default, bool):
            p.add_argument(flag, dest=f.name, action="store_true", default=default, help=help_)
        else:
            kind = type(default)
            p.add_argument(*flags, dest=f.name,
                           type=_checked(f.name, kind) if kind in (int, float) else kind,
                           default=default, help=help_)
