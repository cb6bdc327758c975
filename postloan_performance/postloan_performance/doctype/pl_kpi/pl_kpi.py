# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from postloan_performance.engine.formula import FormulaError, parse_formula
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS, PORTFOLIO_METRICS
from postloan_performance.services.engine_messages import expression_limit_message

QUANTITATIVE_METHODS = ("Built-in", "Formula", "Server Script")


class PLKPI(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		builtin_metric: DF.Literal[
			"",
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
		]
		category: DF.Literal["Quantitative", "Qualitative"]
		description: DF.SmallText | None
		direction: DF.Literal["Higher is Better", "Lower is Better"]
		enabled: DF.Check
		formula: DF.Code | None
		is_standard: DF.Check
		kpi_code: DF.Data
		kpi_name: DF.Data
		layer: DF.Literal["Management", "Collection", "Risk Control", "Customer Service"]
		method: DF.Literal["Built-in", "Formula", "Server Script", "Manual", "360 Feedback"]
		server_script: DF.Link | None
		subject: DF.Literal["Employee", "Team"]
		unit: DF.Literal["%", "days", "hours", "minutes", "count", "amount", "points"]

	# end: auto-generated types
	def validate(self):
		self.kpi_code = (self.kpi_code or "").strip()
		self.validate_category()
		if self.method == "Built-in":
			self.validate_builtin()
		elif self.method == "Formula":
			self.validate_formula()
		elif self.method == "Server Script":
			self.validate_server_script()

	def validate_category(self):
		if self.method == "360 Feedback" and self.category != "Qualitative":
			frappe.throw(_("A 360 Feedback KPI must be Qualitative."), title=_("Invalid KPI"))
		if self.method in QUANTITATIVE_METHODS and self.category != "Quantitative":
			frappe.throw(
				_("A KPI computed by method {0} must be Quantitative.").format(_(self.method)),
				title=_("Invalid KPI"),
			)

	def validate_builtin(self):
		if not self.builtin_metric:
			frappe.throw(_("Choose the built-in metric this KPI reads."), title=_("Missing Metric"))
		metric = BUILTIN_METRICS.get(self.builtin_metric)
		if not metric:
			frappe.throw(_("Unknown built-in metric {0}.").format(frappe.bold(self.builtin_metric)))
		if metric["direction"] != self.direction:
			frappe.throw(
				_(
					"Metric {0} is {1}; set the KPI's direction to match, or higher results would score lower."
				).format(frappe.bold(self.builtin_metric), _(metric["direction"])),
				title=_("Direction Mismatch"),
			)
		if self.builtin_metric in PORTFOLIO_METRICS and self.subject != "Team":
			frappe.throw(
				_("Metric {0} measures a team's portfolio; set Subject to Team.").format(
					frappe.bold(self.builtin_metric)
				),
				title=_("Invalid Subject"),
			)

	def validate_formula(self):
		self.formula = parse_formula_or_throw(self.formula)

	def validate_server_script(self):
		if not self.server_script:
			frappe.throw(
				_("Choose the Server Script that computes this KPI."), title=_("Missing Server Script")
			)
		script_type = frappe.db.get_value("Server Script", self.server_script, "script_type")
		if script_type != "API":
			frappe.throw(
				_("Server Script {0} must be of type API.").format(frappe.bold(self.server_script)),
				title=_("Invalid Server Script"),
			)


def parse_formula_or_throw(formula: str) -> str:
	"""Validate a formula KPI expression and return it stripped; translated messages on failure."""
	try:
		parse_formula(formula, frozenset(BUILTIN_METRICS))
	except FormulaError as e:
		messages = {
			"empty": _("Write the formula."),
			"syntax": _("The formula is not a valid expression: {0}").format(e.detail),
			"construct": _(
				"The formula may only use numbers, metric codes, arithmetic and abs/min/max/round ({0} is not allowed)."
			).format(e.detail),
			"function": _("Function {0} is not allowed in a formula; use abs, min, max or round.").format(
				e.detail
			),
			"unknown": _("Unknown names in the formula: {0}. Use built-in metric codes.").format(e.detail),
			"no_metric": _("The formula must use at least one built-in metric code."),
		}
		message = messages.get(e.code) or expression_limit_message(e) or str(e)
		frappe.throw(message, title=_("Invalid Formula"))
	return formula.strip()
