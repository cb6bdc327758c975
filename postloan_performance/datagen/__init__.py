"""Deterministic synthetic post-loan data for integration tests, the demo and the benchmark.

Pure Python + numpy + pandas (no frappe): ``generate(seed)`` returns a :class:`Dataset` of DataFrames whose
columns are DocType field names; the site loader turns them into documents.
"""

from postloan_performance.datagen import generator
from postloan_performance.datagen.generator import *  # the public names, listed once there

__all__ = generator.__all__
