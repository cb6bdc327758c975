"""Read large result sets into pandas without decoding them value by value in Python.

The MariaDB driver Frappe uses (PyMySQL) is pure Python: it parses every row packet and every value in
the interpreter, which costs ~10 µs per value. A computation that reads 150,000 cases of seven columns
spends ~2 s there, more than the database needs to find them. `read_frame` asks MariaDB to join each
row's values into one line and a few thousand lines into one value (`GROUP_CONCAT`), so the driver
decodes a few dozen large strings, and pandas' C parser splits them into columns.

Values travel as text: NULL as a sentinel character, numbers in their decimal text. Rows are split on
ASCII "record separator" and values on "unit separator" characters; a value containing one of these, or
a group cut by the server's limits, is detected (row and character counts are checked against the
server's own counts) and the query is then read the ordinary way. Other databases read the ordinary way.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

import frappe

from postloan_performance.engine import frames

UNIT = "\x1f"  # between the values of a row
RECORD = "\x1e"  # between rows
NULL = "\x1d"  # stands for SQL NULL
ROWS_PER_GROUP = 4096
GROUP_CONCAT_MAX_LEN = 64 * 1024 * 1024


class TransportMismatch(Exception):
	"""The concatenated result does not split back into the rows the server counted."""


def read_frame(
	sql: str, values: dict | None, columns: tuple[str, ...] | list[str], numeric=()
) -> pd.DataFrame:
	"""The rows of ``sql`` (whose result columns are named ``columns``) as a DataFrame.

	``numeric`` columns come back as float (NaN for NULL); the others as Python objects: strings, or None
	for NULL (dates and datetimes as their ISO text: select them as text, see `metrics._text`).
	"""
	columns = list(columns)
	if frappe.db.db_type == "mariadb" and columns:
		try:
			return _read_concatenated(sql, values, columns, set(numeric))
		except TransportMismatch:
			pass
	rows = frappe.db.sql(sql, values) if values else frappe.db.sql(sql)
	return frames.from_rows(rows, columns, numeric)


def _read_concatenated(sql: str, values: dict | None, columns: list[str], numeric: set[str]) -> pd.DataFrame:
	params = dict(values or {})
	clash = {"_plp_unit", "_plp_record", "_plp_null", "_plp_rows"} & set(params)
	if clash:
		raise ValueError(f"parameter names reserved by read_frame: {sorted(clash)}")
	if not values:  # the driver formats the wrapped statement: a literal % of the inner one must be doubled
		sql = sql.replace("%", "%%")
	params.update({"_plp_unit": UNIT, "_plp_record": RECORD, "_plp_null": NULL, "_plp_rows": ROWS_PER_GROUP})
	line = ", %(_plp_unit)s, ".join(f"ifnull(cast(t.`{c}` as char), %(_plp_null)s)" for c in columns)
	wrapped = f"""set statement group_concat_max_len = {GROUP_CONCAT_MAX_LEN} for
		select count(*), sum(char_length(x.line)), group_concat(x.line separator %(_plp_record)s)
		from (
			select concat({line}) as line, (row_number() over ()) div %(_plp_rows)s as grp
			from ({sql}) t
		) x
		group by x.grp"""
	groups = frappe.db.sql(wrapped, params)
	expected_rows = sum(int(count) for count, _length, _text in groups)
	if not expected_rows:
		return _typed(frames.empty(columns), numeric)
	for count, length, text in groups:
		if text is None or len(text) != int(length) + int(count) - 1 or text.count(RECORD) != int(count) - 1:
			raise TransportMismatch
	blob = RECORD.join(text for _count, _length, text in groups)
	if blob.count(UNIT) != expected_rows * (len(columns) - 1):
		raise TransportMismatch
	frame = pd.read_csv(
		io.StringIO(blob),
		sep=UNIT,
		lineterminator=RECORD,
		header=None,
		names=columns,
		dtype=object,
		na_values=[NULL],
		keep_default_na=False,
		quoting=csv.QUOTE_NONE,
		engine="c",
	)
	if len(frame) != expected_rows:
		raise TransportMismatch
	return _typed(frame, numeric)


def _typed(frame: pd.DataFrame, numeric: set[str]) -> pd.DataFrame:
	for column in numeric:
		frame[column] = pd.to_numeric(frame[column]).astype(float)
	return frames.text_as_object(frame, [c for c in frame.columns if c not in numeric])
