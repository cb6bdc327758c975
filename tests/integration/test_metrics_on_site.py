"""The eighteen built-in metrics on a real site, checked against values computed by hand.

A fixed-seed generated portfolio (600 loans, nine month-ends from January 2025: collectors, cases,
actions, promises, recoveries, alerts, events, assessments, tickets, customer feedback, surveys) is
loaded into the site inside the test transaction (rolled back after each test). Every metric is then
computed through the site path (SQL frame loaders + engine, `services.metric_frames.compute_metric`) and
compared with `Reference`, a plain-Python reading of the "Built-in metrics" table of docs/scheme.md over the
*generated* rows (it never imports the engine). The appraisal pipeline is then run end to end (Built-in,
Formula, Server Script and Manual KPIs, Linear scores, idempotent recomputation, permission) and its
query count is checked not to grow with the number of appraisals.

Names are isolated with a "_Test PLM"/"PLM-" prefix so that the test never meets committed demo data
or another engineer's uncommitted rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from contextlib import contextmanager

import pandas as pd
import pytest

import frappe
from frappe.utils import getdate

from postloan_performance.datagen import generate
from postloan_performance.engine import frames
from postloan_performance.services.compute import (
	EMPLOYEE,
	PORTFOLIO,
	TEAM_PEOPLE,
	SubjectBuilder,
	compute_appraisals,
)
from postloan_performance.services.cycle import create_appraisals, open_cycle
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from tests.integration.daily_jobs_data import isolate
from tests.integration.factories import COMPANY, make_employee, make_user

SEED = 7
DATA_START = "2025-01-01"
MONTHS = 9  # month-ends 2025-01-31 … 2025-09-30
N_LOANS = 600
PERIOD = (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
BASELINE = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
TEAM_PREFIX = "_Test PLM "  # "Demo Collection 01" -> "_Test PLM Collection 01"
ROW_PREFIX = "PLM-"  # loans, cases and post-loan rows
CYCLE = "_Test PLM Cycle"
COLLECTION_TEMPLATE = "_Test PLM Collection"
FORMULA_KPI = "_TEST-PLM-FORMULA"
SCRIPT_KPI = "_TEST-PLM-VISITS"
MANUAL_KPI = "_TEST-PLM-MANUAL"
SERVER_SCRIPT = "_Test PLM Visit Count"
FORMULA = "0.5 * ptp_kept_rate + 0.5 * right_party_contact_rate"
# The field visits of each collector in the period, one query for all subjects (README, "Server Script KPIs").
VISIT_SCRIPT = """\
rows = frappe.get_all(
    "PL Collection Action",
    filters=[
        ["collector", "in", subjects],
        ["action_type", "=", "Visit"],
        ["action_on", ">=", period_start],
        ["action_on", "<", frappe.utils.add_days(period_end, 1)],
    ],
    fields=["collector", "count(name) as visits"],
    group_by="collector",
)
visits = {row.collector: row.visits for row in rows}
for subject in subjects:
    values[subject] = visits.get(subject, 0)
"""
MANUAL_VALUE = 77.0
CODES = (
	"npl_ratio",
	"npl_ratio_reduction",
	"recovery_rate",
	"recovery_rate_improvement",
	"collection_success_rate",
	"avg_collection_cycle_days",
	"ptp_kept_rate",
	"right_party_contact_rate",
	"recovered_amount",
	"warning_precision",
	"warning_recall",
	"risk_report_quality",
	"risk_event_handling_hours",
	"ticket_resolution_rate",
	"first_response_minutes",
	"customer_satisfaction",
	"customer_loyalty_nps",
	"team_satisfaction",
)
NPL = ("Substandard", "Doubtful", "Loss")
# Which people have data for which metric (for the coverage check): the layer of the employees.
METRIC_LAYER = {
	"npl_ratio": "Collection",
	"npl_ratio_reduction": "Collection",
	"recovery_rate": "Collection",
	"recovery_rate_improvement": "Collection",
	"collection_success_rate": "Collection",
	"avg_collection_cycle_days": "Collection",
	"ptp_kept_rate": "Collection",
	"right_party_contact_rate": "Collection",
	"recovered_amount": "Collection",
	"warning_precision": "Risk Control",
	"warning_recall": "Risk Control",
	"risk_report_quality": "Risk Control",
	"risk_event_handling_hours": "Risk Control",
	"ticket_resolution_rate": "Customer Service",
	"first_response_minutes": "Customer Service",
	"customer_satisfaction": "Collection",
	"customer_loyalty_nps": "Customer Service",
	"team_satisfaction": "Collection",
}


# ------------------------------------------------------------------------------------ the dataset


def _isolate(ds):
	"""Prefix every team, employee, loan, case and row name so the test owns all rows it reads."""
	return isolate(ds, TEAM_PREFIX, ROW_PREFIX)


@pytest.fixture(scope="module")
def dataset():
	return _isolate(generate(SEED, start=DATA_START, months=MONTHS, n_loans=N_LOANS))


@pytest.fixture
def loaded(dataset):
	"""The dataset written into the site (rolled back after the test) and key -> Employee name."""
	result = load_dataset(dataset, company=COMPANY, abbr="_TPL")
	return frappe._dict(ds=dataset, employee_of=result["employees"])


# ------------------------------------------------------------------ the independent computation


def _date(value) -> dt.date | None:
	if value is None or (not isinstance(value, str) and pd.isna(value)):
		return None
	return pd.Timestamp(value).date()


def _datetime(value) -> dt.datetime | None:
	if value is None or pd.isna(value):
		return None
	return pd.Timestamp(value).to_pydatetime()


def _mean(values: list[float]) -> float | None:
	return sum(values) / len(values) if values else None


def _percent(hits: int, total: int) -> float | None:
	return hits / total * 100 if total else None


class Reference:
	"""The "Built-in metrics" table of docs/scheme.md in plain Python over the generated rows (employee keys).

	Subjects: ("employee", key); ("team", team) = the people of the team and its sub-teams, a record
	counting when its employee was a member on the record's date (cases: any day of the part of the
	period in which the case was active); ("portfolio", team) = loans whose managing team is the team or
	one of its sub-teams. "The collector of their case" for actions, recoveries and feedback.
	"""

	def __init__(self, ds, surveys: list[dict] | None = None):
		self.parent = dict(zip(ds.teams["team_name"], ds.teams["parent_pl_team"], strict=True))
		self.memberships = [
			(m["team"], m["employee_key"], _date(m["from_date"]), _date(m["to_date"]))
			for m in frames.records(ds.memberships)
		]
		self.loan_team = dict(zip(ds.loans["name"], ds.loans["managing_team"], strict=True))
		self.snapshots = [
			(s["loan"], _date(s["as_of_date"]), float(s["outstanding"]), s["classification"])
			for s in frames.records(ds.snapshots)
		]
		self.cases = {
			c["name"]: frappe._dict(
				name=c["name"],
				loan=c["loan"],
				collector=c["collector"],
				opened=_date(c["opened_on"]),
				closed=_date(c["closed_on"]),
				status=c["status"],
				entry=float(c["entry_overdue_amount"]),
			)
			for c in frames.records(ds.cases)
		}
		self.actions = [
			frappe._dict(
				case=a["collection_case"],
				collector=a["collector"],
				type=a["action_type"],
				on=_datetime(a["action_on"]),
				contact=a["contact_result"],
				ptp_amount=float(a["ptp_amount"] or 0),
				ptp_date=_date(a["ptp_date"]),
			)
			for a in frames.records(ds.actions)
		]
		self.recoveries = [
			frappe._dict(
				case=r["collection_case"],
				loan=r["loan"],
				collector=r["collector"],
				amount=float(r["amount"]),
				on=_date(r["received_on"]),
			)
			for r in frames.records(ds.recoveries)
		]
		self.recoveries_of_case = defaultdict(list)
		for r in self.recoveries:
			self.recoveries_of_case[r.case].append(r)
		self.alerts = [
			frappe._dict(loan=a["loan"], on=_date(a["raised_on"]), officer=a["officer"], outcome=a["outcome"])
			for a in frames.records(ds.alerts)
		]
		self.events = [
			frappe._dict(
				loan=e["loan"],
				handler=e["handler"],
				reported=_datetime(e["reported_on"]),
				resolved=_datetime(e["resolved_on"]),
			)
			for e in frames.records(ds.events)
		]
		self.assessments = [
			frappe._dict(
				loan=a["loan"], author=a["author"], on=_date(a["report_date"]), rating=a["quality_rating"]
			)
			for a in frames.records(ds.assessments)
		]
		self.tickets = [
			frappe._dict(
				name=t["reference"],
				loan=t["loan"],
				agent=t["agent"],
				opened=_datetime(t["opened_on"]),
				first_response=_datetime(t["first_response_on"]),
				resolved=_datetime(t["resolved_on"]),
			)
			for t in frames.records(ds.tickets)
		]
		self.ticket_loan = {t.name: t.loan for t in self.tickets}
		self.feedback = [
			frappe._dict(
				case=f["collection_case"],
				ticket=f["ticket"],
				employee=f["employee"],
				csat=f["csat"],
				nps=f["nps"],
				on=_date(f["given_on"]),
			)
			for f in frames.records(ds.customer_feedback)
		]
		self.surveys = surveys or []

	# -- attribution

	def tree(self, team: str) -> set[str]:
		"""The team and every team below it."""
		out = set()
		for name in self.parent:
			node = name
			while node:
				if node == team:
					out.add(name)
					break
				node = self.parent.get(node)
		return out

	def counts(self, subject, employee=None, low=None, high=None, loan=None) -> bool:
		kind, key = subject
		if kind == "portfolio":
			return loan is not None and self.loan_team.get(loan) in self.tree(key)
		if employee is None:
			return False
		if kind == "employee":
			return employee == key
		high = high or low
		teams = self.tree(key)
		return any(
			team in teams and who == employee and start <= high and (end is None or end >= low)
			for team, who, start, end in self.memberships
		)

	def case_collector(self, case, own):
		return self.cases[case].collector if case in self.cases else own

	def case_loan(self, case):
		return self.cases[case].loan if case in self.cases else None

	def active_cases(self, subject, start, end) -> list:
		"""Cases open at the period start or opened in the period that count for the subject."""
		out = []
		for c in self.cases.values():
			if c.opened > end or (c.closed is not None and c.closed < start):
				continue
			low, high = max(c.opened, start), min(c.closed, end) if c.closed else end
			if self.counts(subject, employee=c.collector, low=low, high=high, loan=c.loan):
				out.append(c)
		return out

	def successes(self, subject, start, end) -> list:
		"""Cases that became Cured or Paid Off in the period (on their closing date)."""
		return [
			c
			for c in self.cases.values()
			if c.status in ("Cured", "Paid Off")
			and c.closed is not None
			and start <= c.closed <= end
			and c.opened <= c.closed
			and self.counts(subject, employee=c.collector, low=c.closed, loan=c.loan)
		]

	def recoveries_in(self, subject, start, end) -> list:
		return [
			r
			for r in self.recoveries
			if start <= r.on <= end
			and self.counts(
				subject,
				employee=self.case_collector(r.case, r.collector),
				low=r.on,
				loan=r.loan or self.case_loan(r.case),
			)
		]

	# -- the metrics

	def value(self, code: str, subject, period=PERIOD, baseline=BASELINE) -> float | None:
		return getattr(self, code)(subject, *period, baseline)

	def _npl_at(self, subject, as_of) -> float | None:
		dates = [on for _loan, on, _out, _cls in self.snapshots if on <= as_of]
		if not dates:
			return None
		last = max(dates)
		if subject[0] == "portfolio":
			loans = {loan for loan in self.loan_team if self.counts(subject, loan=loan)}
		else:  # people: the loans of the subject's cases active on the snapshot date
			loans = {
				c.loan
				for c in self.cases.values()
				if c.opened <= last
				and (c.closed is None or c.closed >= last)
				and self.counts(subject, employee=c.collector, low=last)
			}
		rows = [(out, cls) for loan, on, out, cls in self.snapshots if on == last and loan in loans]
		total = sum(out for out, _cls in rows)
		if total <= 0:
			return None
		return sum(out for out, cls in rows if cls in NPL) / total * 100

	def npl_ratio(self, subject, start, end, baseline):
		return self._npl_at(subject, end)

	def npl_ratio_reduction(self, subject, start, end, baseline):
		if not baseline:
			return None
		before, after = self._npl_at(subject, baseline[1]), self._npl_at(subject, end)
		return None if before is None or after is None else before - after

	def _recovery_rate(self, subject, start, end):
		denominator = sum(c.entry for c in self.active_cases(subject, start, end))
		if denominator <= 0:
			return None
		return sum(r.amount for r in self.recoveries_in(subject, start, end)) / denominator * 100

	def recovery_rate(self, subject, start, end, baseline):
		return self._recovery_rate(subject, start, end)

	def recovery_rate_improvement(self, subject, start, end, baseline):
		if not baseline:
			return None
		now, before = self._recovery_rate(subject, start, end), self._recovery_rate(subject, *baseline)
		return None if now is None or before is None else now - before

	def collection_success_rate(self, subject, start, end, baseline):
		return _percent(len(self.successes(subject, start, end)), len(self.active_cases(subject, start, end)))

	def avg_collection_cycle_days(self, subject, start, end, baseline):
		return _mean([(c.closed - c.opened).days for c in self.successes(subject, start, end)])

	def ptp_kept_rate(self, subject, start, end, baseline):
		kept = total = 0
		for a in self.actions:
			if not (a.ptp_amount > 0 and a.ptp_date and start <= a.ptp_date <= end):
				continue
			acted = a.on.date()
			collector, loan = self.case_collector(a.case, a.collector), self.case_loan(a.case)
			if not self.counts(subject, employee=collector, low=acted, loan=loan):
				continue
			paid = sum(
				r.amount
				for r in self.recoveries_of_case[a.case]
				if acted <= r.on <= a.ptp_date + dt.timedelta(days=3)
			)
			total += 1
			kept += paid >= 0.95 * a.ptp_amount - 1e-6
		return _percent(kept, total)

	def right_party_contact_rate(self, subject, start, end, baseline):
		# the metric: "actions with contact_result Right Party ÷ Call and Visit actions". Legal actions reach
		# the right party too; counting them over Call/Visit only could exceed 100 %, so the numerator is
		# the Call and Visit actions that reached the right party (the engine's documented reading).
		hits = total = 0
		for a in self.actions:
			if a.type not in ("Call", "Visit") or not (start <= a.on.date() <= end):
				continue
			collector, loan = self.case_collector(a.case, a.collector), self.case_loan(a.case)
			if self.counts(subject, employee=collector, low=a.on.date(), loan=loan):
				total += 1
				hits += a.contact == "Right Party"
		return _percent(hits, total)

	def recovered_amount(self, subject, start, end, baseline):
		# No denominator: a subject without any case in the period and without recoveries has no data.
		recovered = self.recoveries_in(subject, start, end)
		if not recovered and not self.active_cases(subject, start, end):
			return None
		return sum(r.amount for r in recovered)

	def warning_precision(self, subject, start, end, baseline):
		judged = [
			a
			for a in self.alerts
			if start <= a.on <= end
			and a.outcome in ("Confirmed", "False Alarm")
			and self.counts(subject, employee=a.officer, low=a.on, loan=a.loan)
		]
		return _percent(sum(a.outcome == "Confirmed" for a in judged), len(judged))

	def warning_recall(self, subject, start, end, baseline):
		first = {}
		for loan, on, _out, cls in self.snapshots:
			if cls in NPL and (loan not in first or on < first[loan]):
				first[loan] = on
		turned = {loan: day for loan, day in first.items() if start <= day <= end}
		lookback = dt.timedelta(days=90)
		if subject[0] == "portfolio":
			loans = [loan for loan in turned if self.counts(subject, loan=loan)]
			caught = [
				loan
				for loan in loans
				if any(
					a.loan == loan and turned[loan] - lookback <= a.on <= turned[loan] for a in self.alerts
				)
			]
			return _percent(len(caught), len(loans))
		# People: the NPL loans the subject raised an alert on (from 90 days before up to the period end);
		# caught when one of those alerts came no later than the first NPL snapshot.
		involved, caught = set(), set()
		for a in self.alerts:
			if a.loan not in turned or not (turned[a.loan] - lookback <= a.on <= end):
				continue
			if self.counts(subject, employee=a.officer, low=a.on):
				involved.add(a.loan)
				if a.on <= turned[a.loan]:
					caught.add(a.loan)
		return _percent(len(caught), len(involved))

	def risk_report_quality(self, subject, start, end, baseline):
		ratings = [
			a.rating / 5 * 100
			for a in self.assessments
			if a.rating
			and start <= a.on <= end
			and self.counts(subject, employee=a.author, low=a.on, loan=a.loan)
		]
		return _mean(ratings)

	def risk_event_handling_hours(self, subject, start, end, baseline):
		hours = [
			(e.resolved - e.reported).total_seconds() / 3600
			for e in self.events
			if e.resolved is not None
			and e.reported is not None
			and start <= e.resolved.date() <= end
			and e.resolved >= e.reported
			and self.counts(subject, employee=e.handler, low=e.resolved.date(), loan=e.loan)
		]
		return _mean(hours)

	def _tickets_opened(self, subject, start, end) -> list:
		return [
			t
			for t in self.tickets
			if start <= t.opened.date() <= end
			and self.counts(subject, employee=t.agent, low=t.opened.date(), loan=t.loan)
		]

	def ticket_resolution_rate(self, subject, start, end, baseline):
		opened = self._tickets_opened(subject, start, end)
		resolved = [t for t in opened if t.resolved is not None and t.resolved.date() <= end]
		return _percent(len(resolved), len(opened))

	def first_response_minutes(self, subject, start, end, baseline):
		return _mean(
			[
				(t.first_response - t.opened).total_seconds() / 60
				for t in self._tickets_opened(subject, start, end)
				if t.first_response is not None and t.first_response >= t.opened
			]
		)

	def _feedback(self, subject, start, end) -> list:
		return [
			f
			for f in self.feedback
			if start <= f.on <= end
			and self.counts(
				subject,
				employee=self.case_collector(f.case, f.employee),
				low=f.on,
				loan=self.case_loan(f.case) if f.case else self.ticket_loan.get(f.ticket),
			)
		]

	def customer_satisfaction(self, subject, start, end, baseline):
		return _mean([f.csat / 5 * 100 for f in self._feedback(subject, start, end)])

	def customer_loyalty_nps(self, subject, start, end, baseline):
		given = self._feedback(subject, start, end)
		if not given:
			return None
		promoters = sum(f.nps >= 9 for f in given)
		detractors = sum(f.nps <= 6 for f in given)
		return (promoters - detractors) / len(given) * 100

	def team_satisfaction(self, subject, start, end, baseline):
		ratings, respondents = [], 0
		for s in self.surveys:
			if subject[0] == "portfolio":
				counts = s["team"] in self.tree(subject[1])
			else:
				counts = self.counts(subject, employee=s["respondent"], low=start, high=end)
			if counts:
				ratings += [s["fairness"], s["clarity"], s["motivation"], s["workload"]]
				respondents += 1
		# fewer than three answers: no value (survey anonymity)
		return _mean(ratings) / 5 * 100 if ratings and respondents >= 3 else None


# ------------------------------------------------------------------------------------ site helpers


def _site_values(code, cache, loaded, kinds=("employee", "team", "portfolio")) -> dict:
	"""The site path's value of `code` for every employee and team: {(kind, key or team): float}."""
	headers = [
		frappe._dict(employee=loaded.employee_of[row.key], pl_team=row.team)
		for row in loaded.ds.employees.itertuples()
	]
	builder = SubjectBuilder(headers)
	key_of = {name: key for key, name in loaded.employee_of.items()}
	out = {}
	for kind in kinds:
		engine_kind = {"employee": EMPLOYEE, "team": TEAM_PEOPLE, "portfolio": PORTFOLIO}[kind]
		series = compute_metric(code, cache, builder.frame(engine_kind))
		for subject, value in series.items():
			out[(kind, key_of.get(subject, subject))] = float(value)
	return out


def _mismatches(code, site: dict, ref: Reference, **kwargs) -> list[str]:
	problems = []
	for subject, got in site.items():
		expected = ref.value(code, subject, **kwargs)
		if expected is None:
			if not math.isnan(got):
				problems.append(f"{code} {subject}: expected no data (NaN), site gave {got!r}")
		elif math.isnan(got) or got != pytest.approx(expected, rel=1e-9, abs=1e-9):
			problems.append(f"{code} {subject}: expected {expected!r}, site gave {got!r}")
	return problems


def _coverage(code, site: dict, ds) -> tuple[int, int]:
	"""How many employees of the metric's layer and how many teams have a value."""
	layer_keys = set(ds.employees.loc[ds.employees["layer"] == METRIC_LAYER[code], "key"])
	people = sum(
		1 for (kind, key), v in site.items() if kind == "employee" and key in layer_keys and not math.isnan(v)
	)
	teams = sum(1 for (kind, _key), v in site.items() if kind != "employee" and not math.isnan(v))
	return people, teams


def _insert_surveys(ds, cycle: str, employee_of: dict) -> list[dict]:
	rows = frames.records(ds.surveys)
	for row in rows:
		frappe.get_doc(
			{
				"doctype": "PL Satisfaction Survey",
				"review_cycle": cycle,
				"respondent": employee_of[row["respondent"]],
				"pl_team": row["team"],
				"fairness": row["fairness"],
				"clarity": row["clarity"],
				"motivation": row["motivation"],
				"workload": row["workload"],
				"suggestion": row["suggestion"],
			}
		).insert(ignore_permissions=True)
	return rows


def _team(ds, layer: str, number: int = 1) -> str:
	return ds.teams.loc[ds.teams["layer"] == layer, "team_name"].iloc[number - 1]


def _make_cycle(ds, collection_template: str = "Collection - Default", name: str = CYCLE) -> str:
	templates = {layer: f"{layer} - Default" for layer in ("Management", "Risk Control", "Customer Service")}
	templates["Collection"] = collection_template
	frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": name,
			"company": COMPANY,
			"period_start": PERIOD[0],
			"period_end": PERIOD[1],
			"baseline_start": BASELINE[0],
			"baseline_end": BASELINE[1],
			"templates": [{"layer": layer, "template": t} for layer, t in templates.items()],
			"teams": [{"pl_team": t} for t in ds.teams["team_name"]],
		}
	).insert(ignore_permissions=True)
	open_cycle(name)
	return name


@contextmanager
def _counting_sql():
	"""Count every statement sent through frappe.db.sql (frappe.qb, get_all, bulk writes all use it)."""
	db = frappe.local.db
	original = db.sql
	statements: list[str] = []

	def counting(query, *args, **kwargs):
		statements.append(str(query))
		return original(query, *args, **kwargs)

	db.sql = counting
	try:
		yield statements
	finally:
		del db.sql


# ------------------------------------------------------------------------------------------ tests


def test_seventeen_data_metrics_match_hand_computation(loaded):
	"""Every metric but team_satisfaction, for every employee (subject = employee), every team's people
	and every team's portfolio, through the SQL loaders + engine, equals the hand computation."""
	ds = loaded.ds
	ref = Reference(ds)
	cache = FrameCache(Window(*PERIOD, *BASELINE))
	problems, coverage = [], {}
	for code in CODES:
		if code == "team_satisfaction":
			continue
		site = _site_values(code, cache, loaded)
		problems += _mismatches(code, site, ref)
		coverage[code] = _coverage(code, site, ds)
	print("\nsubjects with data per metric (employees of the layer, teams):", coverage)
	assert not problems, "\n".join(problems)
	# each metric was checked on real values for at least two employees and one team
	thin = {code: c for code, c in coverage.items() if code not in ("npl_ratio", "npl_ratio_reduction")}
	assert all(people >= 2 and teams >= 1 for people, teams in thin.values()), thin
	assert all(teams >= 2 for _people, teams in (coverage["npl_ratio"], coverage["npl_ratio_reduction"]))

	# no data is NaN, never 0: a risk officer has no collection cases, a service team manages no loans
	officer = loaded.employee_of[ds.employees.loc[ds.employees["layer"] == "Risk Control", "key"].iloc[0]]
	collectors = SubjectBuilder([frappe._dict(employee=officer, pl_team=None)]).frame(EMPLOYEE)
	for code in ("collection_success_rate", "recovery_rate", "avg_collection_cycle_days", "ptp_kept_rate"):
		assert math.isnan(compute_metric(code, cache, collectors)[officer]), code
	service = _team(ds, "Customer Service")
	portfolio = SubjectBuilder([frappe._dict(employee=None, pl_team=service)]).frame(PORTFOLIO)
	assert math.isnan(compute_metric("npl_ratio", cache, portfolio)[service])
	assert ref.npl_ratio(("portfolio", service), *PERIOD, None) is None
	# without a baseline, the "improvement" metrics have no data
	no_baseline = FrameCache(Window(*PERIOD))
	root = _team(ds, "Management")
	root_portfolio = SubjectBuilder([frappe._dict(employee=None, pl_team=root)]).frame(PORTFOLIO)
	for code in ("npl_ratio_reduction", "recovery_rate_improvement"):
		assert math.isnan(compute_metric(code, no_baseline, root_portfolio)[root]), code
	# a period before any data: zero denominators everywhere
	empty = FrameCache(Window(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
	site = _site_values("collection_success_rate", empty, loaded, kinds=("employee",))
	assert site and all(math.isnan(v) for v in site.values())


def test_team_satisfaction_from_the_cycle_survey(loaded):
	"""team_satisfaction reads the surveys of the review cycle: portfolio teams by the survey's team,
	people teams by the respondents' memberships, employees by their own answers; never fewer than three."""
	ds = loaded.ds
	cycle = _make_cycle(ds)
	surveys = _insert_surveys(ds, cycle, loaded.employee_of)
	ref = Reference(ds, surveys=surveys)
	site = _site_values("team_satisfaction", FrameCache(Window(*PERIOD, *BASELINE), cycle), loaded)
	problems = _mismatches("team_satisfaction", site, ref)
	assert not problems, "\n".join(problems)
	root = _team(ds, "Management")
	every_rating = ds.surveys[["fairness", "clarity", "motivation", "workload"]].to_numpy()
	assert site[("portfolio", root)] == pytest.approx(every_rating.mean() / 5 * 100)
	# an employee's own answer alone is below the minimum of three answers
	assert all(math.isnan(v) for (kind, _k), v in site.items() if kind == "employee")
	assert any(not math.isnan(site[("team", t)]) for t in ds.teams["team_name"])
	# the survey belongs to its cycle: without the cycle there is no data
	other = _site_values("team_satisfaction", FrameCache(Window(*PERIOD)), loaded, kinds=("portfolio",))
	assert all(math.isnan(v) for v in other.values())
	# a later cycle is scored before its own survey exists: it reads the latest earlier survey
	later = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": "_Test PLM Later Cycle",
			"company": COMPANY,
			"period_start": getdate(PERIOD[1]) + dt.timedelta(days=1),
			"period_end": getdate(PERIOD[1]) + dt.timedelta(days=91),
			"templates": [{"layer": "Management", "template": "Management - Default"}],
			"teams": [{"pl_team": root}],
		}
	).insert(ignore_permissions=True)
	later_window = Window(later.period_start, later.period_end)
	reused = _site_values(
		"team_satisfaction", FrameCache(later_window, later.name), loaded, kinds=("portfolio",)
	)
	assert reused[("portfolio", root)] == pytest.approx(site[("portfolio", root)])


# ------------------------------------------------------------------------- appraisals end to end


def _linear(actual, direction, threshold, target, stretch, floor=60.0, cap=120.0) -> float:
	"""The Linear rule (docs/scheme.md), written out for the expected scores."""
	if direction == "Lower is Better":
		actual, threshold, target = -actual, -threshold, -target
		stretch = None if stretch is None else -stretch
	if actual >= target:
		if stretch is None:
			return 100.0
		if actual >= stretch:
			return cap
		return 100 + (actual - target) / (stretch - target) * (cap - 100)
	if actual >= threshold:
		return floor + (actual - threshold) / (target - threshold) * (100 - floor)
	return 0.0


def _collection_scheme(ds) -> dict:
	"""A Formula, a Server Script and a Manual KPI in a custom Collection template; a newcomer without
	any case joins the first collection team at the period start."""
	frappe.get_doc(
		{
			"doctype": "Server Script",
			"name": SERVER_SCRIPT,
			"script_type": "API",
			"api_method": "plm_test_visit_count",
			"script": VISIT_SCRIPT,
		}
	).insert(ignore_permissions=True)
	for code, name, unit, method, extra in (
		(FORMULA_KPI, "PTP and Contact", "%", "Formula", {"formula": FORMULA}),
		(SCRIPT_KPI, "Field Visits", "count", "Server Script", {"server_script": SERVER_SCRIPT}),
		(MANUAL_KPI, "File Quality", "points", "Manual", {}),
	):
		frappe.get_doc(
			{
				"doctype": "PL KPI",
				"kpi_code": code,
				"kpi_name": name,
				"layer": "Collection",
				"category": "Quantitative",
				"unit": unit,
				"direction": "Higher is Better",
				"subject": "Employee",
				"method": method,
				**extra,
			}
		).insert(ignore_permissions=True)
	template = frappe.copy_doc(frappe.get_doc("PL KPI Template", "Collection - Default"))
	template.template_name = COLLECTION_TEMPLATE
	template.company = ""
	template.is_default = template.is_standard = 0
	template.set("items", [])
	for kpi, weight, threshold, target, stretch in (
		("COL-SUCCESS-RATE", 25, 30.0, 50.0, 70.0),
		("COL-CYCLE-DAYS", 15, 60.0, 30.0, 15.0),
		("COL-CSAT", 15, 60.0, 80.0, 90.0),
		(FORMULA_KPI, 15, 40.0, 60.0, 80.0),
		(SCRIPT_KPI, 15, 2.0, 5.0, 10.0),
		(MANUAL_KPI, 15, 50.0, 80.0, 100.0),
	):
		template.append(
			"items",
			{
				"kpi": kpi,
				"weight": weight,
				"scoring_method": "Linear",
				"threshold": threshold,
				"target": target,
				"use_stretch": 1,
				"stretch": stretch,
			},
		)
	template.insert(ignore_permissions=True)
	newcomer = make_employee("_Test PLM Newcomer")
	team = frappe.get_doc("PL Team", _team(ds, "Collection"))
	team.append("members", {"employee": newcomer, "from_date": PERIOD[0]})
	team.save(ignore_permissions=True)
	return {"newcomer": newcomer, "team": team.name}


def _enable_server_scripts(monkeypatch):
	# Frappe 15 reads server_script_enabled from common_site_config.json only (is_safe_exec_enabled), which
	# is shared by every site and engineer: patch the check instead of the file. frappe.conf is set too for
	# versions that read the site config.
	import frappe.utils.safe_exec as safe_exec_module

	monkeypatch.setitem(frappe.conf, "server_script_enabled", True)
	monkeypatch.setattr(safe_exec_module, "is_safe_exec_enabled", lambda: True)


@pytest.fixture
def no_stale_script_map():
	yield
	frappe.cache.delete_value("server_script_map")  # built while our uncommitted script existed


def _lines(cycle: str) -> dict[str, dict]:
	rows = frappe.db.sql(
		"""select kpi.name, kpi.parent, kpi.kpi, kpi.method, kpi.direction, kpi.weight, kpi.threshold,
			kpi.target, kpi.stretch, kpi.use_stretch, kpi.actual, kpi.no_data, kpi.achievement, kpi.score,
			kpi.weighted_score, kpi.data_date, a.employee, a.pl_team, a.layer
		from `tabPL Appraisal KPI` kpi join `tabPL Appraisal` a on a.name = kpi.parent
		where a.review_cycle = %s and kpi.parenttype = 'PL Appraisal'""",
		cycle,
		as_dict=True,
	)
	return {row.name: row for row in rows}


def _headers(cycle: str) -> dict[str, dict]:
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle},
		fields=[
			"name",
			"employee",
			"layer",
			"quantitative_score",
			"qualitative_score",
			"total_score",
			"grade",
		],
	)
	return {row.name: row for row in rows}


def _versions(names) -> int:
	return frappe.db.count("Version", {"ref_doctype": "PL Appraisal", "docname": ("in", list(names))})


def test_appraisals_compute_end_to_end(loaded, monkeypatch, no_stale_script_map):
	"""A cycle over the generated teams (default templates, and a Collection template with Formula,
	Server Script and Manual KPIs): the whitelisted endpoint for one appraisal, then the whole cycle.
	Every line equals the hand computation and scores by the Linear rule; recomputing changes nothing."""
	ds = loaded.ds
	_enable_server_scripts(monkeypatch)
	scheme = _collection_scheme(ds)
	cycle = _make_cycle(ds, COLLECTION_TEMPLATE)
	created = create_appraisals(cycle)
	assert created["created"] == len(ds.employees) + 1
	key_of = {name: key for key, name in loaded.employee_of.items()}
	headers = _headers(cycle)
	by_employee = {h.employee: h.name for h in headers.values()}
	collection = sorted(h.name for h in headers.values() if h.layer == "Collection")

	# a value typed on the Manual KPI line of one collector
	typed = next(name for name in collection if headers[name].employee != scheme["newcomer"])
	doc = frappe.get_doc("PL Appraisal", typed)
	line = next(row for row in doc.kpis if row.kpi == MANUAL_KPI)
	assert line.no_data == 1  # an untyped Manual line has no data, so it cannot score 0 by accident
	line.actual, line.no_data, line.note = MANUAL_VALUE, 0, "File audit, 30 files checked"
	doc.save(ignore_permissions=True)

	# one appraisal through the whitelisted endpoint, as the scheme owner
	from postloan_performance.api import compute_appraisal

	frappe.set_user(make_user("plm-manager@plp.test", ["PL Performance Manager"]))
	answer = compute_appraisal(appraisal=typed)
	frappe.set_user("Administrator")
	assert answer["appraisals"] == 1 and answer["changed_appraisals"] == 1
	lines = _lines(cycle)
	assert all(row.data_date for row in lines.values() if row.parent == typed and row.method != "Manual")
	assert not any(row.data_date for row in lines.values() if row.parent != typed)

	# then the whole cycle
	result = compute_appraisals(review_cycle=cycle)
	assert result["appraisals"] == len(headers)
	lines = _lines(cycle)
	ref = Reference(ds)
	metric_of = dict(frappe.get_all("PL KPI", fields=["name", "builtin_metric"], as_list=True))
	subject_of = dict(frappe.get_all("PL KPI", fields=["name", "subject"], as_list=True))
	actions = ds.actions.assign(day=ds.actions["action_on"].dt.date)
	problems, no_data, checked = [], 0, defaultdict(int)
	for row in lines.values():
		key = key_of.get(row.employee)  # None for the newcomer: no generated rows at all
		if subject_of[row.kpi] == "Team":
			subject = ("portfolio" if row.layer == "Management" else "team", row.pl_team)
		else:
			subject = ("employee", key)
		if row.method == "Built-in":
			expected = ref.value(metric_of[row.kpi], subject)
		elif row.method == "Formula":
			ptp, contact = ref.value("ptp_kept_rate", subject), ref.value("right_party_contact_rate", subject)
			expected = None if ptp is None or contact is None else 0.5 * ptp + 0.5 * contact
		elif row.method == "Server Script":
			visits = actions[
				(actions["collector"] == key)
				& (actions["action_type"] == "Visit")
				& (actions["day"] >= PERIOD[0])
				& (actions["day"] <= PERIOD[1])
			]
			expected = float(len(visits))
		else:  # Manual: keeps what was typed; the untyped ones stay without data
			expected = MANUAL_VALUE if row.parent == typed else None
		checked[row.method] += 1
		if expected is None:
			no_data += 1
			if not (row.no_data == 1 and row.score == 0 and row.weighted_score == 0):
				problems.append(
					f"{row.parent} {row.kpi}: expected no data, got {row.actual} (no_data={row.no_data})"
				)
			continue
		if row.no_data or row.actual != pytest.approx(expected, rel=1e-6, abs=1e-6):
			problems.append(
				f"{row.parent} {row.kpi}: expected {expected}, got {row.actual} (no_data={row.no_data})"
			)
			continue
		score = _linear(
			expected, row.direction, row.threshold, row.target, row.stretch if row.use_stretch else None
		)
		if row.score != pytest.approx(score, abs=1e-6) or row.weighted_score != pytest.approx(
			score * row.weight / 100, abs=1e-6
		):
			problems.append(
				f"{row.parent} {row.kpi}: actual {expected} should score {score}, got {row.score}"
			)
		if row.method != "Manual" and not (row.data_date and getdate(row.data_date) <= PERIOD[1]):
			problems.append(f"{row.parent} {row.kpi}: data_date {row.data_date}")
	assert not problems, "\n".join(problems)
	print(f"\nlines checked by method: {dict(checked)}, no-data lines: {no_data}")
	assert checked["Server Script"] == checked["Formula"] == len(collection)
	assert no_data > 0
	newcomer_lines = [r for r in lines.values() if r.employee == scheme["newcomer"]]
	assert all(r.no_data for r in newcomer_lines if r.method in ("Built-in", "Formula"))
	assert next(r.actual for r in newcomer_lines if r.method == "Server Script") == 0

	# quantitative score: Σ weight × score ÷ Σ weight over the lines with data
	headers = _headers(cycle)
	for name, header in headers.items():
		own = [r for r in lines.values() if r.parent == name and not r.no_data]
		expected = sum(r.weight * r.score for r in own) / sum(r.weight for r in own) if own else 0
		assert header.quantitative_score == pytest.approx(expected, abs=1e-6), name

	# recomputing changes nothing and records no new Version
	before_versions = _versions(headers)
	assert before_versions >= len(headers)  # the first computation was recorded
	again = compute_appraisals(review_cycle=cycle)
	assert again["changed_appraisals"] == 0
	assert _lines(cycle) == lines
	assert _headers(cycle) == headers
	assert _versions(headers) == before_versions

	# only the scheme owner (or a System Manager) may recompute
	frappe.set_user(make_user("plm-appraisee@plp.test", ["PL Appraisee"]))
	with pytest.raises(frappe.PermissionError):
		compute_appraisal(appraisal=by_employee[scheme["newcomer"]])
	frappe.set_user("Administrator")


def test_compute_query_count_does_not_grow_with_appraisals(loaded, monkeypatch, no_stale_script_map):
	"""Statements sent by compute_appraisals: the same KPIs for 9 appraisals instead of 1, or 18 instead of
	4, cost no more queries (only bulk-write chunks of 500 rows could add some)."""
	ds = loaded.ds
	_enable_server_scripts(monkeypatch)
	_collection_scheme(ds)
	cycle = _make_cycle(ds, COLLECTION_TEMPLATE)
	create_appraisals(cycle)
	headers = sorted(_headers(cycle).values(), key=lambda h: h.name)
	by_layer = defaultdict(list)
	for h in headers:
		by_layer[h.layer].append(h.name)
	# warm caches (meta, table columns, imports) on the first appraisal of each layer, then measure others
	compute_appraisals(names=[names[0] for names in by_layer.values()])

	def measured(**kwargs):
		with _counting_sql() as statements:
			result = compute_appraisals(**kwargs)
		return len(statements), result

	one_collection, r1 = measured(names=[by_layer["Collection"][1]])
	all_collection, r2 = measured(names=by_layer["Collection"])
	one_per_layer, r3 = measured(names=[names[1] for names in by_layer.values()])
	whole_cycle, r4 = measured(review_cycle=cycle)
	unchanged, r5 = measured(review_cycle=cycle)
	print(
		f"\nqueries: 1 collection appraisal {one_collection} (writes {r1['statements']}), "
		f"all {r2['appraisals']} collection appraisals {all_collection} (writes {r2['statements']}); "
		f"1 per layer ({r3['appraisals']}) {one_per_layer}, whole cycle ({r4['appraisals']}) {whole_cycle}; "
		f"whole cycle again, nothing changed: {unchanged} (writes {r5['statements']})"
	)
	assert r2["appraisals"] > 5 * r1["appraisals"] and r4["appraisals"] > 4 * r3["appraisals"]
	# same KPIs and frames, more appraisals: only bulk-write chunks may add statements
	assert all_collection - one_collection <= 4
	assert whole_cycle - one_per_layer <= 4
	assert unchanged <= whole_cycle and r5["changed_appraisals"] == 0


def test_portfolio_npl_reads_the_monthly_summary_and_follows_snapshot_changes(loaded, monkeypatch):
	"""Team-portfolio NPL sums come from PL Portfolio Month (built on demand for the two dates), equal the
	sums over the snapshots, and change when a snapshot is edited through the DocType."""
	from postloan_performance.services import portfolio_frames, portfolio_months

	ds = loaded.ds
	teams = sorted(ds.loans["managing_team"].dropna().unique())
	portfolio = SubjectBuilder([frappe._dict(employee=None, pl_team=t) for t in teams]).frame(PORTFOLIO)
	dates = [dt.date(2025, 9, 30), dt.date(2025, 6, 30)]

	def both_ways():
		from_summary = compute_metric(
			"npl_ratio_reduction", FrameCache(Window(*PERIOD, *BASELINE)), portfolio
		)
		with monkeypatch.context() as patch:
			patch.setattr(portfolio_months, "ready", lambda: False)
			from_snapshots = compute_metric(
				"npl_ratio_reduction", FrameCache(Window(*PERIOD, *BASELINE)), portfolio
			)
		return from_summary, from_snapshots

	summary, raw = both_ways()
	assert summary.notna().sum() >= 2
	pd.testing.assert_series_equal(summary, raw)
	built = frappe.db.sql(
		"select distinct month_end from `tabPL Portfolio Month` where kind = 'Snapshot'", pluck=True
	)
	assert set(dates) <= {getdate(d) for d in built}
	assert portfolio_frames._snapshot_totals_from_summary(dates) and sorted(
		portfolio_frames._snapshot_totals_from_summary(dates)
	) == sorted((str(d), t, c, v) for d, t, c, v in portfolio_frames._snapshot_totals_from_snapshots(dates))

	# a performing loan of a team is classified Loss at the period end: the team's NPL there goes up
	name, team = frappe.db.sql(
		"""select s.name, l.managing_team from `tabPL Loan Snapshot` s join `tabPL Loan` l on l.name = s.loan
		where s.as_of_date = '2025-09-30' and s.classification = 'Normal' and s.outstanding > 0
		and l.managing_team in %(teams)s order by s.outstanding desc limit 1""",
		{"teams": tuple(teams)},
	)[0]
	snapshot = frappe.get_doc("PL Loan Snapshot", name)
	snapshot.manual_classification = "Loss"
	snapshot.classification_reason = "Borrower deceased, no estate"
	snapshot.save()
	assert snapshot.classification == "Loss"
	after, raw_after = both_ways()
	pd.testing.assert_series_equal(after, raw_after)
	assert after[team] < summary[team]  # reduction = before − after: the period-end NPL went up
	assert (after.drop(team).fillna(-1) == summary.drop(team).fillna(-1)).all()
