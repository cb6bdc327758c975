"""Deterministic synthetic post-loan data for integration tests, the demo and the benchmark.

Pure Python + numpy + pandas (no frappe): ``generate(seed)`` returns a :class:`Dataset` of DataFrames whose
columns are DocType field names; the site loader turns them into documents.
"""

from postloan_performance.datagen.generator import (
	BUCKETS,
	CLASSIFICATIONS,
	COLUMNS,
	LAYERS,
	Dataset,
	LayerSpec,
	OrgSpec,
	bucket_of,
	classification_of,
	generate,
)

__all__ = [
	"BUCKETS",
	"CLASSIFICATIONS",
	"COLUMNS",
	"LAYERS",
	"Dataset",
	"LayerSpec",
	"OrgSpec",
	"bucket_of",
	"classification_of",
	"generate",
]
