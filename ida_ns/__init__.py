"""ida-ns: neuro-symbolic verification for Iterated Distillation and Amplification.

Importing this package is cheap: no solver, torch or transformers import happens here.
"""

__version__ = "0.1.0"
