"""Formula KPIs: expressions over built-in metric codes.

:func:`parse_formula` checks a formula before it is saved, so that an administrator learns about a typo
when he writes the formula and not when a cycle is computed; :func:`evaluate_formula` computes it with the
bounded evaluator of ``engine.expressions`` (the limits on size, powers and time are shared with warning
rules).
"""

import ast
import math
from collections.abc import Mapping

from postloan_performance.engine import expressions

ALLOWED_FUNCTIONS = frozenset({"abs", "min", "max", "round"})
_ALLOWED_NODES = (
	ast.Expression,
	ast.BinOp,
	ast.UnaryOp,
	ast.Compare,
	ast.BoolOp,
	ast.IfExp,
	ast.Call,
	ast.Name,
	ast.Load,
	ast.Constant,
	ast.operator,
	ast.unaryop,
	ast.cmpop,
	ast.boolop,
)


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
	text = (expression or "").strip()
	if not text:
		raise FormulaError("empty")
	try:
		tree = expressions.check_source(text)
	except expressions.ExpressionError as exc:
		d = exc.details
		detail = d.get("message") or d.get("node") or d.get("max") or ""
		raise FormulaError(exc.code, str(detail), **{k: v for k, v in d.items() if k != "detail"}) from None

	used: set[str] = set()
	unknown: set[str] = set()
	for node in ast.walk(tree):
		if not isinstance(node, _ALLOWED_NODES):
			raise FormulaError("construct", type(node).__name__)
		if isinstance(node, ast.Call):
			if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS or node.keywords:
				raise FormulaError("function", ast.unparse(node.func))
		elif isinstance(node, ast.Name) and node.id not in ALLOWED_FUNCTIONS:
			if node.id in known_names:
				used.add(node.id)
			else:
				unknown.add(node.id)
		elif isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
			raise FormulaError("construct", type(node.value).__name__)
	if unknown:
		raise FormulaError("unknown", ", ".join(sorted(unknown)))
	if not used:
		# A constant is not a KPI: it would give every employee the same score.
		raise FormulaError("no_metric")
	return used


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
