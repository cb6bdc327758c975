"""services.fast_frames.read_frame: the concatenated transport gives exactly the rows the plain read gives."""

import pandas as pd
import pytest

import frappe

from postloan_performance.engine import frames
from postloan_performance.services import fast_frames
from postloan_performance.services.fast_frames import read_frame

# a derived table of awkward values: NULL, empty text, unicode, a literal %, decimals, dates as text
AWKWARD = """
	select 1 as id, 'L-1' as loan, null as collector, cast(12.50 as decimal(21,9)) as amount,
		cast('2026-04-01' as char) as day, '贷后 %' as note
	union all select 2, '', 'E-2', null, null, ''
	union all select 3, 'L-3', 'E-3', cast(-0.000000001 as decimal(21,9)), cast('2026-04-30 23:59:59.500000' as char),
		'tab\there, newline\nthere, "quoted", semi;colon'
"""
COLUMNS = ("id", "loan", "collector", "amount", "day", "note")


def plain(sql, values, columns, numeric=()):
	"""The ordinary read, as read_frame does it when the concatenated one does not fit."""
	rows = frappe.db.sql(sql, values) if values else frappe.db.sql(sql)
	return frames.from_rows(rows, columns, numeric)


def concatenated(sql, values, columns, numeric=()):
	"""read_frame, failing if it fell back to the plain read."""
	calls = []
	original = fast_frames._read_concatenated

	def spy(*args):
		calls.append(args)
		return original(*args)

	fast_frames._read_concatenated = spy
	try:
		frame = read_frame(sql, values, columns, numeric=numeric)
	finally:
		fast_frames._read_concatenated = original
	assert calls, "read_frame did not use the concatenated transport"
	return frame


def test_awkward_values_come_back_as_the_plain_read_gives_them():
	frame = concatenated(AWKWARD, None, COLUMNS, numeric=("id", "amount"))
	expected = plain(AWKWARD, None, COLUMNS, numeric=("id", "amount"))
	pd.testing.assert_frame_equal(
		frame.sort_values("id").reset_index(drop=True), expected.sort_values("id").reset_index(drop=True)
	)
	# text columns are Python objects with None for NULL on every pandas major (pandas 3 would infer
	# its str dtype with NaN, which is truthy and which the database driver refuses)
	for column in ("loan", "collector", "note", "day"):
		assert frame[column].dtype == object and expected[column].dtype == object
	row = frame.set_index("id").loc[2]
	assert row["loan"] == "" and row["note"] == ""  # empty text stays empty text
	assert row["day"] is None and pd.isna(row["amount"])  # NULL stays missing
	assert frame.set_index("id").loc[1, "collector"] is None
	assert frame.set_index("id").loc[1, "note"] == "贷后 %"
	assert frame.set_index("id").loc[3, "amount"] == pytest.approx(-1e-9)


def test_parameters_and_many_groups():
	"""20,000 rows span five groups of ROWS_PER_GROUP; values are bound as parameters."""
	sql = """select seq as n, concat('row-', seq) as label, seq / 8 as eighth
		from seq_1_to_20000 where seq %% %(every)s = 0 or seq > %(above)s"""
	values = {"every": 1, "above": 0}
	frame = concatenated(sql, values, ("n", "label", "eighth"), numeric=("n", "eighth"))
	assert len(frame) == 20000 > 4 * fast_frames.ROWS_PER_GROUP
	frame = frame.sort_values("n").reset_index(drop=True)
	assert frame["n"].tolist() == [float(n) for n in range(1, 20001)]
	assert frame.loc[19999, "label"] == "row-20000"
	assert frame["eighth"].sum() == pytest.approx(sum(range(1, 20001)) / 8)


def test_a_value_holding_a_separator_falls_back_to_the_plain_read():
	sql = f"select 'a{fast_frames.UNIT}b' as v, 1 as n union all select 'c', 2"
	with pytest.raises(fast_frames.TransportMismatch):
		fast_frames._read_concatenated(sql, None, ["v", "n"], {"n"})
	frame = read_frame(sql, None, ("v", "n"), numeric=("n",)).sort_values("n")
	assert frame["v"].tolist() == [f"a{fast_frames.UNIT}b", "c"]


def test_no_rows():
	frame = read_frame("select 1 as a, 'x' as b from dual where 1 = 0", None, ("a", "b"), numeric=("a",))
	assert list(frame.columns) == ["a", "b"] and frame.empty


def test_reserved_parameter_names_are_refused():
	with pytest.raises(ValueError):
		read_frame("select %(_plp_unit)s as a", {"_plp_unit": 1}, ("a",))
