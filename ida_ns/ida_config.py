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
    overseer: str = field(default="H", metadata={
        "help": "who decides steps in amplification: H, or human (asked at the terminal for "
                "up to --human-budget goals; needs a TTY)"})
    human_budget: int = field(default=20, metadata={
        "help": "with --overseer human: goals a person decides in the whole run"})
    tiny: bool = field(default=False, metadata={
        "help": "a very small run (few problems, tiny model) for tests and smoke checks"})

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> "RunConfig":
        kw = {f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)}
        return cls(**kw)

    def as_dict(self) -> dict:
        return asdict(self)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    for f in fields(RunConfig):
        flag = "--" + f.name.replace("_", "-")
        help_ = f.metadata.get("help", "")
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            p.add_argument(flag, dest=f.name, action="store_true", default=default, help=help_)
        else:
            p.add_argument(flag, dest=f.name, type=type(default), default=default,
                           help=f"{help_} (default: {default})")
