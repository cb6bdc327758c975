"""The boundary between pandas frames and plain Python values, on every pandas major.

pandas 3 infers its ``str`` dtype for text and marks missing text with NaN (truthy, refused by the
database driver); these cases hold on pandas 2 and 3 alike (CI runs the unit suite on both)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import frames


def test_missing_values_of_every_spelling_become_none():
	for value in (None, float("nan"), np.float64("nan"), pd.NaT, pd.NA, np.datetime64("NaT")):
		assert frames.is_missing(value) and frames.python_value(value) is None
	for value in ("", 0, 0.0, "nan", [], False):
		assert not frames.is_missing(value)


def test_python_values_are_plain():
	assert type(frames.python_value(np.int64(3))) is int
	assert type(frames.python_value(np.float32(1.5))) is float
	assert type(frames.python_value(np.bool_(True))) is bool
	assert frames.python_value(pd.Timestamp("2026-03-31 10:00")) == dt.datetime(2026, 3, 31, 10)
	assert frames.db_row(["a", np.nan, np.int64(2)]) == ["a", None, 2]


def test_records_of_a_text_column_with_a_gap():
	# a generated team tree: the root has no parent
	teams = pd.DataFrame({"team_name": ["Root", "Child"], "parent_pl_team": [None, "Root"]})
	rows = frames.records(teams)
	assert rows == [
		{"team_name": "Root", "parent_pl_team": None},
		{"team_name": "Child", "parent_pl_team": "Root"},
	]
	assert not rows[0]["parent_pl_team"]  # NaN would be truthy: "a missing parent"


def test_from_rows_keeps_text_as_objects_with_none():
	frame = frames.from_rows(
		[("L1", None, 2.5, dt.date(2026, 1, 31)), ("L2", "x", None, None)],
		["loan", "note", "amount", "day"],
		numeric=["amount"],
	)
	assert frame["loan"].dtype == object and frame["note"].dtype == object
	assert frame.loc[0, "note"] is None and frame.loc[1, "note"] == "x"
	assert frame["amount"].dtype == float and np.isnan(frame.loc[1, "amount"])
	assert frame.loc[0, "day"] == dt.date(2026, 1, 31) and frame.loc[1, "day"] is None
	empty = frames.from_rows([], ["loan", "amount"], numeric=["amount"])
	assert list(empty.columns) == ["loan", "amount"] and empty.empty


def test_text_as_object_on_a_frame_pandas_inferred():
	frame = pd.DataFrame({"a": ["x", None], "n": [1.0, None]})
	out = frames.text_as_object(frame)
	assert out["a"].tolist() == ["x", None] and out["a"].dtype == object
	assert out["n"].dtype == float  # numbers untouched
	assert frame["a"].dtype == frame["a"].dtype  # the input frame is not changed in place


@pytest.mark.parametrize(
	"value,expected",
	[
		("2026-03-31", dt.date(2026, 3, 31)),
		(pd.Timestamp("2026-03-31 12:00"), dt.date(2026, 3, 31)),
		(None, None),
		(np.nan, None),
		("", None),
	],
)
def test_as_date(value, expected):
	assert frames.as_date(value) == expected
