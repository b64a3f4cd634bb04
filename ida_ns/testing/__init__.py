"""Test support shipped with the package: Hypothesis strategies for ASTs (:mod:`.ast_strategies`)
and evaluator values (:mod:`.values`), hostile inputs (:mod:`.hostile`).  The public,
documented property-testing API built on them is :mod:`ida_ns.hypothesis` (and
:mod:`ida_ns.safety` for the hostile families).

Nothing here is imported by ``import ida_ns``; importing a submodule needs ``hypothesis``
(``pip install -e .[test]``)."""
