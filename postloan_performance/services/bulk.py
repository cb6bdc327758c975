"""Set-based reads and writes: many rows in a few statements, and their audit trail."""

from __future__ import annotations

import json
from collections import defaultdict

import frappe
from frappe.utils import now_datetime

from postloan_performance.engine import frames
from postloan_performance.services.sanitize import sanitize_rows

INSERT_CHUNK_SIZE = 10_000  # rows per INSERT statement


def by_name(doctype: str, names: list[str], fields: list[str]) -> dict[str, frappe._dict]:
	"""The `fields` of the records of `doctype` named in `names`, by name, in one query."""
	return {
		r.name: r for r in frappe.get_all(doctype, filters={"name": ("in", names)}, fields=["name", *fields])
	}


def given_conditions(filters: dict[str, tuple[str, object]]) -> tuple[list[str], dict]:
	"""SQL conditions and their named parameters for the filters that are given:
	``{parameter: (condition, value)}``, a condition kept only when its value is not blank."""
	conditions, params = [], {}
	for key, (condition, value) in filters.items():
		if value not in (None, "", (), []):
			conditions.append(condition)
			params[key] = value
	return conditions, params


def insert_many(
	doctype: str,
	fields: list[str],
	rows,
	*,
	chunk_size: int = INSERT_CHUNK_SIZE,
	ignore_duplicates: bool = False,
) -> int:
	"""Multi-row INSERT of ``rows`` (sequences in ``fields`` order), ``chunk_size`` rows per statement;
	returns the statement count.

	The statement ``frappe.db.bulk_insert`` sends, written directly on MariaDB: building it through
	pypika costs several times the insert itself for wide rows (2,000 appraisals with their 6,000 KPI
	lines: ~2.5 s of query building for ~0.5 s of inserting). Other databases go through bulk_insert.
	Values may come from pandas: missing values (NaN, NaT, NA) are written as NULL, numpy scalars as
	Python numbers. Text values with ``<`` or ``>`` are sanitised as ``Document.save`` would
	(``services.sanitize``).
	"""
	rows = [frames.db_row(row) for row in rows]
	if not rows:
		return 0
	# what Document.save would do: sanitise text values with markup (only those are touched)
	rows = sanitize_rows(doctype, fields, rows)
	if frappe.db.db_type != "mariadb":
		frappe.db.bulk_insert(
			doctype, fields, rows, ignore_duplicates=ignore_duplicates, chunk_size=chunk_size
		)
		return -(-len(rows) // chunk_size)
	verb = "insert ignore" if ignore_duplicates else "insert"
	columns = ", ".join(f"`{f}`" for f in fields)
	placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
	statements = 0
	for start in range(0, len(rows), chunk_size):
		chunk = rows[start : start + chunk_size]
		frappe.db.sql(
			f"{verb} into `tab{doctype}` ({columns}) values "
			+ ", ".join([placeholder] * len(chunk)),  # nosemgrep
			[value for row in chunk for value in row],
		)
		statements += 1
	return statements


def bulk_update(doctype: str, updates: dict[str, dict], chunk_size: int = 500) -> int:
	"""UPDATE many rows of one table: `updates` maps document name -> {field: value}.

	Rows are grouped by the set of fields they change and written with one
	`UPDATE … SET f = CASE name WHEN … END … WHERE name IN (…)` per chunk. Returns the statement count.
	"""
	by_fields: dict[tuple[str, ...], list[str]] = defaultdict(list)
	for name, values in updates.items():
		if values:
			by_fields[tuple(sorted(values))].append(name)
	statements = 0
	table = f"`tab{doctype}`"
	for fields, names in by_fields.items():
		for i in range(0, len(names), chunk_size):
			chunk = names[i : i + chunk_size]
			params: list = []
			assignments = []
			for field in fields:
				cases = []
				for name in chunk:
					cases.append("when %s then %s")
					params.extend([name, updates[name][field]])
				assignments.append(f"`{field}` = case `name` {' '.join(cases)} end")
			placeholders = ", ".join(["%s"] * len(chunk))
			params.extend(chunk)
			frappe.db.sql(
				f"update {table} set {', '.join(assignments)} where `name` in ({placeholders})",  # nosemgrep
				params,
			)
			statements += 1
	return statements


def insert_versions(doctype: str, changes: dict[str, dict]) -> int:
	"""Record changes made by a set-wise write as Version documents, as a form save would.

	`changes` maps docname -> {"changed": [[field, old, new]], "row_changed": [[table, idx, row, [[f, o, n]]]]}.
	"""
	now = now_datetime()
	user = frappe.session.user
	rows = []
	for docname, change in changes.items():
		if not (change.get("changed") or change.get("row_changed")):
			continue
		data = {
			"added": [],
			"changed": change.get("changed", []),
			"removed": [],
			"row_changed": change.get("row_changed", []),
			"data_import": None,
			"updater_reference": change.get("updater_reference"),
		}
		rows.append(
			(
				frappe.generate_hash(length=10),
				now,
				now,
				user,
				user,
				doctype,
				docname,
				json.dumps(data, default=str),
			)
		)
	insert_many(
		"Version",
		["name", "creation", "modified", "owner", "modified_by", "ref_doctype", "docname", "data"],
		rows,
		chunk_size=2000,
	)
	return len(rows)
