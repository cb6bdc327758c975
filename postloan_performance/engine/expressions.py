"""One bounded evaluator for the expressions administrators write: formula KPIs and warning rules.

Pure Python (numpy arrays are accepted as values, nothing here imports frappe). An expression is checked
twice:

* **before it is saved** (:func:`check_source`): at most :data:`MAX_SOURCE` characters,
  :data:`MAX_NODES` syntax nodes and :data:`MAX_DEPTH` levels of nesting; only whitelisted node types and
  operators; ``**`` only with a constant exponent of at most :data:`MAX_EXPONENT` and never inside
  another ``**``; text constants and constant text repetitions of at most :data:`MAX_TEXT` characters.
* **while it runs** (:func:`evaluate`): a tree walker (no ``eval``) counts its steps (at most
  :data:`MAX_STEPS`), watches the clock (``time_limit`` seconds: 2 in a web request, 60 in the daily job),
  and refuses, before computing it, any text longer than :data:`MAX_TEXT` characters and any power whose
  exponent is out of bounds.

Every refusal is an :class:`ExpressionError` (an :class:`EngineError`) whose ``code`` says which limit was
hit; the Frappe layer turns it into a translated message. Arithmetic errors of the values themselves
(division by zero, overflow) are raised as the usual Python exceptions: the caller decides what they mean.
"""

from __future__ import annotations

import ast
import operator
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from postloan_performance.engine import EngineError

__all__ = [
	"MAX_DEPTH",
	"MAX_EXPONENT",
	"MAX_NODES",
	"MAX_SOURCE",
	"MAX_STEPS",
	"MAX_TEXT",
	"ExpressionError",
	"Grammar",
	"check_names",
	"check_source",
	"check_tree",
	"evaluate",
]

MAX_SOURCE = 1000
MAX_NODES = 400
MAX_DEPTH = 100
MAX_EXPONENT = 16
MAX_TEXT = 10_000
MAX_STEPS = 10_000
REQUEST_TIME_LIMIT = 2.0
JOB_TIME_LIMIT = 60.0

_NODES = (
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
	ast.Tuple,
	ast.List,
	ast.operator,
	ast.unaryop,
	ast.cmpop,
	ast.boolop,
)
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
	ast.Add: operator.add,
	ast.Sub: operator.sub,
	ast.Mult: operator.mul,
	ast.Div: operator.truediv,
	ast.FloorDiv: operator.floordiv,
	ast.Mod: operator.mod,
	ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
	ast.UAdd: operator.pos,
	ast.USub: operator.neg,
	ast.Not: operator.not_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
	ast.Eq: operator.eq,
	ast.NotEq: operator.ne,
	ast.Lt: operator.lt,
	ast.LtE: operator.le,
	ast.Gt: operator.gt,
	ast.GtE: operator.ge,
	ast.In: lambda a, b: a in b,
	ast.NotIn: lambda a, b: a not in b,
}


class ExpressionError(EngineError):
	"""An expression refused by a limit. codes: ``too_long`` (max), ``too_many_nodes`` (max),
	``too_deep`` (max), ``construct`` (node), ``power`` (max: the exponent must be a constant number of
	at most ``max``, never itself or its base a power), ``text_too_long`` (max), ``text_operation``
	(node: text only supports ``+``, ``*`` by a whole number and comparisons), ``steps`` (max),
	``timeout`` (seconds), ``syntax`` (message)."""


# --- the static check ----------------------------------------------------------------------------------


def _number(value: Any) -> bool:
	return isinstance(value, int | float) and not isinstance(value, bool)


def _contains_pow(node: ast.AST) -> bool:
	return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node))


def _constant_exponent(node: ast.AST) -> float | None:
	"""The exponent's value when it is a number constant, optionally negated."""
	if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
		inner = _constant_exponent(node.operand)
		return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
	if isinstance(node, ast.Constant) and _number(node.value):
		return node.value
	return None


def check_source(text: str) -> ast.Expression:
	"""Parse ``text`` and apply every static limit; return the tree. Raise :class:`ExpressionError`
	(``syntax`` carries the parser's message)."""
	if len(text) > MAX_SOURCE:
		raise ExpressionError("too_long", max=MAX_SOURCE)
	try:
		tree = ast.parse(text, mode="eval")
	except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
		raise ExpressionError("syntax", message=getattr(exc, "msg", None) or str(exc))
	check_tree(tree)
	return tree


def check_tree(tree: ast.AST) -> None:
	"""The node count, depth, node types, power and text limits of a parsed expression."""
	count = 0
	stack: list[tuple[ast.AST, int]] = [(tree, 1)]
	while stack:
		node, depth = stack.pop()
		count += 1
		if count > MAX_NODES:
			raise ExpressionError("too_many_nodes", max=MAX_NODES)
		if depth > MAX_DEPTH:
			raise ExpressionError("too_deep", max=MAX_DEPTH)
		if not isinstance(node, _NODES):
			raise ExpressionError("construct", node=type(node).__name__)
		if isinstance(node, ast.operator) and type(node) not in _BINARY:
			raise ExpressionError("construct", node=type(node).__name__)
		if isinstance(node, ast.Constant):
			if isinstance(node.value, str) and len(node.value) > MAX_TEXT:
				raise ExpressionError("text_too_long", max=MAX_TEXT)
		elif isinstance(node, ast.BinOp):
			if isinstance(node.op, ast.Pow):
				exponent = _constant_exponent(node.right)
				if exponent is None or abs(exponent) > MAX_EXPONENT or _contains_pow(node.left):
					raise ExpressionError("power", max=MAX_EXPONENT)
			elif isinstance(node.op, ast.Mult):
				_check_constant_repeat(node)
		stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_constant_repeat(node: ast.BinOp) -> None:
	left, right = node.left, node.right
	for text, times in ((left, right), (right, left)):
		if isinstance(text, ast.Constant) and isinstance(text.value, str):
			count = times.value if isinstance(times, ast.Constant) else None
			if isinstance(count, int) and len(text.value) * count > MAX_TEXT:
				raise ExpressionError("text_too_long", max=MAX_TEXT)


# --- the evaluator -------------------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
	if isinstance(value, str):
		return True
	return isinstance(value, np.ndarray) and value.dtype.kind in "OUS"


def _text_length(value: Any) -> int:
	if isinstance(value, str):
		return len(value)
	if isinstance(value, np.ndarray):
		lengths = [len(v) for v in value.ravel() if isinstance(v, str)]
		return max(lengths, default=0)
	return 0


def _max_count(value: Any) -> float:
	if isinstance(value, bool):
		return int(value)
	if _number(value):
		return value
	if isinstance(value, np.ndarray) and value.size and value.dtype.kind in "iub":
		return int(value.max())
	if isinstance(value, np.ndarray) and value.size and value.dtype.kind == "O":
		counts = [v for v in value.ravel() if isinstance(v, int)]
		return max(counts, default=0)
	return 0


class _Run:
	def __init__(self, names: Mapping[str, Any], functions: Mapping[str, Callable], time_limit: float):
		self.names = names
		self.functions = functions
		self.time_limit = time_limit
		self.deadline = time.monotonic() + time_limit
		self.steps = 0

	def step(self) -> None:
		self.steps += 1
		if self.steps > MAX_STEPS:
			raise ExpressionError("steps", max=MAX_STEPS)
		if time.monotonic() > self.deadline:
			raise ExpressionError("timeout", seconds=self.time_limit)

	def value(self, node: ast.AST) -> Any:
		self.step()
		method = getattr(self, "_" + type(node).__name__, None)
		if method is None:
			raise ExpressionError("construct", node=type(node).__name__)
		return method(node)

	def _Expression(self, node: ast.Expression) -> Any:
		return self.value(node.body)

	def _Constant(self, node: ast.Constant) -> Any:
		value = node.value
		if not (value is None or isinstance(value, bool | int | float | str)):
			raise ExpressionError("construct", node=type(value).__name__)
		if isinstance(value, str) and len(value) > MAX_TEXT:
			raise ExpressionError("text_too_long", max=MAX_TEXT)
		return value

	def _Name(self, node: ast.Name) -> Any:
		if node.id in self.names:
			return self.names[node.id]
		raise ExpressionError("unknown", names=[node.id])

	def _Tuple(self, node: ast.Tuple) -> tuple:
		return tuple(self.value(e) for e in node.elts)

	def _List(self, node: ast.List) -> list:
		return [self.value(e) for e in node.elts]

	def _UnaryOp(self, node: ast.UnaryOp) -> Any:
		operand = self.value(node.operand)
		if _is_text(operand) and not isinstance(node.op, ast.Not):
			raise ExpressionError("text_operation", node=type(node.op).__name__)
		return _UNARY[type(node.op)](operand)

	def _BinOp(self, node: ast.BinOp) -> Any:
		left = self.value(node.left)
		right = self.value(node.right)
		op = type(node.op)
		if op not in _BINARY:
			raise ExpressionError("construct", node=op.__name__)
		if _is_text(left) or _is_text(right):
			return self._text_op(op, left, right)
		if op is ast.Pow:
			_check_exponent(right)
		return _BINARY[op](left, right)

	def _text_op(self, op: type, left: Any, right: Any) -> Any:
		if op is ast.Add:
			if _text_length(left) + _text_length(right) > MAX_TEXT:
				raise ExpressionError("text_too_long", max=MAX_TEXT)
		elif op is ast.Mult:
			text, count = (left, right) if _is_text(left) else (right, left)
			if _text_length(text) * max(_max_count(count), 1) > MAX_TEXT:
				raise ExpressionError("text_too_long", max=MAX_TEXT)
			if _is_text(count):
				raise ExpressionError("text_operation", node=op.__name__)
		else:
			# '%' would be text formatting ("%999999999d"), the rest make no sense on text
			raise ExpressionError("text_operation", node=op.__name__)
		return _BINARY[op](left, right)

	def _BoolOp(self, node: ast.BoolOp) -> Any:
		value = None
		for part in node.values:
			value = self.value(part)
			if isinstance(node.op, ast.And) and not value:
				return value
			if isinstance(node.op, ast.Or) and value:
				return value
		return value

	def _IfExp(self, node: ast.IfExp) -> Any:
		return self.value(node.body) if self.value(node.test) else self.value(node.orelse)

	def _Compare(self, node: ast.Compare) -> Any:
		left = self.value(node.left)
		result: Any = True
		for op, comparator in zip(node.ops, node.comparators, strict=True):
			right = self.value(comparator)
			if type(op) not in _COMPARE:
				raise ExpressionError("construct", node=type(op).__name__)
			outcome = _COMPARE[type(op)](left, right)
			if len(node.ops) == 1:
				return outcome
			if not outcome:
				return outcome
			result = outcome
			left = right
		return result

	def _Call(self, node: ast.Call) -> Any:
		if not isinstance(node.func, ast.Name) or node.func.id not in self.functions or node.keywords:
			raise ExpressionError("function", name=ast.unparse(node.func))
		args = [self.value(a) for a in node.args]
		result = self.functions[node.func.id](*args)
		if _text_length(result) > MAX_TEXT:
			raise ExpressionError("text_too_long", max=MAX_TEXT)
		return result


def _check_exponent(exponent: Any) -> None:
	if isinstance(exponent, np.ndarray):
		finite = exponent[np.isfinite(exponent)] if exponent.dtype.kind == "f" else exponent
		too_big = bool(finite.size) and float(np.abs(finite).max()) > MAX_EXPONENT
	elif _number(exponent) or isinstance(exponent, bool):
		too_big = abs(exponent) > MAX_EXPONENT
	else:
		too_big = False
	if too_big:
		raise ExpressionError("power", max=MAX_EXPONENT)


def evaluate(
	expression: str | ast.AST,
	names: Mapping[str, Any],
	functions: Mapping[str, Callable] | None = None,
	time_limit: float = REQUEST_TIME_LIMIT,
) -> Any:
	"""The value of ``expression`` (text, checked by :func:`check_source` first, or an already checked
	tree) with ``names`` bound and only ``functions`` callable; bounded in steps, time and text size."""
	tree = check_source(expression.strip()) if isinstance(expression, str) else expression
	return _Run(names, functions or {}, time_limit).value(tree)


def names_in(tree: ast.AST, functions: Iterable[str] = ()) -> set[str]:
	"""The variable names an expression reads (function names excluded)."""
	skip = set(functions)
	return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in skip}


# --- the grammar of one kind of expression ------------------------------------------------------------


@dataclass(frozen=True)
class Grammar:
	"""What one kind of expression may contain beyond the common limits of :func:`check_tree`.

	``functions``: the names that may be called (positional arguments only); ``constants``: the types a
	literal may have; ``membership``: whether ``x in (c1, c2)`` / ``not in`` over a list of constants is
	allowed (the only place a tuple or list may appear)."""

	functions: frozenset[str]
	constants: tuple[type, ...] = (int, float)
	membership: bool = False


def check_names(text: str, grammar: Grammar, known: Iterable[str]) -> set[str]:
	"""The single check of an administrator's expression before it is saved: the common limits, then the
	grammar. Return the known names it uses; raise :class:`ExpressionError` with the code ``empty``,
	``syntax`` (message), a limit of :func:`check_tree`, ``construct`` (node), ``function`` (name),
	``membership``, ``unknown`` (names, sorted) or ``no_names``."""
	text = (text or "").strip()
	if not text:
		raise ExpressionError("empty")
	tree = check_source(text)
	known = frozenset(known)
	lists = _membership_lists(tree) if grammar.membership else set()
	used: set[str] = set()
	unknown: set[str] = set()
	for node in ast.walk(tree):
		if isinstance(node, ast.Tuple | ast.List):
			if id(node) not in lists:
				raise ExpressionError("construct", node=type(node).__name__)
		elif isinstance(node, ast.Call):
			if not isinstance(node.func, ast.Name) or node.func.id not in grammar.functions or node.keywords:
				raise ExpressionError("function", name=ast.unparse(node.func))
		elif isinstance(node, ast.Name):
			if node.id not in grammar.functions:
				(used if node.id in known else unknown).add(node.id)
		elif isinstance(node, ast.Constant):
			if not isinstance(node.value, grammar.constants):
				raise ExpressionError("construct", node=type(node.value).__name__)
		elif isinstance(node, ast.Compare):
			for op in node.ops:
				if isinstance(op, ast.Is | ast.IsNot):
					raise ExpressionError("construct", node=type(op).__name__)
				if isinstance(op, ast.In | ast.NotIn) and not grammar.membership:
					raise ExpressionError("construct", node=type(op).__name__)
	if unknown:
		raise ExpressionError("unknown", names=sorted(unknown))
	if not used:
		raise ExpressionError("no_names")
	return used


def _membership_lists(tree: ast.AST) -> set[int]:
	"""The ids of the constant lists that stand right of ``in`` / ``not in``; a membership test over
	anything else is refused."""
	lists: set[int] = set()
	for node in ast.walk(tree):
		if isinstance(node, ast.Compare):
			for op, right in zip(node.ops, node.comparators, strict=True):
				if not isinstance(op, ast.In | ast.NotIn):
					continue
				if not isinstance(right, ast.Tuple | ast.List) or not all(
					isinstance(e, ast.Constant) for e in right.elts
				):
					raise ExpressionError("membership")
				lists.add(id(right))
	return lists
