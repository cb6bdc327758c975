"""benchmarks/tsv_rows.py: the LOAD DATA text holds the values the importer's INSERT would send."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import tsv_rows

from postloan_performance.engine.row_rules import SPECS

STAMP, USER = "2026-12-07 10:00:00.000000", "Administrator"


def _snapshots() -> pd.DataFrame:
	spec = SPECS["PL Loan Snapshot"]
	frame = pd.DataFrame(
		{
			"name": ["L1-2026-01-31", "L2-2026-01-31"],
			"loan": ["L1", "L2"],
			"as_of_date": pd.to_datetime(["2026-01-31", None]),
			"outstanding": [1234.5, np.nan],
			"overdue_amount": [0.1 + 0.2, 7.0],
			"dpd": [3.6, np.nan],
			"bucket": ["M1", ""],
			"classification": [None, "Normal"],
		}
	)
	for column in spec.columns:
		if column not in frame.columns:
			frame[column] = None
	return frame[["name", *spec.columns]]


def test_snapshot_rows_worked_by_hand():
	spec = SPECS["PL Loan Snapshot"]
	lines = tsv_rows.render(spec, _snapshots(), STAMP, USER).splitlines()
	assert len(lines) == 2
	first = dict(zip(tsv_rows.fields(spec), lines[0].split("\t"), strict=True))
	second = dict(zip(tsv_rows.fields(spec), lines[1].split("\t"), strict=True))
	assert first["name"] == "L1-2026-01-31" and first["creation"] == STAMP and first["owner"] == USER
	assert (first["docstatus"], first["idx"]) == ("0", "0")
	assert first["as_of_date"] == "2026-01-31" and second["as_of_date"] == "\\N"
	# numbers: blank is 0, integers rounded (3.6 -> 4), decimals to 9 places (0.1 + 0.2 -> 0.3)
	assert (first["outstanding"], second["outstanding"]) == ("1234.5", "0.0")
	assert first["overdue_amount"] == "0.3"
	assert (first["dpd"], second["dpd"]) == ("4", "0")
	# text: empty and missing are NULL
	assert (first["bucket"], second["bucket"]) == ("M1", "\\N")
	assert (first["classification"], second["classification"]) == ("\\N", "Normal")
	assert len(first) == 7 + len(spec.columns)


def test_text_is_escaped_for_load_data():
	spec = SPECS["PL Loan Snapshot"]
	frame = _snapshots()
	frame.loc[0, "loan"] = "a\tb\\c\nd\re"
	line = tsv_rows.render(spec, frame.iloc[:1], STAMP, USER).rstrip("\n")
	assert "\n" not in line
	values = line.split("\t")
	assert values[tsv_rows.fields(spec).index("loan")] == "a\\tb\\\\c\\nd\\re"


def test_datetimes_keep_microseconds():
	spec = next(s for s in SPECS.values() if s.datetimes)
	column = spec.datetimes[0]
	frame = pd.DataFrame({c: [None, None] for c in ["name", *spec.columns]})
	frame["name"] = ["A", "B"]
	frame[column] = pd.to_datetime(["2026-03-04 05:06:07.089", None])
	lines = tsv_rows.render(spec, frame, STAMP, USER).splitlines()
	index = tsv_rows.fields(spec).index(column)
	assert lines[0].split("\t")[index] == "2026-03-04 05:06:07.089000"
	assert lines[1].split("\t")[index] == "\\N"


def test_markup_is_found_so_the_importer_sanitises_it():
	spec = SPECS["PL Loan Snapshot"]
	frame = _snapshots()
	assert not tsv_rows.has_markup(spec, frame)
	frame.loc[1, "bucket"] = "<b>M1</b>"
	assert tsv_rows.has_markup(spec, frame)


def test_an_empty_chunk_is_empty_text():
	spec = SPECS["PL Loan Snapshot"]
	assert tsv_rows.render(spec, _snapshots().iloc[:0], STAMP, USER) == ""
