"""The collector's queue: his open cases by priority, with broken promises."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

import frappe
from frappe.utils import getdate, nowdate

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import delinquency, frames
from postloan_performance.services import daily_jobs as ops
from postloan_performance.services.collection.reading import _bucket_number
from postloan_performance.services.collection.strategy import CASE

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
	statuses = delinquency.OPEN_CASE_STATUSES
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
