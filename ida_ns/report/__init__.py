"""Self-contained HTML reports of IDA runs and proofs (``ida-ns report``, ``prove --html``).

:mod:`.tree` turns proof trees (search results, interactive sessions) into plain JSON nodes;
:mod:`.rundata` reads a run directory defensively; :mod:`.svg` draws the KPI plots;
:mod:`.html` writes the one-file page (inline CSS/JS/SVG, no network)."""
