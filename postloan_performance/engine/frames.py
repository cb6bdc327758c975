"""Where pandas frames meet plain Python values: the one place that knows how pandas marks "missing".

pandas 2 keeps text in ``object`` columns and marks a missing value with ``None``; pandas 3 infers its
``str`` dtype for text and marks a missing value with ``NaN``, which is *truthy* in Python and which
database drivers refuse. NaT and ``pd.NA`` are further spellings of "missing". The app works on both
majors because frames enter and leave it here:

- :func:`from_rows` builds a frame from database rows with text columns as ``object`` holding ``None``
  for NULL, whatever the pandas version (the contract every loader and the engine rely on);
- :func:`records` and :func:`python_value` turn frame values back into plain Python (``None`` for any
  missing value, numpy scalars as Python numbers, Timestamps as datetimes), for documents and SQL.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def is_missing(value: Any) -> bool:
	"""True for None, NaN (Python or numpy), NaT and ``pd.NA``; False for every other value (lists too)."""
	if value is None or value is pd.NA or value is pd.NaT:
		return True
	if isinstance(value, float | np.floating):
		return value != value
	if isinstance(value, np.datetime64 | np.timedelta64):
		return bool(np.isnat(value))
	return False


def python_value(value: Any) -> Any:
	"""``value`` as a plain Python value: None for missing, numpy scalars as int/float/bool, Timestamps as
	datetime (at midnight they stay datetimes: callers that want dates ask for them)."""
	if is_missing(value):
		return None
	if isinstance(value, pd.Timestamp):
		return value.to_pydatetime()
	if isinstance(value, np.generic):
		return value.item()
	return value


def db_row(row: Iterable[Any]) -> list[Any]:
	"""A row of values ready for the database driver (missing → None, numpy → Python)."""
	return [python_value(v) for v in row]


def numbers(values: Any) -> pd.Series:
	"""Values as a float Series; anything that is not a number becomes NaN."""
	return pd.to_numeric(pd.Series(values), errors="coerce").astype(float)


def finite_or_none(value: Any) -> float | None:
	"""A finite float, or None for a missing, non-numeric, NaN or infinite value."""
	if value is None:
		return None
	try:
		number = float(value)
	except (TypeError, ValueError):
		return None
	return None if math.isnan(number) or math.isinf(number) else number


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
	"""The rows of ``frame`` as dicts of plain Python values (see :func:`python_value`)."""
	columns = list(frame.columns)
	return [dict(zip(columns, db_row(row), strict=True)) for row in frame.itertuples(index=False, name=None)]


def text_as_object(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
	"""``frame`` with its text columns (pandas 3's ``str`` dtype, or ``object``) as ``object`` holding
	``None`` for missing values; other columns are left as they are. Returns a new frame."""
	frame = frame.copy()
	for column in frame.columns if columns is None else columns:
		values = frame[column]
		if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
			values = values.astype(object)
			frame[column] = values.where(values.notna(), None)
	return frame


def from_rows(
	rows: Iterable[Sequence[Any]], columns: Sequence[str], numeric: Iterable[str] = ()
) -> pd.DataFrame:
	"""A frame from database rows: ``numeric`` columns as float (NaN for NULL), text as ``object`` with
	``None`` for NULL, other values (dates, Decimals) as the driver gave them."""
	columns = list(columns)
	frame = pd.DataFrame.from_records(list(rows), columns=columns)
	numeric = set(numeric)
	for column in numeric:
		frame[column] = pd.to_numeric(frame[column]).astype(float)
	return text_as_object(frame, [c for c in columns if c not in numeric])


def empty(columns: Sequence[str]) -> pd.DataFrame:
	"""An empty frame with ``object`` columns."""
	return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def as_date(value: Any) -> dt.date | None:
	"""A date from a date, datetime, Timestamp or ISO text; None for missing."""
	value = python_value(value)
	if value is None or value == "":
		return None
	if isinstance(value, dt.datetime):
		return value.date()
	if isinstance(value, dt.date):
		return value
	return dt.date.fromisoformat(str(value)[:10])
