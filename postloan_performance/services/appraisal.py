"""Appraisal assembly and scoring: KPI lines from a template, line scores, 360 aggregate, total, grade.

The maths is the engine's; this module reads the template and the feedback in a couple of queries
and writes the results onto the document.
"""

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import EngineError, scoring
from postloan_performance.engine.bands import parse_bands
from postloan_performance.services.bulk import by_name
from postloan_performance.services.engine_messages import throw_engine_error

LINE_FIELDS_FROM_TEMPLATE = (
	"weight",
	"scoring_method",
	"threshold",
	"target",
	"use_stretch",
	"stretch",
	"bands",
)
RELATIONSHIP_WEIGHT_FIELDS = {
	"Self": "self_weight",
	"Manager": "manager_weight",
	"Peer": "peer_weight",
	"Subordinate": "subordinate_weight",
}


def kpi_lines_from_template(template: str) -> list[dict]:
	"""Copy a template's KPI items into appraisal lines, so later template edits never rewrite them."""
	tpl = frappe.get_doc("PL KPI Template", template)
	kpis = by_name("PL KPI", [i.kpi for i in tpl.items], ["kpi_name", "method", "unit", "direction"])
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
		# a Manual value has to be typed by the team leader: until then the line has no data
		line["no_data"] = 1 if kpi.method == "Manual" else 0
		lines.append(line)
	return lines


def score_appraisal(doc, enforce_policy: bool = False) -> None:
	"""Score an appraisal document (controller path): lines, 360 aggregate, totals and grade."""
	tpl = frappe.get_doc("PL KPI Template", doc.template)
	qualitative = qualitative_score_of(doc.name, tpl) if not doc.is_new() else None
	apply_scores(doc, doc.kpis, tpl, qualitative, enforce_policy=enforce_policy)


def apply_scores(header, lines, tpl, qualitative: float | None, enforce_policy: bool = False) -> None:
	"""Score KPI lines and set the header's quantitative, qualitative and total scores and grade.

	`header` and `lines` may be documents or plain `frappe._dict` rows (the set-wise compute path uses
	rows), so both paths score by the same code. `enforce_policy` applies the "Require Manual Value"
	no-data policy (on submit); while an appraisal is a draft, lines without data are left out.
	"""
	cap = flt(tpl.score_cap) or scoring.DEFAULT_CAP
	threshold_score = flt(tpl.threshold_score) if tpl.threshold_score is not None else 60.0

	weights, scores = [], []
	for line in lines:
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
			throw_engine_error(e, _("KPI line {0} ({1}):").format(line.idx, line.kpi) + " ")
		line.score = score if score is not None else 0
		line.achievement = scoring.achievement(actual, line.target, line.direction) or 0
		line.weighted_score = flt(score) * flt(line.weight) / 100 if score is not None else 0
		weights.append(flt(line.weight))
		scores.append(score)

	policy = tpl.no_data_policy or scoring.EXCLUDE_AND_RENORMALISE
	if policy == scoring.REQUIRE_MANUAL_VALUE and not enforce_policy:
		policy = scoring.EXCLUDE_AND_RENORMALISE
	try:
		quantitative = scoring.quantitative_score(weights, scores, policy) if lines else None
	except EngineError as e:
		throw_engine_error(e, title=_("Missing KPI Values"))

	total = scoring.total_score(quantitative, qualitative, tpl.quantitative_weight, tpl.qualitative_weight)
	header.quantitative_score = quantitative or 0
	header.qualitative_score = qualitative or 0
	header.total_score = total or 0
	bands = [(b.grade, flt(b.min_score)) for b in tpl.grade_bands] or scoring.DEFAULT_GRADE_BANDS
	header.grade = scoring.grade_for(total, bands) if total is not None else None
	header.final_grade = header.calibrated_grade or header.grade


def group_weights(tpl) -> dict[str, float]:
	return {rel: flt(tpl.get(field)) for rel, field in RELATIONSHIP_WEIGHT_FIELDS.items()}


def criteria_weights(tpl) -> dict[str, float]:
	return {c.criterion: flt(c.weight) for c in tpl.criteria}


def load_ratings(appraisals: list[str]) -> dict[str, list[tuple]]:
	"""Submitted 360 ratings of many appraisals in one query: appraisal -> [(criterion, group, rating)]."""
	if not appraisals:
		return {}
	feedback = frappe.qb.DocType("PL Feedback")
	rating = frappe.qb.DocType("PL Feedback Rating")
	rows = (
		frappe.qb.from_(rating)
		.join(feedback)
		.on(rating.parent == feedback.name)
		.select(feedback.appraisal, rating.criterion, feedback.relationship, rating.rating)
		.where(
			(rating.parenttype == "PL Feedback")
			& (feedback.appraisal.isin(appraisals))
			& (feedback.docstatus == 1)
		)
	).run()
	grouped: dict[str, list[tuple]] = {}
	for appraisal, criterion, relationship, value in rows:
		grouped.setdefault(appraisal, []).append((criterion, relationship, value))
	return grouped


def qualitative_from_ratings(rows: list[tuple] | None, tpl) -> float | None:
	if not rows:
		return None
	try:
		return scoring.qualitative_score(rows, criteria_weights(tpl), group_weights(tpl))
	except EngineError as e:
		throw_engine_error(e)


def qualitative_score_of(appraisal: str, tpl) -> float | None:
	"""360 score of one appraisal from its submitted feedback."""
	return qualitative_from_ratings(load_ratings([appraisal]).get(appraisal), tpl)
