"""Deterministic synthetic post-loan data: organisation, loans, monthly snapshots and the post-loan work.

Pure numpy + pandas (no frappe). ``generate(seed)`` returns a :class:`Dataset` of DataFrames whose columns
are the DocType field names of the post-loan DocTypes (``name`` is the document name); employee-valued
columns hold employee *keys* ("E0001" …) that the site loader maps to Employee documents. The same seed
and arguments always give identical frames.

Model:

* **Organisation** – one root management team, optional sub-management teams, and collection, risk-control
  and customer-service teams under them; the first member of every team is its lead. A few collectors move
  to another collection team mid-period (the old membership ends the day before the new one starts).
* **Loans** – products with their own principal, term, rate, collateral and risk; annuity amortisation.
* **Snapshots** – one per loan per month-end, simulated month by month for all loans at once: buckets move by
  a Markov roll-rate matrix (M0→M1 ≈ 4 %, M1 cure ≈ 55 %, deeper buckets roll more, M6+ mostly stays or is
  written off); a collector's skill raises the cure and lowers the roll probability of his cases. Loans
  settle early (status Settled, a last snapshot with outstanding 0) or are written off (last snapshot with
  outstanding 0, status Written Off).
* **Cases** open the day a loan first falls overdue, go to a collector of the loan's managing team who is a
  member that day, and close as Cured / Paid Off / Written Off, or are handed to Legal / Outsourced.
* **Actions, promises to pay and recoveries** are generated per case-month, consistent with the month's
  outcome (a cure is a payment; a promise made in a rolling month is mostly broken).
* **Alerts** are raised days or weeks before loans turn NPL (Confirmed) plus false alarms; **events**,
  **assessments**, **tickets**, **customer feedback** and one **survey** per employee complete the set.

Everything after ``as_of`` (default: the last month-end) is cut off: later rows are dropped, later
closing dates become NaT (cases reopen, tickets are unresolved, alerts Pending).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from postloan_performance.datagen.collection_work import _collection_work
from postloan_performance.datagen.common import (
	_ascii,
	_ascii_rows,
	_Calendar,
	_codes,
	_dates,
	_datetimes,
	_day,
	_frame,
	_object,
	_pick,
	_rng,
	_to_date,
	bucket_of,
	classification_of,
)
from postloan_performance.datagen.loans import _Loans
from postloan_performance.datagen.organisation import LayerSpec, OrgSpec, _Org
from postloan_performance.datagen.risk_service import (
	SUGGESTIONS,
	_alerts,
	_assessments,
	_events,
	_rating,
	_tickets,
)
from postloan_performance.datagen.schema import (
	BRANCHES,
	COLUMNS,
	DAY_SECONDS,
	NO_DAY,
	PRODUCTS,
	Dataset,
)
from postloan_performance.datagen.simulation import _Simulation
from postloan_performance.engine.delinquency import (
	BUCKETS,
	CLASSIFICATIONS,
)
from postloan_performance.engine.names import LAYERS

__all__ = [
	"BUCKETS",
	"CLASSIFICATIONS",
	"COLUMNS",
	"LAYERS",
	"Dataset",
	"LayerSpec",
	"OrgSpec",
	"bucket_of",
	"classification_of",
	"generate",
]


# --------------------------------------------------------------------------------------------- generate


def generate(
	seed: int = 42,
	*,
	start: str | dt.date = "2025-07-01",
	months: int = 12,
	n_loans: int = 300,
	org: OrgSpec | None = None,
	as_of: dt.date | None = None,
) -> Dataset:
	"""Generate the synthetic post-loan dataset (see the module docstring). Deterministic in all arguments.

	``start``: first day of the data (month-end snapshots from its month on); ``months``: number of
	month-ends; ``as_of``: the data's "today" (default: the last month-end); nothing later is reported.
	"""
	if months < 1:
		raise ValueError("months must be >= 1")
	if n_loans < 0:
		raise ValueError("n_loans must be >= 0")
	spec = org if org is not None else OrgSpec()
	cal = _Calendar(_to_date(start), months)
	cutoff = int(cal.month_end[-1]) if as_of is None else _day(_to_date(as_of))
	organisation = _Org(spec, cal, _rng(seed, 1))
	loans = _Loans(n_loans, organisation, cal, _rng(seed, 2))
	sim = _Simulation(loans, organisation, cal, _rng(seed, 3))
	cm = sim.case_months.get()
	actions, recoveries = _collection_work(cm, organisation, _rng(seed, 4))
	return _Assembler(organisation, loans, sim, cal, cutoff, seed).build(actions, recoveries)


class _Assembler:
	"""Censors at the cut-off date and builds the frames."""

	def __init__(
		self, org: _Org, loans: _Loans, sim: _Simulation, cal: _Calendar, cutoff: int, seed: int
	) -> None:
		self.org, self.loans, self.sim, self.cal, self.cutoff, self.seed = org, loans, sim, cal, cutoff, seed
		self.team_names = np.array(org.team_name, dtype=object)
		self.keys = org.emp_key
		self.loan_no = _codes("L", loans.n, 6)
		self.customers = _codes("C", loans.n, 6)[loans.customer] if loans.n else np.zeros(0, dtype=object)

	def build(self, actions: dict, recoveries: dict) -> Dataset:
		org, cal = self.org, self.cal
		cases, case_number = self._cases(actions)
		frames = {
			**self._organisation(),
			"loans": self._loans(),
			"snapshots": self._snapshots(),
			"cases": cases,
			"actions": self._actions(actions, case_number),
			"recoveries": self._recoveries(recoveries, case_number),
			"alerts": self._alerts(_alerts(self.sim, org, cal, _rng(self.seed, 5))),
			"events": self._events(_events(self.loans, org, cal, _rng(self.seed, 6))),
			"assessments": self._assessments(_assessments(self.loans, org, cal, _rng(self.seed, 7))),
		}
		tickets, ticket_info = self._tickets(_tickets(self.loans, org, cal, _rng(self.seed, 8)))
		frames["tickets"] = tickets
		frames["customer_feedback"] = self._feedback(case_number, ticket_info, _rng(self.seed, 9))
		frames["surveys"] = self._surveys(frames["employees"], _rng(self.seed, 10))
		return Dataset(**frames)

	# -- organisation

	def _organisation(self) -> dict[str, pd.DataFrame]:
		org, cutoff = self.org, self.cutoff
		known = org.m_from <= cutoff
		m_to = np.where(known & (org.m_to != NO_DAY) & (org.m_to < cutoff), org.m_to, NO_DAY)
		m_team, m_emp, m_from = org.m_team[known], org.m_employee[known], org.m_from[known]
		m_to = m_to[known]
		order = np.lexsort((m_from, m_emp))
		m_team, m_emp, m_from, m_to = m_team[order], m_emp[order], m_from[order], m_to[order]
		current = org.emp_home.copy()
		current[m_emp] = m_team  # the latest membership wins (sorted by from_date)
		memberships = _frame(
			"memberships",
			{
				"team": self.team_names[m_team],
				"employee_key": self.keys[m_emp],
				"from_date": _dates(m_from),
				"to_date": _dates(m_to),
			},
		)
		employees = _frame(
			"employees",
			{
				"key": self.keys,
				"first_name": org.emp_name,
				"layer": org.emp_layer,
				"team": self.team_names[current],
				"is_lead": org.emp_lead,
			},
		)
		parent = [None if p < 0 else org.team_name[p] for p in org.team_parent]
		lead = [None if e < 0 else str(self.keys[e]) for e in org.team_lead]
		teams = _frame(
			"teams",
			{
				"team_name": self.team_names,
				"layer": np.array(org.team_layer, dtype=object),
				"parent_pl_team": _object(parent),
				"lead_key": _object(lead),
				"is_group": np.array(org.team_is_group, dtype=np.int64),
			},
		)
		return {"employees": employees, "teams": teams, "memberships": memberships}

	# -- loans and snapshots

	def _loans(self) -> pd.DataFrame:
		loans, sim = self.loans, self.sim
		finished = sim.term_day <= self.cutoff
		status = np.where(
			finished & (sim.term_status == 1),
			"Settled",
			np.where(finished & (sim.term_status == 2), "Written Off", "Active"),
		)
		team = self.org.layer_teams["Collection"]
		return _frame(
			"loans",
			{
				"name": self.loan_no,
				"loan_no": self.loan_no,
				"customer": self.customers,
				"product": _pick(PRODUCTS, loans.product),
				"branch": _pick(BRANCHES, loans.branch),
				"managing_team": self.team_names[np.array(team, dtype=np.int64)[loans.team]]
				if loans.n
				else np.zeros(0, object),
				"disbursed_on": _dates(loans.disbursed),
				"principal": loans.principal,
				"maturity_date": _dates(loans.maturity),
				"collateral_value": loans.collateral,
				"status": status.astype(object),
			},
		)

	def _snapshots(self) -> pd.DataFrame:
		snap = self.sim.snapshots.get()
		day = self.cal.month_end[snap["month"]]
		keep = day <= self.cutoff
		order = np.lexsort((snap["month"][keep], snap["loan"][keep]))
		loan = snap["loan"][keep][order]
		month = snap["month"][keep][order]
		# name = f"{loan}-{as_of_date:%Y-%m-%d}", assembled from ASCII rows (millions of rows)
		labels = _ascii_rows(["-" + str(np.datetime64(int(d), "D")) for d in self.cal.month_end])
		loan_no = self.loan_no[loan]
		names = _ascii(np.hstack([_ascii_rows(self.loan_no)[loan], labels[month]])) if len(loan) else loan_no
		return _frame(
			"snapshots",
			{
				"name": names,
				"loan": loan_no,
				"as_of_date": _dates(self.cal.month_end[month]),
				"outstanding": np.round(snap["outstanding"][keep][order], 2),
				"overdue_amount": np.round(snap["overdue"][keep][order], 2),
				"dpd": snap["dpd"][keep][order].astype(np.int64),
				"bucket": _pick(BUCKETS, snap["bucket"][keep][order]),
				"classification": _pick(CLASSIFICATIONS, classification_of(snap["dpd"][keep][order])),
			},
		)

	# -- collection

	def _cases(self, actions: dict) -> tuple[pd.DataFrame, np.ndarray]:
		"""Cases opened by the cut-off, numbered by opening date; returns also internal id → case number."""
		raw = self.sim.cases.get()
		closures = self.sim.closures.get()
		n = len(raw["loan"])
		close_day = np.full(n, NO_DAY, dtype=np.int64)
		status = np.full(n, "", dtype=object)
		close_day[closures["case"]] = closures["day"]
		status[closures["case"]] = closures["status"]
		reopened = (close_day != NO_DAY) & (close_day > self.cutoff)
		close_day[reopened] = NO_DAY
		status[reopened] = ""
		# status of open cases from their last action up to the cut-off
		acted = actions["second"] < (self.cutoff + 1) * DAY_SECONDS
		case_of_action = actions["case"][acted]
		if len(case_of_action):
			last = np.flatnonzero(np.r_[case_of_action[1:] != case_of_action[:-1], True])
			has_actions = np.zeros(n, dtype=bool)
			has_actions[case_of_action] = True
			promised = np.zeros(n, dtype=bool)
			ptp_date = actions["ptp_date"][acted][last]
			promised[case_of_action[last]] = (ptp_date != NO_DAY) & (ptp_date >= self.cutoff - 3)
		else:
			has_actions = promised = np.zeros(n, dtype=bool)
		open_status = np.where(promised, "Promise to Pay", np.where(has_actions, "In Progress", "Open"))
		status = np.where(status == "", open_status, status).astype(object)
		keep = raw["opened"] <= self.cutoff
		ids = np.flatnonzero(keep)
		ids = ids[np.lexsort((raw["loan"][ids], raw["opened"][ids]))]
		number = np.full(n, -1, dtype=np.int64)
		number[ids] = np.arange(len(ids))
		self.case_names = _codes("K", len(ids), 6)
		self.case_raw, self.case_close, self.case_status = raw, close_day, status
		frame = _frame(
			"cases",
			{
				"name": self.case_names,
				"case_no": self.case_names,
				"loan": self.loan_no[raw["loan"][ids]],
				"opened_on": _dates(raw["opened"][ids]),
				"closed_on": _dates(close_day[ids]),
				"entry_bucket": _pick(BUCKETS, raw["entry_bucket"][ids]),
				"entry_overdue_amount": raw["entry_overdue"][ids],
				"collector": self.keys[raw["collector"][ids]],
				"pl_team": self.team_names[raw["team"][ids]],
				"status": status[ids],
			},
		)
		return frame, number

	def _actions(self, actions: dict, number: np.ndarray) -> pd.DataFrame:
		keep = (actions["second"] < (self.cutoff + 1) * DAY_SECONDS) & (number[actions["case"]] >= 0)
		case = number[actions["case"][keep]]
		order = np.lexsort((actions["second"][keep], case))
		pick = np.flatnonzero(keep)[order]
		return _frame(
			"actions",
			{
				"reference": _codes("ACT", len(pick), 7),
				"collection_case": self.case_names[number[actions["case"][pick]]],
				"collector": self.keys[actions["collector"][pick]],
				"action_type": actions["kind"][pick],
				"action_on": _datetimes(actions["second"][pick]),
				"contact_result": actions["contact"][pick],
				"outcome": actions["outcome"][pick],
				"ptp_amount": np.round(actions["ptp_amount"][pick], 2),
				"ptp_date": _dates(actions["ptp_date"][pick]),
			},
		)

	def _recoveries(self, recoveries: dict, number: np.ndarray) -> pd.DataFrame:
		keep = (
			(recoveries["day"] <= self.cutoff)
			& (number[recoveries["case"]] >= 0)
			& (recoveries["amount"] > 0)
		)
		pick = np.flatnonzero(keep)
		pick = pick[np.lexsort((number[recoveries["case"][pick]], recoveries["day"][pick]))]
		return _frame(
			"recoveries",
			{
				"reference": _codes("REC", len(pick), 7),
				"loan": self.loan_no[recoveries["loan"][pick]],
				"collection_case": self.case_names[number[recoveries["case"][pick]]],
				"collector": self.keys[recoveries["collector"][pick]],
				"amount": np.round(recoveries["amount"][pick], 2),
				"received_on": _dates(recoveries["day"][pick]),
			},
		)

	# -- risk and service

	def _alerts(self, alerts: dict) -> pd.DataFrame:
		if not alerts:
			return _frame("alerts", {})
		keep = np.flatnonzero(alerts["raised"] <= self.cutoff)
		keep = keep[np.lexsort((alerts["loan"][keep], alerts["raised"][keep]))]
		later = (alerts["outcome_day"][keep] == NO_DAY) | (alerts["outcome_day"][keep] > self.cutoff)
		return _frame(
			"alerts",
			{
				"reference": _codes("ALR", len(keep), 7),
				"loan": self.loan_no[alerts["loan"][keep]],
				"rule": alerts["rule"][keep],
				"severity": alerts["severity"][keep],
				"raised_on": _dates(alerts["raised"][keep]),
				"officer": self.keys[alerts["officer"][keep]],
				"outcome": np.where(later, "Pending", alerts["outcome"][keep]).astype(object),
				"outcome_on": _dates(np.where(later, NO_DAY, alerts["outcome_day"][keep])),
			},
		)

	def _events(self, events: dict) -> pd.DataFrame:
		if not events:
			return _frame("events", {})
		limit = (self.cutoff + 1) * DAY_SECONDS
		keep = events["reported"] < limit
		resolved = events["resolved"][keep]
		return _frame(
			"events",
			{
				"reference": _codes("EVT", int(keep.sum()), 7),
				"loan": self.loan_no[events["loan"][keep]],
				"event_type": events["type"][keep],
				"reported_on": _datetimes(events["reported"][keep]),
				"resolved_on": _datetimes(np.where(resolved < limit, resolved, NO_DAY)),
				"handler": self.keys[events["handler"][keep]],
			},
		)

	def _assessments(self, rows: dict) -> pd.DataFrame:
		if not rows:
			return _frame("assessments", {})
		keep = rows["day"] <= self.cutoff
		count = int(keep.sum())
		return _frame(
			"assessments",
			{
				"reference": _codes("ASM", count, 7),
				"loan": self.loan_no[rows["loan"][keep]],
				"portfolio": _object([None] * count),
				"author": self.keys[rows["author"][keep]],
				"report_date": _dates(rows["day"][keep]),
				"quality_rating": rows["quality"][keep],
				"reviewer": self.keys[rows["reviewer"][keep]],
			},
		)

	def _tickets(self, rows: dict) -> tuple[pd.DataFrame, dict]:
		if not rows:
			return _frame("tickets", {}), {}
		limit = (self.cutoff + 1) * DAY_SECONDS
		keep = rows["opened"] < limit
		first = np.where(rows["first_response"][keep] < limit, rows["first_response"][keep], NO_DAY)
		resolved = np.where(rows["resolved"][keep] < limit, rows["resolved"][keep], NO_DAY)
		closed = (resolved != NO_DAY) & (resolved < limit - 7 * DAY_SECONDS)
		status = np.where(resolved == NO_DAY, "Open", np.where(closed, "Closed", "Resolved")).astype(object)
		references = _codes("TKT", int(keep.sum()), 7)
		loan = rows["loan"][keep]
		frame = _frame(
			"tickets",
			{
				"reference": references,
				"customer": self.customers[loan],
				"loan": self.loan_no[loan],
				"channel": rows["channel"][keep],
				"agent": self.keys[rows["agent"][keep]],
				"status": status,
				"opened_on": _datetimes(rows["opened"][keep]),
				"first_response_on": _datetimes(first),
				"resolved_on": _datetimes(resolved),
			},
		)
		info = {"reference": references, "loan": loan, "agent": rows["agent"][keep], "resolved": resolved}
		return frame, info

	def _feedback(self, number: np.ndarray, tickets: dict, rng: np.random.Generator) -> pd.DataFrame:
		org, raw = self.org, self.case_raw
		# on cases: after the case closed, or while it is open
		ids = np.flatnonzero(number >= 0)
		ids = ids[np.argsort(number[ids], kind="stable")]
		ids = ids[rng.random(len(ids)) < 0.3]
		closed = self.case_close[ids]
		given = np.where(
			closed != NO_DAY,
			closed + rng.integers(1, 8, len(ids)),
			raw["opened"][ids] + rng.integers(3, 31, len(ids)),
		)
		status = self.case_status[ids]
		mood = np.select(
			[np.isin(status, ("Cured", "Paid Off")), np.isin(status, ("Written Off", "Legal", "Outsourced"))],
			[0.5, -0.6],
			0.0,
		)
		collector = raw["collector"][ids]
		case_csat, case_nps = _rating(rng, 3.5 + 0.45 * org.emp_skill[collector] + mood)
		# on resolved tickets
		if tickets:
			resolved = np.flatnonzero(tickets["resolved"] != NO_DAY)
			resolved = resolved[rng.random(len(resolved)) < 0.45]
			agent = tickets["agent"][resolved]
			t_given = tickets["resolved"][resolved] // DAY_SECONDS + rng.integers(0, 5, len(resolved))
			t_csat, t_nps = _rating(rng, 3.8 + 0.45 * org.emp_skill[agent])
			t_loan, t_ref = tickets["loan"][resolved], tickets["reference"][resolved]
		else:
			agent = t_given = t_csat = t_nps = t_loan = np.zeros(0, dtype=np.int64)
			t_ref = np.zeros(0, dtype=object)
		n_case, n_ticket = len(ids), len(agent)
		given_all = np.concatenate([given, t_given]).astype(np.int64)
		keep = np.flatnonzero(given_all <= self.cutoff)
		keep = keep[np.argsort(given_all[keep], kind="stable")]
		loan = np.concatenate([raw["loan"][ids], t_loan]).astype(np.int64)
		case_ref = np.concatenate([self.case_names[number[ids]], np.full(n_ticket, None, dtype=object)])
		ticket_ref = np.concatenate([np.full(n_case, None, dtype=object), t_ref.astype(object)])
		return _frame(
			"customer_feedback",
			{
				"reference": _codes("FBK", len(keep), 7),
				"customer": self.customers[loan[keep]],
				"employee": self.keys[np.concatenate([collector, agent]).astype(np.int64)[keep]],
				"collection_case": _object(case_ref[keep]),
				"ticket": _object(ticket_ref[keep]),
				"csat": np.concatenate([case_csat, t_csat]).astype(np.int64)[keep],
				"nps": np.concatenate([case_nps, t_nps]).astype(np.int64)[keep],
				"given_on": _dates(given_all[keep]),
			},
		)

	def _surveys(self, employees: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
		org = self.org
		n = org.n_employees
		team_mood = rng.normal(0.0, 0.4, len(org.team_name))[org.emp_home]
		base = np.array([3.6, 3.8, 3.5, 3.0])
		ratings = np.clip(np.round(base + team_mood[:, None] + rng.normal(0.0, 0.7, (n, 4))), 1, 5).astype(
			np.int64
		)
		return _frame(
			"surveys",
			{
				"respondent": self.keys,
				"team": employees["team"].to_numpy(),
				"fairness": ratings[:, 0],
				"clarity": ratings[:, 1],
				"motivation": ratings[:, 2],
				"workload": ratings[:, 3],
				"suggestion": _pick(SUGGESTIONS, rng.integers(0, len(SUGGESTIONS), n)),
			},
		)
