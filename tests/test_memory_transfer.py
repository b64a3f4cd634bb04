"""The proxy's lemma memory across theories, end to end: a lemma verified on one theory is
offered (by definition fingerprint) on a theory that names the functions differently, re-proved
there by the search (memory is never evidence), and used; a false memory lemma is never
accepted; the memory holds only lemmas verified on training problems (held-out provenance)."""

from __future__ import annotations

import pytest

from ida_ns.logic.parser import parse_text
from ida_ns.prover.goal import Goal
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.steps import Lemma
from ida_ns.prover.verify import Checker, VerdictCache
from ida_ns.proxy.candidates import LemmaMemory

torch = pytest.importorskip("torch")

THEORY = """
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Nat) (tail list))))
(define-fun-rec {app} ((x list) (y list)) list
  (match x ((nil y) ((cons z xs) (cons z ({app} xs y))))))
(define-fun-rec {rev} ((x list)) list
  (match x ((nil nil) ((cons y xs) ({app} ({rev} xs) (cons y nil))))))
"""
# verified on the "training" theory (functions append / reverse) ...
SNOC = "(forall ((a list) (x Nat)) (= ({rev} ({app} a (cons x nil))) (cons x ({rev} a))))"
# ... a false one (append is not commutative) ...
COMM = "(forall ((a list) (b list)) (= ({app} a b) ({app} b a)))"
# ... and a held-out goal over ++ / rev that needs the first one
HELD = "(forall ((xs list)) (= (rev (rev xs)) xs))"


def problem(goal: str, app="++", rev="rev"):
    return parse_text(THEORY.format(app=app, rev=rev) + f"(prove {goal})", file="<t>")


def memory(*formulas) -> LemmaMemory:
    out = []
    for f in formulas:
        p = problem(f.format(app="append", rev="reverse"), app="append", rev="reverse")
        out.append({**LemmaMemory.entry(p.goal, p.theory), "origin": "lemma step",
                    "source": "train/snoc"})
    return LemmaMemory(out)


@pytest.fixture(scope="module")
def z3():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=1.0) as pool:
        yield pool.prove_many


def _apply(goal, text):
    from ida_ns.prover.steps import apply_step, parse_step

    return list(apply_step(parse_step(text, goal), goal))


@pytest.fixture(scope="module")
def tiny_proxy(tmp_path_factory, z3):
    """A tiny proxy distilled on a proof of ``HELD`` over the *training* theory (functions
    append / reverse): root -> induct, step case -> the snoc lemma, and the pairs of the
    lemma's own proof (found by H).  It never saw ++ or rev."""
    from ida_ns.policies import canonical_step, goal_prompt
    from ida_ns.prover.overseer import Overseer
    from ida_ns.proxy.config import DistillConfig, ProxyConfig
    from ida_ns.proxy.distill import distill
    from ida_ns.recheck import tree_pairs

    torch.manual_seed(0)
    p = problem(HELD.replace("rev", "reverse"), app="append", rev="reverse")
    root = Goal(p.theory, p.goal)
    step_case = _apply(root, "induct xs")[1]
    lemma = SNOC.format(app="append", rev="reverse")
    checker = Checker(z3, solver="z3", leaf_timeout_s=0.5, cache=VerdictCache(), seed=0)
    lp = prove_problem(problem(lemma, app="append", rev="reverse"), checker,
                       ProverConfig(budget_s=30, max_nodes=12, explore=False, stuck_lemmas=0,
                                    leaf_timeout_s=0.5), policy=Overseer())
    assert lp.proof is not None
    pairs = [(*goal_prompt(root), "induct v0"),
             (*goal_prompt(step_case), canonical_step(step_case, "lemma " + lemma))]
    pairs += [(g, c, s) for g, c, s, _ in tree_pairs(lp.proof) if s != "direct"]
    corpus = [t for pair in pairs for t in pair]
    proxy, _ = distill(None, pairs * 8, [], DistillConfig(epochs=120, lr=3e-3, seed=0),
                       tmp_path_factory.mktemp("p"), tokenizer_corpus=corpus,
                       proxy_config=ProxyConfig(n_layer=1, n_embd=32, n_head=2,
                                                vocab_size=500))
    return proxy


def _search(proxy, z3, nodes=12):
    from ida_ns.policies import ProxyPolicy

    checker = Checker(z3, solver="z3", leaf_timeout_s=0.5, cache=VerdictCache(), seed=0)
    # no calculated lemmas, no exploration: a lemma can only come from the proxy's memory
    cfg = ProverConfig(budget_s=60, max_nodes=nodes, explore=False, stuck_lemmas=0,
                       leaf_timeout_s=0.5, test_trials=150)
    return prove_problem(problem(HELD), checker, cfg, policy=ProxyPolicy(proxy, k=0))


def _lemma_steps(result):
    out = []
    for tree in [result.proof, *result.lemmas.values()]:
        for n in tree.nodes():
            if isinstance(n.step, Lemma):
                out.append(n)
    return out


def test_memory_lemma_is_offered_across_theories_and_reproved_should_succeed(tiny_proxy, z3):
    from ida_ns.policies import ProxyPolicy

    tiny_proxy.memory = memory(SNOC)
    p = problem(HELD)
    # offered at the step case in the held-out theory's names (append -> ++, reverse -> rev)
    step_case = Goal(p.theory, parse_text(THEORY.format(app="++", rev="rev") + "(prove "
                     "(forall ((h Nat) (t list)) (= (rev (++ (rev t) (cons h nil))) "
                     "(cons h (rev (rev t))))))", file="<t>").goal)
    texts = [c.text for c in ProxyPolicy(tiny_proxy, k=0).candidates(step_case)]
    assert "lemma (forall ((a list) (x Nat)) (= (rev (++ a (cons x nil))) (cons x (rev a))))" \
        in texts
    res = _search(tiny_proxy, z3, nodes=40)  # the tiny model ranks noisily: room to err
    assert res.status == "proved", res.verdict
    uses = _lemma_steps(res)
    assert uses, "the proof uses the memory lemma"
    for node in uses:  # the lemma is a subgoal with a proof of its own, not an assumption
        lemma_goal = node.children[0]
        assert lemma_goal.step is not None and lemma_goal.children, "lemma re-proved"


def test_false_memory_lemma_is_never_accepted_should_fail(tiny_proxy, z3):
    tiny_proxy.memory = memory(COMM)
    res = _search(tiny_proxy, z3, nodes=6)
    if res.proof is not None:  # whatever closes it, it is not the false lemma
        assert all("(++ b a)" not in str(n.step) for n in _lemma_steps(res))
    rejected = [r for t, r in res.stats.rejections if t.startswith("lemma")]
    assert rejected, "the gate refuted the offered false lemma"


def test_memory_keeps_training_provenance(tmp_path):
    from ida_ns.errors import IdaNsError
    from ida_ns.ida import check_memory_provenance
    from ida_ns.sources import FileProblem

    f = tmp_path / "t.smt2"
    f.write_text(THEORY.format(app="++", rev="rev") + f"(prove {HELD})")
    train = [FileProblem("train/snoc", f, True)]
    held = [FileProblem("prod/prop_10", f, True)]
    mem = memory(SNOC)
    check_memory_provenance(mem, train, held)  # every entry from a training problem
    bad = LemmaMemory([{**mem.entries[0], "source": "prod/prop_10"}])
    with pytest.raises(IdaNsError, match="not from a training problem"):
        check_memory_provenance(bad, train, held)
    with pytest.raises(IdaNsError, match="not from a training problem"):
        check_memory_provenance(LemmaMemory([{**mem.entries[0], "source": None}]), train)


def test_recalled_step_leads_only_on_its_own_goal(tiny_proxy, tmp_path):
    """Recall: a step a verified training proof applied to a goal (canonical names) is
    offered first when the search meets that goal again, over any theory with the same
    definitions; another goal gets nothing from it.  It is still only a proposal."""
    from ida_ns.policies import ProxyPolicy, goal_prompt
    from ida_ns.proxy.candidates import recall_key

    train = problem("(forall ((xs list) (ys list)) (= (reverse (append xs ys)) "
                    "(append (reverse ys) (reverse xs))))", app="append", rev="reverse")
    tg = Goal(train.theory, train.goal)
    mem = LemmaMemory([], {recall_key(*goal_prompt(tg)): ["induct v1", "cases v0"]})
    mem.save(tmp_path)
    tiny_proxy.memory = LemmaMemory.load(tmp_path)  # the table survives the file
    held = problem("(forall ((a list) (b list)) (= (rev (++ a b)) (++ (rev b) (rev a))))")
    cands = ProxyPolicy(tiny_proxy, k=0).candidates(Goal(held.theory, held.goal))
    assert [c.text for c in cands[:2]] == ["induct b", "cases a"]
    other = problem("(forall ((a list) (b list)) (= (rev (++ b a)) (++ (rev a) (rev b))))")
    cands = ProxyPolicy(tiny_proxy, k=0).candidates(Goal(other.theory, other.goal))
    assert "cases a" not in [c.text for c in cands[:1]]


def test_definition_instances_are_not_memory_lemmas():
    from ida_ns.ida import _definition_instance

    p = problem("(forall ((x Nat)) (= (rev (++ nil (cons x nil))) (cons x nil)))")
    assert _definition_instance(p.goal, p.theory)
    q = problem(SNOC.format(app="++", rev="rev"))
    assert not _definition_instance(q.goal, q.theory)
