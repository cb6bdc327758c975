"""Install-time setup: the default scheme (twelve KPIs of the design's seed table, one template per layer).

Defaults are created once, on install. `migrate` never rewrites them, so an administrator's edits
stay; KPIs added by later versions come through patches.txt.
"""

import frappe
from frappe import _

from postloan_performance.engine.names import LAYERS
from postloan_performance.engine.scoring import DEFAULT_FORCED_SHARES, DEFAULT_GRADE_BANDS
from postloan_performance.services.access import OFFICER_ROLE, PL_ROLES

# kpi_code, kpi_name, layer, builtin_metric, unit, direction, subject, (threshold, target, stretch), weight
DEFAULT_KPIS = (
	(
		"MGMT-NPL-REDUCTION",
		"NPL Ratio Reduction",
		"Management",
		"npl_ratio_reduction",
		"%",
		"Higher is Better",
		"Team",
		(0.0, 0.5, 1.0),
		40,
	),
	(
		"MGMT-RECOVERY-IMPROVEMENT",
		"Recovery Rate Improvement",
		"Management",
		"recovery_rate_improvement",
		"%",
		"Higher is Better",
		"Team",
		(0.0, 2.0, 5.0),
		40,
	),
	(
		"MGMT-TEAM-SATISFACTION",
		"Team Satisfaction",
		"Management",
		"team_satisfaction",
		"points",
		"Higher is Better",
		"Team",
		(60.0, 80.0, 90.0),
		20,
	),
	(
		"COL-SUCCESS-RATE",
		"Collection Success Rate",
		"Collection",
		"collection_success_rate",
		"%",
		"Higher is Better",
		"Employee",
		(30.0, 50.0, 70.0),
		40,
	),
	(
		"COL-CYCLE-DAYS",
		"Average Collection Cycle",
		"Collection",
		"avg_collection_cycle_days",
		"days",
		"Lower is Better",
		"Employee",
		(60.0, 30.0, 15.0),
		30,
	),
	(
		"COL-CSAT",
		"Customer Satisfaction",
		"Collection",
		"customer_satisfaction",
		"%",
		"Higher is Better",
		"Employee",
		(60.0, 80.0, 90.0),
		30,
	),
	(
		"RISK-WARNING-PRECISION",
		"Early Warning Precision",
		"Risk Control",
		"warning_precision",
		"%",
		"Higher is Better",
		"Employee",
		(40.0, 60.0, 80.0),
		40,
	),
	(
		"RISK-REPORT-QUALITY",
		"Risk Report Quality",
		"Risk Control",
		"risk_report_quality",
		"%",
		"Higher is Better",
		"Employee",
		(60.0, 80.0, 90.0),
		30,
	),
	(
		"RISK-EVENT-HOURS",
		"Risk Event Handling Time",
		"Risk Control",
		"risk_event_handling_hours",
		"hours",
		"Lower is Better",
		"Employee",
		(72.0, 24.0, 8.0),
		30,
	),
	(
		"CS-RESOLUTION-RATE",
		"Ticket Resolution Rate",
		"Customer Service",
		"ticket_resolution_rate",
		"%",
		"Higher is Better",
		"Employee",
		(80.0, 90.0, 98.0),
		40,
	),
	(
		"CS-FIRST-RESPONSE",
		"First Response Time",
		"Customer Service",
		"first_response_minutes",
		"minutes",
		"Lower is Better",
		"Employee",
		(60.0, 15.0, 5.0),
		30,
	),
	(
		"CS-NPS",
		"Customer Loyalty (NPS)",
		"Customer Service",
		"customer_loyalty_nps",
		"points",
		"Higher is Better",
		"Employee",
		(0.0, 30.0, 50.0),
		30,
	),
)

DEFAULT_CRITERIA = (
	("Professional Conduct", 30, "Courtesy, integrity and compliance in every customer contact"),
	("Teamwork", 30, "Shares cases, knowledge and workload with colleagues"),
	("Compliance", 40, "Follows collection and risk rules and regulatory requirements"),
)


def before_install():
	"""Make Frappe see this app's modules before it syncs them.

	`frappe.init` reads the module map (app -> modules) from Redis. On a site used before this app was
	added to the bench that map is stale: it lacks this app. `install-app` clears Redis but keeps the
	map it already read, so it would sync none of the app's DocTypes, record the app as installed and
	then fail when `after_install` creates the default KPIs (`No module named frappe.core.doctype.pl_kpi`).
	Rebuilding the map from apps.txt here makes the first install complete."""
	frappe.clear_cache()  # Redis, and what this process read from it (request cache)
	frappe.setup_module_map()
	if "postloan_performance" not in (frappe.local.app_modules or {}):
		frappe.throw(
			_(
				"postloan_performance is not listed in sites/apps.txt of this bench: add it, then install again."
			)
		)


def after_install():
	"""The default scheme; if it cannot be created, the app is not left recorded as installed."""
	try:
		create_default_scheme()
		allow_employee_selection()
		from postloan_performance.services.constraints import apply_unique_keys

		apply_unique_keys()
	except Exception:
		frappe.db.rollback()
		from frappe.installer import remove_from_installed_apps

		remove_from_installed_apps("postloan_performance")
		frappe.db.delete("Installed Application", {"app_name": "postloan_performance"})
		frappe.db.commit()
		print(
			"postloan_performance was not installed: creating its default scheme failed (see below). The"
			" site does not list the app as installed; fix the cause, then run install-app again."
		)
		raise


# Roles that pick employees in link fields (teams, appraisals, collection cases) without reading HR's
# employee records: Frappe's "select" permission, nothing more.
EMPLOYEE_PICKERS = ("PL Performance Manager", OFFICER_ROLE)


def allow_employee_selection():
	"""Give the scheme owner and the post-loan officer "select" on Employee (idempotent; install and migrate).

	Without it their Employee link fields answer 403 on search, so the scheme owner cannot build a team
	or create an appraisal in the desk. Frappe keeps a DocType's role rules in one place: the first custom
	rule copies Employee's standard rules into Custom DocPerm (what the Role Permissions Manager does).
	"""
	from frappe.permissions import add_permission, update_permission_property

	for role in EMPLOYEE_PICKERS:
		if not frappe.db.exists("Role", role):  # install runs before the role fixtures are synced
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)
		if frappe.db.exists(
			"Custom DocPerm", {"parent": "Employee", "role": role, "permlevel": 0, "if_owner": 0}
		):
			continue
		add_permission("Employee", role, 0, "select")
		update_permission_property("Employee", role, 0, "read", 0)  # a new rule reads by default


def before_uninstall():
	"""Roles and the workflow are not module records, so Frappe would leave them behind; nor would it
	remove the demo's company, employees and users, which live in ERPNext's tables."""
	from postloan_performance.services import demo

	if demo.demo_exists():
		demo.remove_demo()
	if frappe.db.exists("Workflow", "PL Appraisal Workflow"):
		frappe.delete_doc("Workflow", "PL Appraisal Workflow", force=True, ignore_permissions=True)
	frappe.db.delete("Custom DocPerm", {"parent": "Employee", "role": ("in", PL_ROLES)})
	frappe.clear_cache(doctype="Employee")
	for role in PL_ROLES:
		if frappe.db.exists("Role", role):
			frappe.db.delete("Has Role", {"role": role})
			frappe.delete_doc("Role", role, force=True, ignore_permissions=True)
	# the audit trail, assignments and notifications about the app's documents: Frappe drops the
	# DocTypes' tables but keeps these rows, which would point at documents that no longer exist
	pl = ("like", "PL %")
	for doctype, column in (
		("Version", "ref_doctype"),
		("Comment", "reference_doctype"),
		("ToDo", "reference_type"),
		("Notification Log", "document_type"),
		("DocShare", "share_doctype"),
	):
		frappe.db.delete(doctype, {column: pl})


def create_default_scheme():
	"""Insert the default KPIs and one default template per layer when they are missing."""
	for code, name, layer, metric, unit, direction, subject, _targets, _weight in DEFAULT_KPIS:
		if frappe.db.exists("PL KPI", code):
			continue
		frappe.get_doc(
			{
				"doctype": "PL KPI",
				"kpi_code": code,
				"kpi_name": name,
				"layer": layer,
				"category": "Quantitative",
				"unit": unit,
				"direction": direction,
				"subject": subject,
				"method": "Built-in",
				"builtin_metric": metric,
				"is_standard": 1,
				"enabled": 1,
			}
		).insert(ignore_permissions=True)

	for layer in LAYERS:
		template_name = default_template_name(layer)
		if frappe.db.exists("PL KPI Template", template_name):
			continue
		items = [
			{
				"kpi": code,
				"weight": weight,
				"scoring_method": "Linear",
				"threshold": targets[0],
				"target": targets[1],
				"use_stretch": 1,
				"stretch": targets[2],
			}
			for code, _n, kpi_layer, _m, _u, _d, _s, targets, weight in DEFAULT_KPIS
			if kpi_layer == layer
		]
		frappe.get_doc(
			{
				"doctype": "PL KPI Template",
				"template_name": template_name,
				"layer": layer,
				# for every company: "" rather than None, or Frappe fills in the user's default company
				"company": "",
				"is_default": 1,
				"is_standard": 1,
				"scheme_version": "1.0",
				"quantitative_weight": 70,
				"qualitative_weight": 30,
				"items": items,
				"criteria": [{"criterion": c, "weight": w, "description": d} for c, w, d in DEFAULT_CRITERIA],
				"self_weight": 10,
				"manager_weight": 50,
				"peer_weight": 30,
				"subordinate_weight": 10,
				"use_forced_distribution": 1,
				"grade_bands": default_grade_bands(),
			}
		).insert(ignore_permissions=True)


def default_template_name(layer: str) -> str:
	return f"{layer} - Default"


def default_grade_bands() -> list[dict]:
	return [
		{"grade": grade, "min_score": min_score, "forced_share": DEFAULT_FORCED_SHARES.get(grade, 0)}
		for grade, min_score in DEFAULT_GRADE_BANDS
	]
