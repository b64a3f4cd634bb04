"""What ``prove`` writes beside its verdict: ``--cert`` and ``--graph``, for any verdict.

A proved result writes its certificate and proof graph; an unknown one writes its partial proof
(format ``ida-ns-partial/1``, which ``check-proof`` refuses: it is not a certificate) and the
partial proof graph; otherwise a note says why nothing was written."""

from __future__ import annotations


def write_outputs(name: str, problem, result, solver: str, cert: str | None = None,
                  graph: str | None = None) -> list[str]:
    """Write ``cert`` and ``graph`` as the result allows; returns one note per request."""
    from ..storage import atomic_write_json
    from .certificate import save_certificate

    notes = []
    if cert:
        if result.proof is not None:
            save_certificate(cert, problem, result, solver)
            notes.append(f"certificate written: {cert}")
        elif result.status == "unknown":
            from .render import result_json

            partial = {"format": "ida-ns-partial/1",
                       "note": "not a certificate: the goal is unproved; open_goals lists "
                               "what is left", **result_json(name, result)}
            atomic_write_json(cert, partial)
            notes.append(f"unknown: wrote the partial proof (not a certificate) to {cert}")
        else:
            notes.append(f"{result.status}: no certificate written (nothing to certify)")
    if graph:
        from .proof import export_graph, proof_graph

        if result.proof is not None:
            export_graph(proof_graph(result.proof, result.lemmas), graph)
            notes.append(f"proof graph written: {graph}")
        elif getattr(result, "partial", None) is not None:
            from .partial import partial_graph

            export_graph(partial_graph(result.partial), graph)
            notes.append(f"partial proof graph written: {graph}")
        else:
            reason = getattr(result.verdict, "reason", "") or result.status
            notes.append(f"{result.status}: no graph written (no proof search took place: "
                         f"{reason})")
    return notes
