"""Automated collection: the daily case lifecycle, assignment by strategy, and the collectors' queues.

:func:`process_date` is the daily job's step for one snapshot date S (see ``services.post_loan_ops``):

1. three queries read the snapshots of S with their loans, the open cases, and the previous snapshot date's
   dpd; ``engine.delinquency.case_decisions`` decides per loan: open, escalate, rebucket, cure, pay off,
   write off or nothing (a loan never gets a second open case);
2. closings and bucket/amount changes are written set-wise (grouped UPDATEs);
3. new cases and escalations that move to another strategy rule are grouped by (strategy, rule, team) and
   assigned by ``engine.assignment`` (Round Robin, Workload Balanced, Performance Weighted) among the
   team's members active on S; every assignment gets a note naming the rule, the method and the
   candidates' loads, shares or turn order;
4. new cases are bulk-inserted (deterministic names ``{loan}-{S:%Y%m%d}``, INSERT IGNORE), re-assigned
   escalations bulk-updated.

Case dates are the snapshot date S (the day the delinquency was observed), not the day the job runs.
Running S again changes nothing. Nothing here commits.

:func:`my_queue` lists a collector's open cases by priority (``engine.assignment.queue_priority``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, nowdate

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import delinquency as engine
from postloan_performance.engine import frames
from postloan_performance.services import portfolio_months
from postloan_performance.services import post_loan_ops as ops
from postloan_performance.services.bulk import bulk_update

CASE = "PL Collection Case"
STRATEGY = "PL Collection Strategy"
PUBLISHED_STATES = ("Published", "Acknowledged", "Appealed")
DEFAULT_ACTION = "Call"


# --- strategies --------------------------------------------------------------------------------------


@dataclass
class Rule:
	strategy: str | None
	label: str
	from_bucket: str
	to_bucket: str
	action_type: str
	method: str
	team: str | None
	case_status: str | None
	floor_pct: float | None
	cap_pct: float | None
	include_leads: bool

	@property
	def key(self) -> str:
		return f"{self.strategy or ''}\x1f{self.label}"


def rule_label(from_bucket: str, to_bucket: str) -> str:
	return from_bucket if from_bucket == to_bucket else f"{from_bucket}–{to_bucket}"


def rule_end_bucket(label) -> int | None:
	"""The last bucket number a rule label ("M1–M2", "M3", "M3–M6+") covers; None when unknown."""
	if not isinstance(label, str) or not label:
		return None
	last = label.split("–")[-1].strip()
	return engine.BUCKETS.index(last) if last in engine.BUCKETS else None


DEFAULT_RULES = [
	Rule(
		None,
		rule_label("M1", "M6+"),
		"M1",
		"M6+",
		DEFAULT_ACTION,
		assign_engine.ROUND_ROBIN,
		None,
		None,
		None,
		None,
		False,
	)
]


def strategy_message(error: assign_engine.AssignmentError) -> str:
	d = error.details
	messages = {
		"no_rules": lambda: _("Add at least one rule."),
		"unknown_bucket": lambda: _("Row {0}: {1} is not a delinquent bucket (M1 to M6+).").format(
			d.get("row"), escape_html(str(d.get("bucket")))
		),
		"bucket_order": lambda: _("Row {0}: From Bucket must not be after To Bucket.").format(d.get("row")),
		"unknown_method": lambda: _("Row {0}: unknown assignment method {1}.").format(
			d.get("row"), escape_html(str(d.get("method")))
		),
		"floor_cap": lambda: _(
			"Row {0}: the floor must be between 0 and 100% and the cap at least 100% of an equal share (got {1}% and {2}%)."
		).format(d.get("row"), d.get("floor"), d.get("cap")),
		"overlap": lambda: _("Row {0}: bucket {1} is already covered by row {2}.").format(
			d.get("row"), d.get("bucket"), d.get("other")
		),
		"gap": lambda: _("No rule covers {0}: the rules must cover M1 to M6+.").format(
			", ".join(d.get("buckets", []))
		),
	}
	message = messages.get(error.code)
	return message() if message else _("Invalid collection strategy ({0}).").format(error.code)


def _ranges(rows) -> list[assign_engine.RuleRange]:
	return [
		assign_engine.RuleRange(
			r.get("from_bucket"),
			r.get("to_bucket"),
			r.get("assignment_method"),
			r.get("floor_pct") if r.get("floor_pct") not in (None, "") else None,
			r.get("cap_pct") if r.get("cap_pct") not in (None, "") else None,
		)
		for r in rows
	]


def validate_strategy(doc) -> None:
	"""PL Collection Strategy.validate: bucket ranges, methods, floor/cap; one enabled strategy per scope."""
	try:
		assign_engine.validate_rules(_ranges(doc.get("rules") or []))
	except assign_engine.AssignmentError as e:
		frappe.throw(strategy_message(e), title=_("Invalid Collection Strategy"))
	doc.product = (doc.product or "").strip() or None
	doc.company = doc.company or None  # "" and NULL both mean every company; stored as NULL
	if doc.enabled:
		clash = frappe.db.get_value(
			STRATEGY,
			{
				"enabled": 1,
				"name": ("!=", doc.name or ""),
				"company": doc.company or ("is", "not set"),
				"product": doc.product or ("is", "not set"),
			},
			"name",
		)
		if clash:
			frappe.throw(
				_(
					"Strategy {0} already applies to the same company and product; disable one of them."
				).format(escape_html(clash)),
				title=_("Invalid Collection Strategy"),
			)


def load_strategies() -> dict[str, dict]:
	"""Enabled strategies: name -> {company, product, rules: [Rule …] in row order}."""
	strategies = frappe.get_all(
		STRATEGY, filters={"enabled": 1}, fields=["name", "company", "product", "include_team_leads"]
	)
	if not strategies:
		return {}
	rows = frappe.get_all(
		"PL Collection Strategy Rule",
		filters={"parenttype": STRATEGY, "parent": ("in", [s.name for s in strategies])},
		fields=[
			"parent",
			"idx",
			"from_bucket",
			"to_bucket",
			"action_type",
			"assignment_method",
			"assign_to_team",
			"case_status",
			"floor_pct",
			"cap_pct",
		],
		order_by="parent asc, idx asc",
	)
	out = {
		s.name: {
			"company": s.company or None,
			"product": s.product or None,
			"leads": bool(s.include_team_leads),
			"rules": [],
		}
		for s in strategies
	}
	for r in rows:
		strategy = out[r.parent]
		strategy["rules"].append(
			Rule(
				r.parent,
				rule_label(r.from_bucket, r.to_bucket),
				r.from_bucket,
				r.to_bucket,
				r.action_type or DEFAULT_ACTION,
				r.assignment_method or assign_engine.ROUND_ROBIN,
				r.assign_to_team or None,
				r.case_status or None,
				r.floor_pct,
				r.cap_pct,
				strategy["leads"],
			)
		)
	return out


def choose_strategy(strategies: dict[str, dict], company: str | None, product: str | None) -> str | None:
	"""The most specific enabled strategy for a loan: product and company match > product > company > any."""
	best, best_rank = None, -1
	for name in sorted(strategies):
		s = strategies[name]
		if s["company"] and s["company"] != company:
			continue
		if s["product"] and s["product"] != product:
			continue
		rank = 2 * bool(s["product"]) + bool(s["company"])
		if rank > best_rank:
			best, best_rank = name, rank
	return best


def rule_of(strategies: dict[str, dict], strategy: str | None, bucket: int) -> Rule:
	rules = strategies[strategy]["rules"] if strategy else DEFAULT_RULES
	ranges = _ranges(
		[
			{"from_bucket": r.from_bucket, "to_bucket": r.to_bucket, "assignment_method": r.method}
			for r in rules
		]
	)
	index = assign_engine.rule_for_bucket(ranges, bucket)
	return rules[index] if index >= 0 else DEFAULT_RULES[0]


# --- reading -----------------------------------------------------------------------------------------


def _frame(rows, columns: list[str]) -> pd.DataFrame:
	return frames.from_rows(rows, columns)


def _bucket_number(labels: pd.Series) -> np.ndarray:
	lookup = {b: i for i, b in enumerate(engine.BUCKETS)}
	return labels.map(lookup).fillna(-1).astype(np.int64).to_numpy()


def read_day(as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""(snapshots of the day with loan fields and previous dpd, open cases: one row per loan)."""
	snaps = _frame(
		frappe.db.sql(
			"""select s.`loan`, s.`dpd`, s.`outstanding`, s.`overdue_amount`, l.`status`, l.`managing_team`,
				l.`product`, l.`company`
			from `tabPL Loan Snapshot` s join `tabPL Loan` l on l.`name` = s.`loan`
			where s.`as_of_date` = %s""",
			as_of,
		),
		[
			"loan",
			"dpd",
			"outstanding",
			"overdue_amount",
			"loan_status",
			"managing_team",
			"product",
			"company",
		],
	)
	previous_date = frappe.db.sql(
		"select max(`as_of_date`) from `tabPL Loan Snapshot` where `as_of_date` < %s", as_of
	)[0][0]
	if previous_date and len(snaps):
		prev = _frame(
			frappe.db.sql(
				"select `loan`, `dpd` from `tabPL Loan Snapshot` where `as_of_date` = %s", previous_date
			),
			["loan", "prev_dpd"],
		)
		snaps = snaps.merge(prev, on="loan", how="left")
	else:
		snaps["prev_dpd"] = np.nan
	statuses = ", ".join(frappe.db.escape(s) for s in engine.OPEN_CASE_STATUSES)
	cases = _frame(
		frappe.db.sql(
			f"""select `name`, `loan`, `collector`, `pl_team`, `status`, `opened_on`, `entry_bucket`,
				`current_bucket`, `entry_overdue_amount`, `current_overdue_amount`, `strategy`, `strategy_rule`,
				`escalation_count`, `action_type`
			from `tabPL Collection Case` where `status` in ({statuses}) and `opened_on` <= %s""",  # nosemgrep
			as_of,
		),
		[
			"case",
			"loan",
			"collector",
			"case_team",
			"case_status",
			"opened_on",
			"entry_bucket",
			"current_bucket",
			"entry_overdue_amount",
			"current_overdue_amount",
			"strategy",
			"strategy_rule",
			"escalation_count",
			"action_type",
		],
	)
	# a loan with several open cases (imported data): the latest is the one the job follows
	cases = cases.sort_values(["loan", "opened_on", "case"]).drop_duplicates("loan", keep="last")
	bucket = cases["current_bucket"].where(cases["current_bucket"].fillna("") != "", cases["entry_bucket"])
	cases["case_bucket"] = np.where(
		_bucket_number(bucket.fillna("")) >= 0, _bucket_number(bucket.fillna("")), 1
	)
	return snaps, cases


def members_on(teams: list[str], as_of: dt.date) -> pd.DataFrame:
	"""Active employees who are members of the teams on ``as_of`` (team, employee, name, is_lead)."""
	if not teams:
		return pd.DataFrame(columns=["team", "employee", "employee_name", "is_lead"])
	rows = frappe.db.sql(
		"""select m.`parent`, m.`employee`, e.`employee_name`, (t.`team_lead` = m.`employee`)
		from `tabPL Team Member` m
		join `tabPL Team` t on t.`name` = m.`parent`
		join `tabEmployee` e on e.`name` = m.`employee`
		where m.`parenttype` = 'PL Team' and m.`parent` in %(teams)s and m.`from_date` <= %(day)s
			and (m.`to_date` is null or m.`to_date` >= %(day)s) and e.`status` = 'Active'""",
		{"teams": tuple(teams), "day": as_of},
	)
	frame = _frame(rows, ["team", "employee", "employee_name", "is_lead"])
	frame["is_lead"] = frame["is_lead"].fillna(0).astype(bool)
	return frame.drop_duplicates(["team", "employee"])


def last_scores(employees: list[str], as_of: dt.date) -> dict[str, float]:
	"""Each employee's total score on his latest published, non-trial appraisal ending by ``as_of``."""
	if not employees:
		return {}
	rows = frappe.db.sql(
		"""select `employee`, `total_score` from (
			select `employee`, `total_score`, row_number() over (
				partition by `employee` order by `period_end` desc, `modified` desc) as rn
			from `tabPL Appraisal`
			where `employee` in %(employees)s and `status` in %(states)s and ifnull(`is_trial`, 0) = 0
				and `period_end` <= %(day)s
		) latest where rn = 1""",
		{"employees": tuple(employees), "states": PUBLISHED_STATES, "day": as_of},
	)
	return {employee: float(score) for employee, score in rows if score is not None}


def last_round_robin(as_of: dt.date) -> dict[tuple[str, str, str], str]:
	"""(team, strategy, rule) -> collector of the last Round Robin assignment on or before ``as_of``."""
	rows = frappe.db.sql(
		"""select `pl_team`, ifnull(`strategy`, ''), `strategy_rule`, `collector` from (
			select `pl_team`, `strategy`, `strategy_rule`, `collector`, row_number() over (
				partition by `pl_team`, `strategy`, `strategy_rule` order by `assigned_on` desc, `name` desc) as rn
			from `tabPL Collection Case`
			where `assignment_method` = %(method)s and `assigned_on` <= %(day)s and `collector` is not null
		) latest where rn = 1""",
		{"method": assign_engine.ROUND_ROBIN, "day": as_of},
	)
	return {(team, strategy, rule): collector for team, strategy, rule, collector in rows}


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
	decided = engine.case_decisions(
		frame["dpd"].to_numpy(),
		frame["outstanding"].to_numpy(),
		frame["loan_status"].to_numpy(),
		frame["case_bucket"].to_numpy(),
		frame["prev_dpd"].to_numpy(),
	)
	frame["decision"] = decided["decision"].to_numpy()
	frame["bucket"] = decided["bucket"].to_numpy()
	frame["reason"] = decided["reason"].to_numpy()
	frame["bucket_label"] = engine.bucket_labels(frame["bucket"].to_numpy())
	frame["overdue_amount"] = pd.to_numeric(frame["overdue_amount"], errors="coerce").fillna(0.0).round(2)
	progress(0.15, _("Deciding for {0} loans").format(len(frame)))
	summary = {"loans": len(frame), **{d: 0 for d in engine.DECISIONS if d != engine.NONE}}
	summary.update(frame["decision"].value_counts().reindex(list(summary)[1:], fill_value=0).to_dict())

	# 1. closings
	closing = frame[frame["decision"].isin(tuple(engine.CLOSING_STATUS))]
	if len(closing):
		values = [
			(engine.CLOSING_STATUS[d], as_of, b or None, as_of)
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
	staying = frame[frame["case"].notna() & frame["decision"].isin((engine.NONE, engine.REBUCKET))]
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
	work = frame[frame["decision"].isin((engine.OPEN, engine.ESCALATE))].copy()
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
	work["reassign"] = (work["decision"] == engine.OPEN) | (work["bucket"] > rule_end)
	work["team"] = [r.team or t or "" for r, t in zip(rules, work["managing_team"], strict=True)]
	work["name"] = np.where(
		work["decision"] == engine.OPEN,
		[case_name(loan, as_of) for loan in work["loan"]],
		work["case"].fillna(""),
	)
	progress(0.4, _("Assigning {0} cases").format(int(work["reassign"].sum())))
	assigned = assign_batches(work[work["reassign"]], cases, frame, as_of)
	progress(0.75, _("Writing cases"))

	# 4. writes: new cases, re-assigned and escalated ones
	opened = work[work["decision"] == engine.OPEN]
	fields = [
		"name",
		"case_no",
		"loan",
		"collector",
		"pl_team",
		"status",
		"opened_on",
		"entry_bucket",
		"entry_overdue_amount",
		"current_bucket",
		"current_overdue_amount",
		"last_evaluated_on",
		"escalation_count",
		"strategy",
		"strategy_rule",
		"action_type",
		"assignment_method",
		"assigned_on",
		"assignment_note",
	]
	rows = []
	for row in opened.itertuples(index=False):
		a = assigned[row.name]
		rows.append(
			(
				row.name,
				row.name,
				row.loan,
				a["collector"],
				a["team"],
				row.rule.case_status or "Open",
				as_of,
				row.bucket_label,
				float(row.overdue_amount),
				row.bucket_label,
				float(row.overdue_amount),
				as_of,
				0,
				row.rule.strategy,
				row.rule.label,
				row.rule.action_type,
				row.rule.method,
				as_of,
				a["note"],
			)
		)
	ops.insert_rows(CASE, fields, rows)
	if len(closing) or len(opened):  # the Portfolio Quality Trend summary counted the active cases
		portfolio_months.invalidate_collections([as_of])
	escalated = work[work["decision"] == engine.ESCALATE]
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
	leaving = set(frame.loc[frame["decision"].isin(tuple(engine.CLOSING_STATUS)), "case"].dropna())
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
	if row.decision == engine.OPEN:
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


# --- the collector's queue ---------------------------------------------------------------------------


def broken_promises(cases: list[str], today: dt.date) -> dict[str, int]:
	"""Per case: promises to pay due more than 3 days ago whose recoveries on the case from the promise
	to the due date + 3 days reached less than 95% of the promised amount (as in ptp_kept_rate)."""
	if not cases:
		return {}
	rows = frappe.db.sql(
		"""select a.`collection_case`, a.`ptp_amount`,
			(select ifnull(sum(r.`amount`), 0) from `tabPL Recovery` r
				where r.`collection_case` = a.`collection_case`
				and r.`received_on` between date(a.`action_on`) and date_add(a.`ptp_date`, interval 3 day)) as paid
		from `tabPL Collection Action` a
		where a.`collection_case` in %(cases)s and a.`ptp_amount` > 0 and a.`ptp_date` is not null
			and date_add(a.`ptp_date`, interval 3 day) < %(today)s""",
		{"cases": tuple(cases), "today": today},
	)
	out: dict[str, int] = defaultdict(int)
	for case, amount, paid in rows:
		if float(paid or 0) < 0.95 * float(amount or 0):
			out[case] += 1
	return dict(out)


def my_queue(employee: str, limit: int = 200, today: dt.date | None = None) -> list[dict]:
	"""The employee's open cases, highest priority first, with the parts of the priority."""
	today = getdate(today or nowdate())
	statuses = engine.OPEN_CASE_STATUSES
	rows = frappe.get_all(
		CASE,
		filters={"collector": employee, "status": ("in", statuses)},
		fields=[
			"name",
			"loan",
			"status",
			"opened_on",
			"entry_bucket",
			"current_bucket",
			"entry_overdue_amount",
			"current_overdue_amount",
			"action_type",
			"propensity_score",
			"strategy_rule",
		],
		limit_page_length=0,
		ignore_permissions=True,  # the caller checked that the user may see this collector's queue
	)
	if not rows:
		return []
	frame = frames.text_as_object(pd.DataFrame.from_records([dict(r) for r in rows]))
	frame["bucket"] = frame["current_bucket"].where(
		frame["current_bucket"].fillna("") != "", frame["entry_bucket"]
	)
	frame["overdue"] = pd.to_numeric(frame["current_overdue_amount"], errors="coerce")
	frame["overdue"] = frame["overdue"].where(
		frame["current_bucket"].fillna("") != "", frame["entry_overdue_amount"]
	)
	frame["overdue"] = pd.to_numeric(frame["overdue"], errors="coerce").fillna(0.0)
	broken = broken_promises(frame["name"].tolist(), today)
	frame["broken_promises"] = frame["name"].map(broken).fillna(0).astype(int)
	weights = assign_engine.QueueWeights(
		overdue=float(ops.setting("priority_overdue_weight", 10) or 0),
		bucket=float(ops.setting("priority_bucket_weight", 10) or 0),
		broken_promise=float(ops.setting("priority_broken_promise_weight", 15) or 0),
		propensity=float(ops.setting("priority_propensity_weight", 30) or 0),
	)
	use_model = bool(ops.setting("enable_propensity_model", 0))
	parts = assign_engine.queue_priority(
		frame["overdue"].to_numpy(),
		_bucket_number(frame["bucket"].fillna("")),
		frame["broken_promises"].to_numpy(),
		pd.to_numeric(frame["propensity_score"], errors="coerce").to_numpy() / 100.0 if use_model else None,
		weights,
	)
	frame = pd.concat([frame, parts], axis=1)
	frame = frame.sort_values(
		["priority", "overdue", "opened_on", "name"], ascending=[False, False, True, True]
	)
	out = []
	for row in frames.records(frame.head(int(limit) if limit else len(frame))):
		out.append(
			{
				"case": row["name"],
				"loan": row["loan"],
				"status": row["status"],
				"bucket": row["bucket"],
				"overdue_amount": float(row["overdue"]),
				"broken_promises": int(row["broken_promises"]),
				"propensity_score": float(row["propensity_score"])
				if use_model and pd.notna(row["propensity_score"])
				else None,
				"next_action": row["action_type"],
				"opened_on": row["opened_on"],
				"priority": round(float(row["priority"]), 2),
				"priority_parts": {
					"overdue": round(float(row["overdue_points"]), 2),
					"bucket": round(float(row["bucket_points"]), 2),
					"broken_promises": round(float(row["broken_promise_points"]), 2),
					"propensity": round(float(row["propensity_points"]), 2),
				},
			}
		)
	return out
