"""The demo's incentive plan and its confirmed payout."""

from __future__ import annotations

import frappe
from frappe.utils import add_days

from postloan_performance.services.demo.plan import DEMO_COMPANY, TEAM_PREFIX

# ---------------------------------------------------------------- incentive payout
DEMO_PLAN = f"{TEAM_PREFIX}Incentive Plan"


def _make_payout(plan: list) -> dict:
	"""An incentive plan and the payout of the closed formal cycle: prepared, and confirmed where HRMS
	is installed. The demo has no payroll: nobody has a salary structure, so the run lists everyone as
	without one and creates no Additional Salary (the plan names no salary component)."""
	from postloan_performance.services import payout as payout_service

	spec = next(s for s in plan if not s.is_trial and s.final_status == "Closed")
	# a closed cycle is history: its results were published three weeks after the period
	frappe.db.sql(
		"""update `tabPL Appraisal` set published_on = %s
		where review_cycle = %s and published_on is not null""",
		(add_days(spec.period_end, 21), spec.cycle_name),
	)
	frappe.get_doc(
		{
			"doctype": "PL Incentive Plan",
			"plan_name": DEMO_PLAN,
			"company": DEMO_COMPANY,
			"effective_from": spec.period_start,
			"pool_basis": "Target per Employee",
			"target_amount": 1500,
			"team_split": "Weighted by Team Score",
			"team_floor": 0.5,
			"team_cap": 2,
			"payroll_date_rule": "Last Day of Next Month",
		}
	).insert()
	run = frappe.get_doc(
		{"doctype": "PL Payout Run", "plan": DEMO_PLAN, "review_cycle": spec.cycle_name}
	).insert()
	result = {"run": run.name, **payout_service.prepare(run.name)}
	if payout_service.hrms_installed():
		result.update(payout_service.confirm(run.name))
		result["without_salary_structure"] = len(result["without_salary_structure"])
	return result
