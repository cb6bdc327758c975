"""HRMS is optional: no module of the app imports it when the module is loaded.

A site without HRMS loads hooks, DocType controllers, reports and the API at start-up; one `import hrms`
(or `from hrms... import`) run at import time breaks the whole site there. Imports inside a function
run only when the function is called (the payout code calls HRMS only after checking that it is
installed), so they are allowed; everything else executed at import time (module body, class bodies,
`if`/`try` blocks at top level) is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "postloan_performance"


def import_time_hrms_imports(source: str) -> list[int]:
	"""Line numbers of imports of hrms that run when the module is imported."""
	found: list[int] = []

	def visit(node: ast.AST) -> None:
		for child in ast.iter_child_nodes(node):
			if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
				continue  # runs when called, not when imported
			if isinstance(child, ast.Import) and any(
				alias.name == "hrms" or alias.name.startswith("hrms.") for alias in child.names
			):
				found.append(child.lineno)
			elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
				if child.module == "hrms" or child.module.startswith("hrms."):
					found.append(child.lineno)
			elif (
				isinstance(child, ast.Call)
				and isinstance(child.func, ast.Name | ast.Attribute)
				and getattr(child.func, "id", getattr(child.func, "attr", ""))
				in ("import_module", "__import__")
				and child.args
				and isinstance(child.args[0], ast.Constant)
				and str(child.args[0].value).split(".")[0] == "hrms"
			):
				found.append(child.lineno)
			visit(child)

	visit(ast.parse(source))
	return found


def test_the_scanner_flags_import_time_imports_and_spares_calls():
	source = (
		"import frappe\n"
		"import hrms\n"
		"from hrms.payroll.doctype import salary_slip\n"
		"try:\n"
		"    from hrms.hr.utils import x\n"
		"except ImportError:\n"
		"    x = None\n"
		"class C:\n"
		"    import hrms.overrides\n"
		"mod = importlib.import_module('hrms.api')\n"
		"def f():\n"
		"    from hrms.payroll import y\n"
		"    return y\n"
		"async def g():\n"
		"    import hrms\n"
		"from hrmsx import z\n"
		"from .hrms import w\n"
	)
	assert import_time_hrms_imports(source) == [2, 3, 5, 9, 10]


def test_no_module_of_the_app_imports_hrms_when_loaded():
	files = sorted(APP.rglob("*.py"))
	assert len(files) > 50, "the app's modules were not found"
	offenders = {
		str(path.relative_to(ROOT)): lines
		for path in files
		if (lines := import_time_hrms_imports(path.read_text(encoding="utf-8")))
	}
	assert offenders == {}, f"hrms imported at module level (HRMS is optional): {offenders}"
