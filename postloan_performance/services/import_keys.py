"""Link values as the lender gives them: find linked records by name or by another key, set-wise.

A collector may be given by Employee ID, staff number (``employee_number``), company e-mail or user ID, a
loan by its loan number, a case by its case number (the keys are listed once, in
``engine.row_rules.LINK_KEYS``). For each target DocType one statement per 5,000 distinct values returns
every record whose name or key is among them, as ``(key, name, rank)`` rows (``UNION ALL`` of one indexed
``IN`` per key); the engine's :class:`~postloan_performance.engine.row_rules.LinkIndex` decides which
value is which record and which are unknown or ambiguous.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import frappe

from postloan_performance.engine import row_rules

LOOKUP_CHUNK_SIZE = 5_000  # values per IN (...) list


def key_fields(doctype: str) -> tuple[str, ...]:
	"""The keys of ``doctype`` besides its name that exist on this site and may differ from the name.

	A field the site lacks is skipped, and so is the field a DocType is named by (a loan is named by its
	loan number, ``autoname: field:loan_no``): matching the name matches it, and a second ``IN`` list of
	the same values would cost the lookup of a 200,000-row file four times as much.
	"""
	meta = frappe.get_meta(doctype)
	return tuple(
		k
		for k in row_rules.LINK_KEYS.get(doctype, ())
		if meta.has_field(k) and (meta.autoname or "") != f"field:{k}"
	)


def _chunks(values: Iterable, size: int):
	iterator = iter(values)
	while chunk := list(itertools.islice(iterator, size)):
		yield chunk


def candidates(doctype: str, values: list[str]) -> list[tuple]:
	"""``(key, name, rank)`` of the records of ``doctype`` whose name (rank 0) or other key (rank 1) is
	one of ``values`` (compared as the database does: case-insensitively)."""
	table = f"`tab{doctype}`"
	parts = [f"select `name`, `name`, 0 from {table} where `name` in %(values)s"]
	parts += [
		f"select `{key}`, `name`, 1 from {table} where `{key}` in %(values)s" for key in key_fields(doctype)
	]
	return list(frappe.db.sql(" union all ".join(parts), {"values": tuple(values)}))


def link_indexes(
	wanted: dict[str, set[str]], size: int = LOOKUP_CHUNK_SIZE
) -> dict[str, row_rules.LinkIndex]:
	"""A :class:`LinkIndex` per target DocType of the records the wanted values may mean."""
	indexes = {}
	for doctype, values in wanted.items():
		rows: list[tuple] = []
		for chunk in _chunks(sorted(values), size):
			rows.extend(candidates(doctype, chunk))
		indexes[doctype] = row_rules.LinkIndex(rows)
	return indexes
