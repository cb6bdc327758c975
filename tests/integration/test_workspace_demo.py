"""The workspace, its number cards and charts, and the demo (make, determinism, remove).

The demo test runs the whole demo once on a small portfolio (300 loans), checks the dashboard figures
against an independent pandas computation on the same generated frames, makes the demo a second time
with the same seed (after rolling the first one back) to check that counts and the checksum of the
scores are identical, then removes it and checks that nothing of it is left. make_demo never commits;
frappe.db.commit is patched anyway so that nothing can reach the shared test site.
"""

import json

import pandas as pd
import pytest

import frappe

from postloan_performance import api
from postloan_performance.services import dashboard, demo
from tests.integration.factories import make_user

WORKSPACE = "Post-Loan Performance"
MODULE = "Postloan Performance"
CARDS = {
	"PL Current NPL Ratio": "postloan_performance.api.current_npl_ratio",
	"PL Recovery Rate": "postloan_performance.api.recovery_rate_last_month",
	"PL Open Cycle Progress": "postloan_performance.api.open_cycle_progress",
	"PL Open Appeals": None,
	"PL Last Payout Pool": "postloan_performance.api.last_payout_pool",
}
CHARTS = {
	"PL NPL Trend": "postloan_performance.api.npl_trend_chart",
	"PL Grade Distribution": "postloan_performance.api.grade_distribution_chart",
	"PL KPI Achievement": "postloan_performance.api.kpi_achievement_chart",
}
NPL = ("Substandard", "Doubtful", "Loss")
SEED, LOANS = 2031, 300


# ---------------------------------------------------------------- workspace, cards, charts
def test_workspace_cards_and_charts_exist_after_migrate():
	ws = frappe.get_doc("Workspace", WORKSPACE)
	assert (ws.public, ws.module, ws.title) == (1, MODULE, WORKSPACE)
	assert {c.number_card_name for c in ws.number_cards} == set(CARDS)
	assert {c.chart_name for c in ws.charts} == set(CHARTS)

	for name, method in CARDS.items():
		card = frappe.get_doc("Number Card", name)
		assert card.module == MODULE and card.is_standard and card.is_public
		if method:
			assert (card.type, card.method) == ("Custom", method)
			assert frappe.get_attr(method) in frappe.whitelisted
		else:
			assert (card.type, card.document_type) == ("Document Type", "PL Appeal")
	for name, method in CHARTS.items():
		chart = frappe.get_doc("Dashboard Chart", name)
		assert (chart.chart_type, chart.source, chart.module) == ("Custom", name, MODULE)
		assert {r.role for r in chart.roles} >= {"PL Performance Manager", "PL Executive"}
		config = frappe.get_attr(
			"frappe.desk.doctype.dashboard_chart_source.dashboard_chart_source.get_config"
		)(name)
		assert f'"{method}"' in config
		assert frappe.get_attr(method) in frappe.whitelisted

	# every block of the layout points at a widget of the workspace
	labels = {
		"number_card": {c.label for c in ws.number_cards},
		"chart": {c.label for c in ws.charts},
		"shortcut": {s.label for s in ws.shortcuts},
		"card": {link.label for link in ws.links if link.type == "Card Break"},
	}
	keys = {
		"number_card": "number_card_name",
		"chart": "chart_name",
		"shortcut": "shortcut_name",
		"card": "card_name",
	}
	for block in json.loads(ws.content):
		if block["type"] in keys:
			assert block["data"][keys[block["type"]]] in labels[block["type"]], block

	# links to every PL DocType (but child tables) and every report of the module
	linked = {(link.link_type, link.link_to) for link in ws.links if link.type == "Link"}
	doctypes = frappe.get_all("DocType", {"module": MODULE, "istable": 0}, pluck="name")
	reports = frappe.get_all("Report", {"module": MODULE, "is_standard": "Yes"}, pluck="name")
	assert len(reports) >= 10
	assert {("DocType", d) for d in doctypes} <= linked, sorted(
		{d for d in doctypes} - {t for _k, t in linked}
	)
	assert {("Report", r) for r in reports} <= linked, sorted(set(reports) - {t for _k, t in linked})
	for shortcut in ws.shortcuts:
		assert frappe.db.exists(shortcut.type if shortcut.type != "DocType" else "DocType", shortcut.link_to)


def test_card_and_chart_methods_refuse_users_without_a_pl_role(offline_users):
	user = make_user("no-pl-role@plp.test", [])
	frappe.set_user(user)
	for method in (
		api.current_npl_ratio,
		api.recovery_rate_last_month,
		api.open_cycle_progress,
		api.npl_trend_chart,
		api.grade_distribution_chart,
		api.kpi_achievement_chart,
	):
		with pytest.raises(frappe.PermissionError):
			method()
	for method in (api.make_demo, api.remove_demo):
		with pytest.raises(frappe.PermissionError):
			method()


def test_demo_endpoints_queue_a_long_job(monkeypatch):
	queued = []
	monkeypatch.setattr(frappe, "enqueue", lambda method, **kwargs: queued.append((method, kwargs)))
	monkeypatch.setattr(demo, "demo_exists", lambda: False)
	monkeypatch.setitem(frappe.conf, "postloan_demo", 1)
	assert api.make_demo(seed=5, n_loans=100, password="Plp-Demo-Test-2026!")["queued"]
	assert api.remove_demo()["queued"]
	assert [(m, k["queue"]) for m, k in queued] == [
		("postloan_performance.services.demo.make_demo_job", "long"),
		("postloan_performance.services.demo.remove_demo_job", "long"),
	]
	assert queued[0][1]["seed"] == 5 and queued[0][1]["n_loans"] == 100
	with pytest.raises(frappe.ValidationError):
		api.make_demo(n_loans=0, password="Plp-Demo-Test-2026!")


def test_bench_command_is_registered():
	from postloan_performance.commands import commands

	command = next(c for c in commands if c.name == "postloan-demo")
	assert {p.name for p in command.params} >= {"seed", "n_loans", "months", "remove"}
	assert any(c.name == "postloan-import" for c in commands)


# ---------------------------------------------------------------- independent computations
def _npl_at(snapshots: pd.DataFrame, day) -> float:
	rows = snapshots[snapshots["as_of_date"] == day]
	total = rows["outstanding"].sum()
	return rows.loc[rows["classification"].isin(NPL), "outstanding"].sum() * 100.0 / total


def _expected_npl(ds) -> tuple[float, list[str], list[float]]:
	snapshots = ds.snapshots.assign(as_of_date=pd.to_datetime(ds.snapshots["as_of_date"]))
	latest = snapshots["as_of_date"].max()
	month_ends = snapshots.groupby(snapshots["as_of_date"].dt.to_period("M"))["as_of_date"].max().sort_index()
	labels = [str(period) for period in month_ends.index]
	return _npl_at(snapshots, latest), labels, [_npl_at(snapshots, d) for d in month_ends]


def _expected_recovery(ds, start, end) -> float:
	start, end = pd.Timestamp(start), pd.Timestamp(end)
	received = pd.to_datetime(ds.recoveries["received_on"])
	recovered = ds.recoveries.loc[(received >= start) & (received <= end), "amount"].sum()
	opened, closed = pd.to_datetime(ds.cases["opened_on"]), pd.to_datetime(ds.cases["closed_on"])
	active = (opened <= end) & (closed.isna() | (closed >= start))
	return recovered * 100.0 / ds.cases.loc[active, "entry_overdue_amount"].sum()


def _site_counts() -> dict[str, int]:
	"""Row counts of every table the demo writes to, for the before/after comparison."""
	doctypes = frappe.get_all("DocType", {"module": MODULE, "issingle": 0}, pluck="name")
	counts = {d: frappe.db.count(d) for d in doctypes}
	for doctype in (
		"User",
		"Employee",
		"Company",
		"Contact",
		"Has Role",
		"ToDo",
		"Version",
		"Account",
		"PL Team",
	):
		counts[doctype] = frappe.db.count(doctype)
	counts["demo users"] = frappe.db.count("User", {"name": ("like", f"%@{demo.USER_DOMAIN}")})
	# deleting the demo company deletes its audit trail, also a trail an interrupted earlier demo left
	counts["Version"] -= frappe.db.count("Version", {"ref_doctype": "Company", "docname": demo.DEMO_COMPANY})
	return counts


@pytest.fixture
def offline_users(monkeypatch):
	# a new user's avatar is looked up online (gravatar) right away in tests: not here
	monkeypatch.setattr("frappe.core.doctype.user.user.update_gravatar", lambda *args, **kwargs: None)


@pytest.fixture
def no_commit(monkeypatch, offline_users):
	monkeypatch.setattr(frappe.db, "commit", lambda *args, **kwargs: None)
	monkeypatch.setitem(frappe.conf, "postloan_demo", 1)  # the site allows the demo


# ---------------------------------------------------------------- the demo
def test_demo_make_figures_determinism_and_removal(no_commit):
	assert not demo.demo_exists(), "a demo is loaded on the test site; remove it first"
	ds = demo.demo_dataset(SEED, LOANS)
	pd.testing.assert_frame_equal(ds.snapshots, demo.demo_dataset(SEED, LOANS).snapshots)

	first = demo.make_demo(seed=SEED, n_loans=LOANS, password="Plp-Demo-Test-2026!")
	plan = demo.cycle_plan()
	statuses = {c["cycle"]: c["status"] for c in first["cycles"]}
	assert statuses == {spec.cycle_name: spec.final_status for spec in plan}
	assert [spec.is_trial for spec in plan] == [1, 0, 0, 0]
	counts = first["counts"]
	assert counts["PL Loan"] == LOANS and counts["PL Loan Snapshot"] == len(ds.snapshots)
	assert counts["Employee"] == len(ds.employees) and counts["PL Team"] == len(ds.teams)
	assert counts["PL Appraisal"] == 4 * len(ds.employees)
	assert counts["User"] == len(first["users"]) == 11
	for row in first["users"]:  # demo users have their demo roles only
		assert "System Manager" not in frappe.get_roles(row["user"]), row
	# next to the site's own company (its setup wizard is done), demo users land on the demo company
	assert frappe.defaults.get_global_default("company") not in (None, demo.DEMO_COMPANY)
	for row in first["users"]:
		assert frappe.defaults.get_user_default("company", row["user"]) == demo.DEMO_COMPANY, row
	assert counts["PL Appeal"] == 4 and counts["PL Feedback"] > 3 * counts["PL Appraisal"]
	# the Portfolio Quality Trend summary is built: the report's first open builds nothing
	from postloan_performance.services import portfolio_months

	ends = portfolio_months.month_ends()
	assert ends and not portfolio_months._missing_dates(ends)
	assert not portfolio_months._missing_months(portfolio_months._months(ends))
	# the closed formal cycle's incentive payout: every employee, the whole pool, confirmed with HRMS
	payout = first["payout"]
	hrms = "hrms" in frappe.get_installed_apps()
	assert payout["status"] == ("Confirmed" if hrms else "Prepared")
	assert payout["lines"] == len(ds.employees) and payout["pool"] == 1500 * len(ds.employees)
	assert payout["total_amount"] == pytest.approx(payout["pool"], abs=0.001)
	if hrms:  # the workspace's number card shows it
		assert api.last_payout_pool()["value"] == payout["pool"]
	appeals = dict(
		frappe.get_all(
			"PL Appeal",
			{"review_cycle": ("like", f"{demo.TEAM_PREFIX}%")},
			["status", "count(*) as n"],
			group_by="status",
			as_list=True,
		)
	)
	assert appeals == {"Upheld": 1, "Rejected": 1, "Under Review": 1, "Open": 1}
	trial = plan[0].cycle_name
	assert frappe.db.count(
		"PL Appraisal", {"review_cycle": trial, "status": "Approved", "is_trial": 1}
	) == len(ds.employees)
	assert frappe.db.count(
		"PL Appraisal", {"review_cycle": plan[2].cycle_name, "final_grade": ("is", "set")}
	) == len(ds.employees)
	assert frappe.db.count("PL Satisfaction Survey", {"review_cycle": plan[2].cycle_name}) > 0

	# ---- the dashboard, as the demo's executive, against pandas on the same frames
	company = json.dumps({"company": demo.DEMO_COMPANY})
	frappe.set_user(f"executive@{demo.USER_DOMAIN}")
	npl, labels, trend = _expected_npl(ds)
	card = api.current_npl_ratio(company)
	assert card["value"] == pytest.approx(npl, abs=0.006)
	assert card["fieldtype"] == "Percent"
	chart = api.npl_trend_chart(filters=company)
	assert chart["labels"] == labels and len(labels) == 12
	assert chart["datasets"][0]["values"] == pytest.approx(trend, abs=0.006)

	recovery = dashboard.recovery_rate(demo.DEMO_COMPANY)
	month = dashboard.last_full_month(min(frappe.utils.getdate(), demo.DATA_END))
	assert (recovery["month_start"], recovery["month_end"]) == month
	expected = _expected_recovery(ds, recovery["month_start"], recovery["month_end"])
	assert api.recovery_rate_last_month(company)["value"] == pytest.approx(expected, abs=0.006)

	progress = api.open_cycle_progress(company)
	open_cycle = plan[-1].cycle_name
	done = frappe.db.count(
		"PL Appraisal", {"review_cycle": open_cycle, "status": ("in", dashboard.PAST_MANAGER_REVIEW)}
	)
	assert progress["value"] == pytest.approx(done * 100 / len(ds.employees), abs=0.006)
	assert 0 < progress["value"] < 100
	assert progress["route_options"] == {"review_cycle": open_cycle}

	grades = api.grade_distribution_chart(filters=company)
	assert grades["labels"] == ["S", "A", "B", "C", "D"]
	assert grades["datasets"][0]["name"] == plan[2].cycle_name  # latest published formal cycle
	assert sum(grades["datasets"][0]["values"]) == len(ds.employees)
	achievement = api.kpi_achievement_chart(filters=company)
	assert 0 < len(achievement["labels"]) <= frappe.db.count("PL KPI")
	assert all(0 <= v <= dashboard.ACHIEVEMENT_CAP for v in achievement["datasets"][0]["values"])
	frappe.set_user("Administrator")

	# ---- same seed, same demo: start again from nothing (the first one is rolled back)
	frappe.db.rollback()
	frappe.clear_document_cache("Company", demo.DEMO_COMPANY)
	assert not demo.demo_exists()
	before = _site_counts()
	second = demo.make_demo(seed=SEED, n_loans=LOANS)
	assert second["counts"] == first["counts"]
	assert second["checksum"] == first["checksum"]
	with pytest.raises(frappe.ValidationError, match="already loaded"):
		demo.make_demo(seed=SEED, n_loans=LOANS)

	# ---- removal leaves nothing of the demo behind
	result = demo.remove_demo()
	assert result["company_removed"]
	assert result["removed"]["PL Loan Snapshot"] == len(ds.snapshots)
	assert not demo.demo_exists()
	assert all(v == 0 for v in demo.demo_counts().values())
	after = _site_counts()
	assert after == before, {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
