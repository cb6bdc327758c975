"""Every user-visible string of the app has a Simplified Chinese row in translations/zh.csv.

No Frappe import: the strings are extracted here the way Frappe's translation tooling sees them
(DocType JSON, `_()` in Python, `__()` in JavaScript, Role fixtures, Workspace/Report/card/chart JSON).
"""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "postloan_performance"
MODULE = APP / "postloan_performance"
ZH_CSV = APP / "translations" / "zh.csv"

# Always shown (module, workspace and app title) even where no file names it literally.
EXTRA_STRINGS = {"Post-Loan Performance"}

# Sources whose translation may legitimately equal the source.
SAME_AS_SOURCE = {"%", "KPI"}

PLACEHOLDER = re.compile(r"\{\d+\}")
JS_CALL = re.compile(r'__\("((?:[^"\\]|\\.)*)"')
DESK_DIRS = ("workspace", "report", "number_card", "dashboard_chart")
DESK_KEYS = ("label", "name", "title")
WORKSPACE_LISTS = ("links", "shortcuts", "charts", "number_cards", "quick_lists", "custom_blocks")


def _load_json(path: Path):
	return json.loads(path.read_text(encoding="utf-8"))


def _is_translatable_option(option: str) -> bool:
	"""Select options, except naming series (`PLA-.YYYY.-`), other dotted patterns and numbers (NPS 0-10)."""
	if not option or option.isdigit():
		return False
	return (not option.startswith("PL") and "." not in option) or option == "%"


def _doctype_strings() -> set[str]:
	found = set()
	for path in sorted(APP.glob("**/doctype/*/*.json")):
		doc = _load_json(path)
		if not isinstance(doc, dict) or "fields" not in doc:
			continue
		found.add(doc["name"])
		for field in doc["fields"]:
			for key in ("label", "description"):
				if field.get(key):
					found.add(field[key])
			if field.get("fieldtype") == "Select" and field.get("options"):
				found.update(o for o in field["options"].split("\n") if _is_translatable_option(o))
	return found


def _python_strings() -> set[str]:
	found = set()
	for path in sorted(APP.glob("**/*.py")):
		if "engine" in path.relative_to(APP).parts:
			continue
		tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
		for node in ast.walk(tree):
			if (
				isinstance(node, ast.Call)
				and isinstance(node.func, ast.Name)
				and node.func.id == "_"
				and node.args
				and isinstance(node.args[0], ast.Constant)
				and isinstance(node.args[0].value, str)
			):
				found.add(node.args[0].value)
	return found


def _js_strings() -> set[str]:
	found = set()
	for path in sorted(APP.glob("**/*.js")):
		found.update(m.group(1) for m in JS_CALL.finditer(path.read_text(encoding="utf-8")))
	return found


def _role_strings() -> set[str]:
	path = APP / "fixtures" / "role.json"
	if not path.exists():
		return set()
	return {role["name"] for role in _load_json(path)}


def _desk_strings() -> set[str]:
	found = set()
	for folder in DESK_DIRS:
		for path in sorted((MODULE / folder).glob("*/*.json")):
			doc = _load_json(path)
			if not isinstance(doc, dict):
				continue
			found.update(doc[k] for k in DESK_KEYS if isinstance(doc.get(k), str))
			if folder == "workspace":
				for key in WORKSPACE_LISTS:
					for item in doc.get(key) or []:
						if isinstance(item, dict) and isinstance(item.get("label"), str):
							found.add(item["label"])
	return found


def extract_strings() -> set[str]:
	found = (
		_doctype_strings()
		| _python_strings()
		| _js_strings()
		| _role_strings()
		| _desk_strings()
		| EXTRA_STRINGS
	)
	found.discard("")
	return found


def _read_rows() -> list[list[str]]:
	with ZH_CSV.open(encoding="utf-8", newline="") as f:
		return list(csv.reader(f))


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
	assert ZH_CSV.exists(), f"{ZH_CSV} is missing"
	return _read_rows()


@pytest.fixture(scope="module")
def translations(rows) -> dict[str, str]:
	return {row[0]: row[1] for row in rows if len(row) >= 2}


def _report(title: str, items) -> str:
	lines = [f"  {item!r}" for item in sorted(items)]
	print(title)
	print("\n".join(lines))
	return f"{title}\n" + "\n".join(lines)


def test_extraction_finds_strings():
	strings = extract_strings()
	assert len(strings) > 100
	assert "PL Appraisal" in strings
	assert "Higher is Better" in strings


def test_rows_are_well_formed(rows):
	bad = [row for row in rows if len(row) not in (2, 3)]
	assert not bad, _report("Rows without exactly source,translation[,context]:", map(tuple, bad))


def test_every_string_is_translated(translations):
	missing = {s for s in extract_strings() if not translations.get(s, "").strip()}
	assert not missing, _report(f"{len(missing)} strings lack a translation in {ZH_CSV.name}:", missing)


def test_placeholders_match(translations):
	wrong = {
		f"{source} -> {target}"
		for source, target in translations.items()
		if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(target))
	}
	assert not wrong, _report("Placeholders differ between source and translation:", wrong)


def test_no_duplicate_sources(rows):
	seen: set[str] = set()
	duplicates = set()
	for row in rows:
		if row and row[0] in seen:
			duplicates.add(row[0])
		if row:
			seen.add(row[0])
	assert not duplicates, _report("Sources listed more than once:", duplicates)


def test_translations_differ_from_source(translations):
	untranslated = {s for s, t in translations.items() if s == t and s not in SAME_AS_SOURCE}
	assert not untranslated, _report("Translations identical to their source:", untranslated)


def test_report_scripts_call_only_defined_filter_helpers():
	"""Every `postloan_performance.report.<helper>(…)` a report's .js calls exists in report_filters.js
	(report_script raises on an unknown one), and the helpers' filters carry their translated labels."""
	from tests.report_js import report_script, shared_helpers

	helpers = shared_helpers()
	assert {"company", "closed_months", "review_cycle", "layer", "team", "set_latest_review_cycle"} <= set(
		helpers
	)
	calls = 0
	for path in sorted(APP.glob("postloan_performance/report/*/*.js")):
		text = path.read_text(encoding="utf-8")
		calls += text.count("postloan_performance.report.")
		assert "postloan_performance.report." not in report_script(path), path.name
	assert calls >= 10
