"""engine.warning_rules: condition checks, the set-wise rewrite, and the variables, by hand-worked cases."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import warning_rules as w


def test_valid_conditions_name_their_variables():
	assert w.parse_condition("dpd > 0 and max_prev_dpd == 0") == {"dpd", "max_prev_dpd"}
	assert w.parse_condition("consecutive_overdue >= 2") == {"consecutive_overdue"}
	assert w.parse_condition("collateral_change_pct < -20") == {"collateral_change_pct"}
	assert w.parse_condition("outstanding_change > 0 and collateral_change_pct < 0") == {
		"outstanding_change",
		"collateral_change_pct",
	}
	assert w.parse_condition('product in ("SME", "Auto") and abs(outstanding_change_pct) > 10') == {
		"product",
		"outstanding_change_pct",
	}


@pytest.mark.parametrize(
	("expression", "code"),
	[
		("", "empty"),
		("dpd >", "syntax"),
		("dpd > 0 and foo", "unknown"),
		("__import__('os')", "function"),
		("dpd.real > 0", "construct"),
		("[x for x in dpd]", "construct"),
		("product in branch", "membership"),
		("1 > 0", "no_variable"),
		("dpd is None", "construct"),
		("len(product) > 3", "function"),
		("dpd > 0 and (dpd := 5)", "construct"),
		("(dpd, 1)", "construct"),
		("dpd << 2", "construct"),
		("x" * 1001, "too_long"),
	],
)
def test_invalid_conditions(expression, code):
	with pytest.raises(w.WarningRuleError) as e:
		w.parse_condition(expression)
	assert e.value.code == code


def test_type_errors_show_up_on_the_sample_rows():
	with pytest.raises(w.WarningRuleError) as e:
		w.check_condition("product > 5")
	assert e.value.code == "evaluation"
	assert w.check_condition("product == 'SME' and dpd > 30") == {"product", "dpd"}


def test_vectorized_form():
	assert w.vectorize("dpd > 0 and max_prev_dpd == 0") == "pl_bool(pl_and(dpd > 0, max_prev_dpd == 0))"
	assert (
		w.vectorize("not 0 < dpd <= 30 or product in ('SME',)")
		== "pl_bool(pl_or(pl_not(pl_and(0 < dpd, dpd <= 30)), pl_isin(product, ['SME'])))"
	)
	assert w.vectorize("abs(x) if has_previous else min(dpd, 3)".replace("x", "dpd")) == (
		"pl_bool(pl_where(has_previous, pl_abs(dpd), pl_min(dpd, 3)))"
	)


def _row_eval(expression: str, row: dict) -> bool:
	"""The condition on one row in plain Python, NaN-aware the way the set-wise form is: a comparison
	with a missing value is false."""
	names = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}

	class Missing:
		def __lt__(self, other):
			return False

		__le__ = __gt__ = __ge__ = __lt__

		def __eq__(self, other):
			return False

		def __ne__(self, other):
			return True

		def __bool__(self):
			return False

		def __add__(self, other):
			return self

		__sub__ = __rsub__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __add__

		def __abs__(self):
			return self

		__neg__ = __abs__

		def __hash__(self):
			return 0

	names = {k: (Missing() if v is None and k not in w.TEXT_VARIABLES else v) for k, v in names.items()}
	return bool(
		eval(expression, {"__builtins__": {"abs": abs, "min": min, "max": max, "round": round}}, names)
	)


EXPRESSIONS = [
	"dpd > 0 and max_prev_dpd == 0",
	"consecutive_overdue >= 2",
	"collateral_change_pct < -20",
	"outstanding_change > 0 and collateral_change_pct < 0",
	"dpd > 30 or product == 'SME'",
	"not dpd > 0",
	"0 < dpd <= 30 and product in ('SME', 'Auto')",
	"product not in ('SME',) and ltv > 100",
	"dpd > 60 if product == 'Mortgage' else dpd > 30",
	"max(dpd, prev_dpd) > 40",
	"abs(outstanding_change) > 100",
]


def _frame(n=200, seed=7):
	rng = np.random.default_rng(seed)
	frame = pd.DataFrame({name: rng.integers(-50, 120, n).astype(float) for name in w.VARIABLES})
	for name in ("prev_dpd", "collateral_change_pct", "outstanding_change", "ltv"):
		frame.loc[rng.random(n) < 0.2, name] = np.nan
	frame["product"] = rng.choice(["SME", "Auto", "Mortgage", "Consumer"], n)
	frame["branch"] = rng.choice(["Shanghai", "Beijing"], n)
	return frame


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_set_wise_evaluation_matches_row_by_row(expression):
	frame = _frame()
	got = w.evaluate(expression, frame)
	expected = [_row_eval(expression, row) for row in frame.to_dict("records")]
	if expression in ("max(dpd, prev_dpd) > 40",):
		# Python's max() with a missing value is order-dependent; the set-wise form says "missing -> false"
		expected = [
			bool(not math.isnan(r["prev_dpd"]) and max(r["dpd"], r["prev_dpd"]) > 40)
			for r in frame.to_dict("records")
		]
	assert got.tolist() == expected


def test_missing_values_never_satisfy_a_comparison():
	frame = pd.DataFrame({name: [np.nan] for name in w.VARIABLES})
	frame["product"] = [None]
	frame["branch"] = [None]
	for expression in ("collateral_change_pct < -20", "prev_dpd == 0", "ltv > 0 or outstanding_change < 0"):
		assert w.evaluate(expression, frame).tolist() == [False]


def test_summarize_history_hand_worked():
	history = pd.DataFrame(
		{
			"loan": ["A", "A", "A", "B", "B", "C", "C"],
			"as_of_date": pd.to_datetime(
				[
					"2025-01-31",
					"2025-02-28",
					"2025-03-31",
					"2025-01-31",
					"2025-02-28",
					"2025-01-31",
					"2025-02-28",
				]
			),
			"dpd": [0, 10, 40, 20, 0, 5, 30],
		}
	)
	summary = w.summarize_history(history).set_index("loan")
	assert summary["max_prev_dpd"].to_dict() == {"A": 40.0, "B": 20.0, "C": 30.0}
	assert summary["overdue_run"].to_dict() == {"A": 2.0, "B": 0.0, "C": 2.0}


def test_build_variables_hand_worked():
	current = pd.DataFrame(
		{
			"loan": ["A", "B", "N"],
			"as_of_date": [dt.date(2025, 4, 30)] * 3,
			"dpd": [35, 0, 12],
			"outstanding": [1000.0, 500.0, 300.0],
			"overdue_amount": [80.0, 0.0, 20.0],
		}
	)
	loans = pd.DataFrame(
		{
			"name": ["A", "B", "N"],
			"principal": [2000.0, 800.0, 300.0],
			"collateral_value": [800.0, 0.0, 0.0],
			"last_appraisal_value": [1000.0, 0.0, 0.0],
			"disbursed_on": [dt.date(2024, 4, 30), dt.date(2025, 1, 15), dt.date(2025, 4, 1)],
			"product": ["SME", "Consumer", "Consumer"],
			"branch": ["Shanghai", "Beijing", None],
		}
	)
	previous = pd.DataFrame(
		{"loan": ["A", "B"], "dpd": [5, 0], "outstanding": [900.0, 550.0], "overdue_amount": [40.0, 0.0]}
	)
	history = pd.DataFrame({"loan": ["A", "B"], "max_prev_dpd": [5.0, 0.0], "overdue_run": [1.0, 0.0]})
	v = w.build_variables(current, loans, previous, history).set_index("loan")
	a, b, n = v.loc["A"], v.loc["B"], v.loc["N"]
	assert (a["bucket_no"], a["missed_installments"], a["prev_bucket_no"]) == (2.0, 2.0, 1.0)
	assert a["outstanding_change"] == 100.0
	assert a["outstanding_change_pct"] == pytest.approx(100 / 9)
	assert a["collateral_change_pct"] == pytest.approx(-20.0)
	assert a["ltv"] == pytest.approx(125.0)
	assert a["months_on_book"] == 12.0
	assert (a["max_prev_dpd"], a["consecutive_overdue"], a["has_previous"]) == (5.0, 2.0, 1.0)
	assert b["months_on_book"] == 3.0  # 15 Jan -> 30 Apr: three whole months
	assert math.isnan(b["collateral_change_pct"]) and math.isnan(b["ltv"])  # unsecured
	assert b["consecutive_overdue"] == 0.0
	assert math.isnan(n["prev_dpd"]) and n["has_previous"] == 0.0  # first snapshot
	assert (n["max_prev_dpd"], n["consecutive_overdue"]) == (0.0, 1.0)
	# "first time overdue" and "two consecutive missed payments" on these rows
	frame = w.build_variables(current, loans, previous, history)
	assert w.evaluate("dpd > 0 and max_prev_dpd == 0", frame).tolist() == [False, False, True]
	assert w.evaluate("consecutive_overdue >= 2", frame).tolist() == [True, False, False]
	assert w.evaluate("collateral_change_pct < -15 and outstanding_change > 0", frame).tolist() == [
		True,
		False,
		False,
	]
