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
