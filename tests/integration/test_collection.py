"""The daily collection job on a real site over generated months of snapshots.

A fixed-seed portfolio (three collection teams) is loaded without its generated cases; the job
(`services.collection.process_date`) then runs on each month-end in order. The expected cases are computed
here in plain Python from the generated snapshots (open when a loan falls overdue, escalate when it rolls
to a later bucket, cure at M0, pay off when settled, write off) and compared row by row with what the job
wrote: opening and closing days, statuses, entry and current buckets, escalations, strategy rules, teams
and collectors (Round Robin turn by turn). Workload Balanced and Performance Weighted are checked against
distributions computed here. Everything runs in the test's transaction (rolled back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict

import pandas as pd
import pytest

import frappe

from postloan_performance import api
from postloan_performance.datagen import LayerSpec, OrgSpec
from postloan_performance.engine import frames
from postloan_performance.services import collection, daily_jobs
from tests.integration import daily_jobs_data as data

SEED = 11
TEAM_PREFIX = "_Test PLC "
ROW_PREFIX = "PLC-"
ORG = OrgSpec(collection=LayerSpec(3, 5))  # three collection teams: a lead and four collectors each
OPEN = ("Open", "In Progress", "Promise to Pay", "Outsourced", "Legal")
LEGAL_TEAM = TEAM_PREFIX + "Collection 03"
STRATEGY = "_Test PLC Strategy"


@pytest.fixture(scope="module")
def dataset():
	return data.generated(SEED, 600, 8, TEAM_PREFIX, ROW_PREFIX, org=ORG)


@pytest.fixture
def loaded(dataset):
	employee_of = data.load(dataset, ROW_PREFIX)
	return frappe._dict(ds=dataset, employee_of=employee_of)


def make_strategy(name: str, rules: list[dict], **values) -> str:
	frappe.get_doc(
		# company "" (every company) unless given: None would take the site's default company
		{
			"doctype": "PL Collection Strategy",
			"strategy_name": name,
			"enabled": 1,
			"company": "",
			"rules": rules,
			**values,
		}
	).insert()
	return name


def legal_strategy() -> str:
	return make_strategy(
		STRATEGY,
		[
			{
				"from_bucket": "M1",
				"to_bucket": "M2",
				"action_type": "Call",
				"assignment_method": "Round Robin",
			},
			{
				"from_bucket": "M3",
				"to_bucket": "M6+",
				"action_type": "Legal",
				"assignment_method": "Workload Balanced",
				"assign_to_team": LEGAL_TEAM,
				"case_status": "Legal",
			},
		],
	)


def my_cases() -> list[dict]:
	return frappe.get_all(
		"PL Collection Case",
		filters={"loan": ("like", ROW_PREFIX + "%")},
		fields=["*"],
		order_by="name asc",
		limit_page_length=0,
	)


def checksum() -> str:
	rows = frappe.db.sql(
		"""select `name`, `collector`, `pl_team`, `status`, `opened_on`, `closed_on`, `entry_bucket`,
			`current_bucket`, `current_overdue_amount`, `escalation_count`, `strategy_rule`, `assignment_note`,
			`last_evaluated_on`
		from `tabPL Collection Case` where `loan` like %s order by `name`""",
		ROW_PREFIX + "%",
	)
	return hashlib.sha1(repr(rows).encode()).hexdigest()


def members_by_team(ds, employee_of) -> dict:
	"""team -> [(employee, from, to, is_lead)] from the generated memberships."""
	leads = set(ds.employees.loc[ds.employees["is_lead"], "key"])
	out = defaultdict(list)
	for m in frames.records(ds.memberships):
		to = None if pd.isna(m["to_date"]) else pd.Timestamp(m["to_date"]).date()
		out[m["team"]].append(
			(
				employee_of[m["employee_key"]],
				pd.Timestamp(m["from_date"]).date(),
				to,
				m["employee_key"] in leads,
			)
		)
	return out


def active(members, day: dt.date) -> list[str]:
	people = [(e, lead) for e, start, end, lead in members if start <= day and (end is None or end >= day)]
	others = sorted({e for e, lead in people if not lead})
	return others or sorted({e for e, _lead in people})


# ------------------------------------------------------------------ the independent lifecycle


def expected_cases(ds) -> dict[str, dict]:
	"""Case name -> what the job must have made of it, from the snapshots alone."""
	snaps = data.snapshots_by_loan(ds)
	last = data.last_snapshot(ds)
	out = {}
	for loan, rows in snaps.items():
		case = None
		for day, dpd, outstanding, overdue in rows:
			final = ds.final_status[loan]
			status = final if (day == last[loan] and final != "Active") else "Active"
			bucket = data.bucket(dpd)
			number = data.BUCKET_NUMBER[bucket]
			if case is not None:
				current = data.BUCKET_NUMBER[case["current_bucket"]]
				closing = None
				if status == "Written Off":
					closing = "Written Off"
				elif status == "Settled" or outstanding <= 0:
					closing = "Paid Off"
				elif number == 0:
					closing = "Cured"
				if closing:
					case.update(
						status=closing, closed_on=day, current_bucket=bucket, current_overdue_amount=overdue
					)
					case = None
				elif number != current:
					if number > current:
						case["escalation_count"] += 1
						case["escalated_on"] = day
						rule_end = 2 if case["strategy_rule"] == "M1–M2" else 6
						if number > rule_end:  # out of M1–M2 into M3–M6+: legal team, status Legal
							case["strategy_rule"] = "M3–M6+"
							case["status"] = "Legal"
							case["assigned_on"] = day
					case["current_bucket"] = bucket
					case["current_overdue_amount"] = overdue
				else:
					case["current_overdue_amount"] = overdue
			elif number > 0 and status == "Active" and outstanding > 0:
				legal = number >= 3
				case = {
					"name": f"{loan}-{day:%Y%m%d}",
					"loan": loan,
					"opened_on": day,
					"closed_on": None,
					"status": "Legal" if legal else "Open",
					"entry_bucket": bucket,
					"current_bucket": bucket,
					"entry_overdue_amount": overdue,
					"current_overdue_amount": overdue,
					"escalation_count": 0,
					"escalated_on": None,
					"strategy_rule": "M3–M6+" if legal else "M1–M2",
					"assigned_on": day,
					"managing_team": None,
				}
				out[case["name"]] = case
	teams = dict(zip(ds.loans["name"], ds.loans["managing_team"], strict=True))
	for case in out.values():
		case["managing_team"] = teams[case["loan"]]
	return out


def run_all(ds, dates=None) -> list[dict]:
	results = []
	for day in dates or data.month_ends(ds):
		data.replay_statuses(ds, day)
		results.append(collection.process_date(day))
		duplicates = frappe.db.sql(
			f"""select `loan` from `tabPL Collection Case` where `loan` like %s and `status` in {tuple(OPEN)}
			group by `loan` having count(*) > 1""",
			ROW_PREFIX + "%",
		)
		assert not duplicates, f"two open cases for one loan on {day}: {duplicates}"
	return results


def test_case_lifecycle_matches_the_snapshots(loaded):
	ds = loaded.ds
	legal_strategy()
	results = run_all(ds)
	expected = expected_cases(ds)
	got = {c.name: c for c in my_cases()}
	assert set(got) == set(expected)
	assert sum(r["open"] for r in results) == len(expected)
	lifecycle = defaultdict(int)
	for name, want in expected.items():
		case = got[name]
		for field in (
			"loan",
			"status",
			"opened_on",
			"closed_on",
			"entry_bucket",
			"current_bucket",
			"escalation_count",
			"escalated_on",
			"strategy_rule",
			"assigned_on",
		):
			assert case[field] == want[field], (name, field, case[field], want[field])
		assert float(case.entry_overdue_amount) == pytest.approx(want["entry_overdue_amount"], abs=0.01)
		assert float(case.current_overdue_amount) == pytest.approx(want["current_overdue_amount"], abs=0.01)
		assert case.strategy == STRATEGY
		lifecycle[want["status"]] += 1
		lifecycle["escalated"] += bool(want["escalation_count"])
	# the generated months exercise every step of the lifecycle
	assert min(lifecycle[s] for s in ("Open", "Legal", "Cured", "Written Off", "escalated")) > 0, lifecycle
	assert lifecycle["Paid Off"] + lifecycle["Written Off"] > 0


def test_assignment_follows_the_strategy(loaded):
	ds, employee_of = loaded.ds, loaded.employee_of
	legal_strategy()
	members = members_by_team(ds, employee_of)
	last: dict[str, str] = {}
	assigned = 0
	for day in data.month_ends(ds):
		run_all(ds, [day])
		today = [c for c in my_cases() if c.assigned_on == day]
		assigned += len(today)
		for case in today:
			# every assignment is explained: rule, method and the candidates
			assert case.collector, case.name
			assert (
				case.strategy_rule in case.assignment_note and case.assignment_method in case.assignment_note
			)
			assert case.collector in case.assignment_note
			# M3+ work goes to the legal team by workload; the rest stays in the loan's team by round robin
			if case.strategy_rule == "M3–M6+":
				assert (case.pl_team, case.assignment_method, case.action_type, case.status) == (
					LEGAL_TEAM,
					"Workload Balanced",
					"Legal",
					"Legal",
				)
				assert case.collector in active(members[LEGAL_TEAM], day)
			else:
				assert (case.assignment_method, case.action_type, case.status) == (
					"Round Robin",
					"Call",
					"Open",
				)
		# Round Robin: one batch per team and day, cases in name order, continuing the team's turn
		batches = defaultdict(list)
		for case in today:
			if case.assignment_method == "Round Robin":
				batches[case.pl_team].append(case)
		for team, batch in sorted(batches.items()):
			order = active(members[team], day)
			previous = last.get(team)
			if previous in order:
				start = (order.index(previous) + 1) % len(order)
			else:
				start = next((i for i, e in enumerate(order) if previous and e > previous), 0)
			want = [order[(start + i) % len(order)] for i in range(len(batch))]
			assert [c.collector for c in sorted(batch, key=lambda c: c.name)] == want, (day, team)
			last[team] = want[-1]
	assert assigned > 50


def test_rerunning_a_day_changes_nothing(loaded):
	ds = loaded.ds
	legal_strategy()
	dates = data.month_ends(ds)
	run_all(ds)
	before = checksum()
	again = collection.process_date(dates[-1])
	assert {k: v for k, v in again.items() if k != "loans"} == dict.fromkeys(
		("open", "escalate", "rebucket", "cure", "pay_off", "write_off", "reassigned", "unassigned"), 0
	)
	assert checksum() == before
	# the job itself: nothing pending after the last date, and a catch-up run from scratch is the same
	frappe.db.set_single_value(daily_jobs.SETTINGS, "collection_processed_through", dates[-1])
	assert daily_jobs.run_job("collection", dates[-1], publish=False)["dates"] == []
	assert checksum() == before


def _extra_loans(team: str, amounts: list[float], prefix: str) -> list[str]:
	"""Loans without snapshots on the processed day, carrying open cases that make up the collectors' loads."""
	names = [f"{prefix}{i:03d}" for i in range(len(amounts))]
	daily_jobs.insert_rows(
		"PL Loan",
		["name", "loan_no", "customer", "company", "managing_team", "disbursed_on", "principal", "status"],
		[
			(n, n, "_Test PLC customer", "_Test PL Company", team, dt.date(2018, 1, 1), 10000.0, "Active")
			for n in names
		],
	)
	return names


def _open_case(name: str, loan: str, collector: str, team: str, amount: float) -> None:
	daily_jobs.insert_rows(
		"PL Collection Case",
		[
			"name",
			"case_no",
			"loan",
			"collector",
			"pl_team",
			"status",
			"opened_on",
			"entry_bucket",
			"entry_overdue_amount",
			"current_bucket",
			"current_overdue_amount",
		],
		[
			(
				name,
				name,
				loan,
				collector,
				team,
				"In Progress",
				dt.date(2018, 12, 1),
				"M1",
				amount,
				"M1",
				amount,
			)
		],
	)


def test_workload_balanced_gives_each_case_to_the_lightest_load(loaded):
	ds, employee_of = loaded.ds, loaded.employee_of
	team = TEAM_PREFIX + "Collection 01"
	make_strategy(
		"_Test PLC Workload",
		[
			{
				"from_bucket": "M1",
				"to_bucket": "M6+",
				"action_type": "Call",
				"assignment_method": "Workload Balanced",
			}
		],
	)
	day = data.month_ends(ds)[0]
	people = active(members_by_team(ds, employee_of)[team], day)
	# existing open work: the first collector is busy, the second has one large case, the others none
	existing = {people[0]: [8000.0, 8000.0, 8000.0], people[1]: [20000.0]}
	loans = _extra_loans(team, [a for amounts in existing.values() for a in amounts], "PLC-X")
	it = iter(loans)
	for collector, amounts in existing.items():
		for amount in amounts:
			loan = next(it)
			_open_case(f"{loan}-case", loan, collector, team, amount)
	collection.process_date(day)
	new = [
		c for c in my_cases() if c.pl_team == team and c.opened_on == day and not c.loan.startswith("PLC-X")
	]
	assert len(new) >= 5
	# the greedy, computed here: largest case first to the lowest load; a case weighs ½ + ½ × amount ÷ mean
	amounts = {c.name: float(c.entry_overdue_amount) for c in new}
	open_amounts = [a for values in existing.values() for a in values]
	mean = (sum(open_amounts) + sum(amounts.values())) / (len(open_amounts) + len(amounts))
	load = {p: sum(0.5 + 0.5 * a / mean for a in existing.get(p, [])) for p in people}
	count = {p: len(existing.get(p, [])) for p in people}
	want = {}
	for name in sorted(amounts, key=lambda n: (-amounts[n], n)):
		chosen = min(people, key=lambda p: (round(load[p], 9), count[p], p))
		want[name] = chosen
		load[chosen] += 0.5 + 0.5 * amounts[name] / mean
		count[chosen] += 1
	assert {c.name: c.collector for c in new} == want
	# and the loads end up within one case of each other (the greedy's guarantee)
	heaviest = max(0.5 + 0.5 * a / mean for a in amounts.values())
	assert max(load.values()) - min(load.values()) <= heaviest + 1e-9


def _publish_scores(scores: dict[str, float]) -> None:
	rows = [
		(f"_TPLC-APR-{i}", employee, "Published", 0, score, dt.date(2018, 12, 31))
		for i, (employee, score) in enumerate(scores.items())
	]
	daily_jobs.insert_rows(
		"PL Appraisal", ["name", "employee", "status", "is_trial", "total_score", "period_end"], rows
	)
	frappe.db.sql("update `tabPL Appraisal` set `docstatus` = 1 where `name` like '\\_TPLC-APR-%%'")


def _shares(scores: list[float], floor: float, cap: float) -> list[float]:
	"""Proportional shares, clamped to [floor, cap] × equal share by fixing violators and re-spreading."""
	n = len(scores)
	low, high = floor / 100 / n, cap / 100 / n
	fixed: dict[int, float] = {}
	while True:
		free = [i for i in range(n) if i not in fixed]
		rest = 1 - sum(fixed.values())
		total = sum(scores[i] for i in free)
		shares = {i: rest * scores[i] / total for i in free}
		over = [i for i in free if shares[i] > high + 1e-12]
		under = [i for i in free if shares[i] < low - 1e-12]
		if not over and not under:
			return [fixed.get(i, shares.get(i)) for i in range(n)]
		for i in over or under:
			fixed[i] = high if over else low


def test_performance_weighted_favours_higher_scores_within_floor_and_cap(loaded):
	ds, employee_of = loaded.ds, loaded.employee_of
	make_strategy(
		"_Test PLC Performance",
		[
			{
				"from_bucket": "M1",
				"to_bucket": "M6+",
				"action_type": "Call",
				"assignment_method": "Performance Weighted",
				"floor_pct": 50,
				"cap_pct": 200,
			}
		],
	)
	day = data.month_ends(ds)[0]
	members = members_by_team(ds, employee_of)
	teams = [t for t in sorted(members) if "Collection" in t]
	# each team's four collectors published 120, 32, 24 and 8: proportional shares would be 65 %, 17 %,
	# 13 % and 4 %; the first is capped at 2 × ¼, the last raised to the floor ½ × ¼
	table = {}
	for team in teams:
		for person, score in zip(active(members[team], day), (120.0, 32.0, 24.0, 8.0), strict=False):
			table[person] = score
	_publish_scores(table)
	collection.process_date(day)
	cases = [c for c in my_cases() if c.opened_on == day]
	by_team = defaultdict(list)
	for case in cases:
		by_team[case.pl_team].append(case)
	assert len(by_team) == len(teams) == 3
	for team, team_cases in by_team.items():
		people = active(members[team], day)
		n = len(team_cases)
		shares = _shares([table[p] for p in people], 50, 200)
		exact = [s * n for s in shares]
		counts = defaultdict(int)
		for case in team_cases:
			counts[case.collector] += 1
		got = [counts[p] for p in people]
		assert sum(got) == n
		for g, e in zip(got, exact, strict=True):
			assert math.floor(e) <= g <= math.ceil(e)
		# more to higher scorers, never below the floor nor above the cap
		assert got == sorted(got, reverse=True), (team, got)
		assert all(math.floor(0.5 * n / len(people)) <= g <= math.ceil(2 * n / len(people)) for g in got)
		assert (
			"Performance Weighted" in team_cases[0].assignment_note
			and "score 120.00" in team_cases[0].assignment_note
		)


def test_my_queue_orders_by_priority(loaded):
	ds = loaded.ds
	legal_strategy()
	run_all(ds, data.month_ends(ds)[:3])
	busiest = frappe.db.sql(
		f"""select `collector` from `tabPL Collection Case` where `loan` like %s and `status` in {tuple(OPEN)}
		group by `collector` order by count(*) desc limit 1""",
		ROW_PREFIX + "%",
	)[0][0]
	open_cases = [c for c in my_cases() if c.collector == busiest and c.status in OPEN]
	assert len(open_cases) >= 3
	# a broken promise on the case with the smallest priority so far
	today = dt.date.today()
	daily_jobs.insert_rows(
		"PL Collection Action",
		["name", "collection_case", "collector", "action_type", "action_on", "ptp_amount", "ptp_date"],
		[
			(
				"_TPLC-ACT-1",
				open_cases[0].name,
				busiest,
				"Call",
				dt.datetime(2019, 1, 5, 10),
				500.0,
				dt.date(2019, 1, 10),
			)
		],
	)
	queue = api.my_collection_queue(employee=busiest)
	assert {q["case"] for q in queue} == {c.name for c in open_cases}

	def priority(case) -> float:
		broken = 1 if case.name == open_cases[0].name else 0
		bucket = data.BUCKET_NUMBER[case.current_bucket]
		return 10 * math.log10(1 + float(case.current_overdue_amount)) + 10 * bucket + 15 * broken

	want = sorted(
		open_cases,
		key=lambda c: (-round(priority(c), 2), -float(c.current_overdue_amount), c.opened_on, c.name),
	)
	assert [q["case"] for q in queue] == [c.name for c in want], [
		(q["case"], q["priority"], q["overdue_amount"], q["bucket"]) for q in queue
	]
	for q in queue:
		assert q["priority"] == pytest.approx(
			priority(next(c for c in open_cases if c.name == q["case"])), abs=0.02
		)
	assert next(q for q in queue if q["case"] == open_cases[0].name)["broken_promises"] == 1
	assert all(q["propensity_score"] is None for q in queue)  # the model is off by default
	assert today  # (the promise is long past)


def test_my_queue_permissions(world):
	case = "_TPLC-PERM-CASE"
	daily_jobs.insert_rows(
		"PL Collection Case",
		[
			"name",
			"case_no",
			"loan",
			"collector",
			"pl_team",
			"status",
			"opened_on",
			"current_bucket",
			"current_overdue_amount",
		],
		[
			(
				case,
				case,
				"_TPLC-PERM-LOAN",
				world.employees.bo,
				world.teams.north,
				"Open",
				dt.date(2025, 1, 1),
				"M2",
				1000.0,
			)
		],
	)
	frappe.set_user(world.users.bo)
	assert [q["case"] for q in api.my_collection_queue()] == [case]
	frappe.set_user(world.users.ada)
	with pytest.raises(frappe.PermissionError):
		api.my_collection_queue(employee=world.employees.bo)
	frappe.set_user(world.users.lena)  # leads North, where Bo is a member
	assert [q["case"] for q in api.my_collection_queue(employee=world.employees.bo)] == [case]
	frappe.set_user(world.users.officer)
	assert [q["case"] for q in api.my_collection_queue(employee=world.employees.bo)] == [case]
	frappe.set_user(world.users.executive)
	with pytest.raises(frappe.PermissionError):
		api.my_collection_queue()


def test_strategy_validation(world):
	def rules(*rows):
		return [
			{"from_bucket": a, "to_bucket": b, "action_type": "Call", "assignment_method": m}
			for a, b, m in rows
		]

	with pytest.raises(frappe.ValidationError, match="M3"):
		make_strategy("_Test PLC Gap", rules(("M1", "M2", "Round Robin"), ("M4", "M6+", "Round Robin")))
	with pytest.raises(frappe.ValidationError, match="already covered"):
		make_strategy("_Test PLC Overlap", rules(("M1", "M3", "Round Robin"), ("M3", "M6+", "Round Robin")))
	bad = rules(("M1", "M6+", "Performance Weighted"))
	bad[0].update(floor_pct=150, cap_pct=200)
	with pytest.raises(frappe.ValidationError, match="floor"):
		make_strategy("_Test PLC Floor", bad)
	make_strategy("_Test PLC Good", rules(("M1", "M6+", "Round Robin")), product="_Test PLC Product")
	with pytest.raises(frappe.ValidationError, match="_Test PLC Good"):
		make_strategy("_Test PLC Clash", rules(("M1", "M6+", "Round Robin")), product="_Test PLC Product")
