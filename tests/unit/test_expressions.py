"""engine.expressions: the one bounded evaluator of formula KPIs and warning rules (issue 13, item 7)."""

import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postloan_performance.engine import expressions as ex
from postloan_performance.engine import formula as f
from postloan_performance.engine import warning_rules as w

FORMULA_NAMES = frozenset({"collection_rate", "recovery_amount"})


def _refused_quickly(call, code):
	tracemalloc.start()
	started = time.perf_counter()
	try:
		with pytest.raises(ex.ExpressionError) as e:
			call()
		elapsed = time.perf_counter() - started
		_current, peak = tracemalloc.get_traced_memory()
	finally:
		tracemalloc.stop()
	assert e.value.code == code
	assert elapsed < 0.5, elapsed  # main: > 20 s or ~1 GB; generous for a loaded machine
	assert peak < 5_000_000, peak
	return e.value


@pytest.mark.parametrize(
	("expression", "code"),
	[
		("dpd ** 9**9**9 > 0", "power"),
		("dpd ** 17 > 0", "power"),
		("dpd ** dpd > 0", "power"),
		("(dpd ** 2) ** 2 > 0", "power"),
		('product == "a"*999999999', "text_too_long"),
		('product == 999999999*"a"', "text_too_long"),
		("dpd in (" + ",".join(["1"] * 450) + ")", "too_many_nodes"),
		("-" * 300 + "dpd > 0", "too_deep"),
		("dpd << 2 > 0", "construct"),
	],
)
def test_warning_rules_refuse_unbounded_expressions_quickly(expression, code):
	error = _refused_quickly(lambda: w.parse_condition(expression), code)
	assert isinstance(error, w.WarningRuleError)


def test_text_repetition_by_a_variable_is_refused_at_run_time():
	frame = pd.DataFrame({name: [3.0] for name in w.VARIABLES})
	frame["product"] = ["SME"]
	frame["branch"] = ["x"]
	frame["bucket_no"] = np.array([10**9], dtype=np.int64)
	_refused_quickly(lambda: w.evaluate("product * bucket_no == 'a'", frame), "text_too_long")
	_refused_quickly(lambda: w.evaluate("product % dpd == 'a'", frame), "text_operation")


@pytest.mark.parametrize(
	("expression", "code"),
	[
		("collection_rate ** 9**9**9", "power"),
		("collection_rate ** (1 + 1)", "power"),
		("round(collection_rate, 10**9)", None),
		("min(" + ",".join(["1"] * 450) + ", collection_rate)", "too_many_nodes"),
		("collection_rate + " * 250 + "1", "too_long"),
	],
)
def test_formulas_refuse_unbounded_expressions(expression, code):
	if code is None:
		# accepted by the static check (a constant round digit count), refused when it runs
		f.parse_formula(expression, FORMULA_NAMES)
		with pytest.raises(f.FormulaError) as e:
			f.evaluate_formula(expression, {"collection_rate": 1.5})
		assert e.value.code == "power"
		return
	error = _refused_quickly(lambda: f.parse_formula(expression, FORMULA_NAMES), code)
	assert isinstance(error, f.FormulaError)


def test_depth_limit():
	tree_text = "(" * 90 + "1" + ")" * 90
	ex.check_source(tree_text)  # parentheses are not nodes
	nested = "abs(" * 120 + "1" + ")" * 120
	with pytest.raises(ex.ExpressionError) as e:
		ex.check_source(nested)
	assert e.value.code in {"too_deep", "syntax"}


def test_step_and_time_limits():
	tree = ex.check_source("a + a + a")
	assert ex.evaluate(tree, {"a": 1}) == 3

	def slow(x):
		time.sleep(0.05)
		return x

	with pytest.raises(ex.ExpressionError) as e:
		ex.evaluate("s(1) + s(1) + s(1) + s(1)", {}, {"s": slow}, time_limit=0.08)
	assert e.value.code == "timeout"


def test_formula_values():
	assert f.evaluate_formula("collection_rate * 2 + 1", {"collection_rate": 3.0}) == 7.0
	assert (
		f.evaluate_formula(
			"collection_rate / recovery_amount", {"collection_rate": 1.0, "recovery_amount": 0.0}
		)
		is None
	)
	assert f.evaluate_formula("max(collection_rate, 2) ** 2", {"collection_rate": 1.0}) == 4.0
	assert f.evaluate_formula("1 if collection_rate > 0 else 2", {"collection_rate": 1.0}) == 1.0


def test_errors_are_engine_errors_with_codes():
	from postloan_performance.engine import EngineError

	with pytest.raises(EngineError):
		f.parse_formula("collection_rate ** 99", FORMULA_NAMES)
	with pytest.raises(EngineError):
		w.parse_condition("dpd ** 99 > 0")


# --- property: anything the check accepts evaluates within the bound ----------------------------------

_leaf = st.one_of(
	st.sampled_from(["a", "b", "s"]),
	st.integers(min_value=-(10**30), max_value=10**30).map(str),
	st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
	st.text(alphabet="xy", max_size=5).map(repr),
	st.integers(min_value=0, max_value=10**12).map(str),
)


def _combine(children):
	binary = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "<", "==", "and", "or", "<<"])
	return st.one_of(
		st.tuples(children, binary, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
		st.tuples(st.sampled_from(["-", "not "]), children).map(lambda t: f"({t[0]}{t[1]})"),
		st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
		st.tuples(st.sampled_from(["abs", "min", "max", "round"]), children, children).map(
			lambda t: f"{t[0]}({t[1]})" if t[0] == "abs" else f"{t[0]}({t[1]}, {t[2]})"
		),
	)


EXPRESSIONS = st.recursive(_leaf, _combine, max_leaves=60)


def _round(x, d=0):
	if abs(int(d)) > ex.MAX_EXPONENT:
		raise ex.ExpressionError("power", max=ex.MAX_EXPONENT)
	return round(x, int(d))


FUNCTIONS = {"abs": abs, "min": min, "max": max, "round": _round}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6))
def test_any_accepted_expression_evaluates_within_the_bound(text, a, b):
	try:
		tree = ex.check_source(text)
	except ex.ExpressionError:
		return
	started = time.perf_counter()
	try:
		value = ex.evaluate(tree, {"a": a, "b": b, "s": "ab"}, FUNCTIONS, time_limit=2.0)
	except ex.ExpressionError:
		value = None
	except (ArithmeticError, TypeError, ValueError):
		value = None
	assert time.perf_counter() - started < 2.5
	if isinstance(value, str):
		assert len(value) <= ex.MAX_TEXT


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**6))
def test_text_repetition_never_exceeds_the_limit(count, length):
	text = repr("x" * min(length, 20_000))
	try:
		value = ex.evaluate(f"{text} * {count}", {})
	except ex.ExpressionError as e:
		assert e.code in {"text_too_long", "too_long"}
		return
	assert len(value) <= ex.MAX_TEXT


# ---------------------------------------------------------------- one grammar check for both dialects
def _engine_modules_walking_trees() -> list[str]:
	import ast
	from pathlib import Path

	engine_dir = Path(ex.__file__).parent
	found = []
	for path in sorted(engine_dir.glob("*.py")):
		if path.name == "expressions.py":
			continue
		tree = ast.parse(path.read_text(encoding="utf-8"))
		for node in ast.walk(tree):
			if isinstance(node, ast.Attribute) and node.attr == "walk" and ast.unparse(node.value) == "ast":
				found.append(path.name)
				break
	return found


def test_expressions_are_checked_in_one_place():
	"""The node whitelist is a security boundary: no engine module but expressions.py walks a tree."""
	assert _engine_modules_walking_trees() == []
	assert isinstance(f.GRAMMAR, ex.Grammar) and isinstance(w.GRAMMAR, ex.Grammar)


@pytest.mark.parametrize(
	"expression, code, detail",
	[
		("collection_rate in recovery_rate", "construct", "In"),
		("collection_rate is recovery_rate", "construct", "Is"),
		("(collection_rate, recovery_rate)", "construct", "Tuple"),
		("'text' + collection_rate", "construct", "str"),
		("len(collection_rate)", "function", "len"),
		("abs(x=collection_rate)", "construct", "keyword"),
		("collection_rate + nobody + anybody", "unknown", "anybody, nobody"),
		("1 + 2", "no_metric", ""),
		("   ", "empty", ""),
	],
)
def test_formula_grammar(expression, code, detail):
	with pytest.raises(f.FormulaError) as caught:
		f.parse_formula(expression, frozenset({"collection_rate", "recovery_rate"}))
	assert (caught.value.code, caught.value.detail) == (code, detail)


@pytest.mark.parametrize(
	"expression, code, details",
	[
		("dpd in max_prev_dpd", "membership", {}),
		("dpd in (1, prev_dpd)", "membership", {}),
		("dpd is None", "construct", {"node": "Is"}),
		("(dpd, 1)", "construct", {"node": "Tuple"}),
		("dpd > 0 and foo(dpd)", "function", {"name": "foo"}),
		("zz > 0 and aa > 1", "unknown", {"names": ["aa", "zz"]}),
		("1 > 0", "no_variable", {}),
	],
)
def test_warning_rule_grammar(expression, code, details):
	with pytest.raises(w.WarningRuleError) as caught:
		w.parse_condition(expression)
	assert caught.value.code == code
	assert {k: caught.value.details[k] for k in details} == details


def test_the_dialects_accept_what_they_should():
	assert f.parse_formula(
		"round(collection_rate * 100, 1) if recovery_rate > 0 else 0",
		{
			"collection_rate",
			"recovery_rate",
		},
	) == {"collection_rate", "recovery_rate"}
	assert w.parse_condition('product in ("SME", "Auto") and dpd > 30') == {"product", "dpd"}
