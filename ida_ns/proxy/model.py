"""The proxy network: a tiny GPT-2 (config built in code, trained from scratch) that writes steps.

Sequence format (token ids)::

    <bos> goal <sep> context <sep> step <eos>

The prompt is everything up to and including the second ``<sep>``; the model learns to
continue it with the step text and ``<eos>``.  Texts are whitespace-normalised first (runs of
whitespace become one space) so a goal printed over several lines reads like a one-line one.

Prompts longer than the window (``n_positions - max_new_tokens``) are cut: the context is
shortened first, down to a quarter of the budget; then the goal keeps its head.  A cut segment
ends in ``<trunc>`` so the model can tell.

A saved proxy directory holds ``config.json`` + ``model.safetensors`` (HF, loads with
``AutoModelForCausalLM.from_pretrained``), ``tokenizer.json`` + ``tokenizer_config.json``
(``AutoTokenizer.from_pretrained``), ``proxy_config.json`` (:class:`ProxyConfig`) and
``card.json`` (lineage and metrics; written last, so its presence marks a complete save).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging

from ida_ns.errors import IdaNsError
from ida_ns.proxy import Candidate
from ida_ns.proxy.config import ProxyConfig
from ida_ns.proxy.tokenizer import TRUNC, load_tokenizer, train_tokenizer

WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
PROXY_CONFIG_FILE = "proxy_config.json"


def normalize(text: str) -> str:
    """Collapse whitespace runs to one space and strip the ends."""
    return " ".join(text.split())


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def _quiet_progress():
    """Silence HF's per-call progress bars ("Loading weights", "Writing model shards")."""
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


@contextmanager
def cpu_threads(n: int):
    """Run the body with ``torch.set_num_threads(n)`` (``n <= 0``: unchanged), then restore.

    Small models on a few cores run many times faster on one thread than on two (measured
    ~5x for proposing, ~8x for training on a 2-core box): thread synchronisation dominates
    their tiny matrix products.
    """
    prev = torch.get_num_threads()
    if n > 0 and n != prev:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != prev:
            torch.set_num_threads(prev)


def build_model(config: ProxyConfig, tokenizer) -> GPT2LMHeadModel:
    """A freshly initialised GPT-2 of the configured shape (uses the global torch RNG)."""
    hf = GPT2Config(
        vocab_size=len(tokenizer), n_positions=config.n_positions, n_embd=config.n_embd,
        n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=config.dropout,
        embd_pdrop=config.dropout, attn_pdrop=config.dropout,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    model = GPT2LMHeadModel(hf)
    model.loss_type = "ForCausalLM"  # HF's shifted next-token loss; silences a v5 warning
    return model


class Proxy:
    """A proxy X_k: model + tokenizer + :class:`ProxyConfig` (+ its card once saved/loaded)
    + its lemma memory (:class:`ida_ns.proxy.candidates.LemmaMemory`, ``lemmas.json``).

    It reads and writes goals in canonical variable names (``canonical_names``: the policy
    renames prompts to ``v0, v1, ...`` and maps its steps back, :mod:`ida_ns.proxy.canon`).

    ``cpu_threads``: torch threads used while proposing on CPU (restored afterwards; 0 leaves
    torch's setting alone).  Default 1, see :func:`cpu_threads`.
    """

    canonical_names = True

    def __init__(self, model, tokenizer, config: ProxyConfig, path: str | None = None,
                 card: dict | None = None, cpu_threads: int = 1):
        from ida_ns.proxy.candidates import LemmaMemory

        self.cpu_threads = cpu_threads
        self.memory = LemmaMemory()  # lemmas of its verified training traces (lemmas.json)
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.path = path  # directory it was saved to / loaded from (None: only in memory)
        self.card = card or {}
        self.trunc_id = tokenizer.convert_tokens_to_ids(TRUNC)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def new(cls, config: ProxyConfig, tokenizer_corpus: Iterable[str], seed: int = 0) -> "Proxy":
        """A fresh proxy: trains the tokenizer on ``tokenizer_corpus`` (goals, contexts, steps;
        whitespace-normalised here) and initialises the weights from ``seed``."""
        tok = train_tokenizer((normalize(t) for t in tokenizer_corpus), config.vocab_size,
                              config.min_frequency)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(config, tok)
        model.eval()
        return cls(model, tok, config)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, config: ProxyConfig | None = None
                        ) -> "Proxy":
        """Any Hugging Face causal LM as X_0: a local model directory (or a model already in
        the local HF cache), loaded with ``from_pretrained(local_files_only=True)`` — nothing
        is downloaded.  Missing special tokens (pad, bos, eos, sep, <trunc>) are added and the
        embeddings resized; sampling settings come from ``config``."""
        import dataclasses

        from transformers import AutoTokenizer

        from ida_ns.proxy.tokenizer import BOS, EOS, PAD, SEP

        try:
            with _quiet_progress():
                tok = AutoTokenizer.from_pretrained(str(name_or_path), local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(str(name_or_path),
                                                             local_files_only=True)
        except (OSError, ValueError, KeyError) as e:
            raise IdaNsError(f"--proxy {name_or_path}: not a local Hugging Face causal-LM "
                             f"model (directory with config.json, weights and a tokenizer, "
                             f"or a model in the local HF cache): {str(e)[:300]}") from None
        add = {attr: name for attr, name in (("pad_token", PAD), ("bos_token", BOS),
                                             ("eos_token", EOS), ("sep_token", SEP))
               if getattr(tok, attr, None) is None}
        if TRUNC not in tok.get_vocab():
            add["additional_special_tokens"] = [TRUNC]
        if add and tok.add_special_tokens(add):
            model.resize_token_embeddings(len(tok))
        mc = model.config
        for attr, tid in (("pad_token_id", tok.pad_token_id), ("bos_token_id", tok.bos_token_id),
                          ("eos_token_id", tok.eos_token_id)):
            setattr(mc, attr, tid)
        base = config or ProxyConfig()
        n_pos = getattr(mc, "n_positions", None) or getattr(mc, "max_position_embeddings", None)
        n_pos = min(int(n_pos or base.n_positions), 1024)
        heads = int(getattr(mc, "num_attention_heads", base.n_head) or base.n_head)
        width = int(getattr(mc, "hidden_size", base.n_embd) or base.n_embd)
        pcfg = dataclasses.replace(
            base, n_layer=int(getattr(mc, "num_hidden_layers", base.n_layer) or base.n_layer),
            n_embd=width if width % heads == 0 else heads, n_head=heads,
            n_positions=max(n_pos, base.max_new_tokens + 16), vocab_size=max(len(tok), 300))
        model.loss_type = "ForCausalLM"
        return cls(model.eval(), tok, pcfg)

    @classmethod
    def load(cls, directory: str | Path, device: str = "cpu") -> "Proxy":
        directory = Path(directory)
        cfg_path = directory / PROXY_CONFIG_FILE
        if not cfg_path.is_file():
            raise IdaNsError(f"{directory} is not a saved proxy: {PROXY_CONFIG_FILE} is missing "
                             "(save one with Proxy.save)")
        config = ProxyConfig.from_dict(json.loads(cfg_path.read_text()))
        with _quiet_progress():
            model = AutoModelForCausalLM.from_pretrained(directory).to(device).eval()
        model.loss_type = "ForCausalLM"
        tok = load_tokenizer(str(directory))
        card_path = directory / CARD_FILE
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        from ida_ns.proxy.candidates import LemmaMemory

        proxy = cls(model, tok, config, path=str(directory), card=card)
        proxy.memory = LemmaMemory.load(directory)
        return proxy

    def save(self, directory: str | Path, card: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write model, tokenizer, proxy config, then ``card.json`` (``card`` plus
        ``model_sha256`` of the weights file).  Returns the card written."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with _quiet_progress():
            self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / PROXY_CONFIG_FILE).write_text(
            json.dumps(self.config.to_dict(), indent=2, sort_keys=True) + "\n")
        full = dict(card or {})
        full["model_sha256"] = file_sha256(directory / WEIGHTS_FILE)
        if len(self.memory):
            full["lemma_memory_sha256"] = self.memory.save(directory)
            full["lemma_memory"] = len(self.memory)
        full.setdefault("proxy_config", self.config.to_dict())
        (directory / CARD_FILE).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
        self.path, self.card = str(directory), full
        return full

    def clone(self) -> "Proxy":
        """An independent copy (same weights and tokenizer), e.g. to train X_{k+1} from X_k."""
        p = Proxy(copy.deepcopy(self.model), self.tokenizer, self.config, self.path,
                  dict(self.card), self.cpu_threads)
        p.memory = self.memory
        return p

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> "Proxy":
        self.model.to(device)
        return self

    # -- encoding ----------------------------------------------------------------------------

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(normalize(text), add_special_tokens=False)

    def prompt_budget(self) -> int:
        """Tokens available to goal + context (window minus step room, <bos>, two <sep>)."""
        return self.config.n_positions - self.config.max_new_tokens - 3

    def encode_prompt(self, goal: str, context: str) -> list[int]:
        """``<bos> goal <sep> context <sep>``, truncated to :meth:`prompt_budget`."""
        g, c = self._ids(goal), self._ids(context)
        budget = self.prompt_budget()
        if len(g) + len(c) > budget:
            c_share = min(len(c), budget // 4)
            if len(g) > budget - c_share:
                g = g[: budget - c_share - 1] + [self.trunc_id]
            c_keep = budget - len(g)
            if len(c) > c_keep:
                c = c[: c_keep - 1] + [self.trunc_id] if c_keep > 1 else []
        t = self.tokenizer
        return [t.bos_token_id, *g, t.sep_token_id, *c, t.sep_token_id]

    def encode_example(self, goal: str, context: str, step: str) -> tuple[list[int], int] | None:
        """Training sequence ``prompt + step + <eos>`` and the prompt length, or ``None`` when
        the step does not fit in ``max_new_tokens`` (it could never be generated)."""
        s = self._ids(step)
        if not s or len(s) + 1 > self.config.max_new_tokens:
            return None
        p = self.encode_prompt(goal, context)
        return p + s + [self.tokenizer.eos_token_id], len(p)

    # -- proposing ---------------------------------------------------------------------------

    def propose(self, goal_text: str, context_text: str, k: int | None = None,
                seed: int = 0) -> list[Candidate]:
        """Up to ``k + 1`` distinct candidate steps (``k`` sampled plus the greedy one), best
        log-probability first.  See :meth:`propose_batch`."""
        return self.propose_batch([(goal_text, context_text)], k, seed)[0]

    @torch.inference_mode()
    def propose_batch(self, items: Sequence[tuple[str, str]], k: int | None = None,
                      seed: int = 0) -> list[list[Candidate]]:
        """For each ``(goal, context)``: the greedy step plus ``k`` samples (top-k filtered,
        at ``config.temperature``), deduplicated and sorted by log-probability (then text).

        Log-probabilities are under the model itself (temperature 1, unfiltered), summed over
        the step's tokens and its ``<eos>``.  Samples that do not end within
        ``max_new_tokens`` or decode to empty text are dropped: they are not proposals.
        Sampling uses its own generator seeded with ``seed``: same inputs, same output; the
        global torch RNG is untouched.
        """
        k = self.config.num_candidates if k is None else k
        if k < 0:
            raise ValueError(f"k={k} must be >= 0")
        if not items:
            return []
        tok, dev = self.tokenizer, self.device
        per = k + 1
        prompts = [self.encode_prompt(g, c) for g, c in items]
        width = max(map(len, prompts))
        ids = torch.full((len(prompts), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):  # left padding: every row's last token is its <sep>
            ids[i, width - len(p):] = torch.tensor(p)
            mask[i, width - len(p):] = 1
        gen = torch.Generator(device=dev).manual_seed(seed)
        with cpu_threads(self.cpu_threads if dev.type == "cpu" else 0):
            out_tokens, logp, ended = self._sample(ids.to(dev), mask.to(dev), per, gen)

        results: list[list[Candidate]] = []
        out_tokens, logp, ended = out_tokens.cpu(), logp.cpu(), ended.cpu()
        for i in range(len(prompts)):
            best: dict[str, tuple[float, int]] = {}
            for r in range(i * per, (i + 1) * per):
                if not ended[r]:
                    continue
                seq = out_tokens[r].tolist()
                seq = seq[: seq.index(tok.eos_token_id)]
                text = normalize(tok.decode(seq, skip_special_tokens=True))
                lp = float(logp[r])
                if text and math.isfinite(lp) and lp > best.get(text, (-math.inf, 0))[0]:
                    best[text] = (lp, len(seq) + 1)
            results.append([Candidate(t, lp, n) for t, (lp, n) in
                            sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))])
        return results

    @torch.inference_mode()
    def score_batch(self, items: Sequence[tuple[str, str, str]]) -> list[float]:
        """Teacher-forced ``log p(step, <eos> | goal, context)`` for each ``(goal, context,
        step)``, in one batch (``-inf`` for a step longer than ``max_new_tokens``)."""
        if not items:
            return []
        encoded = [self.encode_example(g, c, s) for g, c, s in items]
        ok = [e for e in encoded if e is not None]
        out = [-math.inf] * len(items)
        if not ok:
            return out
        tok, dev = self.tokenizer, self.device
        width = max(len(ids) for ids, _ in ok)
        ids = torch.full((len(ok), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(ok), width), dtype=torch.long)
        for i, (seq, _) in enumerate(ok):
            ids[i, :len(seq)] = torch.tensor(seq)
            mask[i, :len(seq)] = 1
        with cpu_threads(self.cpu_threads if dev.type == "cpu" else 0):
            logits = self.model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
        logp = torch.log_softmax(logits.float(), dim=-1).cpu()
        j = 0
        for i, e in enumerate(encoded):
            if e is None:
                continue
            seq, n_prompt = e
            tgt = torch.tensor(seq[n_prompt:])
            rows = logp[j, n_prompt - 1:len(seq) - 1]
            out[i] = float(rows.gather(1, tgt[:, None]).sum())
            j += 1
        return out

    @torch.inference_mode()
    def first_token_logprob(self, goal_text: str, context_text: str, word: str) -> float:
        """``log p(first token of word | goal, context)``: the model's probability that its
        step *starts* with ``word`` (``lemma``: that it applies a lemma at all, whichever).
        ``-inf`` for an empty word."""
        ids = self._ids(word)
        if not ids:
            return -math.inf
        prompt = self.encode_prompt(goal_text, context_text)
        dev = self.device
        with cpu_threads(self.cpu_threads if dev.type == "cpu" else 0):
            logits = self.model(input_ids=torch.tensor([prompt], device=dev)).logits
        return float(torch.log_softmax(logits[0, -1].float(), dim=-1)[ids[0]])

    @torch.inference_mode()
    def score_steps(self, goal_text: str, context_text: str, steps: Sequence[str]
                    ) -> list[float]:
        """``log p(step, <eos> | goal, context)`` for many steps of one prompt: the prompt is
        encoded once and its KV cache shared by all steps (what :meth:`score_batch` gives,
        at the cost of one prompt plus the steps).  ``-inf`` for an empty step or one longer
        than ``max_new_tokens``."""
        out = [-math.inf] * len(steps)
        tok, dev = self.tokenizer, self.device
        seqs = []
        for i, s in enumerate(steps):
            ids = self._ids(s)
            if ids and len(ids) + 1 <= self.config.max_new_tokens:
                seqs.append((i, ids + [tok.eos_token_id]))
        if not seqs:
            return out
        prompt = self.encode_prompt(goal_text, context_text)
        n, p_len = len(seqs), len(prompt)
        width = max(len(x) for _, x in seqs)
        ids = torch.full((n, width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((n, p_len + width), dtype=torch.long)
        mask[:, :p_len] = 1
        for j, (_, x) in enumerate(seqs):  # right padding: pads follow the real tokens
            ids[j, :len(x)] = torch.tensor(x)
            mask[j, p_len:p_len + len(x)] = 1
        pos = torch.arange(p_len, p_len + width).unsqueeze(0).expand(n, width)
        with cpu_threads(self.cpu_threads if dev.type == "cpu" else 0):
            first = self.model(input_ids=torch.tensor([prompt], device=dev), use_cache=True)
            cache = first.cache
            cache.batch_repeat_interleave(n)
            rest = self.model(input_ids=ids.to(dev), attention_mask=mask.to(dev),
                              position_ids=pos.to(dev), cache=cache, use_cache=True).logits
        head = torch.log_softmax(first.logits[0, -1].float(), dim=-1).cpu()
        logp = torch.log_softmax(rest.float(), dim=-1).cpu()
        for j, (i, x) in enumerate(seqs):
            total = float(head[x[0]])
            if len(x) > 1:
                tgt = torch.tensor(x[1:])
                total += float(logp[j, :len(x) - 1].gather(1, tgt[:, None]).sum())
            out[i] = total
        return out

    def _sample(self, ids, mask, per: int, gen):
        """Incremental decoding with the KV cache: each prompt is encoded once, then its cache
        is repeated into ``per`` rows (row 0 of each group greedy, the others sampled).
        Returns (tokens, summed logprobs, ended) for the ``len(ids) * per`` rows."""
        cfg, tok, model = self.config, self.tokenizer, self.model
        dev = ids.device
        rows = ids.shape[0] * per
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
        static = cfg.static_cache == "on" or (cfg.static_cache == "auto" and dev.type == "cuda")
        if static:
            # Static KV cache: fixed-shape buffers for prompt + max_new_tokens, allocated once
            # (the prompt rows are repeated before the prefill; CUDA-graph friendly).
            from transformers import StaticCache

            ids, mask, pos = (x.repeat_interleave(per, dim=0) for x in (ids, mask, pos))
            cache = StaticCache(config=model.config, max_cache_len=ids.shape[1] +
                                cfg.max_new_tokens)
            with autocast:
                out = model(input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache,
                            use_cache=True, logits_to_keep=1)
            cache = out.cache
            logits = out.logits[:, -1].float()
        else:
            with autocast:
                out = model(input_ids=ids, attention_mask=mask, position_ids=pos,
                            use_cache=True, logits_to_keep=1)
            cache = out.cache
            if per > 1:
                cache.batch_repeat_interleave(per)
            logits = out.logits[:, -1].float().repeat_interleave(per, dim=0)
            mask = mask.repeat_interleave(per, dim=0)
        next_pos = (pos[:, -1:] if static else pos[:, -1:].repeat_interleave(per, dim=0)) + 1
        greedy = (torch.arange(rows, device=dev) % per) == 0
        ended = torch.zeros(rows, dtype=torch.bool, device=dev)
        total = torch.zeros(rows, dtype=torch.float32, device=dev)
        steps = []
        for t in range(cfg.max_new_tokens):
            logprobs = torch.log_softmax(logits, dim=-1)
            scaled = logits / cfg.temperature
            if cfg.top_k and cfg.top_k < scaled.shape[-1]:
                kth = torch.topk(scaled, cfg.top_k, dim=-1).values[:, -1:]
                scaled = scaled.masked_fill(scaled < kth, -math.inf)
            sampled = torch.multinomial(torch.softmax(scaled, dim=-1), 1, generator=gen)[:, 0]
            choice = torch.where(greedy, logits.argmax(-1), sampled)
            choice = torch.where(ended, torch.full_like(choice, tok.pad_token_id), choice)
            gained = logprobs.gather(1, choice[:, None])[:, 0]
            total = total + torch.where(ended, torch.zeros_like(gained), gained)
            steps.append(choice)
            ended = ended | (choice == tok.eos_token_id)
            if bool(ended.all()) or t + 1 == cfg.max_new_tokens:
                break
            mask = torch.cat([mask, torch.ones((rows, 1), dtype=mask.dtype, device=dev)], dim=1)
            with autocast:
                out = model(input_ids=choice[:, None], attention_mask=mask,
                            position_ids=next_pos, cache=cache, use_cache=True)
            cache, logits = out.cache, out.logits[:, -1].float()
            next_pos = next_pos + 1
        return torch.stack(steps, dim=1), total, ended


def ensemble_disagreement(proxies: Sequence[Proxy], goal_text: str, context_text: str) -> float:
    """Confidence signal from an ensemble: ``1 - (votes for the most common greedy step) / n``.

    0.0 when every member's greedy step is the same text (or there is a single member); grows
    towards ``1 - 1/n`` as they scatter.  A member that proposes nothing casts a vote of its own
    that matches no other.

    >>> ensemble_disagreement([], "g", "c")
    0.0
    """
    if not proxies:
        return 0.0
    votes: list[object] = []
    for i, p in enumerate(proxies):
        cands = p.propose(goal_text, context_text, k=0)
        votes.append(cands[0].text if cands else ("<none>", i))
    top = Counter(votes).most_common(1)[0][1]
    return 1.0 - top / len(votes)

