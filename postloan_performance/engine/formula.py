"""Formula KPIs: expressions over built-in metric codes.

The expression is evaluated by the Frappe layer with `frappe.safe_eval`; this module only checks it
before it is saved, so that an administrator learns about a typo when he writes the formula and
not when a cycle is computed.
"""

import ast

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


class FormulaError(ValueError):
	"""A formula that cannot be used. `code` tells which rule it broke, `detail` the offending part."""

	def __init__(self, code: str, detail: str = ""):
		super().__init__(f"{code}: {detail}" if detail else code)
		self.code = code
		self.detail = detail


def parse_formula(expression: str, known_names: set[str] | frozenset[str]) -> set[str]:
	"""Return the metric codes an expression uses; raise FormulaError when it is not valid.

	codes: "empty", "syntax" (detail: the parser's message), "construct" (detail: the node type,
	e.g. attribute access or subscripts), "function" (detail: a call to anything but abs/min/max/round),
	"unknown" (detail: comma-separated unknown names).
	"""
	text = (expression or "").strip()
	if not text:
		raise FormulaError("empty")
	try:
		tree = ast.parse(text, mode="eval")
	except SyntaxError as exc:
		raise FormulaError("syntax", exc.msg or "") from exc

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
