"""Row rules of the post-loan data DocTypes, shared by the bulk loader and single documents.

Pure pandas/numpy (no frappe). One :class:`Spec` per DocType says which columns a file may have, which
are required, which hold dates, datetimes, numbers (with bounds), Select options or links, which
cross-field rules apply and how a row's document name is made. :func:`validate_frame` checks a whole
frame column by column (vectorised: no Python loop over the rows for any check) and returns the typed
frame plus every problem as a machine-readable error::

    {"row": 7, "column": "outstanding", "value": "-5", "code": "negative", "detail": {}}

``row`` is the row number a spreadsheet user sees (header = row 1, first data row = row 2); header
problems (unknown, missing or repeated columns) are reported on row 1. The Frappe layer
(``services/postloan_data.py``) turns codes into translated messages. Codes:

``unknown_column``, ``missing_column``, ``duplicate_column`` (row 1), ``required``, ``too_long``,
``invalid_characters`` (``<``/``>`` in a name), ``not_a_date``, ``not_a_number``, ``not_an_integer``,
``negative``, ``not_positive``, ``out_of_range``, ``future_date``, ``invalid_option``, ``unknown_link``,
``ambiguous_link`` (a value that is a key of several records), ``date_order``, ``exceeds``, ``required_if``,
``required_one_of``, ``duplicate_in_file``.

Headers match a column by field name, by label (the Frappe layer passes the English and Chinese labels as
``aliases``) or by a bilingual "label / 标签", case-, width- and space-insensitively; a ``name``/``id``
column is the natural key (loan_no, case_no, reference). Link values are the linked record's name or
another key of it (:data:`LINK_KEYS`: an employee's staff number, e-mail or user ID, a loan number, a case
number), resolved through a :class:`LinkIndex` the Frappe layer builds with one query per target.

Names are deterministic so that re-loading a file finds the rows it loaded before: a loan is named by
``loan_no``, a case by ``case_no``, a snapshot ``{loan}-{as_of_date:%Y-%m-%d}`` (the DocType's
``format:{loan}-{as_of_date}``), every other record by its ``reference`` (the id in the lender's
system) or, without one, by a 16-hex-digit SHA-1 of the DocType and the row's natural key.

Numbers: the database stores a blank number as 0 (Frappe's numeric columns are NOT NULL), so blank
amounts and dpd mean 0 in the cross-field rules; ratings (csat, quality_rating) are "not rated" when
blank, and a document saved from the desk with 0 there is read as blank (see :func:`validate_record`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine import frames
from postloan_performance.engine.delinquency import (
	BUCKET_UPPER_DPD,
	BUCKETS,
	CLASSIFICATION_UPPER_DPD,
	CLASSIFICATIONS,
	CLOSED_CASE_STATUSES,
)

__all__ = [
	"BUCKETS",
	"BUCKET_UPPER_DPD",
	"CLASSIFICATIONS",
	"CLASSIFICATION_UPPER_DPD",
	"DATE_ORDERS",
	"DOCTYPES",
	"EXAMPLES",
	"LINK_HEADER_KEYS",
	"LINK_KEYS",
	"MAX_TEXT_LENGTH",
	"NAME_HEADERS",
	"SPECS",
	"LinkIndex",
	"Number",
	"Spec",
	"bucket_for_dpd",
	"classification_for_dpd",
	"document_names",
	"example_row",
	"format_date_text",
	"hash_name",
	"link_header_keys",
	"link_values",
	"map_headers",
	"natural_key_column",
	"problem_summary",
	"rejected_rows",
	"row_count",
	"validate_frame",
	"validate_record",
]

# --- derived values ----------------------------------------------------------------------------------

# Delinquency buckets (M0 … M6+) and the default five-category classification thresholds: the app's one
# definition lives in engine/delinquency.py (M0 = 0 DPD, M1 = 1–30 … M5 = 121–150, M6+ = 151 and more;
# Normal 0, Special Mention 1–90, Substandard 91–270, Doubtful 271–360, Loss > 360).

MAX_TEXT_LENGTH = 140  # Data / Link columns are varchar(140)
NAME_HASH_LENGTH = 16
_KEY_SEPARATOR = "\x1f"


def _by_upper_bound(dpd, bounds: tuple[tuple[int, str], ...], labels: tuple[str, ...]) -> pd.Series:
	values = pd.to_numeric(pd.Series(dpd), errors="coerce")
	positions = np.searchsorted(
		np.array([b for b, _ in bounds], dtype=float), values.to_numpy(float), side="left"
	)
	found = np.array(labels, dtype=object)[np.minimum(positions, len(labels) - 1)]
	valid = (values.notna() & (values >= 0)).to_numpy()
	return pd.Series(np.where(valid, found, None), index=values.index, dtype=object)


def bucket_for_dpd(dpd) -> pd.Series:
	"""Delinquency bucket (M0 … M6+) of each dpd; None where dpd is blank or negative."""
	return _by_upper_bound(dpd, BUCKET_UPPER_DPD, BUCKETS)


def classification_for_dpd(dpd) -> pd.Series:
	"""Five-category classification of each dpd; None where dpd is blank or negative."""
	return _by_upper_bound(dpd, CLASSIFICATION_UPPER_DPD, CLASSIFICATIONS)


# --- specs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
	"""A numeric column: ``integer`` values only, ``min``/``max`` inclusive, ``positive`` means > 0.

	``zero_is_blank``: a document saved from the desk stores 0 for an empty Int field; for ratings that
	must be read as "not rated" (files still reject an explicit 0).
	"""

	integer: bool = False
	min: float | None = None
	max: float | None = None
	positive: bool = False
	zero_is_blank: bool = False


AMOUNT = Number(min=0)
POSITIVE_AMOUNT = Number(min=0, positive=True)
DAYS = Number(integer=True, min=0)


@dataclass(frozen=True)
class RequiredIf:
	"""``column`` is required when ``when`` holds one of ``values`` (or, without values, is above zero)."""

	column: str
	when: str
	values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
	doctype: str
	columns: tuple[str, ...]  # every column a file may have, in DocType field order
	naming: str  # "loan_no" / "case_no" (by that field), "snapshot", or "reference"
	key: tuple[str, ...]  # natural key: in-file duplicates and, for "reference" naming, the hash
	required: tuple[str, ...] = ()
	dates: tuple[str, ...] = ()
	datetimes: tuple[str, ...] = ()
	not_future: tuple[str, ...] = ()
	numbers: Mapping[str, Number] = field(default_factory=dict)
	options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
	links: Mapping[str, str] = field(default_factory=dict)  # column -> target DocType
	not_before: tuple[tuple[str, str], ...] = ()  # (later, earlier): later >= earlier
	not_above: tuple[tuple[str, str], ...] = ()  # (column, other): column <= other
	required_if: tuple[RequiredIf, ...] = ()
	one_of: tuple[tuple[str, ...], ...] = ()  # at least one column of each group has a value
	derived: tuple[str, ...] = ()  # columns filled from others when blank
	managed: tuple[str, ...] = ()  # DocType fields the daily post-loan jobs write; never read from files

	@property
	def text_columns(self) -> tuple[str, ...]:
		typed = set(self.dates) | set(self.datetimes) | set(self.numbers)
		return tuple(c for c in self.columns if c not in typed)


BUCKET_OPTIONS = BUCKETS
CASE_STATUSES = (
	"Open",
	"In Progress",
	"Promise to Pay",
	"Cured",
	"Paid Off",
	"Written Off",
	"Outsourced",
	"Legal",
)

SPECS: dict[str, Spec] = {
	spec.doctype: spec
	for spec in (
		Spec(
			doctype="PL Loan",
			columns=(
				"loan_no",
				"customer",
				"product",
				"branch",
				"company",
				"managing_team",
				"disbursed_on",
				"principal",
				"maturity_date",
				"collateral_value",
				"status",
				"last_appraisal_value",
				"last_appraisal_date",
			),
			naming="loan_no",
			key=("loan_no",),
			# customer is read by no metric, report or job: optional in files
			required=("loan_no", "company", "disbursed_on", "principal"),
			dates=("disbursed_on", "maturity_date", "last_appraisal_date"),
			not_future=("disbursed_on", "last_appraisal_date"),
			numbers={
				"principal": POSITIVE_AMOUNT,
				"collateral_value": AMOUNT,
				"last_appraisal_value": AMOUNT,
			},
			options={"status": ("Active", "Settled", "Written Off")},
			links={"company": "Company", "managing_team": "PL Team"},
			not_before=(("maturity_date", "disbursed_on"),),
		),
		Spec(
			doctype="PL Loan Snapshot",
			columns=(
				"loan",
				"as_of_date",
				"outstanding",
				"overdue_amount",
				"dpd",
				"bucket",
				"classification",
			),
			naming="snapshot",
			key=("loan", "as_of_date"),
			required=("loan", "as_of_date"),
			dates=("as_of_date",),
			not_future=("as_of_date",),
			numbers={"outstanding": AMOUNT, "overdue_amount": AMOUNT, "dpd": DAYS},
			options={"bucket": BUCKET_OPTIONS, "classification": CLASSIFICATIONS},
			links={"loan": "PL Loan"},
			not_above=(("overdue_amount", "outstanding"),),
			derived=("bucket", "classification"),
			managed=(
				"proposed_classification",
				"manual_classification",
				"classification_reason",
				"classified_by",
				"classified_on",
			),
		),
		Spec(
			doctype="PL Collection Case",
			columns=(
				"case_no",
				"loan",
				"collector",
				"pl_team",
				"status",
				"opened_on",
				"closed_on",
				"entry_bucket",
				"entry_overdue_amount",
			),
			naming="case_no",
			key=("case_no",),
			required=("case_no", "loan", "opened_on"),
			dates=("opened_on", "closed_on"),
			not_future=("opened_on", "closed_on"),
			numbers={"entry_overdue_amount": AMOUNT},
			options={"status": CASE_STATUSES, "entry_bucket": BUCKET_OPTIONS},
			links={"loan": "PL Loan", "collector": "Employee", "pl_team": "PL Team"},
			not_before=(("closed_on", "opened_on"),),
			required_if=(RequiredIf("closed_on", "status", CLOSED_CASE_STATUSES),),
			managed=(
				"current_bucket",
				"current_overdue_amount",
				"last_evaluated_on",
				"escalated_on",
				"escalation_count",
				"propensity_score",
				"strategy",
				"strategy_rule",
				"action_type",
				"assignment_method",
				"assigned_on",
				"assignment_note",
			),
		),
		Spec(
			doctype="PL Collection Action",
			columns=(
				"reference",
				"collection_case",
				"collector",
				"action_type",
				"action_on",
				"contact_result",
				"outcome",
				"ptp_amount",
				"ptp_date",
			),
			naming="reference",
			key=("collection_case", "action_on", "action_type"),
			required=("collection_case", "action_type", "action_on"),
			dates=("ptp_date",),
			datetimes=("action_on",),
			not_future=("action_on",),
			numbers={"ptp_amount": AMOUNT},
			options={
				"action_type": ("Call", "SMS", "Visit", "Letter", "Legal"),
				"contact_result": ("Right Party", "Third Party", "No Contact"),
			},
			links={"collection_case": "PL Collection Case", "collector": "Employee"},
			not_before=(("ptp_date", "action_on"),),
			required_if=(RequiredIf("ptp_date", "ptp_amount"),),
		),
		Spec(
			doctype="PL Recovery",
			columns=("reference", "loan", "collection_case", "collector", "amount", "received_on"),
			naming="reference",
			key=("loan", "collection_case", "received_on", "amount"),
			required=("loan", "amount", "received_on"),
			dates=("received_on",),
			not_future=("received_on",),
			numbers={"amount": POSITIVE_AMOUNT},
			links={"loan": "PL Loan", "collection_case": "PL Collection Case", "collector": "Employee"},
		),
		Spec(
			doctype="PL Risk Alert",
			columns=(
				"reference",
				"loan",
				"rule",
				"severity",
				"raised_on",
				"officer",
				"outcome",
				"outcome_on",
			),
			naming="reference",
			key=("loan", "rule", "raised_on"),
			required=("loan", "raised_on"),
			dates=("raised_on", "outcome_on"),
			not_future=("raised_on", "outcome_on"),
			options={
				"severity": ("Low", "Medium", "High", "Critical"),
				"outcome": ("Pending", "Confirmed", "False Alarm"),
			},
			links={"loan": "PL Loan", "officer": "Employee"},
			not_before=(("outcome_on", "raised_on"),),
			managed=("details", "outcome_note"),
		),
		Spec(
			doctype="PL Risk Event",
			columns=("reference", "loan", "event_type", "handler", "reported_on", "resolved_on"),
			naming="reference",
			key=("loan", "event_type", "reported_on"),
			# event_type is read by no metric, report or job: optional in files
			required=("reported_on",),
			datetimes=("reported_on", "resolved_on"),
			not_future=("reported_on", "resolved_on"),
			links={"loan": "PL Loan", "handler": "Employee"},
			not_before=(("resolved_on", "reported_on"),),
		),
		Spec(
			doctype="PL Risk Assessment",
			columns=("reference", "loan", "portfolio", "author", "report_date", "quality_rating", "reviewer"),
			naming="reference",
			key=("author", "report_date", "loan", "portfolio"),
			required=("author", "report_date"),
			dates=("report_date",),
			not_future=("report_date",),
			numbers={"quality_rating": Number(integer=True, min=1, max=5, zero_is_blank=True)},
			links={"loan": "PL Loan", "portfolio": "PL Team", "author": "Employee", "reviewer": "Employee"},
		),
		Spec(
			doctype="PL Service Ticket",
			columns=(
				"reference",
				"customer",
				"loan",
				"channel",
				"agent",
				"status",
				"opened_on",
				"first_response_on",
				"resolved_on",
			),
			naming="reference",
			key=("customer", "loan", "channel", "opened_on"),
			required=("opened_on",),
			datetimes=("opened_on", "first_response_on", "resolved_on"),
			not_future=("opened_on", "first_response_on", "resolved_on"),
			options={
				"channel": ("Phone", "App", "WeChat", "Branch", "Email"),
				"status": ("Open", "Resolved", "Closed"),
			},
			links={"loan": "PL Loan", "agent": "Employee"},
			not_before=(("first_response_on", "opened_on"), ("resolved_on", "opened_on")),
		),
		Spec(
			doctype="PL Customer Feedback",
			columns=(
				"reference",
				"customer",
				"employee",
				"collection_case",
				"ticket",
				"csat",
				"nps",
				"given_on",
			),
			naming="reference",
			key=("customer", "employee", "collection_case", "ticket", "given_on"),
			required=("given_on",),
			dates=("given_on",),
			not_future=("given_on",),
			numbers={
				"csat": Number(integer=True, min=1, max=5, zero_is_blank=True),
				"nps": Number(integer=True, min=0, max=10),
			},
			links={
				"employee": "Employee",
				"collection_case": "PL Collection Case",
				"ticket": "PL Service Ticket",
			},
			one_of=(("csat", "nps"),),
		),
	)
}
DOCTYPES: tuple[str, ...] = tuple(SPECS)


# --- keys the lender has -----------------------------------------------------------------------------

# Besides its document name, a linked record may be given by these fields (the keys the lender's own
# systems carry): a collector by staff number, company e-mail or user ID, a loan by its loan number, a
# case by its case number, a ticket by its id in the service system. A value that is some record's name
# is that record; otherwise it must match exactly one record through the other keys.
LINK_KEYS: dict[str, tuple[str, ...]] = {
	"Employee": ("employee_number", "company_email", "user_id"),
	"PL Loan": ("loan_no",),
	"PL Collection Case": ("case_no",),
	"PL Service Ticket": ("reference",),
}
# A file column named after the linked record's number (a snapshot file's "loan_no") is that link column,
# where only one column links to that DocType.
LINK_HEADER_KEYS: dict[str, str] = {"PL Loan": "loan_no", "PL Collection Case": "case_no"}
# Headers that mean "this record's own id": the natural key column, where the DocType has one.
NAME_HEADERS = ("name", "id")
DATE_ORDERS = ("ymd", "dmy", "mdy")


def natural_key_column(doctype: str) -> str | None:
	"""The column a file's ``name``/``id`` column stands for: loan_no, case_no or reference (snapshots
	have no single-column key)."""
	naming = SPECS[doctype].naming
	return naming if naming in ("loan_no", "case_no", "reference") else None


def link_header_keys(doctype: str) -> dict[str, str]:
	"""{key field of a linked DocType: link column} for the link columns that may be headed by the linked
	record's number (see :data:`LINK_HEADER_KEYS`)."""
	spec = SPECS[doctype]
	targets = list(spec.links.values())
	return {
		LINK_HEADER_KEYS[target]: column
		for column, target in spec.links.items()
		if target in LINK_HEADER_KEYS and targets.count(target) == 1 and column != LINK_HEADER_KEYS[target]
	}


class LinkIndex:
	"""The stored records of one link target, found by name or by any of its keys (case-insensitively).

	Built from candidate rows ``(key, name, rank)``: rank 0 when ``key`` is the record's name, 1 for the
	other keys (:data:`LINK_KEYS`). A value resolves to a record when its best-ranked candidates are all
	that one record; several records there make it ambiguous.
	"""

	def __init__(self, rows: Iterable):
		frame = pd.DataFrame(list(rows), columns=["key", "name", "rank"], dtype=object)
		frame = frame[frame["key"].notna() & frame["name"].notna()]
		frame["folded"] = frame["key"].astype(str).str.strip().str.lower()
		frame = frame[frame["folded"] != ""]
		frame["rank"] = frame["rank"].astype(int)
		frame = frame[frame["rank"] == frame.groupby("folded")["rank"].transform("min")]
		frame = frame.drop_duplicates(["folded", "name"])
		counts = frame["folded"].map(frame["folded"].value_counts())
		single = frame[counts == 1]
		self.unique: dict[str, str] = dict(zip(single["folded"], single["name"], strict=True))
		several = frame[counts > 1].sort_values("name")
		self.ambiguous: dict[str, list[str]] = {
			key: list(group["name"]) for key, group in several.groupby("folded", sort=False)
		}

	@classmethod
	def of_names(cls, names: Iterable[str]) -> LinkIndex:
		return cls((name, name, 0) for name in names)

	def resolve(self, text: pd.Series) -> tuple[pd.Series, pd.Series]:
		"""``(names, ambiguous)`` of stripped text values: the record's name (NaN when there is none or
		several) and, where several match, the list of their names (NaN elsewhere)."""
		distinct = pd.Series(pd.unique(text.to_numpy(object)), dtype=object)
		folded = distinct.str.lower()
		names = pd.Series(folded.map(self.unique).to_numpy(object), index=distinct.to_numpy(object))
		several = pd.Series(folded.map(self.ambiguous).to_numpy(object), index=distinct.to_numpy(object))
		return text.map(names), text.map(several)


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


# --- parsing helpers (whole columns) -----------------------------------------------------------------

_DATE_PREFIX = r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?"
_TZ_SUFFIX = r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$"


def _text(series: pd.Series) -> pd.Series:
	"""Stripped strings with "" for blanks, whatever the input dtype."""
	s = series.astype("string").str.strip()
	return s.fillna("").astype(object)


def _parse_datetimes(text: pd.Series, date_order: str = "ymd") -> pd.Series:
	"""ISO dates/datetimes (also 2026/1/5, 2026.1.5, 2026年1月5日; a timezone suffix keeps the wall time).

	``date_order`` "dmy" also reads 31-03-2026 (31/3/2026, 31.03.2026), "mdy" 03-31-2026; year-first
	values are read in every order. The fast ISO parse covers normal files; only the values it refuses
	go through the slower fallbacks.
	"""
	blank = text == ""
	with warnings.catch_warnings():
		warnings.simplefilter("ignore", FutureWarning)  # pandas 2 on mixed offsets
		try:
			parsed = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce")
		except ValueError:  # pandas 3 on mixed offsets
			parsed = None
	if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
		# mixed timezone offsets: drop them all, keeping the wall time
		text = text.str.replace(_TZ_SUFFIX, r"\1", regex=True)
		parsed = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce")
	if isinstance(parsed.dtype, pd.DatetimeTZDtype):
		parsed = parsed.dt.tz_localize(None)
	missed = parsed.isna() & ~blank
	if missed.any():
		normalized = text[missed]
		if date_order in _YEAR_LAST:
			normalized = normalized.str.replace(_YEAR_LAST_PREFIX, _YEAR_LAST[date_order], regex=True)
		normalized = normalized.str.replace(_DATE_PREFIX, r"\1-\2-\3", regex=True).str.replace(
			_TZ_SUFFIX, r"\1", regex=True
		)
		for fmt in ("ISO8601", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
			again = pd.to_datetime(normalized, format=fmt, errors="coerce")
			found = again.notna()
			if found.any():
				parsed.loc[again.index[found]] = again[found].to_numpy()
				normalized = normalized[~found]
			if normalized.empty:
				break
	return parsed


# a day or month first, the year last: 31-03-2026, 3/31/2026, 31.3.2026 (then an optional time)
_YEAR_LAST_PREFIX = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?=$|[ T])"
_YEAR_LAST = {"dmy": r"\3-\2-\1", "mdy": r"\3-\1-\2"}
# 1,234,567.89 / 1 234 567.89: separators between groups of three digits only ("1,5" is not a number)
_GROUPED_NUMBER = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?"
_CURRENCY = r"^[¥￥$]\s*|\s*元$"


def _parse_numbers(text: pd.Series) -> pd.Series:
	"""Numbers; thousands separators ("1,234.50", "1 234.50") and a leading ¥ are accepted, infinities
	are not numbers."""
	filled = text != ""
	values = pd.to_numeric(text.where(filled), errors="coerce").astype(float)
	missed = values.isna() & filled
	if missed.any():
		candidates = text[missed].str.replace(_CURRENCY, "", regex=True)
		grouped = candidates.str.fullmatch(_GROUPED_NUMBER).fillna(False).astype(bool)
		cleaned = candidates[grouped].str.replace(r"[,\s\u00a0\u202f]", "", regex=True)
		ungrouped = candidates[~grouped & ~candidates.str.contains(r"[,\s]", regex=True)]
		for part in (cleaned, ungrouped):
			if len(part):
				values[part.index] = pd.to_numeric(part, errors="coerce").astype(float)
	return values.where(np.isfinite(values.to_numpy(float)))


def _canonical(text: pd.Series, names: Iterable[str]) -> pd.Series:
	"""Map values case-insensitively onto ``names``; NaN where there is no match."""
	names = list(names)
	lookup = pd.Series(names, index=[n.lower() for n in names], dtype=object)
	lookup = lookup[~lookup.index.duplicated()]
	return text.str.lower().map(lookup)


def _normalize_header(name: Any) -> str:
	"""A header as compared: Unicode-normalised (full-width letters), case-folded, without spaces,
	underscores, hyphens or a required-column mark (``As Of Date`` = ``as_of_date`` = ``AS-OF-DATE*``)."""
	text = unicodedata.normalize("NFKC", str(name)).casefold()
	return re.sub(r"[\s_\-*]+", "", text)


def _date_text(values: pd.Series, with_time: bool) -> pd.Series:
	fmt = "%Y-%m-%d %H:%M:%S.%f" if with_time else "%Y-%m-%d"
	return values.dt.strftime(fmt).where(values.notna(), "")


def hash_name(doctype: str, key_text: pd.Series) -> pd.Series:
	"""16-hex-digit SHA-1 of the DocType and each row's joined natural key."""
	prefix = f"{doctype}{_KEY_SEPARATOR}"
	digests = [
		hashlib.sha1(f"{prefix}{k}".encode()).hexdigest()[:NAME_HASH_LENGTH] for k in key_text.tolist()
	]
	return pd.Series(digests, index=key_text.index, dtype=object)


def _key_text(spec: Spec, frame: pd.DataFrame) -> pd.Series:
	"""The natural key of each row as one canonical string (typed values, so 100 == 100.00)."""
	parts = []
	for column in spec.key:
		values = frame[column]
		if column in spec.dates or column in spec.datetimes:
			parts.append(_date_text(values, column in spec.datetimes))
		elif column in spec.numbers:
			parts.append(values.astype(str).where(values.notna(), "").astype(object))
		else:
			parts.append(values.fillna("").astype(object).str.lower())
	key = parts[0].astype(str)
	for part in parts[1:]:
		key = key.str.cat(part.astype(str), sep=_KEY_SEPARATOR)
	return key


def document_names(doctype: str, frame: pd.DataFrame) -> pd.Series:
	"""Deterministic document names of typed rows (the clean frame of :func:`validate_frame`).

	NaN where a part of the name is missing or invalid.
	"""
	spec = SPECS[doctype]
	if spec.naming in ("loan_no", "case_no"):
		return frame[spec.naming].where(frame[spec.naming].notna() & (frame[spec.naming] != ""))
	if spec.naming == "snapshot":
		ok = frame["loan"].notna() & frame["as_of_date"].notna()
		names = frame["loan"].fillna("").astype(str) + "-" + _date_text(frame["as_of_date"], False)
		return names.where(ok)
	reference = frame["reference"].fillna("").astype(object)
	has_reference = reference != ""
	names = pd.Series(np.nan, index=frame.index, dtype=object)
	names[has_reference] = reference[has_reference]
	without = ~has_reference
	if without.any():
		names[without] = hash_name(doctype, _key_text(spec, frame[without]))
	return names


# --- validation --------------------------------------------------------------------------------------


class _Errors:
	def __init__(self, rows: np.ndarray, raw: pd.DataFrame, order: Mapping[str, int]):
		self.rows = rows
		self.raw = raw
		self.order = order
		self.parts: list[pd.DataFrame] = []
		self.flagged: dict[str, np.ndarray] = {}

	def add(
		self, mask, column: str, code: str, detail: Mapping[str, Any] | None = None, details=None, values=None
	):
		mask = np.asarray(mask, dtype=bool)
		if not mask.any():
			return
		source = self.raw[column] if values is None else values
		values = np.asarray(source, dtype=object)[mask]
		self.flagged[column] = self.flagged.get(column, np.zeros(len(mask), dtype=bool)) | mask
		part = pd.DataFrame({"row": self.rows[mask], "column": column, "value": values, "code": code})
		if details is not None:
			part["detail"] = list(details)
		else:
			part["detail"] = [dict(detail or {})] * int(mask.sum())
		self.parts.append(part)

	def ok(self, *columns: str) -> np.ndarray:
		"""Rows where none of the columns has an error yet (cross-field rules skip the others)."""
		result = np.ones(len(self.rows), dtype=bool)
		for column in columns:
			if column in self.flagged:
				result &= ~self.flagged[column]
		return result

	def header(self, column: str, code: str, value: str):
		self.parts.append(
			pd.DataFrame({"row": [1], "column": [column], "value": [value], "code": [code], "detail": [{}]})
		)

	def records(self) -> list[dict]:
		if not self.parts:
			return []
		frame = pd.concat(self.parts, ignore_index=True)
		frame["_order"] = frame["column"].map(self.order).fillna(len(self.order))
		frame = frame.sort_values(["row", "_order"], kind="stable").drop(columns="_order")
		frame["row"] = frame["row"].astype(int)
		return frames.records(frame)


def link_values(
	doctype: str, df: pd.DataFrame, aliases: Mapping[str, str] | None = None
) -> dict[str, set[str]]:
	"""The distinct non-blank values of each link target in a raw frame: what to look up in the database."""
	spec = SPECS[doctype]
	mapping, _problems = _map_headers(spec, df.columns, aliases)
	found: dict[str, set[str]] = {}
	for position, column in mapping.items():
		target = spec.links.get(column)
		if target:
			values = set(_text(df.iloc[:, position]).unique()) - {""}
			found.setdefault(target, set()).update(values)
	return found


def _header_lookup(spec: Spec, aliases: Mapping[str, str] | None) -> dict[str, str]:
	"""{normalised header: fieldname}: fieldnames first, then the aliases (labels), then the linked
	records' number fields (a snapshot file's ``loan_no`` is its ``loan``)."""
	lookup = {_normalize_header(c): c for c in spec.columns}
	for alias, fieldname in (aliases or {}).items():
		if fieldname in spec.columns:
			lookup.setdefault(_normalize_header(alias), fieldname)
	for key, column in link_header_keys(spec.doctype).items():
		lookup.setdefault(_normalize_header(key), column)
	return lookup


def _header_field(header: Any, lookup: Mapping[str, str]) -> str | None:
	"""The fieldname of a header; a bilingual header ("Loan No / 贷款编号") when all its parts agree."""
	fieldname = lookup.get(_normalize_header(header))
	if fieldname is None and re.search(r"[/|]", str(header)):
		parts = [_normalize_header(p) for p in re.split(r"[/|]", str(header))]
		found = {lookup.get(p) for p in parts if p}
		if len(found) == 1:
			fieldname = found.pop()
	return fieldname


def _is_blank_header(header: Any) -> bool:
	return str(header).strip() == "" or str(header).startswith("Unnamed:")


def _map_headers(spec: Spec, headers, aliases: Mapping[str, str] | None):
	"""({column position: fieldname}, [(code, fieldname or header, header)]) for a file's headers.

	A ``name``/``id`` header stands for the natural key column (:func:`natural_key_column`) when no other
	header does. Headers without a name (a trailing separator) are left to the row checks.
	"""
	lookup = _header_lookup(spec, aliases)
	headers = list(headers)
	fields = [_header_field(h, lookup) for h in headers]
	natural = natural_key_column(spec.doctype)
	if natural and natural not in fields:
		for position, header in enumerate(headers):
			if fields[position] is None and _normalize_header(header) in NAME_HEADERS:
				fields[position] = natural
				break
	mapping: dict[int, str] = {}
	problems: list[tuple[str, str, str]] = []
	seen: set[str] = set()
	for position, (header, fieldname) in enumerate(zip(headers, fields, strict=True)):
		if fieldname is None:
			if not _is_blank_header(header):
				problems.append(("unknown_column", str(header), str(header)))
		elif fieldname in seen:
			problems.append(("duplicate_column", fieldname, str(header)))
		else:
			seen.add(fieldname)
			mapping[position] = fieldname
	for column in spec.required:
		if column not in seen:
			problems.append(("missing_column", column, column))
	return mapping, problems


def map_headers(doctype: str, headers, aliases: Mapping[str, str] | None = None) -> dict[int, str]:
	"""{column position: fieldname} of the headers that name a column of ``doctype``."""
	return _map_headers(SPECS[doctype], headers, aliases)[0]


def validate_frame(
	doctype: str,
	df: pd.DataFrame,
	known_links: Mapping[str, Iterable[str] | LinkIndex] | None,
	today: dt.date | None = None,
	*,
	aliases: Mapping[str, str] | None = None,
	defaults: Mapping[str, str] | None = None,
	first_row: int = 2,
	date_order: str = "ymd",
) -> tuple[pd.DataFrame, list[dict]]:
	"""Check every row of a raw frame (strings, as read from a file) against ``doctype``'s rules.

	``known_links`` maps a link target DocType to a :class:`LinkIndex` of its records or to the names that
	exist (``None``: skip link checks, e.g. for a document Frappe already link-checks); link values are
	matched case-insensitively, by name or by the target's other keys, and replaced by the stored name.
	``aliases`` maps extra headers (e.g. field labels) to fieldnames; ``defaults`` fills blank cells (a
	Select field's default). ``first_row`` is the sheet row of ``df``'s first row. ``date_order`` ("ymd",
	"dmy", "mdy") says how dates whose year comes last are read.

	Headers and rows are checked in one pass: with header problems (row 1) the rows are still checked,
	except that a missing required column is reported once, not on every row, and values under an
	unknown header are not checked.

	Returns ``(clean, errors)``: ``clean`` has a ``name`` column and every spec column typed (dates and
	datetimes as ``datetime64``, numbers as float, text as object with None for blank), indexed by
	position in ``df``; wholly blank rows are dropped (``len(clean)`` is the file's row count).
	``errors`` is sorted by row and column.
	"""
	if doctype not in SPECS:
		raise KeyError(doctype)
	if date_order not in DATE_ORDERS:
		raise ValueError(f"date_order must be one of {DATE_ORDERS}, not {date_order!r}")
	spec = SPECS[doctype]
	today = today or dt.date.today()
	order = {c: i for i, c in enumerate(spec.columns)}
	df = df.reset_index(drop=True)
	rows_all = first_row + np.arange(len(df))

	mapping, problems = _map_headers(spec, df.columns, aliases)
	errors = _Errors(rows_all[:0], pd.DataFrame(), order)
	for code, column, value in problems:
		errors.header(column, code, value)
	missing = {column for code, column, _value in problems if code == "missing_column"}

	raw = pd.DataFrame(
		{fieldname: _text(df.iloc[:, position]) for position, fieldname in mapping.items()}, index=df.index
	)
	for column in spec.columns:
		if column not in raw:
			raw[column] = ""
	raw = raw[list(spec.columns)]
	# columns without a header (e.g. a trailing separator): values there are refused, not dropped; values
	# under an unknown or repeated header make a row count, the header problem says the rest
	others = {
		position: _text(df.iloc[:, position]) for position in range(df.shape[1]) if position not in mapping
	}
	unnamed = [values for position, values in others.items() if _is_blank_header(df.columns[position])]
	keep = (raw != "").any(axis=1)
	for values in others.values():
		keep |= values != ""
	keep = keep.to_numpy()
	raw = raw[keep]
	rows = rows_all[keep]
	errors.rows, errors.raw = rows, raw
	for values in unnamed:
		values = values[keep]
		errors.add(values != "", "", "unknown_column", values=values)

	text = raw.copy()
	for column, default in (defaults or {}).items():
		if column in text and default not in (None, ""):
			text.loc[text[column] == "", column] = str(default)
	blank = text == ""
	clean = pd.DataFrame(index=raw.index)

	for column in spec.required:
		if column not in missing:  # a missing column is reported once, on the header
			errors.add(blank[column], column, "required")

	for column in spec.text_columns:
		too_long = text[column].str.len() > MAX_TEXT_LENGTH
		errors.add(too_long, column, "too_long", {"max": MAX_TEXT_LENGTH})

	# dates and datetimes
	today_ts = pd.Timestamp(today)
	for column in (*spec.dates, *spec.datetimes):
		parsed = _parse_datetimes(text[column], date_order)
		bad = parsed.isna() & ~blank[column]
		errors.add(bad, column, "not_a_date", {"order": date_order} if date_order != "ymd" else None)
		if column in spec.dates:
			parsed = parsed.dt.normalize()
		if column in spec.not_future:
			errors.add(parsed.dt.normalize() > today_ts, column, "future_date", {"today": today.isoformat()})
		clean[column] = parsed

	# numbers
	for column, rule in spec.numbers.items():
		values = _parse_numbers(text[column])
		bad = values.isna() & ~blank[column]
		errors.add(bad, column, "not_a_number")
		if rule.integer:
			errors.add(values.notna() & (values % 1 != 0), column, "not_an_integer")
		bounds = {"min": rule.min, "max": rule.max}
		if rule.min is not None and rule.min == 0 and rule.max is None:
			errors.add(values < 0, column, "negative")
		elif rule.min is not None or rule.max is not None:
			low = values < rule.min if rule.min is not None else False
			high = values > rule.max if rule.max is not None else False
			errors.add(low | high, column, "out_of_range", bounds)
		if rule.positive:
			errors.add(values == 0, column, "not_positive")
		clean[column] = values

	# Select options (case-insensitive; stored as the option's spelling)
	for column, options in spec.options.items():
		canonical = _canonical(text[column], options)
		errors.add(canonical.isna() & ~blank[column], column, "invalid_option", {"options": list(options)})
		text[column] = canonical.where(canonical.notna(), text[column])

	# links (case-insensitive; stored as the linked record's name)
	if known_links is not None:
		for column, target in spec.links.items():
			index = known_links.get(target) or ()
			if not isinstance(index, LinkIndex):
				index = LinkIndex.of_names(index)
			canonical, several = index.resolve(text[column])
			ambiguous = several.notna().to_numpy()
			errors.add(
				ambiguous,
				column,
				"ambiguous_link",
				details=[{"doctype": target, "names": list(n)} for n in several[ambiguous]],
			)
			errors.add(
				canonical.isna() & ~blank[column] & ~ambiguous, column, "unknown_link", {"doctype": target}
			)
			text[column] = canonical.where(canonical.notna(), text[column])

	for column in spec.text_columns:
		values = text[column].to_numpy(object)
		clean[column] = pd.Series(np.where(values != "", values, None), index=text.index, dtype=object)
	clean = clean[list(spec.columns)].copy()

	# cross-field rules
	for later, earlier in spec.not_before:
		a, b = clean[later], clean[earlier]
		if (later in spec.dates) != (earlier in spec.dates):
			a, b = a.dt.normalize(), b.dt.normalize()
		errors.add((a < b) & errors.ok(later, earlier), later, "date_order", {"other": earlier})
	for column, other in spec.not_above:
		exceeds = (clean[column] > clean[other].fillna(0)) & errors.ok(column, other)
		errors.add(exceeds, column, "exceeds", {"other": other})
	for rule in spec.required_if:
		if rule.values:
			condition = clean[rule.when].isin(rule.values)
		else:
			condition = clean[rule.when].fillna(0) > 0
		details = [{"other": rule.when, "value": v} for v in raw[rule.when][condition & blank[rule.column]]]
		errors.add(condition & blank[rule.column], rule.column, "required_if", details=details)
	for group in spec.one_of:
		none = blank[list(group)].all(axis=1)
		errors.add(none, group[0], "required_one_of", {"columns": list(group)})

	# derived values
	if spec.doctype == "PL Loan Snapshot":
		dpd_ok = clean["dpd"].notna() & (clean["dpd"] >= 0) & (clean["dpd"] % 1 == 0)
		for column, derive in (("bucket", bucket_for_dpd), ("classification", classification_for_dpd)):
			fill = clean[column].isna() & dpd_ok
			clean.loc[fill, column] = derive(clean.loc[fill, "dpd"])

	# names and duplicates
	names = document_names(doctype, clean)
	if spec.naming in ("loan_no", "case_no"):
		errors.add(names.str.contains("[<>]", regex=True, na=False), spec.naming, "invalid_characters")
	elif spec.naming == "reference":
		errors.add(
			clean["reference"].str.contains("[<>]", regex=True, na=False), "reference", "invalid_characters"
		)
	if spec.naming == "snapshot":
		errors.add(names.str.len() > MAX_TEXT_LENGTH, "loan", "too_long", {"max": MAX_TEXT_LENGTH})
	clean.insert(0, "name", names)

	folded = names.str.lower()
	duplicated = folded.notna() & folded.duplicated(keep="first")
	if duplicated.any():
		# reported on the first key column, with the whole key as the value and the row it repeats
		first = pd.Series(rows, index=names.index).groupby(folded).transform("min")
		shown = raw[spec.key[0]].astype(object)
		for column in spec.key[1:]:
			shown = shown.str.cat(raw[column].astype(object), sep=" / ")
		mask = duplicated.to_numpy()
		if spec.naming == "reference":
			with_ref = (duplicated & clean["reference"].notna()).to_numpy()
			errors.add(with_ref, "reference", "duplicate_in_file", details=_first_rows(first[with_ref]))
			mask = mask & ~with_ref
		errors.add(mask, spec.key[0], "duplicate_in_file", details=_first_rows(first[mask]), values=shown)

	return clean, errors.records()


def row_count(errors: list[dict]) -> int:
	"""Data rows with at least one problem (header problems are on row 1, no data row)."""
	return len({e["row"] for e in errors if e["row"] != 1})


def problem_summary(errors: list[dict], first_rows: int = 5) -> list[dict]:
	"""One entry per column and problem: ``{"column", "code", "count", "rows", "value", "detail"}`` with
	the first ``first_rows`` row numbers and the first value, header problems first, then by count."""
	if not errors:
		return []
	frame = pd.DataFrame(
		{
			"column": [e["column"] for e in errors],
			"code": [e["code"] for e in errors],
			"row": [e["row"] for e in errors],
			"position": np.arange(len(errors)),
		}
	)
	summary = []
	for (column, code), group in frame.groupby(["column", "code"], sort=False):
		first = errors[int(group["position"].iloc[0])]
		summary.append(
			{
				"column": column,
				"code": code,
				"count": len(group),
				"rows": group["row"].head(first_rows).astype(int).tolist(),
				"value": first.get("value"),
				"detail": first.get("detail") or {},
			}
		)
	summary.sort(key=lambda s: (s["rows"][0] != 1, -s["count"], s["rows"][0]))
	return summary


def rejected_rows(
	df: pd.DataFrame,
	errors: list[dict],
	reasons: list[str],
	*,
	first_row: int = 2,
	row_label: str = "Row",
	reason_label: str = "Problems",
) -> pd.DataFrame:
	"""The rows of a raw frame that have problems, as read (every column), with the sheet row first and
	the problems last (``reasons``: one text per error, joined with "; "). Header problems come first, on a
	line of their own (row 1). Fix the values, delete the two added columns and load the file again."""
	by_row: dict[int, list[str]] = {}
	for error, reason in zip(errors, reasons, strict=True):
		by_row.setdefault(int(error["row"]), []).append(reason)
	headers = [str(h) for h in df.columns]
	positions = [r - first_row for r in sorted(by_row) if r >= first_row and 0 <= r - first_row < len(df)]
	body = df.iloc[positions].astype(object)
	body.columns = range(len(headers))
	out = (
		pd.DataFrame(body.to_numpy(object), columns=headers)
		if len(positions)
		else pd.DataFrame(columns=headers, dtype=object)
	)
	out.insert(0, row_label, [p + first_row for p in positions])
	out[reason_label] = ["; ".join(by_row[p + first_row]) for p in positions]
	if 1 in by_row:
		header_line = [[1, *([""] * len(headers)), "; ".join(by_row[1])]]
		out = pd.concat([pd.DataFrame(header_line, columns=out.columns), out], ignore_index=True)
	return out


def _first_rows(first: pd.Series) -> list[dict]:
	return [{"first_row": int(r)} for r in first.tolist()]


def _is_zero(value: Any) -> bool:
	try:
		return value not in (None, "") and float(value) == 0
	except (TypeError, ValueError):
		return False


def validate_record(
	doctype: str, values: Mapping[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], list[dict]]:
	"""The same rules for one record (a document's field values); links are not checked here.

	Returns ``(clean, errors)`` where ``clean`` holds the typed values (python dates/datetimes, floats,
	strings or None) including derived ones; errors carry ``row`` 2 (meaningless for a document).
	"""
	spec = SPECS[doctype]
	row = {}
	for column in spec.columns:
		value = values.get(column)
		rule = spec.numbers.get(column)
		if rule and rule.zero_is_blank and _is_zero(value):
			value = None
		row[column] = "" if value is None else str(value)
	clean, errors = validate_frame(doctype, pd.DataFrame([row], dtype=object), None, today)
	record: dict[str, Any] = {}
	if len(clean):
		for column, value in clean.iloc[0].items():
			if isinstance(value, pd.Timestamp):
				value = value.to_pydatetime()
				if column in spec.dates:
					value = value.date()
			elif value is pd.NaT or value is None or (isinstance(value, float) and np.isnan(value)):
				value = None
			elif column in spec.numbers:
				value = int(value) if spec.numbers[column].integer and float(value) % 1 == 0 else float(value)
			record[column] = value
	return record, errors
