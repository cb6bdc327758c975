"""An example row per DocType for the download templates, and dates written in the chosen order."""

from __future__ import annotations

from postloan_performance.engine.row_rules.specs import SPECS

# An example row per DocType for the templates (dates year first; the loader formats them for the date
# order chosen). Employee columns show a staff number, an e-mail or a user ID: any key is accepted.
EXAMPLES: dict[str, dict[str, str]] = {
	"PL Loan": {
		"loan_no": "LN-2026-000001",
		"customer": "C-000001",
		"product": "Consumer",
		"branch": "Head Office",
		"disbursed_on": "2026-01-15",
		"principal": "100,000.00",
		"maturity_date": "2029-01-15",
		"collateral_value": "150,000.00",
		"status": "Active",
	},
	"PL Loan Snapshot": {
		"loan": "LN-2026-000001",
		"as_of_date": "2026-03-31",
		"outstanding": "95,000.00",
		"overdue_amount": "1,200.00",
		"dpd": "12",
	},
	"PL Collection Case": {
		"case_no": "CS-2026-000001",
		"loan": "LN-2026-000001",
		"collector": "E0001",
		"status": "Open",
		"opened_on": "2026-03-05",
		"entry_bucket": "M1",
		"entry_overdue_amount": "1,200.00",
	},
	"PL Collection Action": {
		"reference": "ACT-000001",
		"collection_case": "CS-2026-000001",
		"collector": "collector@lender.example",
		"action_type": "Call",
		"action_on": "2026-03-06 10:30:00",
		"contact_result": "Right Party",
		"outcome": "Promised to pay",
		"ptp_amount": "1,200.00",
		"ptp_date": "2026-03-15",
	},
	"PL Recovery": {
		"reference": "RCV-000001",
		"loan": "LN-2026-000001",
		"collection_case": "CS-2026-000001",
		"collector": "E0001",
		"amount": "1,200.00",
		"received_on": "2026-03-14",
	},
	"PL Risk Alert": {
		"reference": "ALR-000001",
		"loan": "LN-2026-000001",
		"rule": "First overdue",
		"severity": "Medium",
		"raised_on": "2026-03-02",
		"officer": "E0002",
		"outcome": "Pending",
	},
	"PL Risk Event": {
		"reference": "EVT-000001",
		"loan": "LN-2026-000001",
		"event_type": "Job loss",
		"handler": "E0002",
		"reported_on": "2026-03-03 09:00:00",
		"resolved_on": "2026-03-04 17:00:00",
	},
	"PL Risk Assessment": {
		"reference": "RA-000001",
		"loan": "LN-2026-000001",
		"author": "E0002",
		"report_date": "2026-03-10",
		"quality_rating": "4",
		"reviewer": "E0003",
	},
	"PL Service Ticket": {
		"reference": "TK-000001",
		"customer": "C-000001",
		"loan": "LN-2026-000001",
		"channel": "Phone",
		"agent": "E0004",
		"status": "Resolved",
		"opened_on": "2026-03-08 14:00:00",
		"first_response_on": "2026-03-08 14:05:00",
		"resolved_on": "2026-03-09 11:00:00",
	},
	"PL Customer Feedback": {
		"reference": "FB-000001",
		"customer": "C-000001",
		"employee": "E0004",
		"ticket": "TK-000001",
		"csat": "5",
		"nps": "9",
		"given_on": "2026-03-09",
	},
}


def example_row(doctype: str, date_order: str = "ymd", company: str | None = None) -> dict[str, str]:
	"""The template's example row: every column of the DocType, dates written in ``date_order``."""
	spec = SPECS[doctype]
	values = dict(EXAMPLES[doctype])
	if "company" in spec.columns and company:
		values["company"] = company
	for column in (*spec.dates, *spec.datetimes):
		if values.get(column):
			values[column] = format_date_text(values[column], date_order)
	return {column: values.get(column, "") for column in spec.columns}


def format_date_text(value: str, date_order: str) -> str:
	"""An ISO date or datetime written in ``date_order`` (31-03-2026, 03-31-2026; ymd: unchanged)."""
	day, _sep, time = value.partition(" ")
	year, month, dom = day.split("-")
	if date_order == "dmy":
		day = f"{dom}-{month}-{year}"
	elif date_order == "mdy":
		day = f"{month}-{dom}-{year}"
	return f"{day} {time}" if time else day
