"""The proxy's candidate set: canonical variable names, the step grammar, the lemma memory
(transfer across theories by definition fingerprints; paired should-match / should-not-match
cases), and the shared-prefix scorer (same numbers as the batch scorer)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ida_ns.logic.parser import parse_text
from ida_ns.policies import canonical_step, goal_prompt, prompt_parts
from ida_ns.prover.goal import Goal
from ida_ns.prover.steps import parse_step
from ida_ns.proxy.candidates import LemmaMemory, grammar_steps
from ida_ns.proxy.canon import canonical_names, inverse, rename_tokens

LIST = """
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Nat) (tail list))))
(define-fun-rec {app} ((x list) (y list)) list
  (match x ((nil y) ((cons z xs) (cons z ({app} xs y))))))
(define-fun-rec {len} ((x list)) Nat
  (match x ((nil Z) ((cons y xs) (S ({len} xs))))))
(define-fun-rec {rev} ((x list)) list
  (match x ((nil nil) ((cons y xs) ({app} ({rev} xs) (cons y nil))))))
"""


def theory_goal(goal: str, app="++", len_="len", rev="rev"):
    p = parse_text(LIST.format(app=app, len=len_, rev=rev) + f"(prove {goal})", file="<t>")
    return Goal(p.theory, p.goal)


def test_canonical_prompt_renames_goal_variables_and_functions_by_definition():
    g = theory_goal("(forall ((xs list) (ys list)) (= (len (++ xs ys)) (len (++ ys xs))))")
    text, ctx, names = prompt_parts(g)
    app, ln = names["++"], names["len"]
    assert {k: v for k, v in names.items() if k in ("xs", "ys")} == {"xs": "v0", "ys": "v1"}
    assert app.startswith("f") and ln.startswith("f") and app != ln
    assert text == f"(forall ((v0 list) (v1 list)) (= ({ln} ({app} v0 v1)) ({ln} ({app} v1 v0))))"
    assert f"def ({app} x y)" in ctx  # the definition keeps its own parameter names
    assert canonical_step(g, "induct ys") == "induct v1"
    # the same goal over other variable names reads the same: what was learned transfers
    h = theory_goal("(forall ((a list) (b list)) (= (len (++ a b)) (len (++ b a))))")
    assert goal_prompt(h) == goal_prompt(g)
    # ... and over other function names with the same definitions (isaplanner's len is
    # prod's length): the proxy cannot tell them apart, on purpose
    k = theory_goal("(forall ((a list) (b list)) (= (length (append a b)) "
                    "(length (append b a))))", app="append", len_="length")
    assert goal_prompt(k) == goal_prompt(g)
    assert canonical_step(k, "lemma (forall ((u list)) (= (append u nil) u))") == \
        canonical_step(g, "lemma (forall ((u list)) (= (++ u nil) u))")


def test_function_renaming_keeps_different_definitions_apart():
    g = theory_goal("(forall ((xs list)) (= (len (++ xs xs)) (len xs)))")
    src = LIST.format(app="++", len="len", rev="rev").replace(
        "((nil y) ((cons z xs) (cons z (++ xs y))))", "((nil nil) ((cons z xs) (cons z (++ xs y))))")
    p = parse_text(src + "(prove (forall ((xs list)) (= (len (++ xs xs)) (len xs))))",
                   file="<t>")
    other = Goal(p.theory, p.goal)
    assert canonical_names(other)["++"] != canonical_names(g)["++"]
    assert canonical_names(other)["len"] == canonical_names(g)["len"]
    # two functions with the same definition in one theory keep their own names
    twin = LIST.format(app="++", len="len", rev="rev") + \
        "(define-fun-rec len2 ((x list)) Nat (match x ((nil Z) ((cons y xs) (S (len2 xs))))))"
    p = parse_text(twin + "(prove (forall ((xs list)) (= (len xs) (len2 xs))))", file="<t>")
    m = canonical_names(Goal(p.theory, p.goal))
    assert "len" not in m and "len2" not in m and "++" in m


def test_canonical_names_avoid_theory_symbols():
    # a theory with a function called v0: the canonical names skip it
    src = LIST.format(app="v0", len="len", rev="rev")
    p = parse_text(src + "(prove (forall ((xs list)) (= (v0 xs nil) xs)))", file="<t>")
    g = Goal(p.theory, p.goal)
    names = canonical_names(g)
    assert names["xs"] != "v0"
    text, _, _ = prompt_parts(g)
    assert f"({names['v0']} " in text and names["xs"] in text  # v0 reads by its definition


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True), min_size=1,
                max_size=4, unique=True))
def test_canonical_renaming_round_trips(names):
    """Property: renaming a step into canonical names and back gives the step again."""
    vs = " ".join(f"({n} list)" for n in names)
    body = " ".join(f"(= (rev (rev {n})) {n})" for n in names)
    reserved = {"rev", "len", "nil", "cons", "head", "tail", "list", "Nat", "Z", "S", "p"}
    if set(names) & reserved:
        return
    g = theory_goal(f"(forall ({vs}) (and true {body}))")
    m = canonical_names(g)
    assert len(set(m.values())) == len(m)  # a bijection
    for n in names:
        step = f"induct {n}"
        assert rename_tokens(rename_tokens(step, m), inverse(m)) == step
        assert parse_step(rename_tokens(rename_tokens(step, m), inverse(m)), g)


def test_grammar_steps_all_parse_and_cover_the_variables():
    g = theory_goal("(forall ((xs list) (ys list)) (= (rev (++ xs ys)) (++ (rev ys) (rev xs))))")
    steps = grammar_steps(g)
    for s in steps:
        parse_step(s, g)  # every candidate is a legal step of this goal
    assert {"induct xs", "induct ys", "cases xs", "induct xs ys", "finduct ++ xs ys"} <= \
        set(steps)
    rep = theory_goal("(forall ((xs list)) (= (++ (rev xs) (rev xs)) (++ (rev xs) nil)))")
    assert "generalize (rev xs)" in grammar_steps(rep)


def _memory_from(goal_text: str, **names) -> LemmaMemory:
    g = theory_goal(goal_text, **names)
    e = LemmaMemory.entry(g.concl, g.theory)
    assert e is not None
    return LemmaMemory([e])


def test_memory_lemma_transfers_to_a_renamed_copy_of_the_functions():
    # learned over a theory that calls them append / length ...
    mem = _memory_from("(forall ((a list) (b list)) (= (length (append a b)) "
                       "(length (append b a))))", app="append", len_="length")
    # ... offered on a held-out theory that calls the same definitions ++ / len
    goal = theory_goal("(forall ((xs list)) (= (len (++ xs xs)) (len (++ xs xs))))")
    cands = mem.candidates(goal)
    assert cands == ["lemma (forall ((a list) (b list)) (= (len (++ a b)) (len (++ b a))))"]
    parse_step(cands[0], goal)


def test_memory_lemma_does_not_match_a_different_definition():
    lemma = "(forall ((a list) (b list)) (= (len (++ a b)) (len (++ b a))))"
    mem = _memory_from(lemma)
    # a theory whose ++ ignores its second argument: another function, no match
    src = LIST.format(app="++", len="len", rev="rev").replace(
        "((nil y) ((cons z xs) (cons z (++ xs y))))", "((nil nil) ((cons z xs) (cons z (++ xs y))))")
    p = parse_text(src + "(prove (forall ((xs list)) (= (len (++ xs xs)) (len xs))))",
                   file="<t>")
    assert mem.candidates(Goal(p.theory, p.goal)) == []
    # and a goal about unrelated functions gets nothing either
    assert mem.candidates(theory_goal("(forall ((n Nat)) (= n n))")) == []


def test_memory_round_trips_through_a_file(tmp_path):
    mem = _memory_from("(forall ((a list)) (= (rev (rev a)) a))")
    sha = mem.save(tmp_path)
    again = LemmaMemory.load(tmp_path)
    assert again.entries == mem.entries and again.sha256() == sha
    (tmp_path / "lemmas.json").write_text("{broken")
    from ida_ns.errors import IdaNsError

    with pytest.raises(IdaNsError, match="lemmas.json"):
        LemmaMemory.load(tmp_path)


def test_score_steps_equals_score_batch():
    torch = pytest.importorskip("torch")
    from ida_ns.proxy.config import ProxyConfig
    from ida_ns.proxy.model import Proxy

    torch.manual_seed(0)
    proxy = Proxy.new(ProxyConfig(n_layer=1, n_embd=32, n_head=2, vocab_size=400),
                      ["(forall ((v0 list)) (= (rev (rev v0)) v0))", "induct v0"])
    g = theory_goal("(forall ((xs list)) (= (rev (rev xs)) xs))")
    text, ctx = goal_prompt(g)
    steps = ["induct v0", "cases v0", "lemma (forall ((a list)) (= (rev (rev a)) a))", "",
             "x " * 200]
    a = proxy.score_steps(text, ctx, steps)
    b = proxy.score_batch([(text, ctx, s) for s in steps])
    for x, y in zip(a, b):
        assert (x == y == -math.inf) or x == pytest.approx(y, abs=1e-4)
    assert a[3] == -math.inf and a[4] == -math.inf


def test_ranking_policy_proposes_legal_steps_in_the_goals_names():
    """The ranking proxy: candidates = its greedy text + the grammar + its memory; their
    probabilities are renormalised over the set; texts come back in the goal's own names;
    what reaches the search parses, and the confidence logged is the best one's."""
    pytest.importorskip("torch")
    from ida_ns.policies import ProxyPolicy
    from ida_ns.proxy.config import ProxyConfig
    from ida_ns.proxy.model import Proxy

    lemma = "(forall ((a list)) (= (rev (rev a)) a))"
    # a tokenizer that knows these texts (short sequences: the untrained greedy step is cut
    # at max_new_tokens, and the lemma must fit in it to be scored)
    g = theory_goal("(forall ((xs list)) (= (rev (rev (rev (rev xs)))) xs))")
    proxy = Proxy.new(ProxyConfig(n_layer=1, n_embd=32, n_head=2, vocab_size=400,
                                  max_new_tokens=24, n_positions=160),
                      [goal_prompt(g)[0], "induct v0",
                       canonical_step(g, "lemma " + lemma)] * 3)
    proxy.memory = _memory_from(lemma)
    pol = ProxyPolicy(proxy, k=0)
    cands = pol.candidates(g)
    texts = [c.text for c in cands]
    assert {"induct xs", "cases xs"} <= set(texts)
    assert "lemma " + lemma in texts
    # the goal itself (up to its variables' names) is never offered as its own lemma
    same = theory_goal("(forall ((ys list)) (= (rev (rev ys)) ys))")
    assert not any(c.text.startswith("lemma") for c in pol.candidates(same))
    assert not any("v0" in t for t in texts if t in ("induct v0", "cases v0"))
    assert sum(math.exp(c.logprob) for c in cands) == pytest.approx(1.0, abs=1e-6)
    props = pol.propose(g, 0)
    good = [p for p in props if p.step is not None]
    assert 1 <= len(good) <= pol.max_proposals
    assert pol.log and 0.0 < pol.log[-1][2] <= 1.0


class _KindProxy:
    """Scores texts by a fixed table; ``first_token_logprob`` says how likely a lemma is."""

    canonical_names = True

    def __init__(self, memory, p_lemma: float | None):
        self.memory = memory
        self.p_lemma = p_lemma

    def score_batch(self, items):
        # whole-text likelihood: a lemma (dozens of tokens) far below a two-token step
        return [-25.0 - 0.01 * len(s) if s.startswith("lemma") else -0.5 for _, _, s in items]

    def propose(self, goal_text, context_text, k=None, seed=0):
        return []


def _lemma_mass(cands) -> float:
    return sum(math.exp(c.logprob) for c in cands if c.text.startswith("lemma"))


@pytest.mark.parametrize("p_lemma", [0.05, 0.3, 0.8])
def test_memory_lemmas_get_the_models_probability_of_a_lemma_as_a_group(p_lemma):
    """A lemma's whole-text likelihood is tiny next to ``induct v0``'s whatever the model
    learned; scored in two levels, the memory's lemmas together get the model's probability
    that its step here starts with ``lemma``, and keep their order among themselves."""
    from ida_ns.policies import ProxyPolicy

    mem = LemmaMemory([LemmaMemory.entry(theory_goal(t).concl, theory_goal(t).theory) for t in (
        "(forall ((a list)) (= (rev (rev a)) a))",
        "(forall ((a list) (b list)) (= (len (++ a b)) (len (++ b a))))")])
    g = theory_goal("(forall ((xs list) (ys list)) (= (rev (rev (++ xs ys))) (++ xs ys)))")
    proxy = _KindProxy(mem, p_lemma)
    proxy.first_token_logprob = lambda goal, ctx, word: math.log(proxy.p_lemma)
    cands = ProxyPolicy(proxy, k=0).candidates(g)
    lemmas = [c for c in cands if c.text.startswith("lemma")]
    assert len(lemmas) == 2
    assert _lemma_mass(cands) == pytest.approx(p_lemma, abs=1e-6)
    assert lemmas[0].logprob > lemmas[1].logprob  # the shorter one, as the model scored them
    # a proxy that cannot say how likely a lemma is keeps the whole-text likelihoods
    del proxy.first_token_logprob
    plain = ProxyPolicy(proxy, k=0).candidates(g)
    assert _lemma_mass(plain) < 1e-8


def test_memory_twins_under_other_bound_names_are_offered_once():
    from ida_ns.policies import ProxyPolicy

    texts = ("(forall ((a list)) (= (rev (rev a)) a))", "(forall ((q list)) (= (rev (rev q)) q))")
    mem = LemmaMemory([LemmaMemory.entry(theory_goal(t).concl, theory_goal(t).theory)
                       for t in texts])
    assert len(mem.entries) == 2
    g = theory_goal("(forall ((xs list) (ys list)) (= (rev (rev (++ xs ys))) (++ xs ys)))")
    cands = ProxyPolicy(_KindProxy(mem, None), k=0).candidates(g)
    assert sum(1 for c in cands if c.text.startswith("lemma")) == 1


def test_canonical_v0_is_the_variable_the_overseer_inducts_on_first():
    """Written order (ys, xs) but ``++`` recurses on its first argument: xs reads v0."""
    from ida_ns.prover.overseer import induction_order

    g = theory_goal("(forall ((ys list) (xs list)) (= (len (++ xs ys)) (S (len xs))))")
    names = canonical_names(g)
    first = induction_order(g)[0].name
    assert first == "xs" and names["xs"] == "v0" and names["ys"] == "v1"
    step = canonical_step(g, f"induct {first}")
    assert step == "induct v0"
    assert rename_tokens(step, inverse(names)) == f"induct {first}"


def test_a_recalled_lemma_restating_the_goal_is_not_replayed():
    """A training proof that took the goal's own twin from its library recorded it as a
    step; replayed here it would only make the goal its own subgoal."""
    from ida_ns.policies import ProxyPolicy
    from ida_ns.proxy.candidates import recall_key

    g = theory_goal("(forall ((xs list)) (= (rev (rev xs)) xs))")
    twin = canonical_step(g, "lemma (forall ((q list)) (= (rev (rev q)) q))")
    mem = LemmaMemory([], {recall_key(*goal_prompt(g)): [twin, "induct v0"]})
    texts = [c.text for c in ProxyPolicy(_KindProxy(mem, 0.5), k=0).candidates(g)]
    assert "induct xs" in texts
    assert not any(t.startswith("lemma") for t in texts)


def test_a_ranking_proxy_may_say_direct_only_where_the_search_does_not_try_it():
    """With the gate on, Direct is tried on every goal anyway: never a candidate.  In the
    --no-verify ablation (drop_direct off) "direct" is ranked with the rest: the proxy's own
    word, which is what that ablation measures."""
    from ida_ns.policies import ProxyPolicy

    g = theory_goal("(forall ((xs list)) (= (rev (rev xs)) xs))")
    proxy = _KindProxy(LemmaMemory([]), None)
    gated = [c.text for c in ProxyPolicy(proxy, k=0).candidates(g)]
    unsafe = [c.text for c in ProxyPolicy(proxy, k=0, drop_direct=False).candidates(g)]
    assert "direct" not in gated and "direct" in unsafe
