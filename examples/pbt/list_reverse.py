"""Two Python list reversals, checked against the TIP-style spec in reverse.smt2: one correct,
one with an off-by-one bug that test_examples.py finds and shrinks to a one-element list."""


def reverse(xs: list[int]) -> list[int]:
    out = []
    for i in range(len(xs) - 1, -1, -1):
        out.append(xs[i])
    return out


def reverse_off_by_one(xs: list[int]) -> list[int]:
    out = []
    for i in range(len(xs) - 1, 0, -1):  # the bug: stops before index 0
        out.append(xs[i])
    return out
