"""benchmarks/reports.py opens every report with the filters a user gets, shared filter makers included.

The reports' filters come partly from the app's shared desk include (``public/js/report_filters.js``:
``postloan_performance.report.company()``, ``...closed_months(3)``, ``review_cycle()`` …). A benchmark that
did not expand them ran most reports without their required filters and timed an error message.
"""

import datetime as dt
import sys
from pathlib import Path

import pytest

frappe = pytest.importorskip("frappe")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import reports

CTX = reports.Context(
	cycle="PLB Any Cycle",
	company="PLB Any Company",
	period_start=dt.date(2026, 4, 1),
	period_end=dt.date(2026, 6, 30),
	today=dt.date(2026, 7, 1),
)


def test_shared_makers_are_read_from_the_desk_include():
	makers = reports._shared_makers()
	assert {"company", "closed_months", "review_cycle", "layer", "team"} <= set(makers)
	params, value = makers["closed_months"]
	assert params == [("months", "3")] and value.startswith("[")


def test_collector_performance_gets_its_shared_filters():
	specs = {s.fieldname: s for s in reports.filter_specs("Collector Performance")}
	assert set(specs) == {"company", "from_date", "to_date", "pl_team", "collector"}
	assert specs["from_date"].reqd and specs["to_date"].reqd
	filters = reports.default_filters("Collector Performance", CTX)
	# the three closed months before "today", as the desk computes them
	assert filters == {"company": CTX.company, "from_date": "2026-04-01", "to_date": "2026-06-30"}


def test_closed_months_argument_is_used():
	makers = {"closed_months": ([("months", "3")], "[{ fieldname: 'from_date', default: -months }]")}
	expanded = reports.expand_shared("filters: [...postloan_performance.report.closed_months(12)]", makers)
	assert expanded == "filters: [{ fieldname: 'from_date', default: -12 }]"


def test_every_required_filter_gets_a_value_when_a_record_exists():
	names = reports.discover()
	assert "Collector Performance" in names and "KPI Achievement" in names
	checked = 0
	for report in names:
		filters = reports.default_filters(report, CTX)
		for spec in reports.filter_specs(report):
			if not spec.reqd:
				continue
			if spec.fieldtype == "Link" and spec.options not in ("PL Review Cycle", "Company"):
				if not frappe.db.count(spec.options):
					assert spec.fieldname in reports.unset_required(report, filters)
					continue
			assert filters.get(spec.fieldname) not in (None, ""), (report, spec.fieldname)
			checked += 1
	assert checked >= 11  # five review cycles, three closed-month date pairs
