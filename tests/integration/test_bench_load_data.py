"""The benchmark's LOAD DATA loader (benchmarks/tsv_rows.py) writes what the importer's INSERT writes.

Every post-loan DocType: a small generated frame goes once through ``post_loan_data._insert`` (the
importer's path, its keys prefixed ``ZLA-``) and once through ``LOAD DATA LOCAL INFILE`` (the same rows,
keys prefixed ``ZLB-``), in the test's transaction; apart from the prefix the rows must be equal column by
column.
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

frappe = pytest.importorskip("frappe")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import shape
import tsv_rows

from postloan_performance.datagen.schema import FRAME_DOCTYPES
from postloan_performance.engine import row_rules
from postloan_performance.services import post_loan_data

STAMP, USER = "2026-12-07 10:00:00.123456", "Administrator"


@pytest.fixture(scope="module")
def books():
	targets, employees, teams = shape.scaled(0.005)
	ds = shape.build(11, targets, employees=employees, teams=teams)
	return shape.prefixed(ds, "ZLA-"), shape.prefixed(ds, "ZLB-")


@pytest.fixture
def local_infile_connection():
	"""The test's own connection, reopened so that it may send files (Frappe's ``local_infile``)."""
	frappe.db.rollback()
	frappe.db.close()
	frappe.conf.local_infile = 1
	frappe.db.connect()
	try:
		yield
	finally:
		frappe.db.rollback()
		frappe.db.close()
		frappe.conf.pop("local_infile", None)
		frappe.db.connect()


def _frame(book, frame_name):
	doctype = FRAME_DOCTYPES[frame_name]
	spec = row_rules.SPECS[doctype]
	frame = getattr(book, frame_name).head(300).copy()
	if "name" not in frame.columns:
		frame["name"] = frame["reference"]
	for column in spec.columns:
		if column not in frame.columns:
			frame[column] = "PL Test Co" if column == "company" else None
	return frame[["name", *spec.columns]]


def _rows(doctype, names):
	rows = frappe.db.sql(
		f"select * from `tab{doctype}` where name in %s order by name", (names,), as_dict=True
	)
	for row in rows:
		for column, value in row.items():
			if isinstance(value, str):
				row[column] = value.replace("ZLA-", "").replace("ZLB-", "")
	return rows


def _load_data(doctype, spec, frame):
	with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8", delete=False) as f:
		f.write(tsv_rows.render(spec, frame, STAMP, USER))
	try:
		columns = ", ".join(f"`{c}`" for c in tsv_rows.fields(spec))
		frappe.db.sql(
			f"load data local infile %s ignore into table `tab{doctype}` character set utf8mb4 "
			f"fields terminated by '\\t' lines terminated by '\\n' ({columns})",
			(f.name,),
		)
	finally:
		os.unlink(f.name)


@pytest.mark.parametrize("frame_name", sorted(FRAME_DOCTYPES))
def test_load_data_writes_what_the_importer_writes(books, local_infile_connection, frame_name):
	doctype = FRAME_DOCTYPES[frame_name]
	spec = row_rules.SPECS[doctype]
	by_insert, by_load = (_frame(book, frame_name) for book in books)
	assert len(by_insert) and not tsv_rows.has_markup(spec, by_load)

	assert post_loan_data._insert(doctype, spec, by_insert, STAMP, USER) == len(by_insert)
	_load_data(doctype, spec, by_load)

	inserted = _rows(doctype, by_insert["name"].astype(str).tolist())
	loaded = _rows(doctype, by_load["name"].astype(str).tolist())
	assert len(loaded) == len(inserted) == len(by_load)
	differences = [
		(a["name"], column, a[column], b[column])
		for a, b in zip(inserted, loaded, strict=True)
		for column in a
		if a[column] != b[column]
	]
	assert not differences, differences[:5]
	# the rows hold the frame's values, not blanks: a loader that wrote NULLs everywhere would differ
	key = spec.columns[0]
	assert any(r[key] not in (None, "", 0) for r in loaded)
