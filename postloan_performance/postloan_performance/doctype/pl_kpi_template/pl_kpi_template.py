# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from postloan_performance.engine import EngineError
from postloan_performance.engine.bands import BandError, parse_bands
from postloan_performance.engine.scoring import validate_targets
from postloan_performance.install import default_grade_bands
from postloan_performance.services import scheme_versions, scheme_whatif
from postloan_performance.services.access import MANAGER_ROLES, require_roles
from postloan_performance.services.engine_messages import throw_engine_error

TOLERANCE = 0.001
RATER_WEIGHT_FIELDS = ("self_weight", "manager_weight", "peer_weight", "subordinate_weight")


def _sum_is_100(values) -> bool:
	return abs(sum(flt(v) for v in values) - 100) <= TOLERANCE


class PLKPITemplate(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_feedback_criterion.pl_feedback_criterion import (
			PLFeedbackCriterion,
		)
		from postloan_performance.postloan_performance.doctype.pl_grade_band.pl_grade_band import PLGradeBand
		from postloan_performance.postloan_performance.doctype.pl_kpi_template_item.pl_kpi_template_item import (
			PLKPITemplateItem,
		)

		company: DF.Link | None
		criteria: DF.Table[PLFeedbackCriterion]
		disabled: DF.Check
		effective_from: DF.Date | None
		grade_bands: DF.Table[PLGradeBand]
		is_default: DF.Check
		is_standard: DF.Check
		items: DF.Table[PLKPITemplateItem]
		layer: DF.Literal["Management", "Collection", "Risk Control", "Customer Service"]
		manager_weight: DF.Float
		no_data_policy: DF.Literal["Exclude and Renormalise", "Score Zero", "Require Manual Value"]
		peer_weight: DF.Float
		qualitative_weight: DF.Float
		quantitative_weight: DF.Float
		scheme_version: DF.Data | None
		score_cap: DF.Float
		self_weight: DF.Float
		subordinate_weight: DF.Float
		template_name: DF.Data
		version_of: DF.Link | None
		version_status: DF.Literal["Active", "Draft", "Superseded"]
		previous_version: DF.Link | None
		effective_to: DF.Date | None
		adopted_by: DF.Link | None
		adopted_on: DF.Datetime | None
		adoption_reason: DF.SmallText | None
		threshold_score: DF.Float
		use_forced_distribution: DF.Check

	# end: auto-generated types
	def validate(self):
		self.company = self.company or None  # blank: the template serves every company
		if not self.grade_bands:
			self.set("grade_bands", default_grade_bands())
		self.validate_split()
		self.validate_items()
		self.validate_feedback()
		self.validate_grades()
		self.validate_scoring_settings()
		scheme_versions.validate_not_in_use(self)
		scheme_versions.validate_single_active(self)

	@frappe.whitelist()
	def new_version(self) -> str:
		"""Copy this template as the next draft version of its scheme."""
		require_roles(*MANAGER_ROLES)
		self.check_permission("write")
		return scheme_versions.new_version(self.name)

	@frappe.whitelist()
	def version_diff(self) -> dict:
		"""What this version changes against its predecessor."""
		self.check_permission("read")
		return scheme_versions.version_diff(self.name)

	@frappe.whitelist()
	def adopt_version(self, effective_from: str, reason: str) -> dict:
		"""Activate this draft version from a date, closing its predecessor the day before."""
		require_roles(*MANAGER_ROLES)
		self.check_permission("write")
		return scheme_versions.adopt(self.name, effective_from, reason)

	@frappe.whitelist()
	def what_if(self, review_cycle: str, background: bool = False) -> dict:
		"""Score a past review cycle's people with this version, without touching their appraisals: a
		new PL Scheme What-If, run now when small, else queued."""
		require_roles(*MANAGER_ROLES)
		self.check_permission("read")
		name = scheme_whatif.create(self.name, review_cycle)
		return scheme_whatif.run(name, background=True if background else None)

	@frappe.whitelist()
	def apply_suggested_targets(self, review_cycle: str) -> dict:
		"""Set this draft version's targets to KPI Health's suggestions over a review cycle."""
		require_roles(*MANAGER_ROLES)
		self.check_permission("write")
		return scheme_whatif.apply_suggested_targets(self.name, review_cycle)

	def before_insert(self):
		if not self.flags.new_version:
			scheme_versions.start_own_chain(self)

	def on_update(self):
		if self.is_default:
			# one default template per layer
			frappe.db.set_value(
				"PL KPI Template",
				{"layer": self.layer, "is_default": 1, "name": ("!=", self.name)},
				"is_default",
				0,
			)

	def validate_split(self):
		if flt(self.quantitative_weight) < 0 or flt(self.qualitative_weight) < 0:
			frappe.throw(_("Weights cannot be negative."), title=_("Invalid Weights"))
		if not _sum_is_100([self.quantitative_weight, self.qualitative_weight]):
			frappe.throw(
				_("Quantitative weight ({0}) and qualitative weight ({1}) must add up to 100.").format(
					flt(self.quantitative_weight), flt(self.qualitative_weight)
				),
				title=_("Invalid Weights"),
			)

	def validate_items(self):
		if flt(self.quantitative_weight) > 0 and not self.items:
			frappe.throw(
				_("Add the quantitative KPIs, or set the quantitative weight to 0."), title=_("Missing KPIs")
			)
		if not self.items:
			return
		kpis = {
			k.name: k
			for k in frappe.get_all(
				"PL KPI",
				filters={"name": ("in", [i.kpi for i in self.items])},
				fields=["name", "direction", "category", "enabled", "layer", "method"],
			)
		}
		seen = set()
		for item in self.items:
			kpi = kpis.get(item.kpi)
			if not kpi:
				frappe.throw(_("Row {0}: KPI {1} does not exist.").format(item.idx, frappe.bold(item.kpi)))
			if item.kpi in seen:
				frappe.throw(
					_("Row {0}: KPI {1} appears twice.").format(item.idx, frappe.bold(item.kpi)),
					title=_("Duplicate KPI"),
				)
			seen.add(item.kpi)
			if not kpi.enabled:
				frappe.throw(_("Row {0}: KPI {1} is disabled.").format(item.idx, frappe.bold(item.kpi)))
			if kpi.category != "Quantitative" and kpi.method not in ("360 Feedback", "Manual"):
				frappe.throw(
					_(
						"Row {0}: KPI {1} is qualitative; qualitative KPIs are rated through feedback criteria."
					).format(item.idx, frappe.bold(item.kpi))
				)
			if flt(item.weight) <= 0:
				frappe.throw(
					_("Row {0}: the weight of KPI {1} must be above 0.").format(
						item.idx, frappe.bold(item.kpi)
					),
					title=_("Invalid Weights"),
				)
			item.direction = kpi.direction
			self.validate_item_targets(item, kpi.direction)

		total = sum(flt(i.weight) for i in self.items)
		if not _sum_is_100([total]):
			frappe.throw(
				_("KPI weights must add up to 100; they add up to {0}.").format(flt(total, 3)),
				title=_("Invalid Weights"),
			)

	def validate_item_targets(self, item, direction):
		context = _("Row {0} ({1}):").format(item.idx, item.kpi) + " "
		if item.scoring_method == "Banded":
			try:
				bands = parse_bands(item.bands)
			except BandError as e:
				reasons = {
					"format": _("write from, to, score"),
					"number": _("bounds and scores must be numbers"),
					"score": _("scores cannot be negative"),
					"order": _("from must be below to"),
					"overlap": _("bands overlap"),
				}
				frappe.throw(
					context + _("band line {0}: {1}.").format(e.line, reasons.get(e.code, e.code)),
					title=_("Invalid Bands"),
				)
			if not bands:
				frappe.throw(context + _("Banded scoring needs at least one band."), title=_("Invalid Bands"))
			return
		stretch = item.stretch if item.use_stretch and item.scoring_method == "Linear" else None
		threshold = item.threshold if item.scoring_method == "Linear" else None
		try:
			validate_targets(direction, threshold, item.target, stretch, method=item.scoring_method)
		except EngineError as e:
			throw_engine_error(e, context, title=_("Invalid Targets"))

	def validate_feedback(self):
		if flt(self.qualitative_weight) <= 0:
			return
		if not self.criteria:
			frappe.throw(
				_("Add feedback criteria, or set the qualitative weight to 0."), title=_("Missing Criteria")
			)
		names = [c.criterion.strip() for c in self.criteria]
		if len(set(names)) != len(names):
			frappe.throw(_("Each feedback criterion may appear only once."), title=_("Duplicate Criterion"))
		if any(flt(c.weight) <= 0 for c in self.criteria):
			frappe.throw(_("Every feedback criterion needs a weight above 0."), title=_("Invalid Weights"))
		if not _sum_is_100([c.weight for c in self.criteria]):
			frappe.throw(
				_("Feedback criterion weights must add up to 100; they add up to {0}.").format(
					flt(sum(flt(c.weight) for c in self.criteria), 3)
				),
				title=_("Invalid Weights"),
			)
		rater = [self.get(f) for f in RATER_WEIGHT_FIELDS]
		if any(flt(w) < 0 for w in rater) or not _sum_is_100(rater):
			frappe.throw(
				_(
					"Rater weights (self, manager, peer, subordinate) must add up to 100; they add up to {0}."
				).format(flt(sum(flt(w) for w in rater), 3)),
				title=_("Invalid Weights"),
			)

	def validate_grades(self):
		grades = [b.grade.strip() for b in self.grade_bands]
		if len(set(grades)) != len(grades):
			frappe.throw(_("Each grade may appear only once."), title=_("Invalid Grade Bands"))
		minimums = [flt(b.min_score) for b in self.grade_bands]
		if len(set(minimums)) != len(minimums):
			frappe.throw(_("Two grades cannot start at the same score."), title=_("Invalid Grade Bands"))
		if min(minimums) > 0:
			frappe.throw(
				_("The lowest grade must start at 0 so that every score gets a grade."),
				title=_("Invalid Grade Bands"),
			)
		if self.use_forced_distribution:
			shares = [flt(b.forced_share) for b in self.grade_bands]
			if any(s < 0 for s in shares) or not _sum_is_100(shares):
				frappe.throw(
					_("Forced distribution shares must add up to 100; they add up to {0}.").format(
						flt(sum(shares), 3)
					),
					title=_("Invalid Grade Bands"),
				)

	def validate_scoring_settings(self):
		if not 0 <= flt(self.threshold_score) <= 100:
			frappe.throw(_("The score at threshold must be between 0 and 100."))
		if flt(self.score_cap) < 100:
			frappe.throw(_("The score cap must be at least 100."))
