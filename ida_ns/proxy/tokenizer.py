"""Tokenizer for printed goals, contexts and step text.

Design (byte-level BPE over pre-split SMT-LIB symbols):

* **Pre-tokenization** cuts the text at parentheses, ``;`` (which never occurs inside an SMT-LIB
  symbol: it starts a comment) and whitespace, so a piece is ``(``, ``)``, ``;`` or one
  symbol, each with the whitespace in front of it attached (`` (``, `` plus``).  BPE merges
  never cross a piece, so a symbol is never glued to its neighbour.
* **BPE** is trained on the corpus (goals, contexts, steps) plus a fixed base vocabulary
  (SMT-LIB keywords, builtins, the step words).  With the default vocabulary budget every symbol
  seen in training becomes a single token: ``plus``, `` xs``, ``forall``.
* **Unknown symbols fall back to bytes**, not to ``<unk>``: the 256 byte tokens are always in
  the vocabulary, so a symbol the tokenizer never saw (a new theory's ``frobnicate``) encodes as
  byte pieces and decodes back exactly.  We chose this over a word-level model with ``<unk>``
  because the proxy must be able to *write* symbols of the current theory (``induct ys``,
  ``lemma (= (f x) x)``): an ``<unk>`` in a proposed step makes it useless, and a byte-spelled
  symbol still works.  Encoding is lossless for any Unicode text (``decode(encode(s)) == s``).
  ``<unk>`` exists only because the HF wrapper expects one; it is never produced.
* **The vocabulary is fixed at generation 0.**  X_{k+1} is initialised from X_k's weights, so
  it must keep X_k's token ids; new symbols in later rounds are spelled with existing pieces.
  Train generation 0 on a theory-wide corpus (all function signatures and goals of the
  benchmark theories) so the common symbols are whole tokens.

Special tokens: ``<pad> <bos> <eos> <sep> <unk> <trunc>`` with fixed ids 0..5 (``<trunc>``
marks a prompt segment cut to fit the context window).
"""

from __future__ import annotations

from typing import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

PAD, BOS, EOS, SEP, UNK, TRUNC = "<pad>", "<bos>", "<eos>", "<sep>", "<unk>", "<trunc>"
SPECIAL_TOKENS = (PAD, BOS, EOS, SEP, UNK, TRUNC)

# A piece is: optional whitespace + one of "(", ")", ";"; or optional whitespace + a run of
# other non-space characters (one SMT-LIB symbol, keyword or numeral); trailing whitespace is
# left over as its own piece.
_PIECE = r"\s*[();]|\s*[^\s();]+"

STEP_WORDS = ("direct", "induct", "cases", "lemma", "generalize")
SMTLIB_WORDS = (
    "forall", "exists", "let", "match", "case", "lambda", "@", "_", "as", "par", "ite",
    "=", "distinct", "=>", "and", "or", "not", "xor", "true", "false",
    "+", "-", "*", "div", "mod", "abs", "<", "<=", ">", ">=",
    "Bool", "Int", "Nat", "Z", "S", "list", "nil", "cons", "->", ":",
    "declare-datatype", "declare-datatypes", "define-fun", "define-fun-rec", "define-funs-rec",
    "declare-fun", "declare-sort", "declare-const", "assert", "prove", "check-sat",
)
# Common bound-variable names, so the ones in printed goals are whole tokens from the start.
VAR_WORDS = ("x", "y", "z", "n", "m", "k", "a", "b", "c", "xs", "ys", "zs", "t", "u", "v", "w")


def base_corpus() -> list[str]:
    """Fixed lines added to every tokenizer corpus: each base word bare and after a space."""
    words = STEP_WORDS + SMTLIB_WORDS + VAR_WORDS
    return [f"{w} {w} ({w}" for w in words] + [str(i) for i in range(10)]


def train_tokenizer(corpus: Iterable[str], vocab_size: int = 2048, min_frequency: int = 1):
    """Train the byte-level BPE tokenizer on ``corpus`` (plus :func:`base_corpus`).

    Returns a ``transformers.PreTrainedTokenizerFast`` with the special tokens set, so it saves
    with ``save_pretrained`` and loads with ``AutoTokenizer.from_pretrained``.  Deterministic:
    the corpus is deduplicated and sorted first.

    >>> tok = train_tokenizer(["(forall ((x Nat)) (= (plus x Z) x))", "induct x"], 400)
    >>> tok.convert_ids_to_tokens(tok.encode("induct x", add_special_tokens=False))
    ['induct', 'Ġx']
    >>> tok.decode(tok.encode("(frob x)", add_special_tokens=False))
    '(frob x)'
    """
    from transformers import PreTrainedTokenizerFast

    texts = sorted(set(base_corpus()) | {t for t in corpus if t})
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_PIECE), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, sep_token=SEP,
        unk_token=UNK, additional_special_tokens=[TRUNC], model_max_length=1 << 20)


def load_tokenizer(directory: str):
    """Load a tokenizer saved by ``save_pretrained`` (the proxy's model directory)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory)
