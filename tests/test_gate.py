"""The consistency gate: scoped, strict size-change termination, semantic measures, asserted
lemmas as obligations, evidence that travels and is re-checked, the ``gate`` subcommand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ida_ns.gate import recheck_evidence, run_gate
from ida_ns.logic.parser import parse_file, parse_text
from ida_ns.termination import check_theory

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "specs" / "termination"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())["files"]
TIP = ROOT.parent.parent / "shared" / "benchmarks" / "tip"
if not TIP.exists():
    TIP = Path("/work/shared/benchmarks/tip")

NAT = "(declare-datatype Nat ((Z) (S (p Nat))))\n"


@pytest.fixture(scope="module")
def pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=2.0) as p:
        yield p


def terminates(src: str) -> bool:
    th = parse_text(src + "\n(prove true)").theory
    return all(r.terminating for r in check_theory(th, time.perf_counter() + 30))


# ---- issue 8, holes 1 and 2 and the n-ary crash: paired should-pass / should-fail ------------

PAIRS = [
    # (name, terminating definition, its hostile twin)
    ("let-shadow",
     "(define-fun-rec g ((x Int)) Int (let ((y (+ x 1))) (ite (> x 0) (+ 1 (g (- x 1))) y)))",
     "(define-fun-rec g ((x Int)) Int (let ((x (+ x 1))) (ite (> x 0) (+ 1 (g (- x 1))) 0)))"),
    ("selector-guard",
     NAT + "(define-fun-rec f ((n Nat)) Int (ite (is-S n) (+ 1 (f (p n))) 0))",
     NAT + "(define-fun-rec f ((n Nat)) Int (+ 1 (f (p n))))"),
    ("selector-wrong-tester",
     NAT + "(define-fun-rec f ((n Nat)) Int (ite (not (is-Z n)) (+ 1 (f (p n))) 0))",
     NAT + "(define-fun-rec f ((n Nat)) Int (ite (is-S n) 0 (+ 1 (f (p n)))))"),
    ("selector-match-rest",
     NAT + "(define-fun-rec f ((n Nat)) Int (match n ((Z 0) (_ (f (p n))))))",
     NAT + "(define-fun-rec f ((n Nat)) Int (match n (((S k) 0) (_ (f (p n))))))"),
    ("pattern-shadow",
     NAT + "(define-fun-rec f ((n Nat) (m Nat)) Nat (match m ((Z Z) ((S n) (f n n)))))",
     NAT + "(define-fun-rec f ((n Nat) (m Nat)) Nat (match m ((Z Z) ((S n) (f n (S n))))))"),
    ("forall-shadow",
     "(define-fun-rec q ((x Int)) Bool (ite (<= x 0) true (and (forall ((y Int)) (> y x)) (q (- x 1)))))",
     "(define-fun-rec q ((x Int)) Bool (ite (<= x 0) true (forall ((x Int)) (q x))))"),
    ("chained-comparison",
     "(define-fun-rec h ((x Int)) Int (ite (< 0 x 10) (h (- x 1)) 0))",
     "(define-fun-rec h ((x Int)) Int (ite (< 0 x 10) (h (+ x 1)) (ite (> x 9) (h x) 0)))"),
    ("ternary-arith",
     "(define-fun-rec h ((x Int) (y Int)) Int (ite (> x 0) (h (+ x (- 1) 0) (* x y 2)) y))",
     "(define-fun-rec h ((x Int) (y Int)) Int (ite (> x 0) (h (* x 1 1) (* x y 2)) y))"),
    ("int-bounded-below",
     "(define-fun-rec fac ((n Int)) Int (ite (<= n 0) 1 (* n (fac (- n 1)))))",
     "(define-fun-rec fac ((n Int)) Int (ite (= n 0) 1 (* n (fac (- n 1)))))"),
    ("upward-count",
     "(define-fun-rec c ((i Int) (n Int)) Int (ite (< i n) (c (+ i 1) n) 0))",
     "(define-fun-rec c ((i Int) (n Int)) Int (ite (< i n) (c (+ i 1) (+ n 1)) 0))"),
    ("argument-swap",
     NAT + "(define-fun-rec f ((a Nat) (b Nat)) Nat (match a ((Z b) ((S k) (f b k)))))",
     NAT + "(define-fun-rec f ((a Nat) (b Nat)) Nat (match a ((Z b) ((S k) (f b a)))))"),
    ("mutual",
     NAT + "(define-funs-rec ((ev ((n Nat)) Bool) (od ((n Nat)) Bool)) "
     "((match n ((Z true) ((S k) (od k)))) (match n ((Z false) ((S k) (ev k))))))",
     NAT + "(define-funs-rec ((ev ((n Nat)) Bool) (od ((n Nat)) Bool)) "
     "((match n ((Z true) ((S k) (od n)))) (match n ((Z false) ((S k) (ev (S k)))))))"),
    ("lexicographic",
     NAT + "(define-fun-rec ack ((m Nat) (n Nat)) Nat (match m ((Z (S n)) ((S k) (match n "
     "((Z (ack k (S Z))) ((S j) (ack k (ack m j)))))))))",
     NAT + "(define-fun-rec ack ((m Nat) (n Nat)) Nat (match m ((Z (S n)) ((S k) (match n "
     "((Z (ack m (S Z))) ((S j) (ack k (ack m j)))))))))"),
    ("short-circuit-guard",
     "(define-fun-rec e ((x Int)) Bool (and (> x 0) (e (- x 1))))",
     "(define-fun-rec e ((x Int)) Bool (or (> x 0) (e (- x 1))))"),
]


@pytest.mark.parametrize("name,good,bad", PAIRS, ids=[p[0] for p in PAIRS])
def test_paired_termination(name, good, bad):
    assert terminates(good), name
    assert not terminates(bad), name


def test_refusal_names_the_call():
    th = parse_text(NAT + "(define-fun-rec f ((n Nat)) Int (+ 1 (f (p n))))\n(prove true)").theory
    r, = check_theory(th)
    assert not r.terminating and "(f (p n))" in r.measure and r.function == "f"


@pytest.mark.parametrize("src", [
    "(define-fun-rec h ((x Int)) Int (ite (< 0 x 10 20 30) (h (- x 1)) (* x x x x)))",
    "(define-fun-rec h ((x Int)) Int (ite (= x 1 1) (h (- x 1 1 1)) (div x 2 3)))",
    "(define-fun-rec h ((x Int)) Int (ite (distinct x 1 2) (h (- x)) (abs x)))",
    "(define-fun-rec h ((x Int)) Bool (=> (> x 0) (< x 3) (h (- x 1))))",
    "(define-fun-rec h ((x Int)) Bool (xor (> x 0) (h (mod x 2))))",
])
def test_nary_operators_never_raise(src):
    th = parse_text(src + "\n(prove true)").theory
    for r in check_theory(th):
        assert isinstance(r.terminating, bool)


# ---- budgets ----------------------------------------------------------------------------------

def test_hard_nonlinear_guard_is_bounded():
    src = ("(define-fun-rec h ((x Int) (y Int) (z Int)) Int (ite (and (> x 0) (= (+ (* x x x) "
           "(* y y y)) (* z z z))) (h (+ x 1) (* y y) (- z 1)) 0))\n(prove true)")
    th = parse_text(src).theory
    t0 = time.perf_counter()
    r, = check_theory(th, time.perf_counter() + 30)
    assert not r.terminating
    assert time.perf_counter() - t0 < 20  # generous: was 40 s before per-call z3 limits


def test_deadline_stops_with_budget_reason():
    defs = "\n".join(
        f"(define-fun-rec f{i} ((x Int) (y Int)) Int (ite (> (* x y) 0) (f{i} (- x 1) (+ y 1)) 0))"
        for i in range(200))
    th = parse_text(defs + "\n(prove true)").theory
    rs = check_theory(th, time.perf_counter())  # already past
    assert rs and all(not r.terminating for r in rs)
    assert any("budget" in r.measure for r in rs)


def test_many_definitions_one_symbol_table():
    n = 1500
    src = NAT + "\n".join(
        f"(define-fun-rec f{i} ((x Nat)) Nat (match x ((Z Z) ((S k) "
        f"{'(f0 k)' if i == 0 else f'(f{i - 1} (f{i} k))'}))))" for i in range(n))
    th = parse_text(src + "\n(prove true)").theory
    rs = check_theory(th, time.perf_counter() + 300)
    assert len(rs) == n and all(r.terminating for r in rs)


# ---- the corpus ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fname", sorted(MANIFEST))
def test_corpus(fname, pool):
    spec = MANIFEST[fname]
    p = parse_file(CORPUS / fname)
    budget = 30 if spec.get("reached") else 6  # known gaps: only "never inconsistent"
    rep = run_gate(p.theory, prove_many=pool.prove_many, timeout_s=2.0,
                   deadline=time.perf_counter() + budget)
    if spec["expect"] == "refused":
        assert rep.status != "consistent", (fname, rep.reason)
    elif spec.get("reached"):
        assert rep.status == "consistent", (fname, rep.reason)
        assert recheck_evidence(p, rep.evidence, pool.prove_many) == []
    else:
        assert rep.status != "inconsistent", (fname, rep.reason)


def test_contradictory_assert_is_refused_and_provable_one_is_a_lemma(pool):
    bad = parse_file(CORPUS / "contradictory_assert.smt2")
    good = parse_file(CORPUS / "lemma_assert_ok.smt2")
    rb = run_gate(bad.theory, prove_many=pool.prove_many, timeout_s=2.0)
    rg = run_gate(good.theory, prove_many=pool.prove_many, timeout_s=2.0)
    assert rb.status == "inconsistent"
    assert rg.status == "consistent" and rg.lemmas == good.theory.axioms
    assert rg.evidence["axioms"]["proved"][0]["proof"]["step"]


# ---- evidence: re-checked independently, tampering caught --------------------------------------

def test_tampered_evidence_is_rejected(pool):
    p = parse_file(CORPUS / "quicksort_filter.smt2")
    rep = run_gate(p.theory, prove_many=pool.prove_many, timeout_s=2.0,
                   deadline=time.perf_counter() + 30)
    assert rep.ok
    assert recheck_evidence(p, rep.evidence, pool.prove_many) == []
    ev = json.loads(json.dumps(rep.evidence))
    append = next(t for t in ev["termination"] if t["function"] == "append")
    for c in append["evidence"]["calls"]:
        c["edges"] = [[a, b, 2] for a, b, _ in c["edges"]] + [[1, 1, 2]]
    assert any("append" in f for f in recheck_evidence(p, ev, pool.prove_many))
    ev = json.loads(json.dumps(rep.evidence))
    qs = next(t for t in ev["termination"] if t["function"] == "qsort")
    qs["evidence"]["obligations"][0]["proof"] = {"step": "direct", "children": []}
    qs["evidence"]["lemmas"] = []
    fails = recheck_evidence(p, ev, pool.prove_many)
    assert any("qsort" in f for f in fails)
    # evidence for one theory does not vouch for another
    bad = parse_text(NAT + "(define-fun-rec f ((n Nat)) Int (+ 1 (f (p n))))\n(prove true)")
    fake = {"format": ev["format"], "termination": [{"function": "f", "evidence": {
        "method": "size-change", "measures": {"f": [["size", 0]]},
        "calls": [{"caller": "f", "callee": "f", "index": 0, "edges": [[0, 0, 2]]}]}}]}
    assert recheck_evidence(bad, fake, pool.prove_many)


def test_certificate_carries_and_rechecks_evidence(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    cert = tmp_path / "c.json"
    src = tmp_path / "p.smt2"
    src.write_text(NAT + "(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) "
                   "((S k) (S (plus k y))))))\n(prove (forall ((x Nat)) (= (plus x Z) x)))\n")
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "prove", str(src), "--budget", "5",
                        "--cert", str(cert)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(cert.read_text())
    assert data["gate_evidence"]["termination"][0]["function"] == "plus"
    ok = subprocess.run([sys.executable, "-m", "ida_ns.cli", "check-proof", str(cert)],
                        env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "VALID" in ok.stdout
    data["gate_evidence"]["termination"][0]["evidence"]["calls"][0]["edges"] = [[0, 0, 2],
                                                                                [1, 1, 2]]
    cert.write_text(json.dumps(data))
    bad = subprocess.run([sys.executable, "-m", "ida_ns.cli", "check-proof", str(cert)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "gate_evidence" in bad.stdout


def test_gate_cli_json_rows(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    empty = tmp_path / "broken.smt2"
    empty.write_text("(define-fun-rec")
    files = [str(CORPUS / "bad_shadow_let.smt2"), str(CORPUS / "subst_binders.smt2"),
             str(empty)]
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "gate", "--json", *files], env=env,
                       capture_output=True, text=True, timeout=120)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["file"] for row in rows] == files
    assert set(rows[0]) == {"file", "status", "reason", "evidence"}
    assert rows[0]["status"] == "unknown" and "(g (- x' 1))" in rows[0]["reason"]
    assert rows[1]["status"] == "consistent" and rows[1]["evidence"]["termination"]
    assert rows[2]["status"] == "error" and "Traceback" not in r.stderr
    assert r.returncode == 3  # the most severe row: an input error


# ---- TIP ----------------------------------------------------------------------------------------

@pytest.mark.skipif(not TIP.exists(), reason="../shared/benchmarks/tip is absent")
@pytest.mark.parametrize("folder", ["native/isaplanner", "native/prod", "smtlib/prod"])
def test_tip_true_folders_pass_termination(folder):
    refused = []
    for f in sorted((TIP / folder).glob("*.smt2")):
        th = parse_file(f).theory
        if not all(r.terminating for r in check_theory(th, time.perf_counter() + 30)):
            refused.append(f.name)
    assert refused == []


@pytest.mark.parametrize("forged", [False, True])
def test_forged_certificate_on_a_nonterminating_theory_is_invalid(tmp_path, forged):
    """Issue 8 hole 1 end to end: a certificate "proving" (< (g 0) (g 0)) with cvc5-ind on the
    let-shadowing theory is refused, with or without forged termination evidence."""
    import hashlib

    from ida_ns.logic.printer import print_problem

    p = parse_file(CORPUS / "bad_shadow_let.smt2")
    text = print_problem(p, dialect="tip")
    data = {"format": "ida-ns-certificate/1", "source": "forged", "problem": text,
            "problem_sha256": hashlib.sha256(text.encode()).hexdigest(), "solver": "cvc5-ind",
            "lemmas": [], "proof": {"step": "direct", "solver": "cvc5-ind", "uses": [],
                                    "children": [], "source": "H"}}
    if forged:
        data["gate_evidence"] = {"format": "ida-ns-gate-evidence/1", "termination": [
            {"function": "g", "terminating": True, "measure": "x", "evidence": {
                "method": "size-change", "measures": {"g": [["int", "p", 0]]},
                "calls": [{"caller": "g", "callee": "g", "index": 0, "edges": [[0, 0, 2]]}]}}]}
    cert = tmp_path / "forged.json"
    cert.write_text(json.dumps(data))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "check-proof", str(cert)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "INVALID" in r.stdout, r.stdout + r.stderr
    assert ("gate_evidence" if forged else "consistency") in r.stdout
