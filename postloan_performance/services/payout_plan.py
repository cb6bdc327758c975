"""Which incentive plan pays a cycle, its rules and payroll date, and when a cycle may be paid at all
(formal, published, no appeal open, the appeal window passed)."""

from __future__ import annotations

from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, flt, get_datetime, get_last_day, getdate, today

from postloan_performance.engine import payout as engine_payout

OPEN_APPEAL_STATES = ("Open", "Under Review")


# ---------------------------------------------------------------- plan
def plan_for(company: str, layer: str | None, on_date) -> str | None:
	"""The enabled plan in effect on `on_date`: the latest effective_from, a layer's own plan before
	the company-wide one."""
	common = [
		["company", "=", company],
		["disabled", "=", 0],
		["effective_from", "<=", getdate(on_date)],
	]
	for layer_filter in ([["layer", "=", layer]] if layer else []) + [["layer", "is", "not set"]]:
		names = frappe.get_all(
			"PL Incentive Plan",
			filters=[*common, layer_filter],
			order_by="effective_from desc",
			pluck="name",
			limit=1,
		)
		if names:
			return names[0]
	return None


def currency_precision(currency: str | None) -> int:
	"""Decimals of the currency's number format (the system's when it has none)."""
	from frappe.utils.data import get_number_format_info

	number_format = (
		(frappe.db.get_value("Currency", currency, "number_format") if currency else None)
		or frappe.db.get_default("number_format")
		or "#,###.##"
	)
	return cint(get_number_format_info(number_format)[2])


def rules_of(plan) -> engine_payout.PayoutRules:
	coefficients = {row.grade: flt(row.coefficient) for row in plan.grade_coefficients}
	return engine_payout.PayoutRules(
		pool_basis=plan.pool_basis,
		pool_amount=flt(plan.pool_amount),
		target_amount=flt(plan.target_amount),
		team_split=plan.team_split,
		floor=flt(plan.team_floor),
		cap=flt(plan.team_cap),
		coefficients=coefficients or dict(engine_payout.DEFAULT_COEFFICIENTS),
		precision=currency_precision(plan.currency),
	)


def payroll_date_of(plan, cycle) -> date:
	end = getdate(cycle.period_end)
	if plan.payroll_date_rule == "Fixed Date" and plan.payroll_date:
		return getdate(plan.payroll_date)
	if plan.payroll_date_rule == "Last Day of Period":
		return end
	return get_last_day(add_days(get_last_day(end), 1))


# ---------------------------------------------------------------- refusals
def check_cycle(cycle) -> None:
	"""A payout is for a published formal cycle whose appeals are decided and whose window passed."""
	if cycle.is_trial:
		frappe.throw(
			_("Review cycle {0} is a trial; trial results are never paid.").format(frappe.bold(cycle.name)),
			title=_("Trial Cycle"),
		)
	if cycle.status not in ("Published", "Closed"):
		frappe.throw(
			_("Review cycle {0} is {1}; a payout needs a published cycle.").format(
				frappe.bold(cycle.name), _(cycle.status)
			),
			title=_("Not Published"),
		)
	open_appeals = frappe.db.count(
		"PL Appeal", {"review_cycle": cycle.name, "status": ("in", OPEN_APPEAL_STATES)}
	)
	if open_appeals:
		frappe.throw(
			_("{0} appeals of this cycle are still open; decide them before the payout.").format(
				open_appeals
			),
			title=_("Open Appeals"),
		)
	last_published = frappe.db.sql(
		"select max(published_on) from `tabPL Appraisal` where review_cycle = %s and docstatus = 1",
		cycle.name,
	)[0][0]
	window = cint(cycle.appeal_window_days)
	if last_published and window:
		closes = add_days(getdate(get_datetime(last_published)), window)
		if getdate(today()) <= getdate(closes):
			frappe.throw(
				_("The appeal window is open until {0}; the payout can be prepared after it.").format(
					frappe.format(closes, "Date")
				),
				title=_("Appeal Window Open"),
			)
