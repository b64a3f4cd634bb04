"""Fuzzing the two readers of untrusted files with damaged real inputs.

* The SMT-LIB/TIP front end, on TIP benchmark files with flipped bytes, deletions, inserted
  parentheses, quotes and keywords, truncation and splices of two files: ``parse_text``
  either succeeds -- and then the problem sort-checks and round-trips through the printer in
  both dialects -- or raises ``SpecError`` located inside the text (or at file level); never
  anything else.
* The certificate checker, on a real certificate (a proof found by the prover) damaged at the
  byte level and structurally: ``check_certificate`` returns a report or raises
  ``CertificateError``, never anything else; and when it says ok, the goal it vouches for is
  valid (the same problem as before, or one that another solver and random testing confirm).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.counterexample import find_counterexample
from ida_ns.errors import SpecError
from ida_ns.logic.parser import parse_file, parse_text
from ida_ns.logic.printer import print_problem
from ida_ns.logic.sortcheck import sortcheck_problem
from ida_ns.prover.certificate import CertificateError, check_certificate, save_certificate
from ida_ns.prover.goal import Goal
from ida_ns.prover.overseer import Overseer
from ida_ns.prover.proof import LemmaLibrary
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.search import Budget, Search
from ida_ns.prover.verify import Checker
from ida_ns.testing.hostile import mutate_bytes, mutate_json

from prover_fixtures import problem

def FUZZ(n: int):
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CASES: Counter = Counter()  # outcomes, reported at module teardown


@pytest.fixture(scope="module", autouse=True)
def report_cases(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and CASES:
        reporter.write_line("\nfuzz cases: " + ", ".join(f"{k} {v}"
                                                         for k, v in sorted(CASES.items())))


# ---------------------------------------------------------------------------------------------
# The front end


class Files(list):
    """(name, bytes) pairs that print short in Hypothesis reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} TIP files>"


@pytest.fixture(scope="module")
def tip_files(tip_dir) -> Files:
    files = sorted(tip_dir.glob("*/*/*.smt2"))
    assert files, f"no .smt2 files under {tip_dir}"
    return Files((str(f.relative_to(tip_dir)), f.read_bytes()) for f in files)


def check_front_end(raw: bytes, name: str, tmp_dir) -> str:
    """The front end's contract on one input; returns the outcome's name."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        path = tmp_dir / "input.smt2"
        path.write_bytes(raw)
        with pytest.raises(SpecError, match="not UTF-8") as info:
            parse_file(path)
        assert info.value.file == str(path) and info.value.line == 0
        return "not utf-8"
    try:
        p = parse_text(text, name)
    except SpecError as e:
        assert e.file == name and e.message, repr(e)
        if e.line == 0:
            return "file-level error"
        lines = text.split("\n")
        assert 1 <= e.line <= len(lines), f"line {e.line} outside a {len(lines)}-line text"
        line = lines[e.line - 1]
        assert 1 <= e.col <= len(line) + 1, f"column {e.col} outside line {line!r}"
        if e.token and e.col <= len(line) and line[e.col - 1].isprintable():
            # the location points into the offending token (unprintable characters are
            # shown escaped in the token, so only printable ones are compared)
            assert line[e.col - 1] in e.token, (str(e), line[e.col - 1:e.col + 20])
        return "located error"
    sortcheck_problem(p)
    for dialect in ("tip", "smtlib"):
        q = parse_text(print_problem(p, dialect), f"{name} printed as {dialect}")
        assert dataclasses.replace(q, source=p.source) == p, f"{dialect} round trip changed it"
    return "parsed"


@pytest.mark.shared
@FUZZ(300)
@given(data=st.data())
def test_mutated_tip_files_parse_or_fail_with_a_location(tip_files, tmp_path_factory, data):
    i = data.draw(st.integers(0, len(tip_files) - 1), label="file")
    j = data.draw(st.integers(0, len(tip_files) - 1), label="splice partner")
    rng = data.draw(st.randoms(use_true_random=False))
    raw, ops = mutate_bytes(rng, tip_files[i][1], tip_files[j][1])
    name = f"{tip_files[i][0]}~{'+'.join(ops) or 'unchanged'}"
    CASES["tip " + check_front_end(raw, name, tmp_path_factory.getbasetemp())] += 1


@pytest.mark.shared
@pytest.mark.slow
@FUZZ(3000)
@given(data=st.data())
def test_mutated_tip_files_many(tip_files, tmp_path_factory, data):
    i = data.draw(st.integers(0, len(tip_files) - 1), label="file")
    j = data.draw(st.integers(0, len(tip_files) - 1), label="splice partner")
    rng = data.draw(st.randoms(use_true_random=False))
    raw, ops = mutate_bytes(rng, tip_files[i][1], tip_files[j][1],
                            steps=data.draw(st.integers(1, 12)))
    name = f"{tip_files[i][0]}~{'+'.join(ops) or 'unchanged'}"
    CASES["tip " + check_front_end(raw, name, tmp_path_factory.getbasetemp())] += 1


def test_front_end_contract_holds_on_hand_made_damage(tmp_path):
    """Paired cases: each damage kind on a small problem, and the intact problem."""
    good = ("(declare-datatype Nat ((Z) (S (p Nat))))\n"
            "(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))\n"
            "(prove (forall ((x Nat)) (= (plus x Z) x)))\n")
    assert check_front_end(good.encode(), "good", tmp_path) == "parsed"
    for bad in [good[:-3], good.replace("(S n)", "(S n"), good + ")", good.replace("Nat", "|Nat"),
                good.replace("plus", "\"plus"), good.replace("match", "(match"),
                good.replace("(prove", "(prove (prove"), b"\xff\xfe(prove true)".decode("latin-1")]:
        assert check_front_end(bad.encode(), "bad", tmp_path) != "parsed", bad
    assert check_front_end(b"\xff(prove true)", "bad", tmp_path) == "not utf-8"


@pytest.mark.parametrize("text", [
    "(declare-datatype Nat ((Z) (S (p Nat))))\n"
    "(define-fun-rec f ((x Nat)) Nat (match x ((Z Z) ((S ||) ||))))\n"
    "(prove (forall ((x Nat)) (= (f x) (f x))))\n",
    "(declare-datatype Nat ((Z) (S (p Nat))))\n(declare-fun || (Nat) Nat)\n"
    "(prove (forall ((x Nat)) (= (|| x) (|| x))))\n",
], ids=["pattern-variable", "function-name"])
def test_regression_empty_symbol(text):
    """Found by the fuzzer: the empty quoted symbol || as a pattern variable made the parser
    index an empty string (IndexError), and as a name the printer refused to write it
    (ValueError) after it had parsed.  Fixed: it parses, prints and round-trips."""
    assert check_front_end(text.encode(), "empty-symbol", None) in (
        "parsed", "located error", "file-level error")


# ---------------------------------------------------------------------------------------------
# The certificate checker


@pytest.fixture(scope="module")
def pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=2, timeout_s=2.0) as p:
        yield p


@pytest.fixture(scope="module")
def certificates(pool, tmp_path_factory) -> list[tuple[str, object]]:
    """Real certificates: a multi-step proof by the prover, and a proof whose leaf uses a
    library lemma with its own induction proof.  (JSON text, problem) pairs."""
    out = []
    checker = Checker.from_pool(pool, leaf_timeout_s=1.0)
    tmp = tmp_path_factory.mktemp("certs")
    p = problem("(forall ((xs list) (ys list)) (= (len (append xs ys)) (len (append ys xs))))")
    r = prove_problem(p, checker, ProverConfig(budget_s=20, explore=False))
    assert r.status == "proved", r.verdict
    save_certificate(tmp / "a.json", p, r, "z3")
    out.append(((tmp / "a.json").read_text(), p))
    lemma = problem("(forall ((ys list)) (= (append ys nil) ys))")
    library = LemmaLibrary()
    lr = Search(checker, Overseer(), Budget(wall_s=10)).run(Goal(lemma.theory, lemma.goal))
    assert lr.proved
    library.add(Goal(lemma.theory, lemma.goal), lr.proof)
    p = problem("(forall ((xs list)) (= (len (append xs nil)) (len xs)))")
    res = Search(checker, Overseer(), Budget(wall_s=10), library).run(Goal(p.theory, p.goal))
    assert res.proved and res.proof.lemmas_used() == {lemma.goal}
    save_certificate(tmp / "b.json", p, SimpleNamespace(proof=res.proof,
                                                        lemmas={lemma.goal: lr.proof}), "z3")
    out.append(((tmp / "b.json").read_text(), p))
    for text, _ in out:
        (tmp / "c.json").write_text(text)
        rep = check_certificate(tmp / "c.json", prove_many=pool.prove_many, timeout_s=2.0)
        assert rep.ok, rep.failures
    return out


@pytest.fixture(scope="module")
def cvc5_pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("cvc5-ind", workers=1, timeout_s=2.0) as p:
        yield p


def check_certificate_contract(raw: bytes, original, path, pool, cvc5_pool) -> str:
    path.write_bytes(raw)
    try:
        rep = check_certificate(path, prove_many=pool.prove_many, timeout_s=1.0)
    except CertificateError:
        return "unreadable"
    if not rep.ok:
        assert rep.failures and all(isinstance(w, str) and isinstance(r, str)
                                    for w, r in rep.failures)
        return "rejected"
    # It vouches for the certificate's problem: that problem's goal must be valid.
    stated = parse_text(json.loads(raw)["problem"], "<mutated certificate>")
    if dataclasses.replace(stated, source=original.source) == original:
        return "accepted, same problem"
    cex = find_counterexample(stated.theory, stated.goal, trials=2000, time_budget_s=2.0)
    assert cex is None, f"certificate accepted for a false goal: {cex}"
    other = check_certificate(path, solver="cvc5-ind", prove_many=cvc5_pool.prove_many,
                              timeout_s=2.0)
    return "accepted, changed problem" + (", confirmed by cvc5" if other.ok else "")


@FUZZ(40)
@given(data=st.data())
def test_mutated_certificates_are_rejected_or_still_sound(certificates, pool, cvc5_pool,
                                                          tmp_path_factory, data):
    text, original = certificates[data.draw(st.integers(0, len(certificates) - 1))]
    rng = data.draw(st.randoms(use_true_random=False))
    if data.draw(st.booleans(), label="structural"):
        obj, ops = mutate_json(rng, json.loads(text), steps=data.draw(st.integers(1, 3)))
        mutated = json.dumps(obj).encode()
    else:
        mutated, ops = mutate_bytes(rng, text.encode())
    path = tmp_path_factory.mktemp("mut") / "cert.json"
    CASES["certificate " + check_certificate_contract(mutated, original, path, pool,
                                                      cvc5_pool)] += 1


def test_certificate_with_a_changed_goal_is_not_ok(certificates, pool, cvc5_pool, tmp_path):
    """Should fail: the same proof presented for a false goal."""
    text, original = certificates[1]
    data = json.loads(text)
    data["problem"] = data["problem"].replace("(len xs)", "(S (len xs))")
    assert check_certificate_contract(json.dumps(data).encode(), original, tmp_path / "c.json",
                                      pool, cvc5_pool) == "rejected"
    # should succeed: whitespace in the JSON changes nothing
    assert check_certificate_contract(json.dumps(json.loads(text), indent=7).encode(), original,
                                      tmp_path / "d.json", pool, cvc5_pool) \
        == "accepted, same problem"


@pytest.mark.parametrize("damage", [
    pytest.param(lambda d: d["proof"].__setitem__("uses", [["L0"]]), id="unhashable-use"),
    pytest.param(lambda d: d["proof"].__setitem__("uses", [{}]), id="dict-use"),
])
def test_certificate_with_odd_json_types_is_rejected(certificates, pool, tmp_path, damage):
    text, _ = certificates[1]
    data = json.loads(text)
    damage(data)
    (tmp_path / "c.json").write_text(json.dumps(data))
    try:
        rep = check_certificate(tmp_path / "c.json", prove_many=pool.prove_many, timeout_s=1.0)
    except CertificateError:
        return
    assert not rep.ok


def test_deeply_nested_certificate_is_a_certificate_error(pool, tmp_path):
    (tmp_path / "deep.json").write_text('{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CertificateError):
        check_certificate(tmp_path / "deep.json", prove_many=pool.prove_many, timeout_s=1.0)
