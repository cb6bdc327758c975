"""Row rules of the post-loan bulk loader (engine/row_rules/): plain pandas, no Frappe."""

import datetime as dt
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import row_rules as im

TODAY = dt.date(2026, 6, 30)
LOANS = {"LN-1", "LN-2", "LN-3"}
KNOWN = {
	"PL Loan": LOANS,
	"PL Collection Case": {"CASE-1", "CASE-2"},
	"Employee": {"HR-EMP-00001", "HR-EMP-00002"},
	"PL Team": {"North"},
	"Company": {"Acme"},
	"PL Service Ticket": {"T-1"},
}
DOCTYPE_DIR = (
	Path(__file__).resolve().parents[2] / "postloan_performance" / "postloan_performance" / "doctype"
)


def frame(rows: list[dict]) -> pd.DataFrame:
	"""Rows as a file reader gives them: every cell a string, blanks as ""."""
	columns = list(dict.fromkeys(c for r in rows for c in r))
	return pd.DataFrame([{c: str(r.get(c, "")) for c in columns} for r in rows], dtype=object)


def check(doctype: str, rows: list[dict], known=KNOWN, **kwargs):
	return im.validate_frame(doctype, frame(rows), known, TODAY, **kwargs)


def codes(errors) -> set[tuple[int, str, str]]:
	return {(e["row"], e["column"], e["code"]) for e in errors}


def snapshot(**values) -> dict:
	row = {
		"loan": "LN-1",
		"as_of_date": "2026-01-31",
		"outstanding": "1000",
		"overdue_amount": "0",
		"dpd": "0",
	}
	row.update(values)
	return row


def case(**values) -> dict:
	row = {
		"case_no": "CASE-9",
		"loan": "LN-1",
		"collector": "HR-EMP-00001",
		"status": "Open",
		"opened_on": "2026-01-05",
	}
	row.update(values)
	return row


# --- a good file -------------------------------------------------------------------------------------


def test_good_snapshot_rows_are_typed_and_named():
	clean, errors = check(
		"PL Loan Snapshot", [snapshot(), snapshot(loan="LN-2", outstanding="1,234.50", dpd="45")]
	)
	assert errors == []
	assert list(clean["name"]) == ["LN-1-2026-01-31", "LN-2-2026-01-31"]
	assert clean["outstanding"].tolist() == [1000.0, 1234.5]
	assert clean["as_of_date"].tolist() == [pd.Timestamp("2026-01-31")] * 2
	assert clean["bucket"].tolist() == ["M0", "M2"]
	assert clean["classification"].tolist() == ["Normal", "Special Mention"]
	assert list(clean.columns) == ["name", *im.SPECS["PL Loan Snapshot"].columns]


def test_every_doctype_accepts_a_good_row():
	good = {
		"PL Loan": {
			"loan_no": "LN-9",
			"customer": "C",
			"company": "Acme",
			"disbursed_on": "2025-01-01",
			"principal": "1000",
			"managing_team": "North",
			"maturity_date": "2027-01-01",
		},
		"PL Loan Snapshot": snapshot(),
		"PL Collection Case": case(),
		"PL Collection Action": {
			"collection_case": "CASE-1",
			"action_type": "Call",
			"action_on": "2026-01-05 10:00:00",
			"contact_result": "Right Party",
			"ptp_amount": "500",
			"ptp_date": "2026-01-05",
		},
		"PL Recovery": {
			"loan": "LN-1",
			"collection_case": "CASE-1",
			"amount": "500",
			"received_on": "2026-01-06",
		},
		"PL Risk Alert": {
			"loan": "LN-1",
			"rule": "R1",
			"raised_on": "2026-01-01",
			"outcome_on": "2026-01-02",
		},
		"PL Risk Event": {
			"event_type": "Fraud",
			"reported_on": "2026-01-01 08:00",
			"resolved_on": "2026-01-01 09:00",
		},
		"PL Risk Assessment": {"author": "HR-EMP-00001", "report_date": "2026-01-01", "quality_rating": "4"},
		"PL Service Ticket": {
			"customer": "C",
			"opened_on": "2026-01-01 08:00",
			"first_response_on": "2026-01-01 08:05",
			"resolved_on": "2026-01-02 08:00",
		},
		"PL Customer Feedback": {
			"customer": "C",
			"employee": "HR-EMP-00002",
			"csat": "5",
			"nps": "0",
			"given_on": "2026-01-01",
		},
	}
	assert set(good) == set(im.DOCTYPES)
	for doctype, row in good.items():
		clean, errors = check(doctype, [row])
		assert errors == [], (doctype, errors)
		assert len(clean) == 1 and isinstance(clean["name"].iloc[0], str)


# --- header ------------------------------------------------------------------------------------------


def test_unknown_missing_and_repeated_columns_are_reported_on_row_1():
	df = pd.DataFrame({"loan": ["LN-1"], "Loan": ["LN-1"], "colour": ["red"]}, dtype=object)
	clean, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY)
	assert codes(errors) == {
		(1, "loan", "duplicate_column"),
		(1, "colour", "unknown_column"),
		(1, "as_of_date", "missing_column"),
	}
	assert (
		len(clean) == 1
	)  # the rows are still checked (one pass); the missing column is not "required" per row


def test_labels_are_accepted_as_headers_through_aliases():
	df = pd.DataFrame({"Loan": ["LN-1"], "As Of Date": ["2026-01-31"], "Days Past Due": ["3"]}, dtype=object)
	aliases = {"Loan": "loan", "As Of Date": "as_of_date", "Days Past Due": "dpd"}
	clean, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY, aliases=aliases)
	assert errors == []
	assert clean["dpd"].iloc[0] == 3


def test_values_under_an_empty_header_are_refused():
	df = pd.DataFrame({"loan": ["LN-1", "LN-2"], "as_of_date": ["2026-01-31"] * 2, "Unnamed: 2": ["", "x"]})
	_, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY)
	assert codes(errors) == {(3, "", "unknown_column")}


# --- row numbers -------------------------------------------------------------------------------------


def test_row_numbers_are_the_sheet_rows_and_blank_rows_keep_their_place():
	rows = [snapshot(), {k: "" for k in snapshot()}, snapshot(loan="LN-2", outstanding="-1")]
	clean, errors = check("PL Loan Snapshot", rows)
	assert codes(errors) == {(4, "outstanding", "negative")}
	assert len(clean) == 2  # the blank row is dropped, not an error


def test_first_row_can_be_moved():
	_, errors = check("PL Loan Snapshot", [snapshot(outstanding="x")], first_row=10)
	assert errors[0]["row"] == 10


def test_errors_are_sorted_by_row_then_column_order():
	rows = [snapshot(dpd="x", loan="nope"), snapshot(as_of_date="bad", loan="LN-2")]
	_, errors = check("PL Loan Snapshot", rows)
	assert [(e["row"], e["column"]) for e in errors] == [(2, "loan"), (2, "dpd"), (3, "as_of_date")]


# --- single-column rules -----------------------------------------------------------------------------


def test_required():
	_, errors = check("PL Loan Snapshot", [snapshot(loan="  ")])
	assert codes(errors) == {(2, "loan", "required")}


@pytest.mark.parametrize("value", ["31/01/2026", "2026-02-30", "yesterday", "2026-13-01"])
def test_not_a_date(value):
	_, errors = check("PL Loan Snapshot", [snapshot(as_of_date=value)])
	assert codes(errors) == {(2, "as_of_date", "not_a_date")}
	assert errors[0]["value"] == value


@pytest.mark.parametrize(
	"value, expected",
	[
		("2026-01-31", "2026-01-31"),
		("2026/1/31", "2026-01-31"),
		("2026.01.31", "2026-01-31"),
		("2026年1月31日", "2026-01-31"),
		("2026-01-31 00:00:00", "2026-01-31"),  # an Excel date cell read as text
	],
)
def test_date_spellings(value, expected):
	clean, errors = check("PL Loan Snapshot", [snapshot(as_of_date=value)])
	assert errors == []
	assert clean["as_of_date"].iloc[0] == pd.Timestamp(expected)


def test_datetime_spellings_keep_the_wall_time():
	rows = [
		{"event_type": "A", "reported_on": "2026-01-05 10:30"},
		{"event_type": "B", "reported_on": "2026-01-05T10:30:00+08:00"},
		{"event_type": "C", "reported_on": "2026-01-05"},
	]
	clean, errors = check("PL Risk Event", rows)
	assert errors == []
	assert clean["reported_on"].tolist() == [
		pd.Timestamp("2026-01-05 10:30"),
		pd.Timestamp("2026-01-05 10:30"),
		pd.Timestamp("2026-01-05"),
	]


@pytest.mark.parametrize("value", ["abc", "1.2.3", "inf", "12%"])
def test_not_a_number(value):
	_, errors = check("PL Loan Snapshot", [snapshot(outstanding=value)])
	assert codes(errors) == {(2, "outstanding", "not_a_number")}


def test_not_an_integer():
	_, errors = check("PL Loan Snapshot", [snapshot(dpd="2.5")])
	assert codes(errors) == {(2, "dpd", "not_an_integer")}


def test_negative_amounts_and_dpd():
	_, errors = check("PL Loan Snapshot", [snapshot(outstanding="-1", overdue_amount="-2", dpd="-3")])
	assert codes(errors) == {
		(2, "outstanding", "negative"),
		(2, "overdue_amount", "negative"),
		(2, "dpd", "negative"),
	}


def test_principal_and_recovery_amount_must_be_positive():
	_, errors = check("PL Recovery", [{"loan": "LN-1", "amount": "0", "received_on": "2026-01-01"}])
	assert codes(errors) == {(2, "amount", "not_positive")}
	_, errors = check("PL Recovery", [{"loan": "LN-1", "amount": "-10", "received_on": "2026-01-01"}])
	assert codes(errors) == {(2, "amount", "negative")}


@pytest.mark.parametrize(
	"doctype, column, base, bad, good",
	[
		("PL Customer Feedback", "csat", {"given_on": "2026-01-01"}, ["0", "6"], ["1", "5"]),
		("PL Customer Feedback", "nps", {"given_on": "2026-01-01"}, ["-1", "11"], ["0", "10"]),
		(
			"PL Risk Assessment",
			"quality_rating",
			{"author": "HR-EMP-00001", "report_date": "2026-01-01"},
			["0", "6"],
			["1", "5"],
		),
	],
)
def test_rating_ranges(doctype, column, base, bad, good):
	rows = [{**base, "customer": f"c{i}", column: v} for i, v in enumerate(bad + good)]
	if doctype == "PL Risk Assessment":
		rows = [{**base, "reference": f"R{i}", column: v} for i, v in enumerate(bad + good)]
	_, errors = check(doctype, rows)
	assert codes(errors) == {(2, column, "out_of_range"), (3, column, "out_of_range")}
	assert errors[0]["detail"] == {
		"min": im.SPECS[doctype].numbers[column].min,
		"max": im.SPECS[doctype].numbers[column].max,
	}


def test_future_dates_and_datetimes():
	_, errors = check(
		"PL Loan Snapshot", [snapshot(as_of_date="2026-07-01"), snapshot(as_of_date="2026-06-30")]
	)
	assert codes(errors) == {(2, "as_of_date", "future_date")}
	rows = [
		{"event_type": "A", "reported_on": "2026-06-30 23:59"},  # today: fine
		{"event_type": "B", "reported_on": "2026-07-01 00:00"},
	]
	_, errors = check("PL Risk Event", rows)
	assert codes(errors) == {(3, "reported_on", "future_date")}


def test_maturity_and_promise_dates_may_be_in_the_future():
	rows = [
		{
			"collection_case": "CASE-1",
			"action_type": "Call",
			"action_on": "2026-06-01 09:00",
			"ptp_amount": "100",
			"ptp_date": "2026-08-01",
		}
	]
	_, errors = check("PL Collection Action", rows)
	assert errors == []


def test_unknown_links_and_case_insensitive_match():
	rows = [case(loan="LN-404"), case(case_no="CASE-10", loan="ln-2", collector="HR-EMP-99999")]
	clean, errors = check("PL Collection Case", rows)
	assert codes(errors) == {(2, "loan", "unknown_link"), (3, "collector", "unknown_link")}
	assert errors[0]["detail"] == {"doctype": "PL Loan"}
	assert clean["loan"].iloc[1] == "LN-2"  # stored as the linked record's name


def test_unknown_links_with_nothing_known_and_skipped_without_known_links():
	_, errors = check("PL Loan Snapshot", [snapshot()], known={})
	assert codes(errors) == {(2, "loan", "unknown_link")}
	_, errors = check("PL Loan Snapshot", [snapshot()], known=None)
	assert errors == []


def test_invalid_option_and_canonical_spelling():
	clean, errors = check(
		"PL Collection Case",
		[case(status="paid off", closed_on="2026-02-01"), case(case_no="C-2", status="Closed")],
	)
	assert codes(errors) == {(3, "status", "invalid_option")}
	assert clean["status"].iloc[0] == "Paid Off"
	assert "Written Off" in errors[0]["detail"]["options"]


def test_defaults_fill_blank_cells():
	clean, errors = check("PL Collection Case", [case(status="")], defaults={"status": "Open"})
	assert errors == []
	assert clean["status"].iloc[0] == "Open"


def test_too_long_and_invalid_characters():
	_, errors = check(
		"PL Loan",
		[
			{
				"loan_no": "LN<1>",
				"customer": "x" * 141,
				"company": "Acme",
				"disbursed_on": "2025-01-01",
				"principal": "1",
			}
		],
	)
	assert codes(errors) == {(2, "customer", "too_long"), (2, "loan_no", "invalid_characters")}


# --- cross-field rules -------------------------------------------------------------------------------


def test_closed_on_not_before_opened_on():
	_, errors = check(
		"PL Collection Case", [case(closed_on="2026-01-04"), case(case_no="C-2", closed_on="2026-01-05")]
	)
	assert codes(errors) == {(2, "closed_on", "date_order")}
	assert errors[0]["detail"] == {"other": "opened_on"}


def test_ticket_response_and_resolution_not_before_opening():
	rows = [
		{"reference": "T1", "opened_on": "2026-01-05 10:00", "first_response_on": "2026-01-05 09:59"},
		{"reference": "T2", "opened_on": "2026-01-05 10:00", "resolved_on": "2026-01-04 10:00"},
		{"reference": "T3", "opened_on": "2026-01-05 10:00", "first_response_on": "2026-01-05 10:00"},
	]
	_, errors = check("PL Service Ticket", rows)
	assert codes(errors) == {(2, "first_response_on", "date_order"), (3, "resolved_on", "date_order")}


def test_event_resolution_alert_outcome_and_loan_maturity_order():
	_, errors = check(
		"PL Risk Event",
		[{"event_type": "A", "reported_on": "2026-01-05 10:00", "resolved_on": "2026-01-05 09:00"}],
	)
	assert codes(errors) == {(2, "resolved_on", "date_order")}
	_, errors = check(
		"PL Risk Alert", [{"loan": "LN-1", "raised_on": "2026-01-05", "outcome_on": "2026-01-04"}]
	)
	assert codes(errors) == {(2, "outcome_on", "date_order")}
	loan = {
		"loan_no": "L",
		"customer": "c",
		"company": "Acme",
		"principal": "1",
		"disbursed_on": "2025-01-05",
	}
	_, errors = check("PL Loan", [{**loan, "maturity_date": "2025-01-04"}])
	assert codes(errors) == {(2, "maturity_date", "date_order")}


def test_overdue_amount_cannot_exceed_outstanding():
	rows = [
		snapshot(overdue_amount="1001"),
		snapshot(loan="LN-2", overdue_amount="1000"),
		snapshot(loan="LN-3", outstanding="", overdue_amount="5"),
	]
	_, errors = check("PL Loan Snapshot", rows)
	assert codes(errors) == {(2, "overdue_amount", "exceeds"), (4, "overdue_amount", "exceeds")}


def test_promise_amount_requires_promise_date_on_or_after_the_action():
	base = {"collection_case": "CASE-1", "action_type": "Call", "action_on": "2026-01-05 15:00"}
	rows = [
		{**base, "ptp_amount": "100"},
		{**base, "action_type": "SMS", "ptp_amount": "100", "ptp_date": "2026-01-04"},
		{**base, "action_type": "Visit", "ptp_amount": "100", "ptp_date": "2026-01-05"},  # same day: fine
		{**base, "action_type": "Letter", "ptp_amount": "0"},
	]
	_, errors = check("PL Collection Action", rows)
	assert codes(errors) == {(2, "ptp_date", "required_if"), (3, "ptp_date", "date_order")}
	assert errors[0]["detail"] == {"other": "ptp_amount", "value": "100"}


def test_closed_case_statuses_need_closed_on():
	rows = [
		case(status="Cured"),
		case(case_no="C-2", status="Paid Off", closed_on="2026-02-01"),
		case(case_no="C-3", status="Legal"),
	]
	_, errors = check("PL Collection Case", rows)
	assert codes(errors) == {(2, "closed_on", "required_if")}


def test_feedback_needs_csat_or_nps():
	rows = [
		{"customer": "a", "given_on": "2026-01-01"},
		{"customer": "b", "given_on": "2026-01-01", "nps": "0"},
	]
	_, errors = check("PL Customer Feedback", rows)
	assert codes(errors) == {(2, "csat", "required_one_of")}


# --- duplicates --------------------------------------------------------------------------------------


def test_duplicates_in_file_point_at_the_first_row():
	rows = [snapshot(), snapshot(loan="LN-2"), snapshot(loan="ln-1", outstanding="5"), snapshot()]
	_, errors = check("PL Loan Snapshot", rows)
	assert codes(errors) == {(4, "loan", "duplicate_in_file"), (5, "loan", "duplicate_in_file")}
	assert [e["detail"] for e in errors] == [{"first_row": 2}, {"first_row": 2}]
	assert errors[1]["value"] == "LN-1 / 2026-01-31"


def test_duplicate_references_and_natural_keys():
	rows = [
		{"reference": "R-1", "loan": "LN-1", "amount": "10", "received_on": "2026-01-01"},
		{"reference": "r-1", "loan": "LN-2", "amount": "20", "received_on": "2026-01-02"},
		{"loan": "LN-1", "amount": "10", "received_on": "2026-01-01"},  # no reference: keyed by values
		{"loan": "LN-1", "amount": "10.00", "received_on": "2026/1/1"},  # the same key, spelled differently
	]
	_, errors = check("PL Recovery", rows)
	assert codes(errors) == {(3, "reference", "duplicate_in_file"), (5, "loan", "duplicate_in_file")}
	assert errors[1]["detail"] == {"first_row": 4}


def test_loan_numbers_duplicate_case_insensitively():
	row = {"customer": "c", "company": "Acme", "disbursed_on": "2025-01-01", "principal": "1"}
	_, errors = check("PL Loan", [{**row, "loan_no": "LN-7"}, {**row, "loan_no": "ln-7"}])
	assert codes(errors) == {(3, "loan_no", "duplicate_in_file")}


# --- derived values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"dpd, bucket, classification",
	[
		(0, "M0", "Normal"),
		(1, "M1", "Special Mention"),
		(30, "M1", "Special Mention"),
		(31, "M2", "Special Mention"),
		(60, "M2", "Special Mention"),
		(61, "M3", "Special Mention"),
		(90, "M3", "Special Mention"),
		(91, "M4", "Substandard"),
		(120, "M4", "Substandard"),
		(121, "M5", "Substandard"),
		(150, "M5", "Substandard"),
		(151, "M6+", "Substandard"),
		(270, "M6+", "Substandard"),
		(271, "M6+", "Doubtful"),
		(360, "M6+", "Doubtful"),
		(361, "M6+", "Loss"),
		(5000, "M6+", "Loss"),
	],
)
def test_bucket_and_classification_edges(dpd, bucket, classification):
	assert im.bucket_for_dpd([dpd]).tolist() == [bucket]
	assert im.classification_for_dpd([dpd]).tolist() == [classification]
	clean, errors = check("PL Loan Snapshot", [snapshot(dpd=str(dpd))])
	assert errors == []
	assert (clean["bucket"].iloc[0], clean["classification"].iloc[0]) == (bucket, classification)


def test_derivation_leaves_given_values_and_blank_dpd_alone():
	rows = [snapshot(dpd="45", bucket="M1", classification="Substandard"), snapshot(loan="LN-2", dpd="")]
	clean, errors = check("PL Loan Snapshot", rows)
	assert errors == []
	assert clean["bucket"].tolist() == ["M1", None]
	assert clean["classification"].tolist() == ["Substandard", None]


def test_bucket_helpers_ignore_blank_and_negative():
	assert im.bucket_for_dpd([None, -1, np.nan]).tolist() == [None, None, None]
	assert im.BUCKETS == ("M0", "M1", "M2", "M3", "M4", "M5", "M6+")
	assert im.CLASSIFICATIONS == ("Normal", "Special Mention", "Substandard", "Doubtful", "Loss")


# --- names -------------------------------------------------------------------------------------------


def test_names_by_field_and_snapshot_format():
	clean, _ = check("PL Collection Case", [case()])
	assert clean["name"].iloc[0] == "CASE-9"
	row = {
		"loan_no": "LN-8",
		"customer": "c",
		"company": "Acme",
		"disbursed_on": "2025-01-01",
		"principal": "1",
	}
	clean, _ = check("PL Loan", [row])
	assert clean["name"].iloc[0] == "LN-8"
	clean, _ = check("PL Loan Snapshot", [snapshot(as_of_date="2026/2/3")])
	assert clean["name"].iloc[0] == "LN-1-2026-02-03"


def test_reference_names_and_deterministic_hashes():
	rows = [
		{"reference": "BANK-77", "loan": "LN-1", "amount": "10", "received_on": "2026-01-01"},
		{"loan": "LN-2", "amount": "10", "received_on": "2026-01-01"},
	]
	first, _ = check("PL Recovery", rows)
	again, _ = check("PL Recovery", list(reversed(rows)))
	assert first["name"].iloc[0] == "BANK-77"
	hashed = first["name"].iloc[1]
	assert re.fullmatch(r"[0-9a-f]{16}", hashed)
	assert again["name"].iloc[0] == hashed  # the same row gives the same name wherever it is
	# the same values spelled differently give the same name; another DocType another name
	spelled, _ = check("PL Recovery", [{"loan": "ln-2", "amount": "10.00", "received_on": "2026/1/1"}])
	assert spelled["name"].iloc[0] == hashed
	key = pd.Series(["x"])
	assert im.hash_name("PL Recovery", key).iloc[0] != im.hash_name("PL Risk Alert", key).iloc[0]


# --- one record (controller path) --------------------------------------------------------------------


def test_validate_record_applies_the_same_rules_and_derives():
	record, errors = im.validate_record(
		"PL Loan Snapshot",
		{
			"loan": "LN-1",
			"as_of_date": dt.date(2026, 1, 31),
			"outstanding": 100.0,
			"overdue_amount": 0,
			"dpd": 95,
		},
		TODAY,
	)
	assert errors == []
	assert record["bucket"] == "M4" and record["classification"] == "Substandard"
	assert record["as_of_date"] == dt.date(2026, 1, 31) and record["dpd"] == 95

	_, errors = im.validate_record(
		"PL Loan Snapshot", {"loan": "LN-1", "as_of_date": "2026-01-31", "outstanding": -5}, TODAY
	)
	assert {(e["column"], e["code"]) for e in errors} == {("outstanding", "negative")}


def test_validate_record_reads_a_zero_rating_as_not_rated():
	_, errors = im.validate_record(
		"PL Customer Feedback", {"given_on": "2026-01-01", "csat": 0, "nps": 7}, TODAY
	)
	assert errors == []
	_, errors = im.validate_record(
		"PL Customer Feedback", {"given_on": "2026-01-01", "csat": 6, "nps": 7}, TODAY
	)
	assert {(e["column"], e["code"]) for e in errors} == {("csat", "out_of_range")}


# --- specs agree with the DocTypes -------------------------------------------------------------------


@pytest.mark.parametrize("doctype", im.DOCTYPES)
def test_spec_matches_doctype_json(doctype):
	folder = doctype.lower().replace(" ", "_")
	meta = json.loads((DOCTYPE_DIR / folder / f"{folder}.json").read_text(encoding="utf-8"))
	fields = [
		f for f in meta["fields"] if f["fieldtype"] not in ("Section Break", "Column Break", "Tab Break")
	]
	spec = im.SPECS[doctype]
	# fields the daily post-loan jobs write (classification, case assignment, alert details) are not read
	# from files
	assert set(spec.managed) <= {f["fieldname"] for f in fields}
	fields = [f for f in fields if f["fieldname"] not in spec.managed]
	assert spec.columns == tuple(f["fieldname"] for f in fields)
	assert set(spec.required) == {f["fieldname"] for f in fields if f.get("reqd")}
	by_type = {
		t: {f["fieldname"] for f in fields if f["fieldtype"] == t}
		for t in ("Date", "Datetime", "Link", "Select")
	}
	assert set(spec.dates) == by_type["Date"]
	assert set(spec.datetimes) == by_type["Datetime"]
	assert spec.links == {f["fieldname"]: f["options"] for f in fields if f["fieldtype"] == "Link"}
	for f in fields:
		if f["fieldtype"] == "Select" and f["fieldname"] not in spec.numbers:  # nps: a 0-10 Select
			assert spec.options[f["fieldname"]] == tuple(o for o in f["options"].split("\n") if o)
		if f["fieldtype"] in ("Int", "Currency", "Float"):
			assert f["fieldname"] in spec.numbers
			assert spec.numbers[f["fieldname"]].integer == (f["fieldtype"] == "Int")


# --- scale -------------------------------------------------------------------------------------------


def test_200k_rows_are_checked_column_wise():
	n = 200_000
	loans = np.array([f"LN-{i:05d}" for i in range(5_000)], dtype=object)
	days = pd.date_range("2025-01-01", periods=n // 5_000).strftime("%Y-%m-%d").to_numpy(dtype=object)
	df = pd.DataFrame(
		{
			"loan": np.tile(loans, n // 5_000),
			"as_of_date": np.repeat(days, 5_000),
			"outstanding": "1000.5",
			"overdue_amount": "10",
			"dpd": (np.arange(n) % 400).astype(str).astype(object),
		}
	)
	df.loc[123_456, "dpd"] = "-7"
	started = time.monotonic()
	clean, errors = im.validate_frame("PL Loan Snapshot", df, {"PL Loan": set(loans)}, TODAY)
	elapsed = time.monotonic() - started
	assert [(e["row"], e["column"], e["code"]) for e in errors] == [(123_458, "dpd", "negative")]
	assert len(clean) == n and clean["name"].is_unique
	assert elapsed < 30


# --- headers as lenders write them ---------------------------------------------------------------------


@pytest.mark.parametrize(
	"header", ["as_of_date", "AS-OF-DATE", " As Of Date ", "as of date*", "ＡＳ ＯＦ ＤＡＴＥ"]
)
def test_headers_match_case_width_and_space_insensitively(header):
	df = pd.DataFrame({"loan": ["LN-1"], header: ["2026-01-31"]}, dtype=object)
	clean, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY)
	assert errors == []
	assert clean["as_of_date"].iloc[0] == pd.Timestamp("2026-01-31")


def test_bilingual_template_headers_and_chinese_labels():
	aliases = {"Loan": "loan", "贷款": "loan", "As Of Date": "as_of_date", "统计日期": "as_of_date"}
	df = pd.DataFrame({"Loan / 贷款": ["LN-1"], "统计日期": ["2026-01-31"]}, dtype=object)
	clean, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY, aliases=aliases)
	assert errors == [] and clean["loan"].iloc[0] == "LN-1"
	# the parts of a bilingual header must agree
	df = pd.DataFrame({"Loan / 统计日期": ["LN-1"], "as_of_date": ["2026-01-31"]}, dtype=object)
	_, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY, aliases=aliases)
	assert (1, "Loan / 统计日期", "unknown_column") in codes(errors)


@pytest.mark.parametrize(
	"doctype, header, column",
	[
		("PL Loan", "name", "loan_no"),
		("PL Collection Case", "ID", "case_no"),
		("PL Recovery", "id", "reference"),
	],
)
def test_a_name_or_id_column_is_the_natural_key(doctype, header, column):
	row = {
		"PL Loan": {"customer": "c", "company": "Acme", "disbursed_on": "2025-01-01", "principal": "1"},
		"PL Collection Case": {"loan": "LN-1", "opened_on": "2026-01-05"},
		"PL Recovery": {"loan": "LN-1", "amount": "5", "received_on": "2026-01-05"},
	}[doctype]
	clean, errors = check(doctype, [{header: "K-1", **row}])
	assert errors == []
	assert clean[column].iloc[0] == "K-1" and clean["name"].iloc[0] == "K-1"


def test_name_column_is_unknown_where_there_is_no_single_key_or_the_key_is_given():
	_, errors = check("PL Loan Snapshot", [{**snapshot(), "id": "17"}])
	assert codes(errors) == {(1, "id", "unknown_column")}
	_, errors = check("PL Collection Case", [{**case(), "name": "x"}])
	assert codes(errors) == {(1, "name", "unknown_column")}


def test_a_linked_records_number_heads_its_link_column():
	rows = [{"loan_no": "LN-1", "as_of_date": "2026-01-31"}]
	clean, errors = check("PL Loan Snapshot", rows)
	assert errors == [] and clean["loan"].iloc[0] == "LN-1"
	rows = [{"case_no": "CASE-1", "given_on": "2026-01-31", "csat": "4"}]
	clean, errors = check("PL Customer Feedback", rows)
	assert errors == [] and clean["collection_case"].iloc[0] == "CASE-1"
	assert im.link_header_keys("PL Loan") == {}  # a loan file's loan_no is its own


# --- keys the lender has -------------------------------------------------------------------------------


def employees() -> im.LinkIndex:
	rows = []
	for name, number, email, user in [
		("HR-EMP-00001", "E001", "ada@lender.cn", "ada@lender.cn"),
		("HR-EMP-00002", "E002", "bo@lender.cn", None),
		("HR-EMP-00003", "E002", None, None),  # a repeated staff number
		("HR-EMP-00004", "HR-EMP-00001", None, None),  # a staff number that is another's ID
	]:
		rows.append((name, name, 0))
		rows += [(key, name, 1) for key in (number, email, user) if key]
	return im.LinkIndex(rows)


def test_link_index_resolves_by_name_first_then_any_key():
	values = pd.Series(
		["HR-EMP-00002", "e001", "ADA@lender.cn", "bo@lender.cn", "E002", "HR-EMP-00001", "x", ""]
	)
	names, several = employees().resolve(values)
	assert names.tolist()[:4] == ["HR-EMP-00002", "HR-EMP-00001", "HR-EMP-00001", "HR-EMP-00002"]
	assert pd.isna(names.iloc[4]) and several.iloc[4] == ["HR-EMP-00002", "HR-EMP-00003"]
	assert names.iloc[5] == "HR-EMP-00001"  # an ID wins over another's staff number
	assert names.iloc[6:].isna().all() and several.iloc[6:].isna().all()


def test_links_by_staff_number_email_and_loan_number_give_the_same_rows_as_names():
	known = {
		"PL Loan": im.LinkIndex([("LN-1", "LN-1", 0), ("LN-0001", "LN-1", 1)]),
		"PL Collection Case": im.LinkIndex([("CASE-1", "CASE-1", 0)]),
		"Employee": employees(),
	}
	by_name = [
		{
			"reference": "R1",
			"loan": "LN-1",
			"collector": "HR-EMP-00001",
			"amount": "5",
			"received_on": "2026-01-05",
		}
	]
	by_keys = [
		{
			"reference": "R1",
			"loan": "ln-0001",
			"collector": "ada@lender.cn",
			"amount": "5",
			"received_on": "2026-01-05",
		}
	]
	a, errors_a = im.validate_frame("PL Recovery", frame(by_name), known, TODAY)
	b, errors_b = im.validate_frame("PL Recovery", frame(by_keys), known, TODAY)
	assert errors_a == errors_b == []
	pd.testing.assert_frame_equal(a, b)


def test_ambiguous_and_unknown_keys_are_listed_per_row():
	rows = [
		case(collector="E002"),
		case(case_no="CASE-10", collector="E999"),
		case(case_no="CASE-11", collector="E001"),
	]
	_, errors = check("PL Collection Case", rows, known={**KNOWN, "Employee": employees()})
	assert codes(errors) == {(2, "collector", "ambiguous_link"), (3, "collector", "unknown_link")}
	assert errors[0]["detail"] == {"doctype": "Employee", "names": ["HR-EMP-00002", "HR-EMP-00003"]}


# --- formats -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"order, value, expected",
	[
		("dmy", "31-03-2026", "2026-03-31"),
		("dmy", "1/3/2026", "2026-03-01"),
		("dmy", "31.03.2026", "2026-03-31"),
		("dmy", "2026/3/31", "2026-03-31"),  # year first reads in every order
		("mdy", "03-31-2026", "2026-03-31"),
		("mdy", "3/1/2026", "2026-03-01"),
		("ymd", "2026-03-31", "2026-03-31"),
	],
)
def test_date_orders(order, value, expected):
	clean, errors = check("PL Loan Snapshot", [snapshot(as_of_date=value)], date_order=order)
	assert errors == []
	assert clean["as_of_date"].iloc[0] == pd.Timestamp(expected)


def test_day_first_dates_need_the_day_first_order():
	_, errors = check("PL Loan Snapshot", [snapshot(as_of_date="31-03-2026")])
	assert codes(errors) == {(2, "as_of_date", "not_a_date")}
	_, errors = check("PL Loan Snapshot", [snapshot(as_of_date="03-31-2026")], date_order="dmy")
	assert errors[0]["detail"] == {"order": "dmy"}
	clean, errors = check(
		"PL Risk Event",
		[{"reported_on": "31-03-2026 14:30", "resolved_on": "31/03/2026 18:00:05"}],
		date_order="dmy",
	)
	assert errors == []
	assert clean["resolved_on"].iloc[0] == pd.Timestamp("2026-03-31 18:00:05")
	with pytest.raises(ValueError):
		check("PL Loan Snapshot", [snapshot()], date_order="ydm")


@pytest.mark.parametrize(
	"value, expected",
	[
		("1,234.50", 1234.5),
		("1,234,567", 1234567.0),
		("12 345.5", 12345.5),
		("¥1,000", 1000.0),
		("1000元", 1000.0),
	],
)
def test_amounts_with_thousands_separators(value, expected):
	clean, errors = check("PL Loan Snapshot", [snapshot(outstanding=value, overdue_amount="0")])
	assert errors == []
	assert clean["outstanding"].iloc[0] == expected


@pytest.mark.parametrize("value", ["1,5", "12,34,567", "1,234,56", "1 2"])
def test_misplaced_separators_are_not_numbers(value):
	_, errors = check("PL Loan Snapshot", [snapshot(outstanding=value)])
	assert codes(errors) == {(2, "outstanding", "not_a_number")}


# --- only what matters is required ---------------------------------------------------------------------


def test_fields_nothing_reads_are_optional():
	_, errors = check("PL Risk Event", [{"loan": "LN-1", "reported_on": "2026-01-05 10:00"}])
	assert errors == []
	row = {"loan_no": "LN-9", "company": "Acme", "disbursed_on": "2025-01-01", "principal": "1"}
	_, errors = check("PL Loan", [row])
	assert errors == []


# --- one pass, every problem ---------------------------------------------------------------------------


def test_header_and_row_problems_come_together_with_row_counts():
	rows = [
		{"loan": "LN-1", "outstanding": "5", "colour": "red"},
		{"loan": "LN-404", "outstanding": "-1", "colour": ""},
		{"loan": "", "outstanding": "", "colour": ""},  # blank: no row
		{"loan": "LN-2", "outstanding": "x", "colour": ""},
	]
	clean, errors = check("PL Loan Snapshot", rows)
	assert codes(errors) == {
		(1, "colour", "unknown_column"),
		(1, "as_of_date", "missing_column"),
		(3, "loan", "unknown_link"),
		(3, "outstanding", "negative"),
		(5, "outstanding", "not_a_number"),
	}
	assert len(clean) == 3 and im.row_count(errors) == 2


def test_problem_summary_groups_by_column_and_problem():
	rows = [snapshot(loan=f"LN-X{i}", as_of_date=f"2026-01-{i + 1:02d}") for i in range(7)]
	rows.append(snapshot(loan="LN-1", dpd="x"))
	_, errors = check("PL Loan Snapshot", [{**r, "colour": ""} for r in rows])
	summary = im.problem_summary(errors, first_rows=3)
	assert [(s["column"], s["code"], s["count"], s["rows"]) for s in summary] == [
		("colour", "unknown_column", 1, [1]),
		("loan", "unknown_link", 7, [2, 3, 4]),
		("dpd", "not_a_number", 1, [9]),
	]
	assert summary[1]["value"] == "LN-X0"


def test_rejected_rows_keep_the_file_as_read_with_row_and_reasons():
	df = pd.DataFrame(
		[
			["LN-1", "2026-01-31", "5", "a"],
			["LN-404", "2026-01-31", "-1", "b"],
			["LN-2", "2026-01-31", "x", "c"],
		],
		columns=["Loan", "as_of_date", "outstanding", "loan"],  # "loan" repeats "Loan"
		dtype=object,
	)
	_, errors = im.validate_frame("PL Loan Snapshot", df, KNOWN, TODAY)
	reasons = [f"{e['column']}:{e['code']}" for e in errors]
	out = im.rejected_rows(df, errors, reasons, row_label="Row", reason_label="Problems")
	assert out.columns.tolist() == ["Row", "Loan", "as_of_date", "outstanding", "loan", "Problems"]
	assert out["Row"].tolist() == [1, 3, 4]
	assert out["Problems"].tolist() == [
		"loan:duplicate_column",
		"loan:unknown_link; outstanding:negative",
		"outstanding:not_a_number",
	]
	assert out.iloc[1, 1:5].tolist() == ["LN-404", "2026-01-31", "-1", "b"]


# --- templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("doctype", im.DOCTYPES)
@pytest.mark.parametrize("order", im.DATE_ORDERS)
def test_template_example_rows_are_valid_rows(doctype, order):
	example = im.example_row(doctype, order, company="Acme")
	assert list(example) == list(im.SPECS[doctype].columns)
	known = {
		"PL Loan": im.LinkIndex([("LN-2026-000001", "LN-2026-000001", 0)]),
		"PL Collection Case": {"CS-2026-000001"},
		"PL Service Ticket": {"TK-000001"},
		"PL Team": set(),
		"Company": {"Acme"},
		"Employee": im.LinkIndex(
			[(f"E000{i}", f"HR-EMP-0000{i}", 1) for i in range(1, 5)]
			+ [("collector@lender.example", "HR-EMP-00001", 1)]
		),
	}
	_, errors = im.validate_frame(doctype, frame([example]), known, TODAY, date_order=order)
	assert errors == []
