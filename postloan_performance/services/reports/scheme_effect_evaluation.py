"""Scheme Effect Evaluation: the built-in metrics before (baseline period) and under the scheme (the
cycle's period), with Welch's t-test and a permutation test per metric.

- Metrics: every built-in metric the cycle's KPI lines read (directly or in a formula), for the same
  subjects the lines are scored on: each appraisee for Employee KPIs, each team for Team KPIs (its
  members, or its loan portfolio for the management layer). A metric that is itself a change against
  the baseline is evaluated on the level it changes (npl_ratio_reduction → npl_ratio,
  recovery_rate_improvement → recovery_rate). team_satisfaction reads the survey of the cycle in each
  period: the evaluated cycle's for the scheme period, a cycle whose period is exactly the baseline
  period (if there is one) for the baseline.
- Business metrics npl_ratio, recovery_rate and collection_success_rate of the company's whole portfolio:
  one value per period, so no test.
- Each period is one computation (services.metric_frames: one FrameCache, every subject at once). The values
  are stored per subject (PL Metric Value, services.evaluation): refreshed in the background after the
  cycle's KPIs are computed, read here while fresh, else computed here and stored. The message says when
  they were computed.
- Tests where both sides have at least two values: Welch's t (engine.stats.welch_t_test) and a
  permutation test (2,000 resamples, seed 0). "Significant" needs p < 0.05 in both.
- With a compare cycle: the mean KPI actual per KPI code in the compare cycle vs this one (e.g. the trial
  run vs the formal cycle), tested the same way.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

import frappe
from frappe import _

from postloan_performance.engine import stats
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS, LOWER
from postloan_performance.services import evaluation
from postloan_performance.services.compute import EMPLOYEE, PORTFOLIO, TEAM_PEOPLE
from postloan_performance.services.evaluation import WHOLE_PORTFOLIO
from postloan_performance.services.reports.common import bar_chart, get_cycle, require, summary_item

ALPHA = 0.05
N_RESAMPLES = 2000
SEED = 0
KPI_ACTUALS = "kpi_actuals"
IMPROVED, WORSENED, UNCHANGED = "Improved", "Worsened", "Unchanged"


def scope_label(scope: str) -> str:
	return {
		EMPLOYEE: _("Employees"),
		TEAM_PEOPLE: _("Teams"),
		PORTFOLIO: _("Team Portfolios"),
		WHOLE_PORTFOLIO: _("Whole Portfolio"),
		KPI_ACTUALS: _("KPI Lines"),
	}[scope]


def columns() -> list[dict]:
	return [
		{"label": _("Comparison"), "fieldname": "comparison", "fieldtype": "Data", "width": 200},
		{"label": _("Metric"), "fieldname": "metric", "fieldtype": "Data", "width": 170},
		{"label": _("Metric Name"), "fieldname": "metric_name", "fieldtype": "Data", "width": 190},
		{"label": _("Subjects"), "fieldname": "scope", "fieldtype": "Data", "width": 120},
		{"label": _("Better"), "fieldname": "better", "fieldtype": "Data", "width": 80},
		{"label": _("n (Baseline)"), "fieldname": "n_baseline", "fieldtype": "Int", "width": 90},
		{"label": _("n (Scheme)"), "fieldname": "n_scheme", "fieldtype": "Int", "width": 90},
		{
			"label": _("Baseline Mean"),
			"fieldname": "baseline_mean",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{
			"label": _("Scheme Mean"),
			"fieldname": "scheme_mean",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{"label": _("Delta"), "fieldname": "delta", "fieldtype": "Float", "precision": 2, "width": 90},
		{
			"label": _("Relative Change (%)"),
			"fieldname": "relative_change",
			"fieldtype": "Percent",
			"precision": 1,
			"width": 110,
		},
		{"label": _("Trend"), "fieldname": "trend", "fieldtype": "Data", "width": 90},
		{"label": _("Welch t"), "fieldname": "t", "fieldtype": "Float", "precision": 3, "width": 80},
		{
			"label": _("p (Welch)"),
			"fieldname": "p_welch",
			"fieldtype": "Float",
			"precision": 4,
			"width": 90,
		},
		{
			"label": _("p (Permutation)"),
			"fieldname": "p_permutation",
			"fieldtype": "Float",
			"precision": 4,
			"width": 110,
		},
		{"label": _("Significant (p<0.05)"), "fieldname": "significant", "fieldtype": "Check", "width": 110},
	]


def get_data(filters: dict) -> dict:
	require(filters, "review_cycle")
	fields = [
		"cycle_name",
		"company",
		"period_start",
		"period_end",
		"baseline_start",
		"baseline_end",
		"is_trial",
	]
	cycle = get_cycle(filters["review_cycle"], fields)
	if not (cycle.baseline_start and cycle.baseline_end):
		frappe.throw(
			_("Review cycle {0} has no baseline period: set its Baseline Start and Baseline End.").format(
				frappe.bold(cycle.name)
			),
			title=_("No Baseline"),
		)
	compare = None
	if filters.get("compare_cycle"):
		if filters["compare_cycle"] == cycle.name:
			frappe.throw(_("A cycle cannot be compared with itself."), title=_("Invalid Filter"))
		compare = get_cycle(filters["compare_cycle"], fields)

	evaluated = evaluation.cycle_values(cycle)
	rows = metric_rows(evaluated.values)
	if compare:
		rows += kpi_rows(compare, cycle)
	metric_only = [r for r in rows if r["scope_code"] != KPI_ACTUALS]
	return {
		"columns": columns(),
		"data": rows,
		"chart": chart(metric_only),
		"summary": summary(metric_only, [r for r in rows if r["scope_code"] == KPI_ACTUALS]),
		"message": _("Baseline period {0} to {1}; scheme period {2} to {3}.").format(
			frappe.format(cycle.baseline_start, "Date"),
			frappe.format(cycle.baseline_end, "Date"),
			frappe.format(cycle.period_start, "Date"),
			frappe.format(cycle.period_end, "Date"),
		)
		+ " "
		+ _("Significant: p < 0.05 in both Welch's t-test and the permutation test.")
		+ " "
		+ _("Metric values computed on {0}.").format(frappe.format(evaluated.computed_on, "Datetime")),
	}


# ---------------------------------------------------------------- statistics
def effect(baseline, scheme, direction: str) -> dict:
	"""n, means, delta, relative change, the two tests and the trend of one baseline/scheme comparison."""
	a = [float(v) for v in baseline if v is not None and pd.notna(v)]
	b = [float(v) for v in scheme if v is not None and pd.notna(v)]
	welch = stats.welch_t_test(a, b)
	testable = len(a) >= 2 and len(b) >= 2
	p_permutation = stats.permutation_test(a, b, n_resamples=N_RESAMPLES, seed=SEED) if testable else None
	delta = welch["delta"]
	mean_a = welch["mean_a"]
	relative = delta / abs(mean_a) * 100.0 if delta is not None and mean_a else None
	if delta is None:
		trend = None
	elif abs(delta) <= 1e-12:
		trend = UNCHANGED
	else:
		trend = IMPROVED if (delta > 0) == (direction != LOWER) else WORSENED
	p_welch = welch["p_value"]
	return {
		"n_baseline": len(a),
		"n_scheme": len(b),
		"baseline_mean": mean_a,
		"scheme_mean": welch["mean_b"],
		"delta": delta,
		"relative_change": relative,
		"t": welch["t"],
		"p_welch": p_welch,
		"p_permutation": p_permutation,
		"significant": int(
			p_welch is not None and p_permutation is not None and p_welch < ALPHA and p_permutation < ALPHA
		),
		"trend_code": trend,
		"trend": trend_label(trend),
	}


def trend_label(trend: str | None) -> str | None:
	labels = {IMPROVED: _("Improved"), WORSENED: _("Worsened"), UNCHANGED: _("Unchanged")}
	return labels.get(trend)


def _row(comparison: str, metric: str, metric_name: str, scope: str, direction: str, values) -> dict:
	row = {
		"comparison": comparison,
		"metric": metric,
		"metric_name": metric_name,
		"scope": scope_label(scope),
		"scope_code": scope,
		"better": _("Lower") if direction == LOWER else _("Higher"),
	}
	row.update(effect(*values, direction))
	return row


# ---------------------------------------------------------------- baseline vs scheme period
def metric_rows(values: evaluation.Values) -> list[dict]:
	"""One row per (metric, scope) of the evaluation values (services.evaluation), in their order."""
	comparison = _("Baseline → Scheme Period")
	rows = []
	for (code, scope), by_period in values.items():
		spec = BUILTIN_METRICS[code]
		pair = tuple([value for _subject, value in by_period[period]] for period in evaluation.PERIODS)
		rows.append(_row(comparison, code, _(spec["label"]), scope, spec["direction"], pair))
	return rows


# ---------------------------------------------------------------- compare cycle: KPI actuals
def kpi_actuals(cycle: str) -> dict[str, list[float]]:
	line = frappe.qb.DocType("PL Appraisal KPI")
	appraisal = frappe.qb.DocType("PL Appraisal")
	rows = (
		frappe.qb.from_(line)
		.join(appraisal)
		.on(appraisal.name == line.parent)
		.select(line.kpi, line.actual)
		.where(
			(line.parenttype == "PL Appraisal")
			& (appraisal.review_cycle == cycle)
			& (appraisal.docstatus < 2)
			& (line.no_data == 0)
		)
	).run()
	values = defaultdict(list)
	for kpi, actual in rows:
		values[kpi].append(float(actual or 0))
	return values


def kpi_rows(compare, cycle) -> list[dict]:
	before, after = kpi_actuals(compare.name), kpi_actuals(cycle.name)
	codes = sorted(set(before) | set(after))
	kpis = {
		k.name: k
		for k in frappe.get_all(
			"PL KPI", filters={"name": ("in", codes or [""])}, fields=["name", "kpi_name", "direction"]
		)
	}
	comparison = _("KPI Actuals: {0} → {1}").format(
		compare.cycle_name or compare.name, cycle.cycle_name or cycle.name
	)
	rows = []
	for code in codes:
		kpi = kpis.get(code) or frappe._dict(kpi_name=code, direction=None)
		values = (before.get(code, []), after.get(code, []))
		rows.append(_row(comparison, code, kpi.kpi_name, KPI_ACTUALS, kpi.direction, values))
	return rows


# ---------------------------------------------------------------- chart and summary
def chart(rows: list[dict]) -> dict:
	labels = [f"{r['metric_name']} ({r['scope']})" for r in rows]
	values = [round(r["delta"], 4) if r["delta"] is not None else 0 for r in rows]
	return bar_chart(labels, [{"name": _("Delta (Scheme − Baseline)"), "values": values}])


def summary(rows: list[dict], kpi_rows_: list[dict]) -> list[dict]:
	items = [
		summary_item(
			sum(1 for r in rows if r["trend_code"] == IMPROVED), _("Metrics Improved"), "Int", "Green"
		),
		summary_item(
			sum(1 for r in rows if r["trend_code"] == WORSENED), _("Metrics Worsened"), "Int", "Red"
		),
		summary_item(sum(r["significant"] for r in rows), _("Significant (p<0.05)"), "Int", "Blue"),
	]
	if kpi_rows_:
		items.append(
			summary_item(
				sum(1 for r in kpi_rows_ if r["trend_code"] == IMPROVED),
				_("KPIs Improved vs Compared Cycle"),
				"Int",
			)
		)
	return items
