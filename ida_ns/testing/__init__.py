"""Test support shipped with the package (Hypothesis strategies in :mod:`.ast_strategies`).

Nothing here is imported by ``import ida_ns``; importing a submodule needs ``hypothesis``
(``pip install -e .[test]``)."""
