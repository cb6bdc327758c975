"""Every controller declares its DocType's fields as typed annotations (hooks.export_python_type_annotations),
and the declarations match the DocType JSON: a field added to the JSON without saving the DocType in
developer mode (which regenerates the block) fails here."""

import ast
import json
from pathlib import Path

import pytest

DOCTYPES = Path(__file__).resolve().parents[2] / "postloan_performance" / "postloan_performance" / "doctype"
NO_VALUE = {"Section Break", "Column Break", "Tab Break", "HTML", "Button", "Image", "Fold", "Heading"}
BEGIN, END = "# begin: auto-generated types", "# end: auto-generated types"


def declared(controller: Path) -> set[str]:
	text = controller.read_text(encoding="utf-8")
	assert BEGIN in text and END in text, f"{controller.name}: no typed field block"
	names = set()
	for node in ast.walk(ast.parse(text)):
		if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
			names |= {
				n.target.id
				for n in node.body
				if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
			}
	return names


@pytest.mark.parametrize("path", sorted(DOCTYPES.glob("*/*.json")), ids=lambda p: p.stem)
def test_controller_declares_the_doctypes_fields(path):
	meta = json.loads(path.read_text(encoding="utf-8"))
	if meta.get("doctype") != "DocType" or path.stem != path.parent.name:
		pytest.skip("not a DocType")
	fields = {f["fieldname"] for f in meta["fields"] if f["fieldtype"] not in NO_VALUE}
	if meta.get("istable"):
		fields |= {"parent", "parentfield", "parenttype"}
	if meta.get("autoname") == "autoincrement":
		fields.add("name")
	assert declared(path.with_suffix(".py")) == fields
