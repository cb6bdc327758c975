"""Subject-sized frames: the post-loan rows of a few people only, for recomputing one appraisal or a team.

The set-wise loaders (`services.metric_frames`) read the whole period's frames, whatever the number of subjects:
right for a whole cycle, seconds wasted when the "Recompute KPIs" button covers one person (on the
benchmark book, one Collection appraisal: 6.17 s whole-period vs 0.74 s subject-sized). When a
computation's people subjects number at most `SUBJECT_READ_LIMIT`, each frame is read for those employees
only (their cases, actions, recoveries, alerts, events, assessments, tickets, feedback), through the
indexes on the employee columns, and the engine gets frames that give the same values for them:

- a row attributed to "the collector of its case, else its own employee" (actions, recoveries, feedback)
  is read when its case is one of the people's cases, or when its own employee is one of them and its
  case is not a case the whole-period frame would hold (then the set-wise path attributes it to its own
  employee too);
- the people's NPL ratio reads the snapshots of their cases' loans, plus one loan-less row per snapshot
  date, so that the engine picks the same "last snapshot date" as with every loan;
- warning recall reads the first-NPL snapshots of the loans the people raised alerts on.

Portfolio subjects (a manager's team and its sub-teams, through the loans they manage) of at most
`PORTFOLIO_TEAM_LIMIT` teams read the rows of those teams' loans only (`PortfolioFrameCache`); their NPL
ratio already reads the monthly summary's per-team totals. `tests/integration/test_subject_frames.py`
compares both paths for every built-in metric.
"""

from __future__ import annotations

import pandas as pd

import frappe
from frappe.utils import add_days, getdate

from postloan_performance.services import metric_frames as m
from postloan_performance.services import portfolio_frames as pf

# At most this many people subjects (distinct employees) read subject-sized frames; more read the whole
# period once. Measured with benchmarks/crossover.py on the benchmark data (200,000 loans, 2,000 employees,
# 2 shared CPUs, 128 MB buffer pool), 2026-12-06, median of 3 per path, whole-period vs subject-sized s:
#   Collection (load 2.3-4.0):   160: 4.42 vs 2.03; 240: 4.77 vs 2.79; 320: 5.01 vs 4.26;
#                                480: 5.36 vs 5.05; 640: 6.67 vs 8.28; 960: 10.27 vs 16.00
#   Risk Control (load 7.7-8.6): 80: 1.03 vs 0.77; 160: 1.41 vs 0.93; 360: 1.78 vs 1.81
#   Customer Service (load 6.4-10.9): 160: 11.03 vs 4.90; 360: 9.89 vs 4.57
# The paths break even at ~360 people (Risk Control) and between 480 and 640 (Collection); 160 is the
# largest measured size at which the subject-sized path was faster in every people layer (1.5x-2.3x),
# and less than half the lowest break-even: that margin absorbs the noise of a shared machine.
SUBJECT_READ_LIMIT = 160
# At most this many managing teams (the portfolio subjects' teams with their sub-teams) read the rows of
# their loans only; more read the whole period once (metrics the monthly summary serves read it whatever
# the number of teams). Measured on the benchmark data, 2026-12-06, median of 3 per path, four portfolio
# metrics the summary does not serve (collection success, recovered amount, warning precision, customer
# satisfaction), whole-period vs team-sized s, load 6.6-9.6: 1 team: 9.50 vs 2.10; 10: 10.12 vs 8.62;
# 20: 10.35 vs 12.43; 40: 13.00 vs 18.21. The paths break even between 10 and 20 teams.
PORTFOLIO_TEAM_LIMIT = 5


def forced_path() -> str | None:
	""" "set" or "subject" to force one path whatever the number of subjects (tests and benchmarks)."""
	return getattr(frappe.local, "plp_frames_path", None)


class _NarrowFrameCache(m.FrameCache):
	"""A `FrameCache` whose `_load_<frame>` methods read a frame for some subjects only (the other frames
	are the whole period's), with the data dates the whole period's frames give."""

	def get(self, name: str) -> pd.DataFrame:
		if name not in self.frames:
			loader = getattr(self, f"_load_{name}", None)
			if loader is None:
				return super().get(name)
			self.frames[name] = loader()
			self.queries += 1
		return self.frames[name]

	def data_date(self, code: str, portfolio: bool):
		"""The same date as the whole period's frames give: their newest record date, read with one query
		per date column instead of from the (smaller) subject-sized frames."""
		if code in m.NPL_RATIO_METRICS:
			return super().data_date(code, portfolio)
		newest = None
		for name in m.engine_metrics.METRICS[code].frames:
			for value in self._newest(name):
				value = min(value, self.window.end)
				newest = value if newest is None else max(newest, value)
		return newest or self.window.end

	def _newest(self, name: str) -> list:
		if not hasattr(self, "_newest_dates"):
			self._newest_dates = {}
		if name not in self._newest_dates:
			spec = _NEWEST.get(name)
			dates = []
			if spec:
				table, columns, where = spec
				w = self.window
				values = {
					"start": w.start,
					"end": w.end,
					"end_of_day": f"{w.end} 23:59:59.999999",
					"first_day": w.first_day,
					"lookback": w.lookback_start,
					"rec_start": w.recoveries_start,
					"rec_end": add_days(w.end, m.PTP_GRACE_DAYS),
				}
				# the newest value of each column as the first row of a descending read (not max(): MariaDB
				# then scans every row the conditions let through): an index that starts with the column
				# finds it in a few index entries
				for column in columns:
					found = frappe.db.sql(
						f"""select `{column}` from `{table}` where ({where}) and `{column}` is not null
						order by `{column}` desc limit 1""",  # nosemgrep: table, columns and conditions are _NEWEST's
						values,
					)
					dates += [getdate(found[0][0])] if found else []
					self.queries += 1
			self._newest_dates[name] = dates
		return self._newest_dates[name]


class SubjectFrameCache(_NarrowFrameCache):
	"""A `FrameCache` whose frames hold only the rows that can count for `people` (employee ids)."""

	def __init__(self, window: m.Window, review_cycle: str | None, people):
		super().__init__(window, review_cycle)
		self.people = tuple(sorted(set(people))) or ("",)

	# ---------------------------------------------------------------- loaders for people
	def _load_cases(self) -> pd.DataFrame:
		return m.load_cases(self.window, lambda case: case.collector.isin(list(self.people)))

	def _own_case_names(self) -> set:
		return set(self.get("cases")["name"].dropna())

	def _keep_attributable(self, df: pd.DataFrame, own_column: str) -> pd.DataFrame:
		"""Drop rows read for their own employee whose case is another person's case in the window."""
		if df.empty:
			return df
		own_cases = self._own_case_names()
		foreign = df["case"].notna() & ~df["case"].isin(own_cases)
		names = sorted(set(df.loc[foreign, "case"]))
		if not names:
			return df
		w = self.window
		known = set(
			frappe.db.sql_list(
				"""select name from `tabPL Collection Case` where name in %(names)s and opened_on <= %(end)s
				and (closed_on is null or closed_on >= %(first)s)""",
				{"names": tuple(names), "end": w.end, "first": w.first_day},
			)
		)
		return df[~(foreign & df["case"].isin(known))].reset_index(drop=True)

	def _case_or_own(self, case_column, own_column):
		own_cases = sorted(self._own_case_names()) or [""]
		return case_column.isin(own_cases) | own_column.isin(list(self.people))

	def _load_actions(self) -> pd.DataFrame:
		df = m.load_actions(self.window, lambda a: self._case_or_own(a.collection_case, a.collector))
		return self._keep_attributable(df, "collector")

	def _load_recoveries(self) -> pd.DataFrame:
		df = m.load_recoveries(self.window, lambda r: self._case_or_own(r.collection_case, r.collector))
		return self._keep_attributable(df, "collector")

	def _load_customer_feedback(self) -> pd.DataFrame:
		df = m.load_customer_feedback(self.window, lambda f: self._case_or_own(f.collection_case, f.employee))
		return self._keep_attributable(df, "employee")

	def _load_alerts(self) -> pd.DataFrame:
		return m.load_alerts(self.window, lambda alert: alert.officer.isin(list(self.people)))

	def _load_events(self) -> pd.DataFrame:
		return m.load_events(self.window, lambda event: event.handler.isin(list(self.people)))

	def _load_assessments(self) -> pd.DataFrame:
		return m.load_assessments(self.window, lambda ra: ra.author.isin(list(self.people)))

	def _load_tickets(self) -> pd.DataFrame:
		return m.load_tickets(self.window, lambda ticket: ticket.agent.isin(list(self.people)))

	def _load_snapshots_at(self) -> pd.DataFrame:
		columns = ["loan", "as_of_date", "outstanding", "classification"]
		dates = self.npl_dates()
		loans = sorted(set(self.get("cases")["loan"].dropna()))
		rows = []
		if dates and loans:
			rows = frappe.db.sql(
				"""select loan, cast(as_of_date as char), outstanding, classification
				from `tabPL Loan Snapshot` where as_of_date in %(dates)s and loan in %(loans)s""",
				{"dates": tuple(dates), "loans": tuple(loans)},
			)
		# one loan-less row per date: the engine's "last snapshot date" is the same as with every loan
		rows = [*rows, *((None, str(d), 0.0, None) for d in dates)]
		df = pd.DataFrame([list(r) for r in rows], columns=columns)
		df["outstanding"] = pd.to_numeric(df["outstanding"]).astype(float)
		df["loan"] = df["loan"].astype(object)
		return m._dates_as_datetime(df, ("as_of_date",))

	def _load_snapshots_first_npl(self) -> pd.DataFrame:
		loans = sorted(set(self.get("alerts")["loan"].dropna()))
		if not loans:
			return pd.DataFrame(
				{
					"loan": pd.Series(dtype=object),
					"as_of_date": pd.Series(dtype="datetime64[ns]"),
					"outstanding": pd.Series(dtype=float),
					"classification": pd.Series(dtype=object),
				}
			)
		w = self.window
		rows = frappe.db.sql(
			"""select loan, cast(min(as_of_date) as char) from `tabPL Loan Snapshot`
			where classification in %(npl)s and loan in %(loans)s
			group by loan having min(as_of_date) between %(start)s and %(end)s""",
			{"npl": tuple(m.NPL_CLASSES), "loans": tuple(loans), "start": w.start, "end": w.end},
		)
		df = pd.DataFrame([list(r) for r in rows], columns=["loan", "as_of_date"])
		df["loan"] = df["loan"].astype(object)
		df["outstanding"] = 0.0
		df["classification"] = m.NPL_CLASSES[0]
		return m._dates_as_datetime(df, ("as_of_date",))


class PortfolioFrameCache(_NarrowFrameCache):
	"""A `FrameCache` whose frames hold only the rows that can count for portfolio subjects made of `teams`
	(managing teams): the engine reaches a team through a row's loan (`loans.managing_team`) or its case's
	loan, so the loans frame holds the teams' loans only (every other loan has no team for the engine, as it
	has no subject's team on the set-wise path), and the other frames the rows whose loan is one of them or
	whose case is one of the teams' cases. The NPL totals (already per team, from the monthly summary) and
	the survey are the whole period's."""

	def __init__(self, window: m.Window, review_cycle: str | None, teams):
		super().__init__(window, review_cycle)
		self.teams = tuple(sorted(set(teams))) or ("",)
		self._recovery_totals: dict | None = None
		self._recovery_totals_read = False

	def recovery_totals(self) -> dict | None:
		"""The recovery-rate frames from the monthly summary, or None when it cannot serve this window."""
		if not self._recovery_totals_read:
			self._recovery_totals = pf.load_recovery_totals(self.window, self.teams)
			self._recovery_totals_read = True
			self.queries += 1
		return self._recovery_totals

	def from_summary(self, codes) -> bool:
		"""Whether every metric of ``codes`` reads only summaries and small frames here (NPL totals, recovery
		totals, the survey): then the number of teams does not matter."""
		codes = set(codes)
		if not codes <= {*m.NPL_RATIO_METRICS, *pf.RECOVERY_RATE_METRICS, "team_satisfaction"}:
			return False
		return not codes & set(pf.RECOVERY_RATE_METRICS) or self.recovery_totals() is not None

	def frames_for(self, code: str, portfolio: bool) -> dict[str, pd.DataFrame]:
		if portfolio and code in pf.RECOVERY_RATE_METRICS:
			totals = self.recovery_totals()
			if totals is not None:
				return totals
		return super().frames_for(code, portfolio)

	def _team_loans(self):
		loan = frappe.qb.DocType("PL Loan")
		return frappe.qb.from_(loan).select(loan.name).where(loan.managing_team.isin(list(self.teams)))

	def _team_cases(self):
		"""Every case (whatever its dates) of the teams' loans."""
		case = frappe.qb.DocType("PL Collection Case")
		return frappe.qb.from_(case).select(case.name).where(case.loan.isin(self._team_loans()))

	def _load_loans(self) -> pd.DataFrame:
		loan = frappe.qb.DocType("PL Loan")
		query = (
			frappe.qb.from_(loan)
			.select(loan.name, loan.managing_team)
			.where(loan.managing_team.isin(list(self.teams)))
		)
		return m._frame(query, ("name", "managing_team"))

	def _load_cases(self) -> pd.DataFrame:
		return m.load_cases(self.window, lambda case: case.loan.isin(self._team_loans()))

	def _load_actions(self) -> pd.DataFrame:
		return m.load_actions(self.window, lambda a: a.collection_case.isin(self._team_cases()))

	def _load_recoveries(self) -> pd.DataFrame:
		return m.load_recoveries(
			self.window,
			lambda r: r.loan.isin(self._team_loans()) | r.collection_case.isin(self._team_cases()),
		)

	def _load_customer_feedback(self) -> pd.DataFrame:
		ticket = frappe.qb.DocType("PL Service Ticket")
		tickets = frappe.qb.from_(ticket).select(ticket.name).where(ticket.loan.isin(self._team_loans()))
		return m.load_customer_feedback(
			self.window,
			lambda f: f.collection_case.isin(self._team_cases()) | f.ticket.isin(tickets),
		)

	def _load_alerts(self) -> pd.DataFrame:
		return m.load_alerts(self.window, lambda alert: alert.loan.isin(self._team_loans()))

	def _load_events(self) -> pd.DataFrame:
		return m.load_events(self.window, lambda event: event.loan.isin(self._team_loans()))

	def _load_assessments(self) -> pd.DataFrame:
		return m.load_assessments(self.window, lambda ra: ra.loan.isin(self._team_loans()))

	def _load_tickets(self) -> pd.DataFrame:
		return m.load_tickets(self.window, lambda ticket: ticket.loan.isin(self._team_loans()))

	def _load_snapshots_first_npl(self) -> pd.DataFrame:
		return m.load_first_npl_snapshots(self.window, lambda snap: snap.loan.isin(self._team_loans()))


# frame -> (table, date columns the whole-period data date reads, the whole-period loader's conditions)
_NEWEST = {
	"cases": (
		"tabPL Collection Case",
		("opened_on", "closed_on"),
		"opened_on <= %(end)s and (closed_on is null or closed_on >= %(first_day)s)",
	),
	"actions": (
		"tabPL Collection Action",
		("action_on",),
		"(action_on >= %(start)s and action_on <= %(end_of_day)s) or (ptp_date >= %(start)s and ptp_date <= %(end)s)",
	),
	"recoveries": (
		"tabPL Recovery",
		("received_on",),
		"received_on >= %(rec_start)s and received_on <= %(rec_end)s",
	),
	"alerts": ("tabPL Risk Alert", ("raised_on",), "raised_on >= %(lookback)s and raised_on <= %(end)s"),
	"events": (
		"tabPL Risk Event",
		("resolved_on",),
		"resolved_on >= %(start)s and resolved_on <= %(end_of_day)s",
	),
	"assessments": (
		"tabPL Risk Assessment",
		("report_date",),
		"report_date >= %(start)s and report_date <= %(end)s and quality_rating > 0",
	),
	"tickets": (
		"tabPL Service Ticket",
		("opened_on", "resolved_on"),
		"opened_on >= %(start)s and opened_on <= %(end_of_day)s",
	),
	"customer_feedback": (
		"tabPL Customer Feedback",
		("given_on",),
		"given_on >= %(start)s and given_on <= %(end)s",
	),
}
