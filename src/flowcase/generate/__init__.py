"""Test generation: criteria, provably minimal covers, feasible data, stable ids, impact analysis.

Pure code, no I/O. ``generate(model, options)`` returns a :class:`Suite`; ``regenerate`` keeps a previous
suite's still-useful tests; ``diff`` classifies tests between two versions of a model; ``pairwise`` builds
covering arrays.
"""

from __future__ import annotations

from flowcase.generate.engine import generate
from flowcase.generate.maintain import Diff, diff, regenerate
from flowcase.generate.options import GenerateOptions, GenerationError, Purpose, parse_purpose
from flowcase.generate.pairwise import pairwise
from flowcase.generate.suite import CoverageItem, Suite, TestCase, TestStep

__all__ = [
    "CoverageItem",
    "Diff",
    "GenerateOptions",
    "GenerationError",
    "Purpose",
    "Suite",
    "TestCase",
    "TestStep",
    "diff",
    "generate",
    "pairwise",
    "parse_purpose",
    "regenerate",
]
