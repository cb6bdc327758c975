"""Appraisal Results and Grade Distribution: scores and grades of a cycle, shares vs the forced distribution."""

from __future__ import annotations

import statistics

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import scoring
from postloan_performance.privacy import reading_results
from postloan_performance.services.reports.common import (
	EMPLOYEE_DOCTYPE,
	appraisal_columns,
	bar_chart,
	require,
	summary_item,
)

HISTOGRAM_BINS = [(lo, lo + 10) for lo in range(0, 120, 10)]


def columns() -> list[dict]:
	return [
		*appraisal_columns("name", name_width=160, layer_width=120),
		{"label": _("Status"), "fieldname": "status", "fieldtype": "Data", "width": 110},
		{
			"label": _("Quantitative Score"),
			"fieldname": "quantitative_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{
			"label": _("Qualitative Score"),
			"fieldname": "qualitative_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{
			"label": _("Total Score"),
			"fieldname": "total_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{"label": _("Grade by Bands"), "fieldname": "grade", "fieldtype": "Data", "width": 80},
		{"label": _("Final Grade"), "fieldname": "final_grade", "fieldtype": "Data", "width": 80},
	]


def get_data(filters: dict) -> dict:
	"""Rows the user may see (permission rules apply through frappe.get_list), chart and summary."""
	require(filters, "review_cycle")
	conditions = {"review_cycle": filters["review_cycle"], "docstatus": ("<", 2)}
	for field in ("layer", "pl_team"):
		if filters.get(field):
			conditions[field] = filters[field]
	with reading_results():  # the appraisee's own row only once published, never in a trial
		rows = frappe.get_list(
			"PL Appraisal",
			filters=conditions,
			fields=[c["fieldname"] for c in columns()] + ["template"],
			order_by="total_score desc, name asc",
			limit_page_length=0,
		)
	for row in rows:
		row.update(EMPLOYEE_DOCTYPE)
	chart = grade_chart(rows) if filters.get("chart", "Grade Shares") == "Grade Shares" else histogram(rows)
	return {"columns": columns(), "data": rows, "chart": chart, "summary": summary(rows)}


def target_shares(rows: list[dict]) -> dict[str, float]:
	templates = {r.template for r in rows if r.template}
	if len(templates) != 1:
		# several layers: the design's default forced distribution is the common yardstick
		return dict(scoring.DEFAULT_FORCED_SHARES)
	tpl = frappe.get_doc("PL KPI Template", templates.pop())
	return {b.grade: flt(b.forced_share) for b in sorted(tpl.grade_bands, key=lambda b: -flt(b.min_score))}


def grade_chart(rows: list[dict]) -> dict:
	shares = target_shares(rows)
	graded = [r.final_grade for r in rows if r.final_grade]
	labels = list(shares) + sorted({g for g in graded} - set(shares))
	actual = [round(graded.count(g) * 100.0 / len(graded), 2) if graded else 0 for g in labels]
	return bar_chart(
		labels,
		[
			{"name": _("Actual Share (%)"), "values": actual},
			{"name": _("Target Share (%)"), "values": [shares.get(g, 0) for g in labels]},
		],
		colors=["#2490ef", "#b8c2cc"],
	)


def histogram(rows: list[dict]) -> dict:
	counts = [
		sum(1 for r in rows if lo <= flt(r.total_score) < hi or (hi == 120 and flt(r.total_score) == 120))
		for lo, hi in HISTOGRAM_BINS
	]
	return bar_chart(
		[f"{lo}–{hi}" for lo, hi in HISTOGRAM_BINS], [{"name": _("Appraisals"), "values": counts}]
	)


def summary(rows: list[dict]) -> list[dict]:
	totals = [flt(r.total_score) for r in rows]
	top = sum(1 for r in rows if r.final_grade in ("S", "A"))
	return [
		summary_item(len(rows), _("Appraisals"), "Int"),
		summary_item(round(statistics.fmean(totals), 2) if totals else 0, _("Mean Total Score")),
		summary_item(round(statistics.median(totals), 2) if totals else 0, _("Median Total Score")),
		summary_item(
			round(top * 100.0 / len(rows), 1) if rows else 0, _("Share Graded S or A (%)"), "Percent", "Green"
		),
	]
