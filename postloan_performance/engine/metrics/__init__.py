"""The eighteen built-in metrics (docs/scheme.md, "Built-in metrics"), computed set-wise with pandas.

Every metric has the signature ``metric(frames, subjects, period, baseline=None) -> pd.Series`` and
returns one float per subject (every subject of ``subjects`` appears, in first-seen order), NaN when the
subject has no data / a zero denominator (never 0 for "no data", never an exception for data). Rates are
percent (0–100), amounts in company currency, durations as named. No frappe here.

Inputs
------
``frames`` maps frame names to DataFrames (columns in ``REQUIRED_COLUMNS``; extra columns are ignored,
optional ones in ``OPTIONAL_COLUMNS`` are used when present). A missing frame, None, or an empty frame
without columns (``pd.DataFrame(frappe.get_all(...))`` with no rows) is "no rows"; a non-empty frame that
lacks a required column raises :class:`FrameColumnsError`. Dates may be ``datetime64`` or python
``date``/``datetime`` values; ``period``/``baseline`` are ``(start, end)`` inclusive dates, and a datetime
is in a period when its date is.

Attribution (who a record counts for)
-------------------------------------
``subjects`` comes in two shapes, chosen by its columns:

* **people** – columns ``subject, employee[, from_date, to_date]``: one row per (subject, employee)
  membership; an Employee subject is ``(emp, emp, NaT, NaT)``, a Team subject has one row per member
  (the caller lists the members of descendant teams too). A record counts for a subject when its
  attributed employee is a member on the record's attributing date (NaT bounds are open). A record is
  counted at most once per subject even when memberships overlap. Attributed employee and date:

  - cases: the case's ``collector``; a case counts for the *workload* (denominators) when the
    collector's membership overlaps the part of the period in which the case was active
    ``[max(opened_on, start), min(closed_on, end)]``; a case *outcome* (Cured/Paid Off) on its
    ``closed_on``;
  - actions, recoveries, customer feedback: "the collector of their case" (the case's collector when the
    row names a known case, else the row's own ``collector``/``employee``), on ``action_on`` /
    ``received_on`` / ``given_on``;
  - alerts: ``officer`` on ``raised_on``; events: ``handler`` on ``resolved_on``; assessments:
    ``author`` on ``report_date``; tickets: ``agent`` on ``opened_on``; survey: ``respondent``, counted
    when the membership overlaps the period (the survey frame is the cycle's survey);
  - npl_ratio for people: the loans of the subject's cases active on the snapshot date.

* **portfolio** – columns ``subject, team``: one row per team of the subject (the team itself and each
  descendant). Records count by their loan's ``loans.managing_team`` (records reach their loan through
  their ``loan`` column, or their case's loan); the survey counts by ``survey.team``. Metrics whose
  records have no loan (assessments, tickets, customer feedback without a ``loan``/``case`` column) are
  NaN in portfolio mode. Membership dates do not apply: the current managing team is used.

If ``subjects`` has a ``team`` column it is read as portfolio, otherwise as people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from postloan_performance.engine.metric_catalog import BUILTIN_METRICS
from postloan_performance.engine.metrics.base import (
	CONFIRMED,
	CONTACT_ACTION_TYPES,
	FALSE_ALARM,
	MIN_SURVEY_RESPONSES,
	NPS_DETRACTOR_MAX,
	NPS_PROMOTER_MIN,
	OPTIONAL_COLUMNS,
	PTP_GRACE_DAYS,
	PTP_KEPT_SHARE,
	RATING_MAX,
	RECALL_LOOKBACK_DAYS,
	REQUIRED_COLUMNS,
	RIGHT_PARTY,
	SUCCESS_STATUSES,
	SURVEY_ITEMS,
	FrameColumnsError,
	Frames,
	MetricFunction,
	Period,
	PeriodError,
	UnknownMetricError,
)
from postloan_performance.engine.metrics.collection import (
	active_case_count,
	avg_collection_cycle_days,
	collection_success_rate,
	ptp_kept_rate,
	recovered_amount,
	right_party_contact_rate,
)
from postloan_performance.engine.metrics.customer_service import (
	customer_loyalty_nps,
	customer_satisfaction,
	first_response_minutes,
	team_satisfaction,
	ticket_resolution_rate,
)
from postloan_performance.engine.metrics.management import (
	npl_ratio,
	npl_ratio_reduction,
	recovery_rate,
	recovery_rate_improvement,
)
from postloan_performance.engine.metrics.risk_control import (
	risk_event_handling_hours,
	risk_report_quality,
	warning_precision,
	warning_recall,
)

__all__ = [
	"CONFIRMED",
	"CONTACT_ACTION_TYPES",
	"FALSE_ALARM",
	"MIN_SURVEY_RESPONSES",
	"NPS_DETRACTOR_MAX",
	"NPS_PROMOTER_MIN",
	"PTP_GRACE_DAYS",
	"PTP_KEPT_SHARE",
	"RATING_MAX",
	"RECALL_LOOKBACK_DAYS",
	"RIGHT_PARTY",
	"SUCCESS_STATUSES",
	"SURVEY_ITEMS",
	"METRICS",
	"OPTIONAL_COLUMNS",
	"REQUIRED_COLUMNS",
	"FrameColumnsError",
	"MetricSpec",
	"PeriodError",
	"UnknownMetricError",
	"active_case_count",
	"avg_collection_cycle_days",
	"collection_success_rate",
	"compute",
	"customer_loyalty_nps",
	"customer_satisfaction",
	"first_response_minutes",
	"npl_ratio",
	"npl_ratio_reduction",
	"ptp_kept_rate",
	"recovered_amount",
	"recovery_rate",
	"recovery_rate_improvement",
	"right_party_contact_rate",
	"risk_event_handling_hours",
	"risk_report_quality",
	"team_satisfaction",
	"ticket_resolution_rate",
	"warning_precision",
	"warning_recall",
]

# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class MetricSpec:
	"""One built-in metric. ``label`` is the English label (a msgid for the Frappe layer's translation);
	``frames`` lists every frame the function may read (``loans`` only in portfolio mode)."""

	code: str
	label: str
	unit: str
	direction: str
	function: MetricFunction
	frames: tuple[str, ...]
	needs_baseline: bool = False


_LOAN_DATA = ("loans",)
# code -> (function, every frame it may read); label, unit and direction come from metric_catalog
_FUNCTIONS: dict[str, tuple[MetricFunction, tuple[str, ...]]] = {
	"npl_ratio": (npl_ratio, ("snapshots", "cases", *_LOAN_DATA)),
	"npl_ratio_reduction": (npl_ratio_reduction, ("snapshots", "cases", *_LOAN_DATA)),
	"recovery_rate": (recovery_rate, ("cases", "recoveries", *_LOAN_DATA)),
	"recovery_rate_improvement": (recovery_rate_improvement, ("cases", "recoveries", *_LOAN_DATA)),
	"collection_success_rate": (collection_success_rate, ("cases", *_LOAN_DATA)),
	"avg_collection_cycle_days": (avg_collection_cycle_days, ("cases", *_LOAN_DATA)),
	"ptp_kept_rate": (ptp_kept_rate, ("actions", "recoveries", "cases", *_LOAN_DATA)),
	"right_party_contact_rate": (right_party_contact_rate, ("actions", "cases", *_LOAN_DATA)),
	"recovered_amount": (recovered_amount, ("recoveries", "cases", *_LOAN_DATA)),
	"warning_precision": (warning_precision, ("alerts", *_LOAN_DATA)),
	"warning_recall": (warning_recall, ("snapshots", "alerts", *_LOAN_DATA)),
	"risk_report_quality": (risk_report_quality, ("assessments", *_LOAN_DATA)),
	"risk_event_handling_hours": (risk_event_handling_hours, ("events", *_LOAN_DATA)),
	"ticket_resolution_rate": (ticket_resolution_rate, ("tickets", *_LOAN_DATA)),
	"first_response_minutes": (first_response_minutes, ("tickets", *_LOAN_DATA)),
	"customer_satisfaction": (customer_satisfaction, ("customer_feedback", "cases", *_LOAN_DATA)),
	"customer_loyalty_nps": (customer_loyalty_nps, ("customer_feedback", "cases", *_LOAN_DATA)),
	"team_satisfaction": (team_satisfaction, ("survey",)),
}
_NEEDS_BASELINE = frozenset({"npl_ratio_reduction", "recovery_rate_improvement"})

METRICS: dict[str, MetricSpec] = {
	code: MetricSpec(
		code,
		BUILTIN_METRICS[code]["label"],
		BUILTIN_METRICS[code]["unit"],
		BUILTIN_METRICS[code]["direction"],
		function,
		frames,
		code in _NEEDS_BASELINE,
	)
	for code, (function, frames) in _FUNCTIONS.items()
}
assert set(METRICS) == set(BUILTIN_METRICS), "every catalogued metric has a function and vice versa"


def compute(
	code: str,
	frames: Frames,
	subjects: pd.DataFrame,
	period: Period | tuple[dt.date, dt.date],
	baseline: Period | None = None,
) -> pd.Series:
	"""Compute built-in metric ``code`` for every subject; see the module docstring for inputs and
	attribution. Raises :class:`UnknownMetricError` for an unknown code."""
	spec = METRICS.get(code)
	if spec is None:
		raise UnknownMetricError(metric=code)
	result = spec.function(frames, subjects, period, baseline)
	result.name = code
	return result
