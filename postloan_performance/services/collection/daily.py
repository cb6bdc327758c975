"""The daily step for one snapshot date: open, escalate and close cases, assign them, write set-wise."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from frappe import _
from frappe.utils import getdate

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import delinquency, row_rules
from postloan_performance.services import daily_jobs as ops
from postloan_performance.services import portfolio_months
from postloan_performance.services.bulk import bulk_update
from postloan_performance.services.collection.reading import (
	last_round_robin,
	last_scores,
	members_on,
	read_day,
)
from postloan_performance.services.collection.strategy import (
	CASE,
	choose_strategy,
	load_strategies,
	rule_end_bucket,
	rule_of,
)

# a case opened today has every column of a case (engine/row_rules/specs.py) but those it gets later
NOT_AT_OPENING = {"closed_on", "escalated_on", "propensity_score"}

# --- the daily step ----------------------------------------------------------------------------------


def case_name(loan: str, as_of: dt.date) -> str:
	return f"{loan}-{as_of:%Y%m%d}"


def process_date(as_of: dt.date | str, progress=ops.no_progress) -> dict:
	"""Open, escalate, re-bucket and close the collection cases of one snapshot date; assign new work."""
	as_of = getdate(as_of)
	progress(0.02, _("Reading snapshots and open cases of {0}").format(as_of))
	snaps, cases = read_day(as_of)
	if snaps.empty:
		progress(1.0)
		return {"loans": 0}
	frame = snaps.merge(cases, on="loan", how="left")
	frame["case_bucket"] = frame["case_bucket"].fillna(-1).astype(np.int64)
	decided = delinquency.case_decisions(
		frame["dpd"].to_numpy(),
		frame["outstanding"].to_numpy(),
		frame["loan_status"].to_numpy(),
		frame["case_bucket"].to_numpy(),
		frame["prev_dpd"].to_numpy(),
	)
	frame["decision"] = decided["decision"].to_numpy()
	frame["bucket"] = decided["bucket"].to_numpy()
	frame["reason"] = decided["reason"].to_numpy()
	frame["bucket_label"] = delinquency.bucket_labels(frame["bucket"].to_numpy())
	frame["overdue_amount"] = pd.to_numeric(frame["overdue_amount"], errors="coerce").fillna(0.0).round(2)
	progress(0.15, _("Deciding for {0} loans").format(len(frame)))
	summary = {"loans": len(frame), **{d: 0 for d in delinquency.DECISIONS if d != delinquency.NONE}}
	summary.update(frame["decision"].value_counts().reindex(list(summary)[1:], fill_value=0).to_dict())

	# 1. closings
	closing = frame[frame["decision"].isin(tuple(delinquency.CLOSING_STATUS))]
	if len(closing):
		values = [
			(delinquency.CLOSING_STATUS[d], as_of, b or None, as_of)
			for d, b in zip(closing["decision"], closing["bucket_label"], strict=True)
		]
		ops.update_grouped(
			CASE,
			closing["case"].tolist(),
			values,
			("status", "closed_on", "current_bucket", "last_evaluated_on"),
		)
		amounts = pd.to_numeric(closing["current_overdue_amount"], errors="coerce").round(2)
		changed = closing[(amounts != closing["overdue_amount"]).to_numpy()]
		bulk_update(
			CASE,
			{
				case: {"current_overdue_amount": float(amount)}
				for case, amount in zip(changed["case"], changed["overdue_amount"], strict=True)
			},
		)
	progress(0.3, _("Closed {0} cases").format(len(closing)))

	# 2. open cases that stay open: bucket and amount follow the loan
	staying = frame[frame["case"].notna() & frame["decision"].isin((delinquency.NONE, delinquency.REBUCKET))]
	current = pd.to_numeric(staying["current_overdue_amount"], errors="coerce").fillna(-1.0).round(2)
	moved = (staying["current_bucket"].fillna("") != staying["bucket_label"].fillna("")) | (
		current != staying["overdue_amount"]
	)
	updates = {
		row.case: {"current_bucket": row.bucket_label, "current_overdue_amount": float(row.overdue_amount)}
		for row in staying[moved.to_numpy()].itertuples(index=False)
	}
	bulk_update(CASE, updates)
	if len(staying):
		ops.update_grouped(CASE, staying["case"].tolist(), [(as_of,)] * len(staying), ("last_evaluated_on",))

	# 3. who needs a collector: new cases, and escalations into another rule
	strategies = load_strategies()
	work = frame[frame["decision"].isin((delinquency.OPEN, delinquency.ESCALATE))].copy()
	scope = {
		key: choose_strategy(strategies, key[0], key[1])
		for key in set(zip(work["company"].fillna(""), work["product"].fillna(""), strict=True))
	}
	rules, cache = [], {}
	for company, product, number in zip(work["company"], work["product"], work["bucket"], strict=True):
		key = (company or "", product or "", int(number))
		if key not in cache:
			cache[key] = rule_of(strategies, scope[key[:2]], key[2])
		rules.append(cache[key])
	work["rule"] = rules
	# an escalation moves the case on when the loan leaves the range of the case's rule (to a later rule);
	# a case without a known rule (e.g. imported) is assigned by the strategy on its first escalation
	rule_end = np.array([rule_end_bucket(r) for r in work["strategy_rule"]], dtype=float)
	rule_end = np.nan_to_num(rule_end, nan=-1.0)
	work["reassign"] = (work["decision"] == delinquency.OPEN) | (work["bucket"] > rule_end)
	work["team"] = [r.team or t or "" for r, t in zip(rules, work["managing_team"], strict=True)]
	work["name"] = np.where(
		work["decision"] == delinquency.OPEN,
		[case_name(loan, as_of) for loan in work["loan"]],
		work["case"].fillna(""),
	)
	progress(0.4, _("Assigning {0} cases").format(int(work["reassign"].sum())))
	assigned = assign_batches(work[work["reassign"]], cases, frame, as_of)
	progress(0.75, _("Writing cases"))

	# 4. writes: new cases, re-assigned and escalated ones
	opened = work[work["decision"] == delinquency.OPEN]
	case = row_rules.SPECS[CASE]
	fields = ["name", *(f for f in (*case.columns, *case.managed) if f not in NOT_AT_OPENING)]
	rows = []
	for row in opened.itertuples(index=False):
		a = assigned[row.name]
		values = {
			"name": row.name,
			"case_no": row.name,
			"loan": row.loan,
			"collector": a["collector"],
			"pl_team": a["team"],
			"status": row.rule.case_status or "Open",
			"opened_on": as_of,
			"entry_bucket": row.bucket_label,
			"entry_overdue_amount": float(row.overdue_amount),
			"current_bucket": row.bucket_label,
			"current_overdue_amount": float(row.overdue_amount),
			"last_evaluated_on": as_of,
			"escalation_count": 0,
			"strategy": row.rule.strategy,
			"strategy_rule": row.rule.label,
			"action_type": row.rule.action_type,
			"assignment_method": row.rule.method,
			"assigned_on": as_of,
			"assignment_note": a["note"],
		}
		rows.append(tuple(values[f] for f in fields))
	ops.insert_rows(CASE, fields, rows)
	if len(closing) or len(opened):  # the Portfolio Quality Trend summary counted the active cases
		portfolio_months.invalidate_collections([as_of])
	if len(closing):  # the summary's Case rows count the closed cases in their opening months
		portfolio_months.invalidate_cases(closing["opened_on"])
	escalated = work[work["decision"] == delinquency.ESCALATE]
	updates = {}
	for row in escalated.itertuples(index=False):
		values = {
			"current_bucket": row.bucket_label,
			"current_overdue_amount": float(row.overdue_amount),
			"escalated_on": as_of,
			"escalation_count": int(row.escalation_count or 0) + 1,
			"last_evaluated_on": as_of,
		}
		if row.reassign:  # the case moves on to the later rule: its team, collector, action and status
			if row.rule.case_status:
				values["status"] = row.rule.case_status
			a = assigned[row.name]
			values.update(
				action_type=row.rule.action_type,
				collector=a["collector"],
				pl_team=a["team"],
				strategy=row.rule.strategy,
				strategy_rule=row.rule.label,
				assignment_method=row.rule.method,
				assigned_on=as_of,
				assignment_note=a["note"],
			)
		updates[row.case] = values
	bulk_update(CASE, updates)
	if ops.setting("enable_propensity_model", 0):
		from postloan_performance.services.propensity import score_open_cases

		summary["scored"] = score_open_cases()
	progress(1.0, _("Done"))
	summary["reassigned"] = int((escalated["reassign"]).sum()) if len(escalated) else 0
	summary["unassigned"] = sum(1 for a in assigned.values() if not a["collector"])
	return {k: int(v) if isinstance(v, np.integer | int) else v for k, v in summary.items()}


def assign_batches(work: pd.DataFrame, cases: pd.DataFrame, frame: pd.DataFrame, as_of: dt.date) -> dict:
	"""Collector and note of each case of ``work`` (by case name), batch by batch (strategy, rule, team)."""
	if work.empty:
		return {}
	teams = sorted({t for t in work["team"] if t})
	members = members_on(teams, as_of)
	# loads: open cases that stay with their collector today (closings and re-assignments removed)
	leaving = set(frame.loc[frame["decision"].isin(tuple(delinquency.CLOSING_STATUS)), "case"].dropna())
	leaving |= set(work["case"].dropna())
	today = frame.set_index("case")["overdue_amount"] if "case" in frame else pd.Series(dtype=float)
	staying = cases[~cases["case"].isin(leaving) & cases["collector"].notna()].copy()
	amount = staying["case"].map(today[today.index.notna()])
	fallback = pd.to_numeric(staying["current_overdue_amount"], errors="coerce").fillna(
		pd.to_numeric(staying["entry_overdue_amount"], errors="coerce")
	)
	staying["amount"] = amount.fillna(fallback).fillna(0.0)
	load_cases: dict[str, int] = defaultdict(int, staying.groupby("collector").size().to_dict())
	load_amount: dict[str, float] = defaultdict(float, staying.groupby("collector")["amount"].sum().to_dict())
	methods = {r.method for r in work["rule"]}
	scores = (
		last_scores(sorted(set(members["employee"])), as_of)
		if assign_engine.PERFORMANCE_WEIGHTED in methods
		else {}
	)
	last = last_round_robin(as_of) if assign_engine.ROUND_ROBIN in methods else {}
	names = dict(zip(members["employee"], members["employee_name"], strict=True))
	by_team = {team: group for team, group in members.groupby("team")}
	result = {}
	work = work.assign(_rule_key=[r.key for r in work["rule"]]).sort_values(["team", "_rule_key", "name"])
	for (team, _key), batch in work.groupby(["team", "_rule_key"], sort=True, dropna=False):
		rule = batch["rule"].iloc[0]
		team = team or None
		people = by_team.get(team) if team else None
		if people is not None and not rule.include_leads and (~people["is_lead"]).any():
			people = people[~people["is_lead"]]
		head = _("Rule {0} of strategy {1}: {2}, assigned by {3} within team {4}.").format(
			rule.label,
			rule.strategy or _("built-in default"),
			_(rule.action_type),
			_(rule.method),
			team or "-",
		)
		if people is None or people.empty:
			why = _("No active member of team {0} on {1}: left unassigned.").format(team or "-", as_of)
			for row in batch.itertuples(index=False):
				result[row.name] = {
					"collector": None,
					"team": team,
					"note": f"{_case_reason(row, as_of)} {why} {head}",
				}
			continue
		candidates = [
			assign_engine.Candidate(
				key,
				int(load_cases.get(key, 0)),
				float(load_amount.get(key, 0.0)),
				scores.get(key),
			)
			for key in sorted(people["employee"])
		]
		outcome = assign_engine.assign(
			rule.method,
			batch["overdue_amount"].tolist(),
			candidates,
			last=last.get((team, rule.strategy or "", rule.label)),
			floor_pct=rule.floor_pct,
			cap_pct=rule.cap_pct,
			seed=assign_engine.seed_for(as_of, team, rule.strategy or "", rule.label),
		)
		explained = _explain(outcome, names, len(batch))
		for row, collector in zip(batch.itertuples(index=False), outcome.collectors, strict=True):
			load_cases[collector] += 1
			load_amount[collector] += float(row.overdue_amount)
			chosen = _("Assigned to {0}.").format(_person(collector, names))
			result[row.name] = {
				"collector": collector,
				"team": team,
				"note": f"{_case_reason(row, as_of)} {chosen} {head} {explained}",
			}
	return result


def _person(key: str, names: dict) -> str:
	name = names.get(key)
	return f"{key} ({name})" if name and name != key else key


def _case_reason(row, as_of: dt.date) -> str:
	if row.decision == delinquency.OPEN:
		if row.reason == "delinquent":
			return _("Opened: the loan was {0} on {1} without an open case.").format(row.bucket_label, as_of)
		return _("Opened: the loan entered {0} on {1}.").format(row.bucket_label, as_of)
	return _("Escalated from {0} to {1} on {2}; re-assigned because rule {3} applies now.").format(
		row.current_bucket or row.entry_bucket or "-", row.bucket_label, as_of, row.rule.label
	)


def _explain(outcome: assign_engine.Assignment, names: dict, n: int) -> str:
	people = outcome.candidates
	if outcome.method == assign_engine.ROUND_ROBIN:
		return _("Turn order: {0}; the previous case went to {1}.").format(
			", ".join(_person(p["key"], names) for p in people),
			_person(outcome.details["after"], names) if outcome.details.get("after") else _("nobody"),
		)
	if outcome.method == assign_engine.WORKLOAD_BALANCED:
		return _(
			"Each case went to the lowest weighted load (an average open case counts 1). Loads before: {0}."
		).format(
			"; ".join(
				_("{0}: {1} open cases, load {2}").format(
					_person(p["key"], names), p["open_cases"], f"{p['load']:.2f}"
				)
				for p in people
			)
		)
	return _(
		"Shares from the last published scores, at least {0}% and at most {1}% of an equal share: {2}."
	).format(
		f"{outcome.details['floor_pct']:g}",
		f"{outcome.details['cap_pct']:g}",
		"; ".join(
			_("{0}: score {1}, share {2}, {3} of {4} cases").format(
				_person(p["key"], names),
				"-" if p["score"] is None else f"{p['score']:.2f}",
				f"{p['share']:.1%}",
				p["cases"],
				n,
			)
			for p in people
		),
	)
