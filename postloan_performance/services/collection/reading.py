"""What the daily step reads: a day's snapshots and open cases, members on a date, scores, turns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import frappe

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import delinquency, frames
from postloan_performance.engine.names import PUBLISHED_STATES

# --- reading -----------------------------------------------------------------------------------------


def _frame(rows, columns: list[str]) -> pd.DataFrame:
	return frames.from_rows(rows, columns)


def _bucket_number(labels: pd.Series) -> np.ndarray:
	lookup = {b: i for i, b in enumerate(delinquency.BUCKETS)}
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
	statuses = ", ".join(frappe.db.escape(s) for s in delinquency.OPEN_CASE_STATUSES)
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
