"""Configuration of the IDA loop.  The dataclass fields (with their help text) ARE the
``ida-ns run`` flags, so flags and config cannot drift apart."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, asdict, dataclass, field, fields


@dataclass(frozen=True)
class RunConfig:
    train: tuple = field(default=("default", "benchmarks/tip/isaplanner"), metadata={
        "help": "training sources: problem set names or manifests (all of their problems), "
                "folders of .smt2 files (a TIP folder works), or files"})
    heldout: tuple = field(default=("benchmarks/tip/prod",), metadata={
        "help": "held-out sources, never trained on (a whole source, e.g. TIP prod)"})
    train_limit: int = field(default=36, metadata={
        "help": "seeded sample of this many training goals (0 = all of them)"})
    bank_limit: int = field(default=0, metadata={
        "help": "lemma bank: in round 0 the overseer H also proves, once, the training "
                "sources' goals outside the --train-limit sample (no exploration, 2x the node "
                "budget, --bank-budget seconds each); their re-checked proofs join the "
                "distillation set, the lemma memory and the recall table.  0 = all of them, "
                "N = a seeded sample of N"})
    no_bank: bool = field(default=False, metadata={
        "help": "ablation: no lemma bank (only the sampled training goals are proved)"})
    bank_budget_s: float = field(default=0.75, metadata={
        "help": "wall seconds per lemma-bank goal"})
    heldout_limit: int = field(default=10, metadata={
        "help": "seeded sample of this many held-out goals (0 = all of them)"})
    spec: str = field(default="", metadata={
        "help": "legacy: one problem set with its own train/held-out split (overrides "
                "--train/--heldout)"})
    rounds: int = field(default=2, metadata={
        "help": "IDA rounds after round 0 (each: amplify, verify, distill, evaluate)"})
    out: str = field(default="runs/latest", metadata={"help": "run directory"})
    resume: bool = field(default=False, metadata={
        "help": "continue the run in --out (or the path given) after a crash"})
    no_verify: bool = field(default=False, metadata={
        "help": "UNSAFE ablation: accept proxy steps without the verify gate and distill "
                "proofs nobody re-checked (a separately named path; generation cards and the "
                "audit log are marked unverified; the independent re-check still counts "
                "accepted-but-false)"})
    no_proxy: bool = field(default=False, metadata={"help": "ablation: overseer H only"})
    node_budget: int = field(default=12, metadata={
        "help": "goal expansions per problem (the fixed search budget of the KPIs)"})
    problem_budget_s: float = field(default=2.5, metadata={
        "help": "wall seconds per training goal in amplification (with theory exploration)"})
    eval_budget_s: float = field(default=20.0, metadata={
        "help": "wall-clock cap per held-out goal and policy in evaluation: a runaway guard "
                "only (the node budget is the fixed budget of every policy; a loaded machine "
                "must not decide the result)"})
    leaf_timeout_s: float = field(default=0.2, metadata={"help": "solver seconds per leaf"})
    solver: str = field(default="z3", metadata={"help": "leaf solver: z3 | cvc5"})
    workers: int = field(default=2, metadata={"help": "solver worker processes"})
    k: int = field(default=0, metadata={
        "help": "0: the proxy ranks the step grammar's candidates and its lemma memory by "
                "likelihood; N > 0: it also writes its greedy step and N samples, ranked "
                "with them"})
    threshold: float = field(default=0.35, metadata={
        "help": "escalate to the overseer when the proxy's top candidate probability is "
                "below this"})
    ensemble: int = field(default=1, metadata={
        "help": "distilled members per generation; >1 adds disagreement as a confidence "
                "signal"})
    epochs: int = field(default=12, metadata={
        "help": "distillation epochs of round 0 (later rounds continue X_r for at most 4)"})
    seed: int = field(default=0, metadata={"help": "random seed"})
    overseer: str = field(default="H", metadata={
        "help": "who decides steps in amplification: H, or human (asked at the terminal for "
                "up to --human-budget goals; needs a TTY)"})
    human_budget: int = field(default=20, metadata={
        "help": "with --overseer human: goals a person decides in the whole run"})
    tiny: bool = field(default=False, metadata={
        "help": "a very small run (six easy goals of the default set's training split, three "
                "of its held-out split, a tiny model) for tests and smoke checks"})
    seeds: int = field(default=1, metadata={
        "help": "run this many seeds (seed, seed+1, ...) in OUT/seed-N and report mean and "
                "spread per round in OUT/summary.json"})
    hindsight: int = field(default=6, metadata={
        "help": "hindsight: verified subgoal proofs kept per training goal and round (closed "
                "in any search, failed ones included; 0 = off); proved explored lemmas too"})
    proxy: str = field(default="", metadata={
        "help": "X_0: a local Hugging Face causal-LM directory (from_pretrained, local files "
                "only) instead of a fresh GPT-2"})
    preset: str = field(default="cpu", metadata={
        "help": "proxy size: cpu (2 layers x 128) | gpu (6 layers x 512, bf16 + static KV "
                "cache on CUDA)"})
    recheck_timeout_s: float = field(default=1.0, metadata={
        "help": "solver seconds per leaf in the independent re-check of kept proofs"})

    def __post_init__(self):
        for name in ("train", "heldout"):
            v = getattr(self, name)
            if isinstance(v, str):
                v = (v,)
            object.__setattr__(self, name, tuple(v))
        if self.preset not in ("cpu", "gpu"):
            raise ValueError(f"preset={self.preset!r}: choose cpu or gpu")
        if self.seeds < 1 or self.rounds < 0:
            raise ValueError(f"seeds={self.seeds} must be >= 1 and rounds={self.rounds} >= 0")

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> "RunConfig":
        kw = {f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)}
        if isinstance(kw.get("resume"), str):  # --resume RUN: resume the run in RUN
            kw["out"], kw["resume"] = kw["resume"], True
        return cls(**kw)

    def as_dict(self) -> dict:
        return asdict(self)


# Integer settings that may be 0 (everything else numeric must be positive; seed is free).
_MAY_BE_ZERO = frozenset({"rounds", "human_budget", "hindsight", "train_limit", "heldout_limit",
                          "bank_limit"})
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
        elif isinstance(default, tuple):
            p.add_argument(flag, dest=f.name, nargs="+", default=default,
                           help=f"{help_} (default: {' '.join(default)})")
        else:
            kind = type(default)
            p.add_argument(*flags, dest=f.name,
                           type=_checked(f.name, kind) if kind in (int, float) else kind,
                           default=default, help=help_)
