"""The columns, types, bounds, options, links and cross-field rules of each post-loan data DocType."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from postloan_performance.engine.delinquency import (
	BUCKET_UPPER_DPD,
	BUCKETS,
	CLASSIFICATION_UPPER_DPD,
	CLASSIFICATIONS,
	CLOSED_CASE_STATUSES,
)

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
