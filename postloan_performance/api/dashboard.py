"""The workspace's number cards and charts."""

import frappe
from frappe import _


# ---------------------------------------------------------------- workspace: number cards and charts
def _dashboard_company(filters: str | dict | None) -> str | None:
	from postloan_performance.services import dashboard

	dashboard.require_pl_role()
	return dashboard.company_from(filters)


@frappe.whitelist()
def current_npl_ratio(filters: str | dict | None = None) -> dict | str:
	"""Number card: NPL ratio (percent) on the latest snapshot date."""
	from postloan_performance.services import dashboard

	result = dashboard.npl_ratio(_dashboard_company(filters))
	return dashboard.card(
		result["value"],
		dashboard.report_or_list_route("Portfolio Quality Trend", "PL Loan Snapshot"),
		_("No snapshots yet"),
	)


@frappe.whitelist()
def recovery_rate_last_month(filters: str | dict | None = None) -> dict | str:
	"""Number card: recovery rate (percent) of the last full month of data."""
	from postloan_performance.services import dashboard

	result = dashboard.recovery_rate(_dashboard_company(filters))
	return dashboard.card(
		result["value"],
		dashboard.report_or_list_route("Portfolio Quality Trend", "PL Recovery"),
		_("No collection cases"),
	)


@frappe.whitelist()
def open_cycle_progress(filters: str | dict | None = None) -> dict | str:
	"""Number card: share of the open review cycle's appraisals that are past Manager Review."""
	from postloan_performance.services import dashboard

	dashboard.require_pl_role()
	try:
		dashboard.require_chart_roles("PL Grade Distribution")  # the cycle's progress: the same readers
	except frappe.PermissionError:
		frappe.clear_messages()
		return _("No open cycle")  # a card on his workspace answers quietly, with nothing to show
	result = dashboard.open_cycle_progress(_dashboard_company(filters))
	if not result["cycle"]:
		return _("No open cycle")
	return dashboard.card(
		result["value"],
		["List", "PL Appraisal"],
		_("No open cycle"),
		route_options={"review_cycle": result["cycle"]},
	)


@frappe.whitelist()
def npl_trend_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: monthly NPL ratio."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL NPL Trend")
	return dashboard.npl_trend(_dashboard_company(filters))


@frappe.whitelist()
def grade_distribution_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: final grades of the latest published formal cycle."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL Grade Distribution")
	return dashboard.grade_distribution(_dashboard_company(filters))


@frappe.whitelist()
def kpi_achievement_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: mean achievement by KPI of the latest computed cycle."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL KPI Achievement")
	return dashboard.kpi_achievement(_dashboard_company(filters))


@frappe.whitelist()
def last_payout_pool(filters: str | dict | None = None) -> dict | str:
	"""Number card: the pool of the last confirmed payout run."""
	company = _dashboard_company(filters)
	run = frappe.get_list(
		"PL Payout Run",
		filters={"status": "Confirmed", **({"company": company} if company else {})},
		fields=["name", "pool", "currency"],
		order_by="confirmed_on desc",
		limit=1,
	)
	if not run:
		return _("No confirmed payout yet")
	return {
		"value": run[0].pool,
		"fieldtype": "Currency",
		"route": ["query-report", "Payout Preview"],
		"route_options": {"payout_run": run[0].name},
	}
