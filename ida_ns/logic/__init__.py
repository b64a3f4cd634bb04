"""Logic core: typed AST, SMT-LIB/TIP parser and printer, sort checker, ground evaluator."""
