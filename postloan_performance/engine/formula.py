"""Formula KPIs: expressions over built-in metric codes.

:func:`parse_formula` checks a formula before it is saved, so that an administrator learns about a typo
when he writes the formula and not when a cycle is computed; :func:`evaluate_formula` computes it with the
bounded evaluator of ``engine.expressions`` (the limits on size, powers and time are shared with warning
rules).
"""

import math
from collections.abc import Mapping

from postloan_performance.engine import expressions

ALLOWED_FUNCTIONS = frozenset({"abs", "min", "max", "round"})
# numbers, metric codes, arithmetic, comparisons, and/or/not, x if c else y, abs/min/max/round
GRAMMAR = expressions.Grammar(functions=ALLOWED_FUNCTIONS)


class FormulaError(expressions.ExpressionError):
	"""A formula that cannot be used. `code` tells which rule it broke, `detail` the offending part
	(for the limits of ``engine.expressions``: the limit, e.g. 1000 for ``too_long``)."""

	def __init__(self, code: str | None = None, detail: str = "", **details):
		super().__init__(code, detail=detail, **details)

	@property
	def detail(self) -> str:
		return str(self.details.get("detail") or "")


def parse_formula(expression: str, known_names: set[str] | frozenset[str]) -> set[str]:
	"""Return the metric codes an expression uses; raise FormulaError when it is not valid.

	codes: "empty", "syntax" (detail: the parser's message), "construct" (detail: the node type,
	e.g. attribute access or subscripts), "function" (detail: a call to anything but abs/min/max/round),
	"unknown" (detail: comma-separated unknown names), and the limits of ``engine.expressions``
	("too_long", "too_many_nodes", "too_deep", "power", "text_too_long"; detail: the limit).
	"""
	try:
		return expressions.check_names(expression, GRAMMAR, known_names)
	except expressions.ExpressionError as exc:
		d = exc.details
		code = "no_metric" if exc.code == "no_names" else exc.code
		names = d.get("names")
		detail = (
			", ".join(names) if names else d.get("message") or d.get("node") or d.get("name") or d.get("max")
		)
		raise FormulaError(code, str(detail or ""), **{k: v for k, v in d.items() if k != "detail"}) from None


def _round(value, digits=0):
	if abs(int(digits)) > expressions.MAX_EXPONENT:
		raise FormulaError("power", str(expressions.MAX_EXPONENT), max=expressions.MAX_EXPONENT)
	return round(value, int(digits))


FUNCTIONS = {"abs": abs, "min": min, "max": max, "round": _round}


def evaluate_formula(
	expression: str, values: Mapping[str, float], time_limit: float = expressions.REQUEST_TIME_LIMIT
) -> float | None:
	"""The formula's value for one subject (``values``: metric code -> number). Division by zero or an
	overflow gives None (no value); a refused expression raises :class:`FormulaError`."""
	parse_formula(expression, frozenset(values))
	try:
		value = expressions.evaluate(expression.strip(), values, FUNCTIONS, time_limit)
	except expressions.ExpressionError as exc:
		if isinstance(exc, FormulaError):
			raise
		raise FormulaError(exc.code, str(exc.details.get("max") or ""), **exc.details) from None
	except (ArithmeticError, ValueError, TypeError):
		return None
	if isinstance(value, bool) or not isinstance(value, int | float):
		return None
	try:
		number = float(value)
	except OverflowError:
		return None
	return None if math.isnan(number) or math.isinf(number) else number
