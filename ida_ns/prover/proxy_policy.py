"""A distilled proxy generation as the search policy of ``prove``/``bench`` (escalating to the
overseer H), for ``bench tip DIR --proxy RUN_OR_GEN``.  torch and transformers are imported
only when a proxy is actually loaded."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import IdaNsError

PROXY_CONFIG_FILE = "proxy_config.json"  # written by ida_ns.proxy.model.Proxy.save


def resolve_generation(path: str | Path) -> Path:
    """A proxy generation folder from ``path``: the folder itself when it holds a saved proxy,
    else the newest ``proxies/gen-NNN`` of a run folder (``ida-ns run --out RUN``)."""
    p = Path(path)
    if not p.exists():
        raise IdaNsError(f"--proxy {path}: no such file or folder")
    if (p / PROXY_CONFIG_FILE).is_file():
        return p
    gens = sorted((g for g in (p / "proxies").glob("gen-*")
                   if re.fullmatch(r"gen-\d+", g.name) and (g / PROXY_CONFIG_FILE).is_file()),
                  key=lambda g: int(g.name[4:])) if (p / "proxies").is_dir() else []
    if not gens:
        raise IdaNsError(f"--proxy {path}: neither a saved proxy generation (no "
                         f"{PROXY_CONFIG_FILE}) nor a run folder with proxies/gen-NNN")
    return gens[-1]


def proxy_policy_factory(path: str | Path, k: int = 6, threshold: float = 0.35, seed: int = 0):
    """``(generation folder, factory)``: the factory takes the explorer's conjecture source
    and returns the proxy escalating to H (as :func:`ida_ns.ida._policy_factory` does)."""
    gen = resolve_generation(path)
    try:
        from ..proxy.model import Proxy
    except ImportError as e:  # the neural extra is optional
        raise IdaNsError(f"--proxy needs the neural extra ({e.name} is missing): "
                         "pip install 'ida-ns[neural]'") from None
    from ..policies import EscalatingPolicy
    from .overseer import Overseer

    proxy = Proxy.load(gen)

    def factory(conjectures):
        return EscalatingPolicy(proxy, Overseer(conjectures=conjectures), k=k,
                                threshold=threshold, seed=seed)

    return gen, factory
