"""Appraisal assembly and scoring: KPI lines from a template, line scores, 360 aggregate, total, grade.

The maths is the engine's; this module reads the template and the feedback in a couple of queries
and writes the results onto the document.
"""

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import EngineError
from postloan_performance.engine import scoring
from postloan_performance.engine.bands import parse_bands
from postloan_performance.services.messages import throw_engine_error

LINE_FIELDS_FROM_TEMPLATE = ("weight", "scoring_method", "threshold", "target", "use_stretch", "stretch", "bands")
RELATIONSHIP_WEIGHT_FIELDS = {
	"Self": "self_weight",
	"Manager": "manager_weight",
	"Peer": "peer_weight",
	"Subordinate": "subordinate_weight",
}


def kpi_lines_from_template(template: str) -> list[dict]:
	"""Copy a template's KPI items into appraisal lines, so later template edits never rewrite them."""
	tpl = frappe.get_doc("PL KPI Template", template)
	kpis = {
		k.name: k
		for k in frappe.get_all(
			"PL KPI",
			filters={"name": ("in", [i.kpi for i in tpl.items])},
			fields=["name", "kpi_name", "method", "unit", "direction"],
		)
	}
	lines = []
	for item in tpl.items:
		kpi = kpis[item.kpi]
		line = {
			"kpi": item.kpi,
			"kpi_name": kpi.kpi_name,
			"method": kpi.method,
			"unit": kpi.unit,
			"direction": kpi.direction,
		}
		line.update({f: item.get(f) for f in LINE_FIELDS_FROM_TEMPLATE})
		lines.append(line)
	return lines


def score_appraisal(doc, enforce_policy: bool = False) -> None:
	"""Score every KPI line of an appraisal and set the quantitative, qualitative and total scores.

	`enforce_policy` applies the "Require Manual Value" no-data policy (on submit); while the appraisal
	is a draft, lines without data are simply left out.
	"""
	tpl = frappe.get_doc("PL KPI Template", doc.template)
	cap = flt(tpl.score_cap) or scoring.DEFAULT_CAP
	threshold_score = flt(tpl.threshold_score) if tpl.threshold_score is not None else 60.0

	weights, scores = [], []
	for line in doc.kpis:
		actual = None if line.no_data else flt(line.actual)
		try:
			score = scoring.score_line(
				actual,
				direction=line.direction,
				method=line.scoring_method or scoring.LINEAR,
				threshold=line.threshold if line.scoring_method in (None, "", scoring.LINEAR) else None,
				target=line.target,
				stretch=line.stretch if line.use_stretch else None,
				bands=parse_bands(line.bands) if line.scoring_method == scoring.BANDED else None,
				threshold_score=threshold_score,
				cap=cap,
			)
		except EngineError as e:
			throw_engine_error(e, _("KPI line {0} ({1}): ").format(line.idx, line.kpi))
		line.score = score if score is not None else 0
		line.achievement = scoring.achievement(actual, line.target, line.direction) or 0
		line.weighted_score = flt(score) * flt(line.weight) / 100 if score is not None else 0
		weights.append(flt(line.weight))
		scores.append(score)

	policy = tpl.no_data_policy or scoring.EXCLUDE_AND_RENORMALISE
	if policy == scoring.REQUIRE_MANUAL_VALUE and not enforce_policy:
		policy = scoring.EXCLUDE_AND_RENORMALISE
	try:
		quantitative = scoring.quantitative_score(weights, scores, policy) if doc.kpis else None
	except EngineError as e:
		throw_engine_error(e, title=_("Missing KPI Values"))

	qualitative = qualitative_score_of(doc.name, tpl) if not doc.is_new() else None
	total = scoring.total_score(quantitative, qualitative, tpl.quantitative_weight, tpl.qualitative_weight)

	doc.quantitative_score = quantitative or 0
	doc.qualitative_score = qualitative or 0
	doc.total_score = total or 0
	bands = [(b.grade, flt(b.min_score)) for b in tpl.grade_bands] or scoring.DEFAULT_GRADE_BANDS
	doc.grade = scoring.grade_for(total, bands) if total is not None else None
	doc.final_grade = doc.calibrated_grade or doc.grade


def qualitative_score_of(appraisal: str, tpl) -> float | None:
	"""360 score of one appraisal from its submitted feedback."""
	feedback = frappe.qb.DocType("PL Feedback")
	rating = frappe.qb.DocType("PL Feedback Rating")
	rows = (
		frappe.qb.from_(rating)
		.join(feedback)
		.on(rating.parent == feedback.name)
		.select(rating.criterion, feedback.relationship.as_("rater_group"), rating.rating)
		.where(
			(rating.parenttype == "PL Feedback") & (feedback.appraisal == appraisal) & (feedback.docstatus == 1)
		)
	).run()
	if not rows:
		return None
	criteria = {c.criterion: flt(c.weight) for c in tpl.criteria}
	groups = {rel: flt(tpl.get(field)) for rel, field in RELATIONSHIP_WEIGHT_FIELDS.items()}
	try:
		return scoring.qualitative_score(rows, criteria, groups)
	except EngineError as e:
		throw_engine_error(e)
