"""The post-loan Script Reports on a real site: Collector Performance, Portfolio Quality Trend, Early
Warning Effectiveness and Service Level.

A fixed-seed generated portfolio (500 loans, ten month-ends from January 2025, two collection and two
customer-service teams) is loaded once inside the test's transaction (rolled back afterwards). Each report
is run through `frappe.desk.query_report.run` as a PL Performance Manager and its rows, chart and summary
are compared with values worked out here with plain pandas on the *generated* frames (never through the
engine), and with the KPI actuals of the same period where the report claims to show them; then as a PL
Team Leader (only his team's people, or his team's loans, appear). A user without a PL role gets a
PermissionError. Names carry a "_Test PLR"/"PLR-" prefix so that the test owns every row it reads.
"""

from __future__ import annotations

import math
import traceback

import numpy as np
import pandas as pd
import pytest

import frappe
from frappe.desk.query_report import run as run_report

from postloan_performance.datagen import LayerSpec, OrgSpec, generate
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from tests.integration.daily_jobs_data import isolate
from tests.integration.factories import COMPANY, make_cycle, make_user

SEED = 23
DATA_START = "2025-01-01"
MONTHS = 10  # month-ends 2025-01-31 … 2025-10-31
N_LOANS = 500
ORG = OrgSpec(
	management=LayerSpec(1, 2),
	collection=LayerSpec(2, 4),
	risk_control=LayerSpec(1, 3),
	customer_service=LayerSpec(2, 3),
)
TEAM_PREFIX = "_Test PLR "
ROW_PREFIX = "PLR-"
PERIOD = ("2025-07-01", "2025-09-30")
MANAGER = "plr-manager@plp.test"
COLLECTION_LEAD = "plr-collection-lead@plp.test"
SERVICE_LEAD = "plr-service-lead@plp.test"
NOBODY = "plr-nobody@plp.test"
NPL = ("Substandard", "Doubtful", "Loss")


# ------------------------------------------------------------------------------------ the dataset


def _isolate(ds):
	"""Prefix every team, employee, loan, case and row name so the test owns all rows it reads."""
	return isolate(ds, TEAM_PREFIX, ROW_PREFIX)


@pytest.fixture(scope="module")
def dataset():
	return _isolate(generate(SEED, start=DATA_START, months=MONTHS, n_loans=N_LOANS, org=ORG))


@pytest.fixture
def loaded(dataset):
	"""The dataset in the site (rolled back after the test); employee keys mapped to Employee names in
	every frame the tests read."""
	employee_of = load_dataset(dataset, company=COMPANY, abbr="_TPL")["employees"]
	frames = {}
	for name, columns in {
		"cases": ("collector",),
		"actions": ("collector",),
		"recoveries": ("collector",),
		"alerts": ("officer",),
		"tickets": ("agent",),
		"customer_feedback": ("employee",),
	}.items():
		frame = getattr(dataset, name).copy()
		for column in columns:
			frame[column] = frame[column].map(
				lambda key: employee_of.get(key) if isinstance(key, str) else None
			)
		frames[name] = frame
	for name in ("loans", "snapshots", "teams", "memberships", "employees"):
		frames[name] = getattr(dataset, name)
	return frappe._dict(ds=frappe._dict(frames), employee_of=employee_of)


def _run(report: str, user: str, **filters) -> dict:
	frappe.set_user(user)
	try:
		return run_report(report, filters={"company": COMPANY, **filters})
	finally:
		frappe.set_user("Administrator")


USERS = {
	MANAGER: ["PL Performance Manager"],
	COLLECTION_LEAD: ["PL Team Leader", "PL Appraisee"],
	SERVICE_LEAD: ["PL Team Leader", "PL Appraisee"],
	NOBODY: [],
}


@pytest.fixture(scope="module")
def users(site):
	"""The test users, made once and committed (idempotent and reused, like the `world` users): saving a
	User locks a site-wide default until the transaction ends, so creating them inside the test would
	stall every other test on the site that saves a user for as long as this one runs. They own nothing:
	their Employee links are made inside each test (rolled back)."""
	frappe.set_user("Administrator")
	missing = {
		user: roles
		for user, roles in USERS.items()
		if not frappe.db.exists("User", user) or set(roles) - set(frappe.get_roles(user))
	}
	for user, roles in missing.items():
		make_user(user, roles)
	if missing:
		frappe.db.commit()
	return USERS


def _link_leads(loaded) -> None:
	"""The team leader users become the generated leads of the first collection and service teams."""
	for user, layer in ((COLLECTION_LEAD, "Collection"), (SERVICE_LEAD, "Customer Service")):
		frappe.db.set_value("Employee", loaded.employee_of[_lead_key(loaded, layer)], "user_id", user)


def _team(loaded, layer: str, number: int = 1) -> str:
	teams = loaded.ds.teams
	return teams.loc[teams["layer"] == layer, "team_name"].iloc[number - 1]


def _lead_key(loaded, layer: str) -> str:
	teams = loaded.ds.teams
	return teams.loc[teams["team_name"] == _team(loaded, layer), "lead_key"].iloc[0]


def _members(loaded, team: str) -> set[str]:
	keys = loaded.ds.memberships.loc[loaded.ds.memberships["team"] == team, "employee_key"]
	return {loaded.employee_of[k] for k in keys}


def _day(values) -> pd.Series:
	return pd.to_datetime(values).dt.normalize()


def _close(got, expected, rel=1e-9) -> bool:
	if expected is None or (isinstance(expected, float) and math.isnan(expected)):
		return got is None
	return got is not None and got == pytest.approx(expected, rel=rel, abs=1e-9)


# ------------------------------------------------------------------------- Collector Performance


def _hand_collectors(ds, start: str, end: str) -> dict[str, dict]:
	"""The collection metrics per collector, read straight off the generated rows."""
	s, e = pd.Timestamp(start), pd.Timestamp(end)
	cases = ds.cases.assign(_opened=_day(ds.cases["opened_on"]), _closed=_day(ds.cases["closed_on"]))
	collector_of = dict(zip(cases["name"], cases["collector"], strict=True))
	active = cases[(cases["_opened"] <= e) & (cases["_closed"].isna() | (cases["_closed"] >= s))]
	success = active[
		active["status"].isin(["Cured", "Paid Off"])
		& (active["_closed"] >= s)
		& (active["_closed"] <= e)
		& (active["_closed"] >= active["_opened"])
	]
	rec = ds.recoveries.assign(
		_day=_day(ds.recoveries["received_on"]),
		_who=[
			collector_of.get(c, own)
			for c, own in zip(ds.recoveries["collection_case"], ds.recoveries["collector"], strict=True)
		],
	)
	actions = ds.actions.assign(
		act_day=_day(ds.actions["action_on"]),
		who=[
			collector_of.get(c, own)
			for c, own in zip(ds.actions["collection_case"], ds.actions["collector"], strict=True)
		],
		ptp_day=_day(ds.actions["ptp_date"]),
	)
	ptps = actions[(actions["ptp_amount"] > 0) & (actions["ptp_day"] >= s) & (actions["ptp_day"] <= e)]
	kept = []
	for ptp in ptps.itertuples():
		paid = rec.loc[
			(rec["collection_case"] == ptp.collection_case)
			& (rec["_day"] >= ptp.act_day)
			& (rec["_day"] <= ptp.ptp_day + pd.Timedelta(days=3)),
			"amount",
		].sum()
		kept.append(paid * 100 + 1e-6 >= ptp.ptp_amount * 95)
	ptps = ptps.assign(_kept=kept)
	contacts = actions[
		(actions["act_day"] >= s) & (actions["act_day"] <= e) & actions["action_type"].isin(["Call", "Visit"])
	]
	in_period = rec[(rec["_day"] >= s) & (rec["_day"] <= e)]
	out = {}
	for who in set(active["collector"].dropna()) | set(in_period["_who"].dropna()):
		mine = active[active["collector"] == who]
		won = success[success["collector"] == who]
		my_ptps = ptps[ptps["who"] == who]
		my_contacts = contacts[contacts["who"] == who]
		out[who] = {
			"cases_active": len(mine),
			"success_rate": len(won) * 100 / len(mine) if len(mine) else None,
			"recovered_amount": float(in_period.loc[in_period["_who"] == who, "amount"].sum()),
			"avg_cycle_days": float((won["_closed"] - won["_opened"]).dt.days.mean()) if len(won) else None,
			"ptp_kept_rate": float(my_ptps["_kept"].mean() * 100) if len(my_ptps) else None,
			"right_party_rate": float((my_contacts["contact_result"] == "Right Party").mean() * 100)
			if len(my_contacts)
			else None,
		}
	return out


def _check_collector_performance(loaded):
	ds = loaded.ds
	result = _run("Collector Performance", MANAGER, from_date=PERIOD[0], to_date=PERIOD[1])
	rows = result["result"]
	expected = _hand_collectors(ds, *PERIOD)
	assert {r["collector"] for r in rows} == set(expected)
	assert len(rows) >= 6
	for row in rows:
		hand = expected[row["collector"]]
		for field, value in hand.items():
			assert _close(row[field], value), (row["collector"], field, row[field], value)
	# ranked by recovered amount, best first, rank shown
	assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
	assert rows[0]["rank"] == 1
	assert [r["recovered_amount"] for r in rows] == sorted(
		(r["recovered_amount"] for r in rows), reverse=True
	)
	# one collector's success rate, spelled out
	top = rows[0]["collector"]
	cases = ds.cases[ds.cases["collector"] == top]
	opened, closed = _day(cases["opened_on"]), _day(cases["closed_on"])
	active = (opened <= "2025-09-30") & (closed.isna() | (closed >= "2025-07-01"))
	won = active & cases["status"].isin(["Cured", "Paid Off"]) & closed.between("2025-07-01", "2025-09-30")
	assert rows[0]["success_rate"] == pytest.approx(won.sum() * 100 / active.sum())
	# the numbers are the KPI actuals of the same period
	cache = FrameCache(Window(*PERIOD))
	subjects = pd.DataFrame({"subject": [top], "employee": [top], "from_date": pd.NaT, "to_date": pd.NaT})
	assert compute_metric("collection_success_rate", cache, subjects)[top] == pytest.approx(
		rows[0]["success_rate"]
	)
	assert compute_metric("recovered_amount", cache, subjects)[top] == pytest.approx(
		rows[0]["recovered_amount"]
	)
	# chart: recovered amount of the top collectors by name; summary
	chart = result["chart"]
	assert chart["type"] == "bar"
	assert chart["data"]["labels"] == [r["collector_name"] for r in rows[:20]]
	assert chart["data"]["datasets"][0]["values"] == [round(r["recovered_amount"], 2) for r in rows[:20]]
	summary = {s["label"]: s["value"] for s in result["report_summary"]}
	rates = [v["success_rate"] for v in expected.values() if v["success_rate"] is not None]
	assert summary["Collectors"] == len(expected)
	assert summary["Total Recovered"] == pytest.approx(
		sum(v["recovered_amount"] for v in expected.values()), abs=0.01
	)
	assert summary["Mean Success Rate (%)"] == pytest.approx(sum(rates) / len(rates), abs=0.005)

	# filters: one team (members during the period), one collector
	team = _team(loaded, "Collection", 2)
	by_team = _run("Collector Performance", MANAGER, from_date=PERIOD[0], to_date=PERIOD[1], pl_team=team)
	assert {r["collector"] for r in by_team["result"]} <= _members(loaded, team)
	assert by_team["result"] and all(r["pl_team"] for r in by_team["result"])
	one = _run("Collector Performance", MANAGER, from_date=PERIOD[0], to_date=PERIOD[1], collector=top)[
		"result"
	]
	assert [r["collector"] for r in one] == [top] and one[0]["rank"] == 1

	# a team leader sees only the collectors of the team he leads
	led = _team(loaded, "Collection", 1)
	seen = {
		r["collector"]
		for r in _run("Collector Performance", COLLECTION_LEAD, from_date=PERIOD[0], to_date=PERIOD[1])[
			"result"
		]
	}
	assert seen and seen <= _members(loaded, led)
	assert seen == set(expected) & _members(loaded, led)
	assert set(expected) - seen  # the other team's collectors are hidden


# ------------------------------------------------------------------------ Portfolio Quality Trend


def _hand_portfolio(ds, dates: list[pd.Timestamp], loans: set[str] | None = None) -> dict:
	snaps = ds.snapshots.assign(as_of_date=_day(ds.snapshots["as_of_date"]))
	if loans is not None:
		snaps = snaps[snaps["loan"].isin(loans)]
	out = {}
	for day in dates:
		g = snaps[snaps["as_of_date"] == day]
		total = g["outstanding"].sum()
		out[day] = {
			"loans": int((g["outstanding"] > 0).sum()),
			"outstanding": total,
			"npl_ratio": g.loc[g["classification"].isin(NPL), "outstanding"].sum() * 100 / total,
			"m1_plus_rate": g.loc[g["bucket"] != "M0", "outstanding"].sum() * 100 / total,
			"m3_plus_rate": g.loc[g["bucket"].isin(["M3", "M4", "M5", "M6+"]), "outstanding"].sum()
			* 100
			/ total,
		}
	return out


def _hand_rolls(ds, before: pd.Timestamp, after: pd.Timestamp) -> dict:
	snaps = ds.snapshots.assign(as_of_date=_day(ds.snapshots["as_of_date"]))
	a = snaps.loc[snaps["as_of_date"] == before, ["loan", "bucket"]]
	b = snaps.loc[snaps["as_of_date"] == after, ["loan", "bucket"]]
	pairs = a.merge(b, on="loan", suffixes=("_a", "_b"))

	def share(source, targets):
		group = pairs[pairs["bucket_a"].isin(source)]
		return group["bucket_b"].isin(targets).mean() * 100 if len(group) else None

	return {
		"roll_m0_m1": share(["M0"], ["M1"]),
		"roll_m1_m2": share(["M1"], ["M2"]),
		"roll_m2_m3": share(["M2"], ["M3"]),
		"roll_m3_m4": share(["M3"], ["M4", "M5", "M6+"]),
		"cure_rate": share(["M1", "M2", "M3", "M4", "M5", "M6+"], ["M0"]),
	}


def _hand_recovery(ds, month_end: pd.Timestamp) -> float:
	first = month_end.replace(day=1)
	opened, closed = _day(ds.cases["opened_on"]), _day(ds.cases["closed_on"])
	active = (opened <= month_end) & (closed.isna() | (closed >= first))
	received = _day(ds.recoveries["received_on"])
	paid = ds.recoveries.loc[(received >= first) & (received <= month_end), "amount"].sum()
	return paid * 100 / ds.cases.loc[active, "entry_overdue_amount"].sum()


def _check_portfolio_quality_trend(loaded):
	ds = loaded.ds
	teams = list(ds.teams["team_name"])
	make_cycle("_Test PLR Trial Cycle", teams, "2025-04-01", "2025-06-30", is_trial=1)  # ignored: a trial
	make_cycle("_Test PLR Cycle", teams, "2025-07-01", "2025-09-30")
	result = _run("Portfolio Quality Trend", MANAGER, from_date="2025-02-01", to_date="2025-10-31")
	rows = result["result"]
	month_ends = sorted(_day(ds.snapshots["as_of_date"]).unique())
	shown = [d for d in month_ends if d >= pd.Timestamp("2025-02-01")]
	assert [pd.Timestamp(r["month_end"]) for r in rows] == shown
	hand = _hand_portfolio(ds, month_ends)
	for row in rows:
		day = pd.Timestamp(row["month_end"])
		for field, value in hand[day].items():
			assert _close(row[field], value), (day, field)
		previous = month_ends[month_ends.index(day) - 1]  # January gives February its roll rates
		for field, value in _hand_rolls(ds, previous, day).items():
			assert _close(row[field], value), (day, field)
		assert _close(row["recovery_rate"], _hand_recovery(ds, day)), day
		assert row["phase"] == ("Scheme Live" if day >= pd.Timestamp("2025-07-01") else "Before Scheme")
	# chart: three lines by month and the go-live month (the non-trial cycle's start) marked
	chart = result["chart"]
	assert chart["type"] == "axis-mixed"
	assert chart["data"]["labels"] == [d.strftime("%Y-%m") for d in shown]
	names = [d["name"] for d in chart["data"]["datasets"]]
	assert names == ["NPL Ratio (%)", "M1+ Rate (%)", "M3+ Rate (%)", "Scheme Live"]
	assert chart["data"]["datasets"][0]["values"] == [round(hand[d]["npl_ratio"], 2) for d in shown]
	live = chart["data"]["datasets"][3]
	assert live["chartType"] == "bar"
	assert [i for i, v in enumerate(live["values"]) if v] == [chart["data"]["labels"].index("2025-07")]
	june = pd.Timestamp("2025-06-30")
	assert chart["data"]["yMarkers"][0]["value"] == round(hand[june]["npl_ratio"], 2)
	summary = {s["label"]: s["value"] for s in result["report_summary"]}
	latest = hand[shown[-1]]
	assert summary["Latest NPL Ratio (%)"] == pytest.approx(latest["npl_ratio"], abs=0.005)
	assert summary["NPL Change Since Go-Live (Points)"] == pytest.approx(
		latest["npl_ratio"] - hand[june]["npl_ratio"], abs=0.01
	)
	assert summary["Latest M3+ Rate (%)"] == pytest.approx(latest["m3_plus_rate"], abs=0.005)
	assert str(summary["Scheme Go-Live"]) == "2025-07-01"

	# managing team (with its sub-teams) and product filters
	team = _team(loaded, "Collection", 1)
	team_loans = set(ds.loans.loc[ds.loans["managing_team"] == team, "name"])
	root = _team(loaded, "Management")
	for filters, loans in (
		({"managing_team": team}, team_loans),
		({"managing_team": root}, None),  # the root team manages every loan through its sub-teams
		({"product": "SME"}, set(ds.loans.loc[ds.loans["product"] == "SME", "name"])),
	):
		got = _run(
			"Portfolio Quality Trend", MANAGER, from_date="2025-09-01", to_date="2025-10-31", **filters
		)
		expected = _hand_portfolio(ds, shown[-2:], loans)
		assert [r["loans"] for r in got["result"]] == [expected[d]["loans"] for d in shown[-2:]], filters
		assert all(
			_close(r["npl_ratio"], expected[pd.Timestamp(r["month_end"])]["npl_ratio"]) for r in got["result"]
		)
	# an explicit go-live date wins over the cycles
	moved = _run(
		"Portfolio Quality Trend",
		MANAGER,
		from_date="2025-02-01",
		to_date="2025-10-31",
		go_live_date="2025-04-15",
	)
	assert [r["phase"] for r in moved["result"]].count("Scheme Live") == 7  # April (04-30) … October
	# a team leader sees the loans his team manages
	led = _run("Portfolio Quality Trend", COLLECTION_LEAD, from_date="2025-09-01", to_date="2025-10-31")
	assert [r["loans"] for r in led["result"]] == [
		_hand_portfolio(ds, shown[-2:], team_loans)[d]["loans"] for d in shown[-2:]
	]


# -------------------------------------------------------------------- Early Warning Effectiveness


def _first_npl(ds) -> pd.Series:
	snaps = ds.snapshots[ds.snapshots["classification"].isin(NPL)]
	return _day(snaps["as_of_date"]).groupby(snaps["loan"]).min()


def _check_early_warning_effectiveness(loaded):
	ds = loaded.ds
	start, end = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-09-30")
	result = _run("Early Warning Effectiveness", MANAGER, from_date="2025-04-01", to_date="2025-09-30")
	rows = {r["rule"]: r for r in result["result"]}
	alerts = ds.alerts.assign(raised=_day(ds.alerts["raised_on"]))
	in_period = alerts[(alerts["raised"] >= start) & (alerts["raised"] <= end)]
	assert set(rows) == set(in_period["rule"])
	firsts = _first_npl(ds)
	npl_loans = firsts[(firsts >= start) & (firsts <= end)]
	assert len(npl_loans) >= 5
	for rule, mine in in_period.groupby("rule"):
		row = rows[rule]
		confirmed = int((mine["outcome"] == "Confirmed").sum())
		false_alarms = int((mine["outcome"] == "False Alarm").sum())
		assert (row["alerts"], row["confirmed"], row["false_alarms"], row["pending"]) == (
			len(mine),
			confirmed,
			false_alarms,
			len(mine) - confirmed - false_alarms,
		)
		assert _close(
			row["precision"],
			confirmed * 100 / (confirmed + false_alarms) if confirmed + false_alarms else None,
		)
		# recall: the NPL loans of the period with an alert of this rule in the 90 days before
		ruled = alerts[alerts["rule"] == rule]
		caught = sum(
			any(
				(ruled["loan"] == loan)
				& (ruled["raised"] >= first - pd.Timedelta(days=90))
				& (ruled["raised"] <= first)
			)
			for loan, first in npl_loans.items()
		)
		assert (row["npl_loans"], row["caught"]) == (len(npl_loans), caught)
		assert row["recall"] == pytest.approx(caught * 100 / len(npl_loans))
		# lead time of the confirmed alerts raised before their loan's first NPL date
		confirmed_rows = mine[mine["outcome"] == "Confirmed"]
		leads = [
			(firsts[a.loan] - a.raised).days
			for a in confirmed_rows.itertuples()
			if a.loan in firsts.index and firsts[a.loan] >= a.raised
		]
		assert _close(row["lead_time_days"], float(np.mean(leads)) if leads else None), rule
	chart = result["chart"]
	assert chart["data"]["labels"] == sorted(rows)
	assert [d["name"] for d in chart["data"]["datasets"]] == ["Precision (%)", "Recall (%)"]
	summary = {s["label"]: s["value"] for s in result["report_summary"]}
	judged = in_period[in_period["outcome"].isin(["Confirmed", "False Alarm"])]
	assert summary["Overall Precision (%)"] == pytest.approx(
		(judged["outcome"] == "Confirmed").mean() * 100, abs=0.005
	)
	caught_any = sum(
		any(
			(alerts["loan"] == loan)
			& (alerts["raised"] >= first - pd.Timedelta(days=90))
			& (alerts["raised"] <= first)
		)
		for loan, first in npl_loans.items()
	)
	assert summary["Overall Recall (%)"] == pytest.approx(caught_any * 100 / len(npl_loans), abs=0.005)
	assert summary["Pending Alerts"] == int((in_period["outcome"] == "Pending").sum())

	# by officer: the officers' KPIs (warning_precision, warning_recall for Employee subjects)
	by_officer = _run(
		"Early Warning Effectiveness",
		MANAGER,
		from_date="2025-04-01",
		to_date="2025-09-30",
		group_by="Officer",
	)["result"]
	officers = [r["officer"] for r in by_officer]
	assert set(officers) >= set(in_period["officer"])
	cache = FrameCache(Window(start.date(), end.date()))
	subjects = pd.DataFrame(
		{"subject": officers, "employee": officers, "from_date": pd.NaT, "to_date": pd.NaT}
	)
	precision = compute_metric("warning_precision", cache, subjects)
	recall = compute_metric("warning_recall", cache, subjects)
	for row in by_officer:
		assert _close(row["precision"], precision[row["officer"]]), row
		assert _close(row["recall"], recall[row["officer"]]), row
	# one rule only
	rule = sorted(rows)[0]
	only = _run(
		"Early Warning Effectiveness", MANAGER, from_date="2025-04-01", to_date="2025-09-30", rule=rule
	)
	assert [r["rule"] for r in only["result"]] == [rule]
	assert only["result"][0]["precision"] == rows[rule]["precision"]


# ------------------------------------------------------------------------------------ Service Level


def _check_service_level(loaded):
	ds = loaded.ds
	start, end = pd.Timestamp(PERIOD[0]), pd.Timestamp(PERIOD[1])
	result = _run("Service Level", MANAGER, from_date=PERIOD[0], to_date=PERIOD[1])
	rows = {r["agent"]: r for r in result["result"]}
	tickets = ds.tickets.assign(_opened=pd.to_datetime(ds.tickets["opened_on"]))
	tickets = tickets[
		(tickets["_opened"].dt.normalize() >= start) & (tickets["_opened"].dt.normalize() <= end)
	]
	assert set(rows) == set(tickets["agent"])
	fb = ds.customer_feedback.assign(_given=_day(ds.customer_feedback["given_on"]))
	fb = fb[(fb["_given"] >= start) & (fb["_given"] <= end)]
	for agent, mine in tickets.groupby("agent"):
		row = rows[agent]
		resolved = _day(mine["resolved_on"]) <= end
		minutes = (pd.to_datetime(mine["first_response_on"]) - mine["_opened"]).dt.total_seconds() / 60
		minutes = minutes[minutes >= 0].to_numpy()
		assert (row["tickets"], row["resolved"]) == (len(mine), int(resolved.sum()))
		assert row["resolution_rate"] == pytest.approx(resolved.mean() * 100)
		assert row["first_response_mean"] == pytest.approx(minutes.mean())
		assert row["first_response_median"] == pytest.approx(float(np.median(minutes)))
		assert row["first_response_p90"] == pytest.approx(float(np.percentile(minutes, 90)))
		given = fb[fb["employee"] == agent]  # service feedback names the agent (no case)
		assert row["responses"] == len(given)
		assert _close(row["csat"], given["csat"].mean() * 20 if len(given) else None)
		nps = given["nps"].dropna()
		assert _close(row["nps"], ((nps >= 9).mean() - (nps <= 6).mean()) * 100 if len(nps) else None)
	# one agent's p90, spelled out: rank (n − 1) × 0.9 between the order statistics
	agent = max(rows, key=lambda a: rows[a]["tickets"])
	mine = tickets[tickets["agent"] == agent]
	values = sorted(
		((pd.to_datetime(mine["first_response_on"]) - mine["_opened"]).dt.total_seconds() / 60).tolist()
	)
	rank = (len(values) - 1) * 0.9
	low = int(rank)
	p90 = values[low] + (rank - low) * (values[min(low + 1, len(values) - 1)] - values[low])
	assert rows[agent]["first_response_p90"] == pytest.approx(p90)
	chart = result["chart"]
	assert [d["name"] for d in chart["data"]["datasets"]] == ["Resolution Rate (%)", "CSAT (%)"]
	assert len(chart["data"]["labels"]) == len(rows)
	summary = {s["label"]: s["value"] for s in result["report_summary"]}
	assert summary["Tickets"] == len(tickets)
	assert summary["Overall Resolution Rate (%)"] == pytest.approx(
		(_day(tickets["resolved_on"]) <= end).mean() * 100, abs=0.005
	)
	all_minutes = (pd.to_datetime(tickets["first_response_on"]) - tickets["_opened"]).dt.total_seconds() / 60
	assert summary["Median First Response (Minutes)"] == pytest.approx(
		float(all_minutes[all_minutes >= 0].median()), abs=0.05
	)
	# the agents' KPIs
	cache = FrameCache(Window(*PERIOD))
	agents = sorted(rows)
	subjects = pd.DataFrame({"subject": agents, "employee": agents, "from_date": pd.NaT, "to_date": pd.NaT})
	for field, code in (
		("resolution_rate", "ticket_resolution_rate"),
		("first_response_mean", "first_response_minutes"),
		("csat", "customer_satisfaction"),
		("nps", "customer_loyalty_nps"),
	):
		kpi = compute_metric(code, cache, subjects)
		assert all(_close(rows[a][field], kpi[a]) for a in agents), code

	# by channel
	by_channel = _run("Service Level", MANAGER, from_date=PERIOD[0], to_date=PERIOD[1], group_by="Channel")
	channels = {r["channel"]: r for r in by_channel["result"]}
	assert set(channels) == set(tickets["channel"])
	phone = tickets[tickets["channel"] == "Phone"]
	phone_minutes = (pd.to_datetime(phone["first_response_on"]) - phone["_opened"]).dt.total_seconds() / 60
	assert channels["Phone"]["tickets"] == len(phone)
	assert channels["Phone"]["first_response_median"] == pytest.approx(
		float(phone_minutes[phone_minutes >= 0].median())
	)
	ticket_channel = dict(zip(ds.tickets["reference"], ds.tickets["channel"], strict=True))
	phone_fb = fb[fb["ticket"].map(ticket_channel) == "Phone"]
	assert _close(channels["Phone"]["csat"], phone_fb["csat"].mean() * 20 if len(phone_fb) else None)

	# a team leader sees only his team's agents
	led = _team(loaded, "Customer Service", 1)
	seen = {
		r["agent"]
		for r in _run("Service Level", SERVICE_LEAD, from_date=PERIOD[0], to_date=PERIOD[1])["result"]
	}
	assert seen and seen <= _members(loaded, led)
	assert set(rows) - seen


# ------------------------------------------------------------------------------------------ tests

CHECKS = (
	_check_collector_performance,
	_check_portfolio_quality_trend,
	_check_early_warning_effectiveness,
	_check_service_level,
)


def test_post_loan_reports_on_a_generated_portfolio(users, loaded):
	"""The four reports on one load of the dataset (loading dominates the run time); every report is
	checked even when another one fails, and all failures are reported together."""
	_link_leads(loaded)
	failures = []
	for check in CHECKS:
		try:
			check(loaded)
		except AssertionError:
			failures.append(f"{check.__name__}:\n{traceback.format_exc()}")
	assert not failures, "\n\n".join(failures)


def test_a_user_without_a_pl_role_may_not_run_the_reports(users):
	frappe.set_user(NOBODY)
	for report, filters in (
		("Collector Performance", {"from_date": PERIOD[0], "to_date": PERIOD[1]}),
		("Portfolio Quality Trend", {}),
		("Early Warning Effectiveness", {"from_date": PERIOD[0], "to_date": PERIOD[1]}),
		("Service Level", {"from_date": PERIOD[0], "to_date": PERIOD[1]}),
	):
		with pytest.raises(frappe.PermissionError):
			run_report(report, filters={"company": COMPANY, **filters})
