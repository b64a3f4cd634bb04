"""A Python insertion sort, checked against the TIP-style spec in sorting.smt2."""


def insertion_sort(xs: list[int]) -> list[int]:
    out: list[int] = []
    for x in xs:
        i = 0
        while i < len(out) and out[i] < x:
            i += 1
        out.insert(i, x)
    return out
