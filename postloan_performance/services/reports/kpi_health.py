"""KPI Health: per KPI of a cycle, whether it tells people apart and whether its target bites.

Reads the cycle's KPI lines (appraisals through `frappe.get_list`, their lines in one query), works out
each line's score cap from its rule and template, and hands the maths to engine.kpi_health.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import kpi_health as health
from postloan_performance.engine import scoring
from postloan_performance.engine.bands import BandError, parse_bands
from postloan_performance.services.reports.common import bar_chart, require, summary_item

LINE_FIELDS = (
	"parent",
	"kpi",
	"kpi_name",
	"direction",
	"scoring_method",
	"target",
	"use_stretch",
	"stretch",
	"bands",
	"actual",
	"no_data",
	"score",
)


def columns() -> list[dict]:
	def percent(label, fieldname, width=100):
		return {
			"label": label,
			"fieldname": fieldname,
			"fieldtype": "Percent",
			"precision": 1,
			"width": width,
		}

	return [
		{"label": _("KPI"), "fieldname": "kpi", "fieldtype": "Link", "options": "PL KPI", "width": 160},
		{"label": _("KPI Name"), "fieldname": "kpi_name", "fieldtype": "Data", "width": 170},
		{"label": _("Lines"), "fieldname": "lines", "fieldtype": "Int", "width": 70},
		{"label": _("Lines with Data"), "fieldname": "lines_with_data", "fieldtype": "Int", "width": 90},
		{
			"label": _("Mean Score"),
			"fieldname": "mean_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 90,
		},
		{
			"label": _("Score Std Dev"),
			"fieldname": "stdev_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 90,
		},
		percent(_("At Cap (%)"), "share_at_cap"),
		percent(_("At Zero (%)"), "share_at_zero"),
		percent(_("Better than Target (%)"), "share_better", 120),
		percent(_("Meeting Target (%)"), "share_meeting", 110),
		percent(_("Most Common Score (%)"), "modal_share", 120),
		{
			"label": _("Most Correlated KPI"),
			"fieldname": "correlated_kpi",
			"fieldtype": "Link",
			"options": "PL KPI",
			"width": 150,
		},
		{
			"label": _("Correlation (r)"),
			"fieldname": "correlation",
			"fieldtype": "Float",
			"precision": 3,
			"width": 100,
		},
		{
			"label": _("Does Not Discriminate"),
			"fieldname": "not_discriminating",
			"fieldtype": "Check",
			"width": 110,
		},
		{
			"label": _("Target Everyone Beats"),
			"fieldname": "everyone_beats",
			"fieldtype": "Check",
			"width": 110,
		},
		{
			"label": _("Target Everyone Misses"),
			"fieldname": "everyone_misses",
			"fieldtype": "Check",
			"width": 110,
		},
		{
			"label": _("Current Target"),
			"fieldname": "current_target",
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{
			"label": _("Suggested Target"),
			"fieldname": "suggested_target",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{"label": _("Suggestion"), "fieldname": "suggestion", "fieldtype": "Data", "width": 120},
	]


def get_data(filters: dict) -> dict:
	require(filters, "review_cycle")
	results, names = evaluate(filters)
	rows = [row(r, names) for r in results]
	return {"columns": columns(), "data": rows, "chart": chart(rows), "summary": summary(rows)}


def evaluate(filters: dict) -> tuple[list[health.KpiHealth], dict[str, str]]:
	conditions = {"review_cycle": filters["review_cycle"], "docstatus": ("<", 2)}
	if filters.get("layer"):
		conditions["layer"] = filters["layer"]
	appraisals = frappe.get_list(
		"PL Appraisal", filters=conditions, fields=["name", "template"], limit_page_length=0
	)
	if not appraisals:
		return [], {}
	template_of = {a.name: a.template for a in appraisals}
	caps = {
		t.name: flt(t.score_cap) or scoring.DEFAULT_CAP
		for t in frappe.get_all(
			"PL KPI Template",
			filters={"name": ("in", list(set(template_of.values()) - {None}) or [""])},
			fields=["name", "score_cap"],
		)
	}
	lines = frappe.get_all(
		"PL Appraisal KPI",
		filters={"parenttype": "PL Appraisal", "parentfield": "kpis", "parent": ("in", list(template_of))},
		fields=list(LINE_FIELDS),
		limit_page_length=0,
	)
	kpi_lines = [
		health.KpiLine(
			kpi=line.kpi,
			appraisal=line.parent,
			actual=None if line.no_data else flt(line.actual),
			score=None if line.no_data else flt(line.score),
			target=line.target,
			direction=line.direction or scoring.HIGHER_IS_BETTER,
			cap=line_cap(line, caps.get(template_of[line.parent], scoring.DEFAULT_CAP)),
		)
		for line in lines
	]
	names = {line.kpi: line.kpi_name for line in lines}
	return health.kpi_health(kpi_lines), names


def line_cap(line, template_cap: float) -> float:
	"""The highest score the line's rule can give (docs/scheme.md, "Line scores")."""
	method = line.scoring_method or scoring.LINEAR
	if method == scoring.BINARY:
		return 100.0
	if method == scoring.RATIO:
		return template_cap
	if method == scoring.BANDED:
		try:
			return max((score for _low, _high, score in parse_bands(line.bands)), default=0.0)
		except BandError:
			return template_cap
	return template_cap if line.use_stretch and line.stretch is not None else 100.0


def row(result: health.KpiHealth, names: dict[str, str]) -> dict:
	strongest = result.strongest
	suggestion = {health.HARDER: _("Make harder"), health.EASIER: _("Make easier")}.get(result.suggestion)
	return {
		"kpi": result.kpi,
		"kpi_name": names.get(result.kpi),
		"direction": result.direction,
		"lines": result.lines,
		"lines_with_data": result.lines_with_data,
		"mean_score": result.mean_score,
		"stdev_score": result.stdev_score,
		"share_at_cap": result.share_at_cap,
		"share_at_zero": result.share_at_zero,
		"share_better": result.share_better_than_target,
		"share_meeting": result.share_meeting_target,
		"modal_share": result.modal_score_share,
		"correlated_kpi": strongest.kpi if strongest else None,
		"correlation": strongest.r if strongest else None,
		"not_discriminating": int(result.does_not_discriminate),
		"everyone_beats": int(result.target_everyone_beats),
		"everyone_misses": int(result.target_everyone_misses),
		"current_target": result.current_target,
		"suggested_target": result.suggested_target,
		"suggestion": suggestion,
	}


def chart(rows: list[dict]) -> dict:
	def value(v):
		return round(v, 2) if v is not None else 0

	return bar_chart(
		[r["kpi"] for r in rows],
		[
			{"name": _("At Cap (%)"), "values": [value(r["share_at_cap"]) for r in rows]},
			{"name": _("At Zero (%)"), "values": [value(r["share_at_zero"]) for r in rows]},
		],
		colors=["#29cd42", "#ff5858"],
	)


def summary(rows: list[dict]) -> list[dict]:
	return [
		summary_item(len(rows), _("KPIs"), "Int"),
		summary_item(sum(r["not_discriminating"] for r in rows), _("Do Not Discriminate"), "Int", "Orange"),
		summary_item(sum(r["everyone_beats"] for r in rows), _("Targets Everyone Beats"), "Int", "Orange"),
		summary_item(sum(r["everyone_misses"] for r in rows), _("Targets Everyone Misses"), "Int", "Red"),
	]
