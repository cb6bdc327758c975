"""Scheme what-if: score a past review cycle's people with another version of their KPI template.

A what-if (``PL Scheme What-If``) names a review cycle and a template version (usually a draft). Running
it takes the cycle's appraisals of the version's layer, builds in memory the KPI lines the version would
give them (``appraisal.kpi_lines_from_template``, as creating the appraisals does), and computes and
scores them by ``compute.score_rows`` over the cycle's period and data: the same code, metrics, 360
ratings and grade bands as a real cycle. The forced distribution is proposed by ``cycle.proposed_grades``
when the version uses it. Nothing is written but the what-if document: no PL Appraisal is created or
touched.

The baseline is the cycle's actual results: each appraisal's stored total score, grade (by the bands,
before calibration) and final grade. Manual KPI values are taken from the appraisal's line of the same
KPI (no value: no data).

Small runs (up to ``SYNC_LIMIT`` people) run in the request; larger ones on the long queue with progress.
"""

from __future__ import annotations

import time

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from postloan_performance.engine import scoring
from postloan_performance.services.appraisal import kpi_lines_from_template
from postloan_performance.services.background import enqueue_long
from postloan_performance.services.compute import score_rows
from postloan_performance.services.cycle import proposed_grades
from postloan_performance.services.reports.kpi_health import line_cap

DOCTYPE = "PL Scheme What-If"
TEMPLATE = "PL KPI Template"
SYNC_LIMIT = 300
CYCLE_FIELDS = ("name", "period_start", "period_end", "baseline_start", "baseline_end", "status", "company")
APPRAISAL_FIELDS = (
	"name",
	"employee",
	"employee_name",
	"pl_team",
	"layer",
	"total_score",
	"grade",
	"final_grade",
)


def job_id(name: str) -> str:
	return f"pl-scheme-whatif-{name}"


def subjects_of(review_cycle: str, layer: str) -> list:
	"""The cycle's appraisals (not cancelled) of the layer: the people a what-if scores."""
	return frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": review_cycle, "docstatus": ("<", 2), "layer": layer},
		fields=list(APPRAISAL_FIELDS),
		order_by="name",
		limit_page_length=0,
	)


def check(review_cycle: str, template: str) -> None:
	"""The version must serve the cycle's company and the cycle must have appraisals of its layer."""
	tpl = frappe.db.get_value(TEMPLATE, template, ["layer", "company"], as_dict=True)
	company = frappe.db.get_value("PL Review Cycle", review_cycle, "company")
	if tpl.company and company and tpl.company != company:
		frappe.throw(
			_("Template {0} is for company {1}, review cycle {2} for company {3}.").format(
				frappe.bold(template), tpl.company, frappe.bold(review_cycle), company
			),
			title=_("Wrong Company"),
		)
	if not frappe.db.exists(
		"PL Appraisal", {"review_cycle": review_cycle, "docstatus": ("<", 2), "layer": tpl.layer}
	):
		frappe.throw(
			_("Review cycle {0} has no appraisals of layer {1} to compare with.").format(
				frappe.bold(review_cycle), _(tpl.layer)
			),
			title=_("No Appraisals"),
		)


def what_if_rows(review_cycle: str, template: str, progress=None) -> list[dict]:
	"""Score the cycle's people of the template's layer with ``template``; one dict per person with the
	baseline (stored results) and the what-if results, and the what-if KPI lines. Writes nothing."""
	progress = progress or (lambda step, text: None)
	cycle = frappe.db.get_value("PL Review Cycle", review_cycle, list(CYCLE_FIELDS), as_dict=True)
	tpl = frappe.get_doc(TEMPLATE, template)
	appraisals = subjects_of(review_cycle, tpl.layer)
	if not appraisals:
		return []
	template_lines = kpi_lines_from_template(template)
	manual = {
		(m.parent, m.kpi): m
		for m in frappe.get_all(
			"PL Appraisal KPI",
			filters={
				"parenttype": "PL Appraisal",
				"parent": ("in", [a.name for a in appraisals]),
				"method": "Manual",
			},
			fields=["parent", "kpi", "actual", "no_data"],
			limit_page_length=0,
		)
	}
	headers, lines = [], []
	for a in appraisals:
		headers.append(
			frappe._dict(
				name=a.name,
				employee=a.employee,
				pl_team=a.pl_team,
				layer=a.layer,
				template=template,
				review_cycle=review_cycle,
				calibrated_grade=None,
			)
		)
		for idx, item in enumerate(template_lines, start=1):
			line = frappe._dict(
				item, name=f"{a.name}#{idx}", parent=a.name, idx=idx, actual=0, data_date=None
			)
			if item["method"] == "Manual":
				typed = manual.get((a.name, item["kpi"]))
				line.actual = typed.actual if typed else 0
				line.no_data = typed.no_data if typed else 1
			lines.append(line)
	score_rows(cycle, headers, lines, progress)
	progress(3, _("Grading"))

	forced = proposed_grades(
		tpl, [frappe._dict(name=h.name, total_score=h.total_score, grade=h.grade) for h in headers]
	)
	cap = flt(tpl.score_cap) or scoring.DEFAULT_CAP
	by_parent: dict[str, list] = {}
	for line in lines:
		by_parent.setdefault(line.parent, []).append(line)
	rows = []
	for a, h in zip(appraisals, headers, strict=True):
		rows.append(
			{
				"appraisal": a.name,
				"employee": a.employee,
				"employee_name": a.employee_name,
				"pl_team": a.pl_team,
				"layer": a.layer,
				"baseline_score": flt(a.total_score),
				"baseline_grade": a.grade,
				"baseline_final_grade": a.final_grade or a.grade,
				"quantitative_score": h.quantitative_score,
				"qualitative_score": h.qualitative_score,
				"score": h.total_score,
				"grade": h.grade,
				"forced_grade": forced.get(h.name) if tpl.use_forced_distribution else None,
				"kpis": [
					{
						"kpi": line.kpi,
						"kpi_name": line.kpi_name,
						"actual": None if line.no_data else line.actual,
						"score": None if line.no_data else line.score,
						"target": line.target,
						"direction": line.direction,
						"cap": line_cap(line, cap),
					}
					for line in by_parent.get(h.name, [])
				],
			}
		)
	return rows


def grade_order(template: str) -> list[str]:
	"""The template's grades, best first."""
	bands = frappe.get_all(
		"PL Grade Band",
		filters={"parenttype": TEMPLATE, "parent": template},
		fields=["grade", "min_score"],
		order_by="min_score desc",
	)
	return [b.grade for b in bands] or [g for g, _m in scoring.DEFAULT_GRADE_BANDS]


def move(before: str | None, after: str | None, order: list[str]) -> int:
	"""+n when ``after`` is n grades better than ``before``, −n worse, 0 the same (or not comparable)."""
	if before not in order or after not in order:
		return 0
	return order.index(before) - order.index(after)


def summary(rows: list[dict], order: list[str]) -> dict:
	moves = [move(r["baseline_grade"], r["grade"], order) for r in rows]
	n = len(rows)
	return {
		"subjects": n,
		"moved_up": sum(1 for m in moves if m > 0),
		"moved_down": sum(1 for m in moves if m < 0),
		"mean_score_before": sum(r["baseline_score"] for r in rows) / n if n else 0,
		"mean_score_after": sum(flt(r["score"]) for r in rows) / n if n else 0,
	}


def run(name: str, background: bool | None = None) -> dict:
	"""Run the what-if now when small, else queue it (``background`` forces either way)."""
	doc = frappe.get_doc(DOCTYPE, name)
	check(doc.review_cycle, doc.template)
	layer = frappe.db.get_value(TEMPLATE, doc.template, "layer")
	count = len(subjects_of(doc.review_cycle, layer))
	if background is None:
		background = count > SYNC_LIMIT
	if not background:
		return execute(name)
	frappe.db.set_value(DOCTYPE, name, {"status": "Queued", "error": None})
	enqueue_long(
		"postloan_performance.services.scheme_whatif.execute",
		job_id(name),
		name=name,
		publish_progress=True,
		in_job=True,
	)
	return {"name": name, "status": "Queued", "job_id": job_id(name), "subjects": count}


def execute(name: str, publish_progress: bool = False, in_job: bool = False) -> dict:
	"""Compute the what-if and store its results on the document (status, run time, summary, rows)."""
	doc = frappe.get_doc(DOCTYPE, name)
	started = now_datetime()
	clock = time.monotonic()
	frappe.db.set_value(DOCTYPE, name, {"status": "Running", "started_on": started, "error": None})
	if in_job:
		frappe.db.commit()

	def progress(step, text):
		if publish_progress:
			frappe.publish_progress(
				step * 100 / 4, title=_("Scheme What-If"), doctype=DOCTYPE, docname=name, description=text
			)

	try:
		rows = what_if_rows(doc.review_cycle, doc.template, progress)
	except Exception:
		if not in_job:
			raise
		frappe.db.rollback()
		frappe.db.set_value(
			DOCTYPE,
			name,
			{"status": "Failed", "error": frappe.get_traceback()[-2000:], "finished_on": now_datetime()},
		)
		frappe.db.commit()
		raise
	values = {
		**summary(rows, grade_order(doc.template)),
		"results": frappe.as_json(rows, indent=None),
		"status": "Completed",
		"finished_on": now_datetime(),
		"run_seconds": round(time.monotonic() - clock, 3),
		"run_by": frappe.session.user,
	}
	frappe.db.set_value(DOCTYPE, name, values)
	progress(4, _("Done"))
	if in_job:
		frappe.db.commit()
	return {
		"name": name,
		"status": "Completed",
		**{k: values[k] for k in ("subjects", "moved_up", "moved_down")},
	}


def results(name: str) -> list[dict]:
	"""The stored per-person rows of a what-if (empty until it has run)."""
	raw = frappe.db.get_value(DOCTYPE, name, "results")
	return frappe.parse_json(raw) if raw else []


def create(template: str, review_cycle: str) -> str:
	"""A new what-if of ``template`` over ``review_cycle`` (not yet run)."""
	check(review_cycle, template)
	doc = frappe.get_doc({"doctype": DOCTYPE, "template": template, "review_cycle": review_cycle}).insert()
	return doc.name


def apply_suggested_targets(template: str, review_cycle: str) -> dict:
	"""Set the targets of a draft version to KPI Health's suggested targets over ``review_cycle``.

	For Linear lines the threshold and stretch move with the target (same distances), so the rule stays
	ordered; Binary and Ratio lines get the target only; Banded lines and KPIs without a suggestion are
	skipped. Returns what changed and what was skipped."""
	from postloan_performance.services.reports import kpi_health

	doc = frappe.get_doc(TEMPLATE, template)
	if doc.version_status != "Draft":
		frappe.throw(_("Suggested targets can only be applied to a draft version."), title=_("Not Allowed"))
	health, _names = kpi_health.evaluate({"review_cycle": review_cycle, "layer": doc.layer})
	suggested = {h.kpi: h.suggested_target for h in health if h.suggested_target is not None}
	changed, skipped = [], []
	for item in doc.items:
		new = suggested.get(item.kpi)
		if new is None:
			continue
		if item.scoring_method == scoring.BANDED:
			skipped.append(item.kpi)
			continue
		new = flt(new, 6)
		old = flt(item.target)
		if abs(new - old) <= 1e-9:
			continue
		shift = new - old
		item.target = new
		if item.scoring_method in (None, "", scoring.LINEAR):
			if item.threshold is not None:
				item.threshold = flt(item.threshold) + shift
			if item.use_stretch and item.stretch is not None:
				item.stretch = flt(item.stretch) + shift
		changed.append({"kpi": item.kpi, "old": old, "new": new})
	if changed:
		doc.save()
	return {"changed": changed, "skipped": skipped}
