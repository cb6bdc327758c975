"""Early-warning rules on a real site over generated months of snapshots.

A fixed-seed portfolio (with collateral appraisals: every fourth secured loan's collateral is now worth
23 % less than at its last appraisal) is loaded without its generated alerts; the warning job
(`services.early_warning.process_date`) runs on each month-end in order with four active rules and one
disabled rule. The expected alerts are computed here in plain Python from the generated snapshots and loans
(no duplicates while an alert of the same loan and rule is Pending; after an officer closes one, the rule
may alert on that loan again later) and compared with the alerts the job raised, one by one. Re-running
raises nothing; closing alerts feeds warning_precision.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import frappe

from postloan_performance import api
from postloan_performance.services import daily_jobs, early_warning
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from tests.integration import daily_jobs_data as data

SEED = 31
TEAM_PREFIX = "_Test PLW "
ROW_PREFIX = "PLW-"
RISK_TEAM = TEAM_PREFIX + "Risk Control 01"
RULES = {
	"_Test PLW First Overdue": "dpd > 0 and max_prev_dpd == 0",
	"_Test PLW Two Missed": "consecutive_overdue >= 2",
	"_Test PLW Collateral Down": "collateral_change_pct < -20 and dpd > 0",
	"_Test PLW Outstanding Up": "outstanding_change > 0 and collateral_change_pct < 0",
}
DISABLED = "_Test PLW Disabled"


def appraisals(ds) -> dict[str, float]:
	secured = ds.loans[ds.loans["collateral_value"] > 0].sort_values("name")
	values = {}
	for i, row in enumerate(secured.itertuples(index=False)):
		values[row.name] = round(row.collateral_value * (1.3 if i % 4 == 0 else 1.0), 2)
	return values


@pytest.fixture(scope="module")
def dataset():
	ds = data.generated(SEED, 500, 7, TEAM_PREFIX, ROW_PREFIX)
	# a fee capitalised in the fourth month on twelve loans whose collateral lost value: outstanding up
	dropped = [loan for loan, value in appraisals(ds).items() if value > 0][::4][:12]
	snaps = ds.snapshots
	fourth = pd.Timestamp(data.month_ends(ds)[3])
	for loan in dropped:
		rows = snaps.index[(snaps["loan"] == loan) & (pd.to_datetime(snaps["as_of_date"]) <= fourth)]
		if len(rows) >= 2:
			snaps.loc[rows[-1], "outstanding"] = round(snaps.loc[rows[-2], "outstanding"] * 1.05, 2)
	return ds


@pytest.fixture
def loaded(dataset, world):
	employee_of = data.load(dataset, ROW_PREFIX)
	for loan, value in appraisals(dataset).items():
		frappe.db.set_value("PL Loan", loan, "last_appraisal_value", value, update_modified=False)
	risk = dataset.employees[dataset.employees["team"] == RISK_TEAM]
	officer = employee_of[risk[~risk["is_lead"]]["key"].iloc[0]]
	rules = {
		"_Test PLW First Overdue": dict(
			severity="Medium", officer=officer, notify_role="PL Post-Loan Officer"
		),
		"_Test PLW Two Missed": dict(severity="High", officer_team=RISK_TEAM),
		"_Test PLW Collateral Down": dict(severity="High", officer=officer),
		"_Test PLW Outstanding Up": dict(severity="Critical", officer=officer),
	}
	for name, values in rules.items():
		frappe.get_doc(
			{"doctype": "PL Warning Rule", "rule_name": name, "expression": RULES[name], **values}
		).insert()
	frappe.get_doc(
		{"doctype": "PL Warning Rule", "rule_name": DISABLED, "expression": "dpd >= 0", "enabled": 0}
	).insert()
	members = [employee_of[k] for k in risk["key"]]
	return frappe._dict(ds=dataset, officer=officer, risk_members=members)


# ------------------------------------------------------------------ the independent evaluation


def conditions(ds) -> dict[tuple[str, dt.date], set[str]]:
	"""(loan, month-end) -> the rules whose condition holds, computed row by row in plain Python."""
	appraisal = appraisals(ds)
	collateral = dict(zip(ds.loans["name"], ds.loans["collateral_value"], strict=True))
	out = {}
	for loan, rows in data.snapshots_by_loan(ds).items():
		for i, (day, dpd, outstanding, _overdue) in enumerate(rows):
			earlier = rows[:i]
			max_prev = max((r[1] for r in earlier), default=0)
			run = 0
			for r in reversed(rows[: i + 1]):
				if r[1] <= 0:
					break
				run += 1
			value = collateral[loan]
			change = (value - appraisal[loan]) / appraisal[loan] * 100 if appraisal.get(loan) else None
			grew = earlier and outstanding - earlier[-1][2] > 0
			hits = set()
			if dpd > 0 and max_prev == 0:
				hits.add("_Test PLW First Overdue")
			if run >= 2:
				hits.add("_Test PLW Two Missed")
			if change is not None and change < -20 and dpd > 0:
				hits.add("_Test PLW Collateral Down")
			if grew and change is not None and change < 0:
				hits.add("_Test PLW Outstanding Up")
			out[(loan, day)] = hits
	return out


def expected_alerts(ds, closed_after: dict[dt.date, set[tuple[str, str]]]) -> set[tuple[str, str, dt.date]]:
	"""Alerts the job must raise: a rule's condition holds and the loan has no Pending alert of that rule.
	``closed_after[day]``: (loan, rule) pairs whose alert an officer closed after the job ran on ``day``."""
	hits = conditions(ds)
	pending: set[tuple[str, str]] = set()
	raised = set()
	for day in data.month_ends(ds):
		for (loan, when), rules in sorted(hits.items()):
			if when != day:
				continue
			for rule in sorted(rules):
				if (loan, rule) not in pending:
					pending.add((loan, rule))
					raised.add((loan, rule, day))
		pending -= closed_after.get(day, set())
	return raised


def my_alerts() -> list[dict]:
	return frappe.get_all(
		"PL Risk Alert",
		filters={"loan": ("like", ROW_PREFIX + "%")},
		fields=[
			"name",
			"loan",
			"rule",
			"raised_on",
			"severity",
			"officer",
			"outcome",
			"details",
			"outcome_on",
		],
		limit_page_length=0,
	)


def test_rules_raise_exactly_the_expected_alerts(loaded, world):
	ds = loaded.ds
	dates = data.month_ends(ds)
	closed: dict[dt.date, set[tuple[str, str]]] = {}
	for index, day in enumerate(dates):
		result = early_warning.process_date(day)
		assert result["rules"] == len(RULES) and not result["skipped"]
		if index == 2:
			# the officer closes the first-overdue alerts of the first months: the rule may fire again
			frappe.set_user(world.users.officer)
			to_close = sorted(
				(a for a in my_alerts() if a.rule in ("_Test PLW First Overdue", "_Test PLW Two Missed")),
				key=lambda a: a.name,
			)
			for i, alert in enumerate(to_close):
				api.close_risk_alert(alert.name, "Confirmed" if i % 3 else "False Alarm", "checked")
			closed[day] = {(a.loan, a.rule) for a in to_close}
			frappe.set_user("Administrator")
	want = expected_alerts(ds, closed)
	alerts = my_alerts()
	got = {(a.loan, a.rule, a.raised_on) for a in alerts}
	assert len(got) == len(alerts)  # no two alerts for the same loan, rule and day
	assert got == want
	by_rule = {rule: sum(1 for a in alerts if a.rule == rule) for rule in RULES}
	assert all(by_rule.values()), by_rule  # every rule fired at least once on these months
	assert not any(a.rule == DISABLED for a in alerts)
	# a loan never has two Pending alerts of one rule
	pending = [(a.loan, a.rule) for a in alerts if a.outcome == "Pending"]
	assert len(pending) == len(set(pending))
	# re-raised after closing
	assert any(
		(loan, rule) in closed[dates[2]] and day > dates[2] for loan, rule, day in got
	), "no alert was raised again after its predecessor was closed"
	# severity, officer and the values behind the alert
	for a in alerts:
		if a.rule == "_Test PLW Two Missed":
			assert a.severity == "High" and a.officer in loaded.risk_members
			assert a.details.startswith("consecutive_overdue = ")
		else:
			assert a.officer == loaded.officer
	counts = pd.Series([a.officer for a in alerts if a.rule == "_Test PLW Two Missed"]).value_counts()
	assert set(counts.index) == set(loaded.risk_members) and counts.max() - counts.min() <= 1
	# the notify role's users had one notification per run of the rule that raised alerts
	days = sorted({a.raised_on for a in alerts if a.rule == "_Test PLW First Overdue"})
	logs = frappe.get_all(
		"Notification Log",
		filters={"for_user": world.users.officer, "document_name": "_Test PLW First Overdue"},
		pluck="subject",
	)
	assert len(logs) == len(days)


def test_rerunning_raises_nothing_new(loaded):
	ds = loaded.ds
	dates = data.month_ends(ds)
	frappe.db.set_single_value(daily_jobs.SETTINGS, "warning_processed_through", "2018-12-31")
	result = daily_jobs.run_job("early_warning", dates[-1], publish=False)
	assert result["dates"] == dates
	before = sorted(a.name for a in my_alerts())
	assert before
	again = early_warning.process_date(dates[-1])
	assert again["raised"] == 0
	assert daily_jobs.run_job("early_warning", dates[-1], publish=False)["dates"] == []
	assert sorted(a.name for a in my_alerts()) == before


def test_closing_alerts_feeds_warning_precision(loaded, world):
	ds = loaded.ds
	dates = data.month_ends(ds)
	for day in dates:
		early_warning.process_date(day)
	mine = sorted((a for a in my_alerts() if a.officer == loaded.officer), key=lambda a: a.name)[:10]
	frappe.set_user(world.users.ada)  # neither the alert's officer nor a post-loan officer
	with pytest.raises(frappe.PermissionError):
		api.close_risk_alert(mine[0].name, "Confirmed")
	frappe.set_user(world.users.officer)
	outcomes = ["Confirmed", "Confirmed", "False Alarm", "Confirmed", "False Alarm"] * 2
	for alert, outcome in zip(mine, outcomes, strict=True):
		api.close_risk_alert(alert.name, outcome, "reviewed")
	with pytest.raises(frappe.ValidationError):
		api.close_risk_alert(mine[0].name, "False Alarm")  # already closed
	with pytest.raises(frappe.ValidationError):
		api.close_risk_alert(my_alerts()[0].name, "Maybe")
	frappe.set_user("Administrator")
	window = Window(dates[0].replace(day=1), dates[-1])
	subjects = pd.DataFrame(
		{"subject": [loaded.officer], "employee": [loaded.officer], "from_date": pd.NaT, "to_date": pd.NaT}
	)
	precision = compute_metric("warning_precision", FrameCache(window), subjects)
	assert precision[loaded.officer] == pytest.approx(6 / 10 * 100)


def test_the_alert_officer_may_close_his_own_alert(world):
	name = "_TPLW-OWN-ALERT"
	daily_jobs.insert_rows(
		"PL Loan",
		["name", "loan_no", "customer", "company", "disbursed_on", "principal"],
		[("_TPLW-LOAN", "_TPLW-LOAN", "_Test PLW customer", world.company, dt.date(2024, 1, 1), 1000.0)],
	)
	daily_jobs.insert_rows(
		"PL Risk Alert",
		["name", "loan", "rule", "severity", "raised_on", "officer", "outcome"],
		[
			(
				name,
				"_TPLW-LOAN",
				"_Test PLW Rule",
				"Medium",
				dt.date(2025, 1, 31),
				world.employees.chen,
				"Pending",
			)
		],
	)
	frappe.set_user(world.users.chen)
	result = api.close_risk_alert(name, "False Alarm", "Customer paid the same day")
	assert result["outcome"] == "False Alarm"
	assert frappe.db.get_value("PL Risk Alert", name, "outcome_note") == "Customer paid the same day"


@pytest.mark.parametrize(
	("expression", "message"),
	[
		("dpd >", "not a valid expression"),
		("dpd > 0 and frobnicate > 1", "frobnicate"),
		("__import__('os').system('true')", "not"),
		("product > 5", "sample values"),
		("1 > 0", "at least one variable"),
	],
)
def test_conditions_are_validated_on_save(world, expression, message):
	with pytest.raises(frappe.ValidationError, match=message):
		frappe.get_doc(
			{"doctype": "PL Warning Rule", "rule_name": "_Test PLW Bad", "expression": expression}
		).insert()
