"""Unique keys the database keeps (services/constraints.py) on upgraded sites: existing duplicates are
merged (empty ones removed) or refused, and the patch prints which."""

from postloan_performance.services.constraints import apply_unique_keys, summary_lines


def execute():
	result = apply_unique_keys()
	print("\n".join(summary_lines(result)))
