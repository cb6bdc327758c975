"""Early-warning rules: a condition over snapshot and loan fields, checked on save, evaluated set-wise.

Pure Python + numpy + pandas (no frappe). A rule's condition is a Python expression over the names in
:data:`VARIABLES`, e.g. ``dpd > 0 and max_prev_dpd == 0`` (first time overdue) or
``collateral_change_pct < -20 and outstanding_change > 0``. The allowed constructs are those of KPI
formulas (``engine.formula``: arithmetic, comparisons, ``and``/``or``/``not``, ``x if c else y``,
``abs``/``min``/``max``/``round``) plus text constants and ``in`` / ``not in`` over a list of constants
(``product in ("SME", "Auto")``).

Evaluation is set-wise: :func:`vectorize` rewrites the expression once into one that works on whole
columns (``a and b`` → ``pl_and(a, b)``, ``x if c else y`` → ``pl_where(c, x, y)``, ``min`` → ``pl_min`` …),
and the Frappe layer evaluates that with ``frappe.safe_eval`` once per rule, with every variable bound to
a numpy array (one element per loan) and the ``pl_*`` helpers of :func:`helpers`. A missing value (no
previous snapshot, no appraisal …) is NaN: every comparison with it is false, so a condition that needs
it does not hold.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from postloan_performance.engine import expressions
from postloan_performance.engine.delinquency import BUCKET_UPPER_DPD, bucket_index

__all__ = [
	"HISTORY_VARIABLES",
	"PREVIOUS_VARIABLES",
	"TEXT_VARIABLES",
	"VARIABLES",
	"WarningRuleError",
	"build_variables",
	"evaluate",
	"helpers",
	"parse_condition",
	"summarize_history",
	"vectorize",
]

# name -> what it is (shown to the administrator next to the condition)
VARIABLES: dict[str, str] = {
	"dpd": "days past due on the snapshot",
	"bucket_no": "bucket number: 0 = M0 … 6 = M6+",
	"missed_installments": "installments overdue: ceil(dpd / 30)",
	"outstanding": "outstanding balance on the snapshot",
	"overdue_amount": "overdue amount on the snapshot",
	"prev_dpd": "dpd on the loan's previous snapshot",
	"prev_bucket_no": "bucket number on the previous snapshot",
	"prev_outstanding": "outstanding on the previous snapshot",
	"prev_overdue_amount": "overdue amount on the previous snapshot",
	"has_previous": "1 when the loan has an earlier snapshot, else 0",
	"outstanding_change": "outstanding − previous outstanding",
	"outstanding_change_pct": "(outstanding − previous outstanding) ÷ previous outstanding × 100",
	"max_prev_dpd": "highest dpd on any earlier snapshot (0 when none)",
	"consecutive_overdue": "consecutive snapshots up to this one with dpd > 0",
	"principal": "loan principal",
	"collateral_value": "current collateral value of the loan",
	"last_appraisal_value": "collateral value at the last appraisal",
	"collateral_change_pct": "(collateral value − last appraisal value) ÷ last appraisal value × 100",
	"ltv": "outstanding ÷ collateral value × 100",
	"months_on_book": "whole months from disbursement to the snapshot date",
	"product": "loan product (text)",
	"branch": "loan branch (text)",
}
TEXT_VARIABLES = frozenset({"product", "branch"})
PREVIOUS_VARIABLES = frozenset(
	{
		"prev_dpd",
		"prev_bucket_no",
		"prev_outstanding",
		"prev_overdue_amount",
		"has_previous",
		"outstanding_change",
		"outstanding_change_pct",
	}
)
HISTORY_VARIABLES = frozenset({"max_prev_dpd", "consecutive_overdue"})

FUNCTIONS = {"abs": "pl_abs", "min": "pl_min", "max": "pl_max", "round": "pl_round"}
# the formulas' grammar plus text constants and membership in a list of constants
GRAMMAR = expressions.Grammar(
	functions=frozenset(FUNCTIONS), constants=(bool, int, float, str), membership=True
)
MAX_LENGTH = expressions.MAX_SOURCE


class WarningRuleError(expressions.ExpressionError):
	"""codes: ``empty``, ``too_long``, ``syntax`` (message), ``construct`` (node), ``function`` (name),
	``unknown`` (names), ``no_variable``, ``membership`` (``in`` needs a list of constants on the right),
	``evaluation`` (message: the condition fails on sample values, e.g. text compared with a number), and
	the other limits of ``engine.expressions`` (``too_many_nodes``, ``too_deep``, ``power``,
	``text_too_long``, ``text_operation``, ``steps``, ``timeout``)."""


def parse_condition(expression: str) -> set[str]:
	"""The variables a condition uses; raise :class:`WarningRuleError` when it cannot be used."""
	try:
		return expressions.check_names(expression, GRAMMAR, VARIABLES)
	except expressions.ExpressionError as exc:
		code = "no_variable" if exc.code == "no_names" else exc.code
		raise WarningRuleError(code, **exc.details) from None


class _Vectorizer(ast.NodeTransformer):
	def visit_BoolOp(self, node: ast.BoolOp):
		node = self.generic_visit(node)
		name = "pl_and" if isinstance(node.op, ast.And) else "pl_or"
		return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(node.values), keywords=[])

	def visit_UnaryOp(self, node: ast.UnaryOp):
		node = self.generic_visit(node)
		if isinstance(node.op, ast.Not):
			return _call("pl_not", node.operand)
		return node

	def visit_IfExp(self, node: ast.IfExp):
		node = self.generic_visit(node)
		return _call("pl_where", node.test, node.body, node.orelse)

	def visit_Call(self, node: ast.Call):
		node = self.generic_visit(node)
		node.func = ast.Name(id=FUNCTIONS[node.func.id], ctx=ast.Load())
		return node

	def visit_Compare(self, node: ast.Compare):
		node = self.generic_visit(node)
		parts = []
		left = node.left
		for op, right in zip(node.ops, node.comparators, strict=True):
			if isinstance(op, ast.In | ast.NotIn):
				values = ast.List(elts=list(right.elts), ctx=ast.Load())
				part = _call("pl_isin", left, values)
				if isinstance(op, ast.NotIn):
					part = _call("pl_not", part)
			else:
				part = ast.Compare(left=left, ops=[op], comparators=[right])
			parts.append(part)
			left = right
		return parts[0] if len(parts) == 1 else _call("pl_and", *parts)


def _call(name: str, *args: ast.expr) -> ast.Call:
	return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def vectorize(expression: str) -> str:
	"""The condition rewritten to work on whole columns (validate it with :func:`parse_condition` first)."""
	tree = ast.parse(expression.strip(), mode="eval")
	tree = _Vectorizer().visit(tree)
	body = _call("pl_bool", tree.body)
	return ast.unparse(ast.fix_missing_locations(ast.Expression(body=body)))


# --- the column helpers --------------------------------------------------------------------------------


def _truth(value) -> np.ndarray:
	array = np.asarray(value)
	if array.dtype == object:
		return np.array(
			[bool(v) and not (isinstance(v, float) and np.isnan(v)) for v in array.ravel()]
		).reshape(array.shape)
	if array.dtype.kind == "f":
		return np.nan_to_num(array, nan=0.0) != 0
	return array.astype(bool)


def helpers(n: int) -> dict[str, Callable]:
	"""The ``pl_*`` functions a vectorised condition calls, for columns of ``n`` rows."""

	def pl_bool(value):
		return np.broadcast_to(_truth(value), (n,)).copy()

	def pl_and(*values):
		result = np.ones(n, dtype=bool)
		for value in values:
			result &= pl_bool(value)
		return result

	def pl_or(*values):
		result = np.zeros(n, dtype=bool)
		for value in values:
			result |= pl_bool(value)
		return result

	def pl_not(value):
		return ~pl_bool(value)

	def pl_where(test, body, orelse):
		return np.where(pl_bool(test), body, orelse)

	def pl_isin(value, options):
		return np.isin(np.asarray(value, dtype=object), np.asarray(list(options), dtype=object))

	def pl_min(*values):
		return np.minimum.reduce(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]))

	def pl_max(*values):
		return np.maximum.reduce(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]))

	def pl_abs(value):
		return np.abs(np.asarray(value, dtype=float))

	def pl_round(value, digits=0):
		if abs(int(digits)) > expressions.MAX_EXPONENT:
			raise WarningRuleError("power", max=expressions.MAX_EXPONENT)
		return np.round(np.asarray(value, dtype=float), int(digits))

	return {
		"pl_bool": pl_bool,
		"pl_and": pl_and,
		"pl_or": pl_or,
		"pl_not": pl_not,
		"pl_where": pl_where,
		"pl_isin": pl_isin,
		"pl_min": pl_min,
		"pl_max": pl_max,
		"pl_abs": pl_abs,
		"pl_round": pl_round,
	}


def bounded_evaluator(time_limit: float = expressions.REQUEST_TIME_LIMIT) -> Callable[[str, dict], object]:
	"""An evaluator of vectorised code: ``engine.expressions`` with the ``pl_*`` helpers as its only
	functions, bounded in steps, text size and ``time_limit`` seconds."""

	def run(code: str, names: dict) -> object:
		functions = {k: v for k, v in names.items() if k.startswith("pl_") and callable(v)}
		values = {k: v for k, v in names.items() if k not in functions}
		try:
			return expressions.evaluate(ast.parse(code, mode="eval"), values, functions, time_limit)
		except expressions.ExpressionError as exc:
			if isinstance(exc, WarningRuleError):
				raise
			raise WarningRuleError(exc.code, **exc.details) from None

	return run


def evaluate(
	expression: str,
	variables: pd.DataFrame | Mapping[str, np.ndarray],
	evaluator: Callable[[str, dict], object] | None = None,
) -> np.ndarray:
	"""Boolean array: where the condition holds. ``evaluator(code, names)`` runs the vectorised code;
	without one, the bounded evaluator of ``engine.expressions`` with the request time limit."""
	parse_condition(expression)
	code = vectorize(expression)
	if isinstance(variables, pd.DataFrame):
		n = len(variables)
		columns = {c: variables[c].to_numpy() for c in variables.columns}
	else:
		columns = dict(variables)
		n = len(next(iter(columns.values()))) if columns else 0
	names = {**columns, **helpers(n)}
	with np.errstate(all="ignore"):
		result = (evaluator or bounded_evaluator())(code, names)
	return np.broadcast_to(np.asarray(result, dtype=bool), (n,)).copy()


def sample_variables() -> pd.DataFrame:
	"""Three typical rows (one with missing values) to try a condition on when it is saved."""
	numbers = {name: [35.0, 0.0, np.nan] for name in VARIABLES if name not in TEXT_VARIABLES}
	numbers["has_previous"] = [1.0, 0.0, 0.0]
	return pd.DataFrame({**numbers, "product": ["SME", "Consumer", None], "branch": ["Shanghai", "", None]})


def check_condition(expression: str, evaluator: Callable[[str, dict], object] | None = None) -> set[str]:
	""":func:`parse_condition` plus a trial evaluation on sample rows (type errors show up on save)."""
	used = parse_condition(expression)
	try:
		evaluate(expression, sample_variables(), evaluator)
	except WarningRuleError:
		raise
	except Exception as exc:
		raise WarningRuleError("evaluation", message=str(exc))
	return used


# --- the variables -------------------------------------------------------------------------------------


def summarize_history(snapshots: pd.DataFrame) -> pd.DataFrame:
	"""Per loan, from its earlier snapshots (loan, as_of_date, dpd): ``max_prev_dpd``, the highest dpd, and
	``overdue_run``, how many of the latest of them in a row have dpd > 0 (since the last one with dpd 0)."""
	if snapshots is None or snapshots.empty:
		return pd.DataFrame(columns=["loan", "max_prev_dpd", "overdue_run"])
	hist = snapshots[["loan", "as_of_date", "dpd"]].copy()
	hist["dpd"] = pd.to_numeric(hist["dpd"], errors="coerce").fillna(0).astype(float)
	hist["as_of_date"] = pd.to_datetime(hist["as_of_date"])
	last_ok = hist["as_of_date"].where(hist["dpd"] <= 0).groupby(hist["loan"]).max()
	since = hist["loan"].map(last_ok)
	after = since.isna() | (hist["as_of_date"] > since)
	grouped = hist.groupby("loan")
	out = pd.DataFrame({"max_prev_dpd": grouped["dpd"].max()})
	out["overdue_run"] = (
		hist[after.to_numpy()].groupby("loan").size().reindex(out.index).fillna(0).astype(float)
	)
	return out.reset_index()


def _months_between(start: pd.Series, end: pd.Series) -> np.ndarray:
	start, end = pd.to_datetime(start), pd.to_datetime(end)
	months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
	months = months - (end.dt.day < start.dt.day).astype(float)
	return months.astype(float).to_numpy()


# the columns build_variables reads: of the snapshots being checked, and of their loans (by "name")
SNAPSHOT_COLUMNS = ("loan", "as_of_date", "dpd", "outstanding", "overdue_amount")
LOAN_COLUMNS = ("principal", "collateral_value", "last_appraisal_value", "disbursed_on", "product", "branch")


def build_variables(
	current: pd.DataFrame,
	loans: pd.DataFrame,
	previous: pd.DataFrame | None = None,
	history: pd.DataFrame | None = None,
) -> pd.DataFrame:
	"""One row per snapshot of ``current`` with every variable of :data:`VARIABLES` (plus ``loan``).

	* ``current``: loan, as_of_date, dpd, outstanding, overdue_amount (the snapshots being checked);
	* ``loans``: name, principal, collateral_value, last_appraisal_value, disbursed_on, product, branch;
	* ``previous``: loan, dpd, outstanding, overdue_amount of each loan's latest earlier snapshot;
	* ``history``: loan, max_prev_dpd, overdue_run of the earlier snapshots (:func:`summarize_history`).

	Missing previous/history frames give NaN previous values, max_prev_dpd 0 and consecutive_overdue 1 or 0.
	A last_appraisal_value or collateral_value of 0 counts as missing (no appraisal, unsecured).
	"""
	frame = current[list(SNAPSHOT_COLUMNS)].copy()
	frame = frame.reset_index(drop=True)
	for column in ("dpd", "outstanding", "overdue_amount"):
		frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
	info = loans.rename(columns={"name": "loan"})
	frame = frame.merge(info[["loan", *LOAN_COLUMNS]], on="loan", how="left")
	frame["bucket_no"] = bucket_index(frame["dpd"]).astype(float)
	frame.loc[frame["bucket_no"] < 0, "bucket_no"] = np.nan
	frame["missed_installments"] = np.ceil(frame["dpd"] / BUCKET_UPPER_DPD[1][0])
	if previous is not None and len(previous):
		prev = previous[["loan", "dpd", "outstanding", "overdue_amount"]].rename(
			columns={
				"dpd": "prev_dpd",
				"outstanding": "prev_outstanding",
				"overdue_amount": "prev_overdue_amount",
			}
		)
		frame = frame.merge(prev, on="loan", how="left")
	else:
		for column in ("prev_dpd", "prev_outstanding", "prev_overdue_amount"):
			frame[column] = np.nan
	for column in ("prev_dpd", "prev_outstanding", "prev_overdue_amount"):
		frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
	frame["has_previous"] = frame["prev_dpd"].notna().astype(float)
	frame["prev_bucket_no"] = np.where(
		frame["prev_dpd"].notna(), bucket_index(frame["prev_dpd"].fillna(0)), np.nan
	).astype(float)
	with np.errstate(all="ignore"):
		frame["outstanding_change"] = frame["outstanding"] - frame["prev_outstanding"]
		prev_out = frame["prev_outstanding"].where(frame["prev_outstanding"] > 0)
		frame["outstanding_change_pct"] = frame["outstanding_change"] / prev_out * 100.0
		for column in ("principal", "collateral_value", "last_appraisal_value"):
			frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
		appraisal = frame["last_appraisal_value"].where(frame["last_appraisal_value"] > 0)
		collateral = frame["collateral_value"].where(frame["collateral_value"] > 0)
		frame["collateral_change_pct"] = (frame["collateral_value"] - appraisal) / appraisal * 100.0
		frame["ltv"] = frame["outstanding"] / collateral * 100.0
	frame["months_on_book"] = _months_between(frame["disbursed_on"], frame["as_of_date"])
	max_prev = pd.Series(0.0, index=frame.index)
	run = (frame["dpd"] > 0).astype(float)
	if history is not None and len(history):
		summary = history.set_index("loan")
		max_prev = frame["loan"].map(summary["max_prev_dpd"]).fillna(0.0).astype(float)
		before = frame["loan"].map(summary["overdue_run"]).fillna(0.0).astype(float)
		run = np.where(frame["dpd"] > 0, 1.0 + before, 0.0)
	frame["max_prev_dpd"] = max_prev.astype(float)
	frame["consecutive_overdue"] = np.asarray(run, dtype=float)
	for column in TEXT_VARIABLES:
		frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
	return frame[["loan", *VARIABLES]]
