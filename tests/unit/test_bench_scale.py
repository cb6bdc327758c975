"""benchmarks/shape.py's --scale sizes: ten times the book, and a tiny scale actually generated."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import shape


def test_ten_times_the_book():
	targets, employees, teams = shape.scaled(10)
	assert (targets.loans, employees, teams) == (2_000_000, 20_000, 1_000)
	assert targets.cases == 1_500_000 and targets.actions == 6_000_000 and targets.tickets == 800_000


def test_a_tiny_scale_generates_its_sizes():
	targets, employees, teams = shape.scaled(0.005)
	assert (targets.loans, employees, teams) == (1_000, 10, 4)
	ds = shape.build(3, targets, employees=employees, teams=teams, months=12)
	assert len(ds.loans) == targets.loans
	assert 0 < len(ds.cases) <= targets.cases
	assert len(ds.employees) >= employees
	assert ds.teams["team_name"].nunique() >= 2


def test_scale_must_be_positive():
	import pytest

	with pytest.raises(ValueError):
		shape.scaled(0)


def test_a_book_of_parts_splits_every_size():
	targets, employees, teams = shape.scaled(10)
	parts = shape.parts_of(targets.loans)
	assert parts == 10
	sizes = [shape.part_sizes(targets, employees, teams, parts, i) for i in range(parts)]
	for field, total in targets.as_dict().items():
		assert sum(getattr(t, field) for t, _e, _t in sizes) == total
	assert sum(e for _t, e, _tm in sizes) == employees and sum(tm for _t, _e, tm in sizes) == teams
	assert sizes[0][0] == shape.Targets()  # each part of ten times the book is the book
	assert shape.parts_of(200_000) == 1 and shape.parts_of(200_001) == 2
	uneven = shape.part_sizes(shape.Targets(cases=7), 5, 3, 2, 0)
	assert (uneven[0].cases, uneven[1], uneven[2]) == (4, 3, 2)


def _references_resolve(ds):
	loans = set(ds.loans["name"])
	cases = set(ds.cases["name"])
	tickets = set(ds.tickets["reference"])
	staff = set(ds.employees["key"])
	team_names = set(ds.teams["team_name"])
	assert set(ds.snapshots["loan"]) <= loans and set(ds.cases["loan"]) <= loans
	assert set(ds.actions["collection_case"]) <= cases
	assert set(ds.cases["collector"].dropna()) <= staff and set(ds.actions["collector"].dropna()) <= staff
	assert set(ds.cases["pl_team"].dropna()) <= team_names
	assert set(ds.loans["managing_team"].dropna()) <= team_names
	assert set(ds.memberships["employee_key"]) <= staff and set(ds.memberships["team"]) <= team_names
	feedback_tickets = ds.customer_feedback["ticket"].dropna()
	assert set(feedback_tickets[feedback_tickets != ""]) <= tickets
	assert set(ds.surveys["respondent"]) <= staff


def test_parts_are_prefixed_regions_that_share_no_name():
	import pandas as pd

	targets, employees, teams = shape.scaled(0.004)
	parts = [
		shape.prefixed(shape.build(3 + i, targets, employees=employees, teams=teams), f"R{i + 1:02d}-")
		for i in range(2)
	]
	for ds in parts:
		_references_resolve(ds)
	first, second = parts
	assert (
		first.loans["name"].str.startswith("R01-").all() and second.loans["name"].str.startswith("R02-").all()
	)
	assert (first.snapshots["name"].str.slice(0, 4) == "R01-").all()
	assert first.employees["first_name"].str.startswith("R01-").all()
	assert not set(first.loans["name"]) & set(second.loans["name"])
	assert not set(first.teams["team_name"]) & set(second.teams["team_name"])
	combined = {
		name: pd.concat([a, b])
		for (name, a), b in zip(first.frames().items(), second.frames().values(), strict=True)
	}
	assert combined["loans"]["name"].is_unique and combined["actions"]["reference"].is_unique
	# a blank reference stays blank
	blank = first.customer_feedback["ticket"].isna() | (first.customer_feedback["ticket"] == "")
	assert blank.any()
	assert not first.customer_feedback.loc[blank, "ticket"].astype("string").str.startswith("R01").any()


def test_key_columns_follow_the_row_rules():
	assert shape.key_columns("cases", ["name", "case_no", "loan", "collector", "pl_team", "status"]) == (
		"name",
		"case_no",
		"loan",
		"collector",
		"pl_team",
	)
	assert "company" not in shape.key_columns("loans", ["name", "company", "managing_team"])
