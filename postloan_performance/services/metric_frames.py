"""Load post-loan data frames with set-based SQL and compute built-in metrics with the engine.

One query per frame for a whole cycle (all subjects at once), restricted to the dates the metrics
can look at; the engine attributes rows to subjects. Column aliases map DocType fields to the
engine's frame columns (e.g. `collection_case` -> `case`).

Frames run to hundreds of thousands of rows, and the database driver turns every value into a Python
object one by one, so the loaders keep the transfer small: dates and datetimes travel as text and are
parsed by pandas in one vectorised call, and the portfolio NPL ratio reads the snapshots summed per
managing team and classification instead of one row per loan (see `load_snapshot_totals_at`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import frappe
from frappe.utils import add_days, getdate

from postloan_performance.engine import metrics as engine_metrics
from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS as NPL_CLASSES
from postloan_performance.services.fast_frames import read_frame
from postloan_performance.services.portfolio_frames import last_snapshot_date, load_snapshot_totals_at

NPL_RATIO_METRICS = ("npl_ratio", "npl_ratio_reduction")
# How far before a period the metrics look: warning_recall counts alerts up to 90 days before a
# loan's first NPL date; a promise kept by a payment on ptp_date + 3 can be made before the period.
# Only period metrics look back; the baseline (npl_ratio_reduction, recovery_rate_improvement) does not.
LOOKBACK_DAYS = 92
PTP_GRACE_DAYS = 3
# a loader's extra condition on its table (a pypika criterion), to read some people's rows only
# (services/subject_frames.py)
Narrow = Callable[[Any], Any]


@dataclass
class Window:
	"""The dates a computation may read: the period, the optional baseline, and the lookback.

	Each loader reads only the dates the engine's metrics read from its frame: cases from `first_day`
	(they also serve to find the collector of a case for actions, recoveries and feedback); alerts from
	`lookback_start` (warning recall); recoveries from `recoveries_start` (promises made before the
	period, and the baseline); actions done in the period or promising a payment in it; events,
	assessments, tickets and feedback of the period (no metric reads them before the period or in the
	baseline).
	"""

	start: dt.date
	end: dt.date
	baseline_start: dt.date | None = None
	baseline_end: dt.date | None = None
	first_day: dt.date = field(init=False)

	def __post_init__(self):
		self.start, self.end = getdate(self.start), getdate(self.end)
		if self.baseline_start:
			self.baseline_start, self.baseline_end = getdate(self.baseline_start), getdate(self.baseline_end)
		earliest = min(d for d in (self.start, self.baseline_start) if d)
		self.first_day = getdate(add_days(earliest, -LOOKBACK_DAYS))

	@property
	def lookback_start(self) -> dt.date:
		return getdate(add_days(self.start, -LOOKBACK_DAYS))

	@property
	def recoveries_start(self) -> dt.date:
		return min(d for d in (self.lookback_start, self.baseline_start) if d)

	@property
	def period(self) -> tuple[dt.date, dt.date]:
		return (self.start, self.end)

	@property
	def baseline(self) -> tuple[dt.date, dt.date] | None:
		return (self.baseline_start, self.baseline_end) if self.baseline_start else None


# columns read as numbers (float, NaN for NULL); every other column is text or None
NUMERIC_COLUMNS = frozenset(
	{"outstanding", "entry_overdue_amount", "ptp_amount", "amount", "quality_rating", "csat", "nps"}
)


def _frame(query, columns: tuple[str, ...]) -> pd.DataFrame:
	"""The query's rows; its select list must name its columns `columns` (see `fast_frames.read_frame`)."""
	sql, params = query.walk()
	return read_frame(sql, params, columns, numeric=[c for c in columns if c in NUMERIC_COLUMNS])


def _text(term, name: str | None = None):
	"""A date/datetime column selected as ISO text under its own name (see the module docstring)."""
	from pypika.functions import Cast

	return Cast(term, "char" if frappe.db.db_type == "mariadb" else "text").as_(name or term.name)


def _dates_as_datetime(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
	for column in columns:
		if column in df.columns:
			df[column] = pd.to_datetime(df[column], format="ISO8601")
	return df


# ---------------------------------------------------------------- frame loaders
LOAN_SEPARATOR = "\x1f"


def load_loans(window: Window) -> pd.DataFrame:
	"""Every loan's managing team (portfolio subjects reach records through their loan's team).

	The driver decodes a result row by row, and 200,000 loans cost ~1.5 s that way; a loan's only
	attribute here is its team, so on MariaDB the names travel grouped, one row per team with its
	loans' names joined (GROUP_CONCAT), ~0.2 s. A group longer than the server's group_concat_max_len
	comes back cut, and a name holding the separator splits wrong: the count and length checks catch
	both, and those teams' loans are read row by row.
	"""
	loan = frappe.qb.DocType("PL Loan")
	if frappe.db.db_type != "mariadb":
		return _frame(frappe.qb.from_(loan).select(loan.name, loan.managing_team), ("name", "managing_team"))
	rows = frappe.db.sql(
		"""select managing_team, count(*), sum(char_length(name)), group_concat(name separator %(sep)s)
		from `tabPL Loan` group by managing_team""",
		{"sep": LOAN_SEPARATOR},
	)
	names, teams, unsure = [], [], []
	for team, count, length, joined in rows:
		parts = joined.split(LOAN_SEPARATOR) if joined else []
		if len(parts) != count or len(joined or "") != int(length or 0) + count - 1:
			unsure.append(team)
			continue
		names.extend(parts)
		teams.extend([team] * count)
	for team in unsure:
		query = frappe.qb.from_(loan).select(loan.name)
		query = query.where(loan.managing_team.isnull() if team is None else loan.managing_team == team)
		found = query.run(pluck=True)
		names.extend(found)
		teams.extend([team] * len(found))
	return pd.DataFrame(
		{"name": pd.Series(names, dtype=object), "managing_team": pd.Series(teams, dtype=object)}
	)


def load_snapshots_at(dates: list[dt.date]) -> pd.DataFrame:
	"""Every loan's snapshot on the given dates (the last snapshot dates at period/baseline end)."""
	snap = frappe.qb.DocType("PL Loan Snapshot")
	columns = ("loan", "as_of_date", "outstanding", "classification")
	dates = [d for d in dates if d]
	if not dates:
		return pd.DataFrame(columns=list(columns))
	query = (
		frappe.qb.from_(snap)
		.select(snap.loan, _text(snap.as_of_date), snap.outstanding, snap.classification)
		.where(snap.as_of_date.isin(dates))
	)
	return _dates_as_datetime(_frame(query, columns), ("as_of_date",))


def load_first_npl_snapshots(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	"""One row per loan whose first NPL classification (over all history) falls in the period."""
	snap = frappe.qb.DocType("PL Loan Snapshot")
	from frappe.query_builder.functions import Min

	first = Min(snap.as_of_date)
	query = frappe.qb.from_(snap).select(snap.loan, _text(first, "as_of_date"))
	query = query.where(snap.classification.isin(NPL_CLASSES))
	if narrow is not None:
		query = query.where(narrow(snap))
	query = query.groupby(snap.loan).having((first >= window.start) & (first <= window.end))
	df = _frame(query, ("loan", "as_of_date"))
	df["outstanding"] = 0.0
	df["classification"] = NPL_CLASSES[0]
	return _dates_as_datetime(df, ("as_of_date",))


def load_cases(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	case = frappe.qb.DocType("PL Collection Case")
	columns = ("name", "loan", "opened_on", "closed_on", "entry_overdue_amount", "collector", "status")
	query = (
		frappe.qb.from_(case)
		.select(
			case.name,
			case.loan,
			_text(case.opened_on),
			_text(case.closed_on),
			case.entry_overdue_amount,
			case.collector,
			case.status,
		)
		.where(
			(case.opened_on <= window.end) & (case.closed_on.isnull() | (case.closed_on >= window.first_day))
		)
	)
	if narrow is not None:
		query = query.where(narrow(case))
	return _dates_as_datetime(_frame(query, columns), ("opened_on", "closed_on"))


def load_actions(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	action = frappe.qb.DocType("PL Collection Action")
	columns = ("case", "collector", "action_type", "action_on", "contact_result", "ptp_amount", "ptp_date")
	end_of_day = f"{window.end} 23:59:59.999999"
	query = (
		frappe.qb.from_(action)
		.select(
			action.collection_case.as_("case"),
			action.collector,
			action.action_type,
			_text(action.action_on),
			action.contact_result,
			action.ptp_amount,
			_text(action.ptp_date),
		)
		.where(
			((action.action_on >= window.start) & (action.action_on <= end_of_day))
			| ((action.ptp_date >= window.start) & (action.ptp_date <= window.end))
		)
	)
	if narrow is not None:
		query = query.where(narrow(action))
	return _dates_as_datetime(_frame(query, columns), ("action_on", "ptp_date"))


def load_recoveries(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	rec = frappe.qb.DocType("PL Recovery")
	columns = ("loan", "case", "collector", "amount", "received_on")
	query = (
		frappe.qb.from_(rec)
		.select(rec.loan, rec.collection_case.as_("case"), rec.collector, rec.amount, _text(rec.received_on))
		.where(
			(rec.received_on >= window.recoveries_start)
			& (rec.received_on <= add_days(window.end, PTP_GRACE_DAYS))
		)
	)
	if narrow is not None:
		query = query.where(narrow(rec))
	return _dates_as_datetime(_frame(query, columns), ("received_on",))


def load_alerts(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	alert = frappe.qb.DocType("PL Risk Alert")
	columns = ("loan", "rule", "raised_on", "officer", "outcome")
	query = (
		frappe.qb.from_(alert)
		.select(alert.loan, alert.rule, _text(alert.raised_on), alert.officer, alert.outcome)
		.where((alert.raised_on >= window.lookback_start) & (alert.raised_on <= window.end))
	)
	if narrow is not None:
		query = query.where(narrow(alert))
	return _dates_as_datetime(_frame(query, columns), ("raised_on",))


def load_events(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	event = frappe.qb.DocType("PL Risk Event")
	columns = ("loan", "reported_on", "resolved_on", "handler")
	query = (
		frappe.qb.from_(event)
		.select(event.loan, _text(event.reported_on), _text(event.resolved_on), event.handler)
		.where((event.resolved_on >= window.start) & (event.resolved_on <= f"{window.end} 23:59:59.999999"))
	)
	if narrow is not None:
		query = query.where(narrow(event))
	return _dates_as_datetime(_frame(query, columns), ("reported_on", "resolved_on"))


def load_assessments(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	ra = frappe.qb.DocType("PL Risk Assessment")
	columns = ("author", "report_date", "quality_rating", "loan")
	query = (
		frappe.qb.from_(ra)
		.select(ra.author, _text(ra.report_date), ra.quality_rating, ra.loan)
		.where((ra.report_date >= window.start) & (ra.report_date <= window.end) & (ra.quality_rating > 0))
	)
	if narrow is not None:
		query = query.where(narrow(ra))
	return _dates_as_datetime(_frame(query, columns), ("report_date",))


def load_tickets(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	ticket = frappe.qb.DocType("PL Service Ticket")
	columns = ("agent", "opened_on", "first_response_on", "resolved_on", "loan")
	query = (
		frappe.qb.from_(ticket)
		.select(
			ticket.agent,
			_text(ticket.opened_on),
			_text(ticket.first_response_on),
			_text(ticket.resolved_on),
			ticket.loan,
		)
		.where((ticket.opened_on >= window.start) & (ticket.opened_on <= f"{window.end} 23:59:59.999999"))
	)
	if narrow is not None:
		query = query.where(narrow(ticket))
	return _dates_as_datetime(_frame(query, columns), ("opened_on", "first_response_on", "resolved_on"))


def load_customer_feedback(window: Window, narrow: Narrow | None = None) -> pd.DataFrame:
	"""Feedback given in the period; `loan` is its case's or its ticket's loan, so that portfolio subjects
	count feedback on service tickets too (the engine reaches loans only through `loan` or the case)."""
	from frappe.query_builder.functions import Coalesce

	fb = frappe.qb.DocType("PL Customer Feedback")
	case = frappe.qb.DocType("PL Collection Case")
	ticket = frappe.qb.DocType("PL Service Ticket")
	columns = ("employee", "csat", "nps", "given_on", "case", "loan")
	query = (
		frappe.qb.from_(fb)
		.left_join(case)
		.on(case.name == fb.collection_case)
		.left_join(ticket)
		.on(ticket.name == fb.ticket)
		.select(
			fb.employee,
			fb.csat,
			fb.nps,
			_text(fb.given_on),
			fb.collection_case.as_("case"),
			Coalesce(case.loan, ticket.loan).as_("loan"),
		)
		.where((fb.given_on >= window.start) & (fb.given_on <= window.end))
	)
	if narrow is not None:
		query = query.where(narrow(fb))
	return _dates_as_datetime(_frame(query, columns), ("given_on",))


def cycles_with_survey():
	"""Review cycles joined to their satisfaction survey answers: the two tables and the query."""
	cycle = frappe.qb.DocType("PL Review Cycle")
	survey = frappe.qb.DocType("PL Satisfaction Survey")
	return cycle, survey, frappe.qb.from_(cycle).join(survey).on(survey.review_cycle == cycle.name)


def survey_cycle_for(review_cycle: str) -> str | None:
	"""The cycle whose satisfaction survey measures `review_cycle`'s team satisfaction.

	The survey goes out after a cycle is published, so while a cycle is being scored its own survey
	does not exist yet: the answers of the latest earlier cycle of the same company are used then.
	"""
	if frappe.db.exists("PL Satisfaction Survey", {"review_cycle": review_cycle}):
		return review_cycle
	company, start = frappe.db.get_value("PL Review Cycle", review_cycle, ["company", "period_start"])
	cycle, _survey, surveyed = cycles_with_survey()
	earlier = (
		surveyed.select(cycle.name)
		.where((cycle.company == company) & (cycle.period_end < start))
		.orderby(cycle.period_end, order=frappe.qb.desc)
		.limit(1)
	).run()
	return earlier[0][0] if earlier else None


def load_survey(review_cycle: str | None) -> pd.DataFrame:
	survey = frappe.qb.DocType("PL Satisfaction Survey")
	columns = ("respondent", "team", "fairness", "clarity", "motivation", "workload")
	review_cycle = survey_cycle_for(review_cycle) if review_cycle else None
	if not review_cycle:
		return pd.DataFrame(columns=list(columns))
	query = (
		frappe.qb.from_(survey)
		.select(
			survey.respondent,
			survey.pl_team.as_("team"),
			survey.fairness,
			survey.clarity,
			survey.motivation,
			survey.workload,
		)
		.where(survey.review_cycle == review_cycle)
	)
	return _frame(query, columns)


class FrameCache:
	"""Loads each frame once per computation; `data_dates` records the newest date each frame holds."""

	def __init__(self, window: Window, review_cycle: str | None = None):
		self.window = window
		self.review_cycle = review_cycle
		self.frames: dict[str, pd.DataFrame] = {}
		self.queries = 0
		self._npl_dates: list[dt.date] | None = None

	def npl_dates(self) -> list[dt.date]:
		if self._npl_dates is None:
			dates = [last_snapshot_date(self.window.end)]
			if self.window.baseline_end:
				dates.append(last_snapshot_date(self.window.baseline_end))
			self.queries += len(dates)
			self._npl_dates = [d for d in dates if d]
		return self._npl_dates

	def get(self, name: str) -> pd.DataFrame:
		if name not in self.frames:
			loader = {
				"loans": lambda: load_loans(self.window),
				"snapshots_at": lambda: load_snapshots_at(self.npl_dates()),
				"snapshot_totals_at": lambda: load_snapshot_totals_at(self.npl_dates()),
				"snapshots_first_npl": lambda: load_first_npl_snapshots(self.window),
				"cases": lambda: load_cases(self.window),
				"actions": lambda: load_actions(self.window),
				"recoveries": lambda: load_recoveries(self.window),
				"alerts": lambda: load_alerts(self.window),
				"events": lambda: load_events(self.window),
				"assessments": lambda: load_assessments(self.window),
				"tickets": lambda: load_tickets(self.window),
				"customer_feedback": lambda: load_customer_feedback(self.window),
				"survey": lambda: load_survey(self.review_cycle),
			}[name]
			self.frames[name] = loader()
			self.queries += 1
		return self.frames[name]

	def frames_for(self, code: str, portfolio: bool) -> dict[str, pd.DataFrame]:
		spec = engine_metrics.METRICS[code]
		if portfolio and code in NPL_RATIO_METRICS:
			# per team and classification: see load_snapshot_totals_at (cases are for people subjects only)
			snapshots, loans = self.get("snapshot_totals_at")
			return {"snapshots": snapshots, "loans": loans}
		frames = {}
		for name in spec.frames:
			if name == "loans" and not portfolio:
				continue
			if name == "snapshots":
				key = "snapshots_first_npl" if code == "warning_recall" else "snapshots_at"
				frames[name] = self.get(key)
			else:
				frames[name] = self.get(name)
		return frames

	def data_date(self, code: str, portfolio: bool) -> dt.date:
		"""The newest record date among the frames a metric read, capped at the period end."""
		if code in ("npl_ratio", "npl_ratio_reduction"):
			dates = self.npl_dates()
			return max(dates) if dates else self.window.end
		newest = None
		date_columns = {
			"cases": ("opened_on", "closed_on"),
			"actions": ("action_on",),
			"recoveries": ("received_on",),
			"alerts": ("raised_on",),
			"events": ("resolved_on",),
			"assessments": ("report_date",),
			"tickets": ("opened_on", "resolved_on"),
			"customer_feedback": ("given_on",),
		}
		for name, frame in self.frames_for(code, portfolio).items():
			for column in date_columns.get(name, ()):
				if column in frame.columns and len(frame):
					value = frame[column].max()
					if pd.notna(value):
						value = min(value.date(), self.window.end)
						newest = value if newest is None else max(newest, value)
		return newest or self.window.end


def compute_metric(code: str, cache: FrameCache, subjects: pd.DataFrame) -> pd.Series:
	"""One built-in metric for every subject (people or portfolio subjects, see engine.metrics)."""
	portfolio = "team" in subjects.columns
	window = cache.window
	return engine_metrics.compute(
		code, cache.frames_for(code, portfolio), subjects, window.period, window.baseline
	)
