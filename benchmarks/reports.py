"""Find the module's Script Reports and the filters a user opening each one would get.

Filters are declared in each report's ``.js`` (and sometimes its ``.json``). A user opening the report gets
each filter's ``default``; the benchmark evaluates those defaults as the browser would, with "today" being
the day after the benchmark data ends (so "the last three full months" is the cycle's quarter and "the last
twelve months" the data's year). Filters without a default stay empty unless they are required: a required
review cycle gets the benchmark's cycle, a required company the benchmark's company, a required date the
cycle's period, a required Select its first option, any other required link the first record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import frappe
from frappe.utils import add_days, add_months, get_first_day, get_last_day, getdate

MODULE = "Postloan Performance"


@dataclass
class Context:
	cycle: str
	company: str
	period_start: dt.date
	period_end: dt.date
	today: dt.date  # the day after the data ends


@dataclass
class FilterSpec:
	fieldname: str
	fieldtype: str = "Data"
	options: str | None = None
	reqd: bool = False
	default: object = None  # literal value
	default_expression: str | None = None  # JavaScript expression
	select_options: list[str] = field(default_factory=list)


def report_dir() -> Path:
	return Path(frappe.get_module_path(MODULE)) / "report"


def sync_reports() -> list[str]:
	"""Make sure every report folder of the module has its Report record (as `bench migrate` would)."""
	from frappe.modules.import_file import import_file_by_path

	for path in sorted(report_dir().glob("*/*.json")):
		if path.stem == path.parent.name:
			import_file_by_path(str(path))
	return discover()


def discover() -> list[str]:
	return frappe.get_all(
		"Report",
		filters={"module": MODULE, "report_type": "Script Report", "disabled": 0},
		pluck="name",
		order_by="name asc",
	)


# ------------------------------------------------------------------------------------------ js parsing


def _filters_block(source: str) -> str:
	start = source.find("filters")
	start = source.find("[", start)
	if start < 0:
		return ""
	depth = 0
	for index in range(start, len(source)):
		char = source[index]
		if char == "[":
			depth += 1
		elif char == "]":
			depth -= 1
			if depth == 0:
				return source[start + 1 : index]
	return ""


def _objects(block: str) -> list[str]:
	"""Top-level {...} objects of a JS array body."""
	objects, depth, begin = [], 0, None
	for index, char in enumerate(block):
		if char == "{":
			if depth == 0:
				begin = index
			depth += 1
		elif char == "}":
			depth -= 1
			if depth == 0 and begin is not None:
				objects.append(block[begin : index + 1])
	return objects


def _value_after(text: str, key: str) -> str | None:
	"""The raw JS expression after ``key:`` at the object's top level (up to the next top-level comma)."""
	match = re.search(rf"(?<![\w.]){key}\s*:", text)
	if not match:
		return None
	depth, index = 0, match.end()
	for position in range(index, len(text)):
		char = text[position]
		if char in "([{":
			depth += 1
		elif char in ")]}":
			if depth == 0:
				return text[index:position].strip()
			depth -= 1
		elif char == "," and depth == 0:
			return text[index:position].strip()
	return text[index:].strip()


def _literal(expression: str | None):
	if expression is None:
		return None
	if re.fullmatch(r"\"[^\"]*\"|'[^']*'", expression):
		return expression[1:-1]
	if re.fullmatch(r"-?\d+(\.\d+)?", expression):
		return float(expression) if "." in expression else int(expression)
	if expression in ("true", "false"):
		return 1 if expression == "true" else 0
	return None


def _balanced(text: str, start: int) -> str:
	"""The bracketed expression that opens at ``text[start]`` (``{…}`` or ``[…]``), brackets included."""
	depth = 0
	for index in range(start, len(text)):
		if text[index] in "([{":
			depth += 1
		elif text[index] in ")]}":
			depth -= 1
			if depth == 0:
				return text[start : index + 1]
	return text[start:]


def shared_filters(source: str) -> dict[str, tuple[list[tuple[str, str | None]], str]]:
	"""The filter makers of the app's shared desk include (``public/js/report_filters.js``): name →
	(parameters with their defaults, the returned object or array with the function's constants put in)."""
	makers = {}
	for match in re.finditer(r"^\t(\w+)\(([^)]*)\)\s*\{", source, re.M):
		body = _balanced(source, match.end() - 1)
		returned = re.search(r"return\s+([\[{])", body)
		if not returned:
			continue
		value = _balanced(body, returned.start(1))
		for name, expression in re.findall(r"const\s+(\w+)\s*=\s*([^;]+);", body):
			value = re.sub(rf"(?<![\w.]){name}\b", expression.strip(), value)
		params = []
		for param in filter(None, (p.strip() for p in match.group(2).split(","))):
			name, _eq, default = param.partition("=")
			params.append((name.strip(), default.strip() or None))
		makers[match.group(1)] = (params, value)
	return makers


def expand_shared(source: str, makers: dict) -> str:
	"""Calls of the shared filter makers (``postloan_performance.report.team()``, ``...closed_months(3)``)
	replaced by what they return, as the desk would evaluate them."""

	def replace(match: re.Match) -> str:
		if match.group(2) not in makers:
			return match.group(0)
		params, value = makers[match.group(2)]
		args = [a.strip() for a in match.group(3).split(",") if a.strip()]
		for index, (name, default) in enumerate(params):
			argument = args[index] if index < len(args) else default
			if argument is not None:
				value = re.sub(rf"(?<![\w.]){name}\b", argument, value)
		return value[1:-1] if match.group(1) and value.startswith("[") else value

	return re.sub(r"(\.\.\.)?postloan_performance\.report\.(\w+)\(([^)]*)\)", replace, source)


def _shared_makers() -> dict:
	path = Path(frappe.get_app_path("postloan_performance", "public", "js", "report_filters.js"))
	return shared_filters(path.read_text(encoding="utf-8")) if path.exists() else {}


def parse_filters(source: str, makers: dict | None = None) -> list[FilterSpec]:
	specs = []
	if makers:
		source = expand_shared(source, makers)
	for text in _objects(_filters_block(source)):
		fieldname = _literal(_value_after(text, "fieldname"))
		if not fieldname:
			continue
		default_raw = _value_after(text, "default")
		options_raw = _value_after(text, "options")
		select_options = re.findall(r"value:\s*[\"']([^\"']*)[\"']", options_raw or "") or re.findall(
			r"[\"']([^\"']*)[\"']", options_raw or ""
		)
		specs.append(
			FilterSpec(
				fieldname=fieldname,
				fieldtype=_literal(_value_after(text, "fieldtype")) or "Data",
				options=_literal(options_raw),
				reqd=_literal(_value_after(text, "reqd")) in (1, "1"),
				default=_literal(default_raw),
				default_expression=default_raw if _literal(default_raw) is None else None,
				select_options=select_options,
			)
		)
	return specs


# ------------------------------------------------------------------------- evaluating JS date defaults

_TOKEN = re.compile(r"\s*(?:(?P<number>-?\d+)|(?P<name>[A-Za-z_][\w.]*)|(?P<punct>[(),]))")


def evaluate_date(expression: str, today: dt.date) -> dt.date | None:
	"""frappe.datetime.{get_today,nowdate,month_start,month_end,year_start,add_days,add_months}(…) → date."""
	tokens = [
		(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(expression) if m.group(m.lastgroup)
	]
	position = 0

	def parse():
		nonlocal position
		kind, value = tokens[position]
		position += 1
		if kind == "number":
			return int(value)
		if kind != "name":
			raise ValueError(expression)
		function = value.rsplit(".", 1)[-1]
		args = []
		if position < len(tokens) and tokens[position][1] == "(":
			position += 1
			while tokens[position][1] != ")":
				args.append(parse())
				if tokens[position][1] == ",":
					position += 1
			position += 1
		base = getdate(args[0]) if args and not isinstance(args[0], int) else today
		if function in ("get_today", "nowdate", "now_date"):
			return today
		if function == "month_start":
			return getdate(get_first_day(base))
		if function == "month_end":
			return getdate(get_last_day(base))
		if function == "year_start":
			return base.replace(month=1, day=1)
		if function == "year_end":
			return base.replace(month=12, day=31)
		if function == "add_months":
			return getdate(add_months(getdate(args[0]), int(args[1])))
		if function == "add_days":
			return getdate(add_days(getdate(args[0]), int(args[1])))
		raise ValueError(expression)

	try:
		value = parse()
	except (ValueError, IndexError, TypeError):
		return None
	return value if isinstance(value, dt.date) else None


# --------------------------------------------------------------------------------------- the filters


def filter_specs(report: str) -> list[FilterSpec]:
	folder = report_dir() / frappe.scrub(report)
	specs: list[FilterSpec] = []
	js = folder / f"{frappe.scrub(report)}.js"
	if js.exists():
		specs = parse_filters(js.read_text(encoding="utf-8"), _shared_makers())
	known = {s.fieldname for s in specs}
	doc_json = folder / f"{frappe.scrub(report)}.json"
	if doc_json.exists():
		for row in json.loads(doc_json.read_text(encoding="utf-8")).get("filters") or []:
			if row.get("fieldname") and row["fieldname"] not in known:
				specs.append(
					FilterSpec(
						fieldname=row["fieldname"],
						fieldtype=row.get("fieldtype") or "Data",
						options=row.get("options"),
						reqd=bool(row.get("mandatory") or row.get("reqd")),
						default=row.get("default"),
					)
				)
	return specs


def default_filters(report: str, ctx: Context) -> dict:
	filters: dict = {}
	for spec in filter_specs(report):
		value = _default_value(spec, ctx)
		if value not in (None, ""):
			filters[spec.fieldname] = value
	return filters


def unset_required(report: str, filters: dict) -> list[str]:
	"""Required filters that got no value (a required link with no record to choose)."""
	return [s.fieldname for s in filter_specs(report) if s.reqd and filters.get(s.fieldname) in (None, "")]


def _default_value(spec: FilterSpec, ctx: Context):
	name = spec.fieldname
	if spec.default is not None:
		return spec.default
	expression = spec.default_expression
	if spec.fieldtype in ("Date", "Datetime") and (expression or spec.reqd):
		value = evaluate_date(expression, ctx.today) if expression else None
		if value is None:
			value = ctx.period_start if re.search(r"from|start", name) else ctx.period_end
		return str(value)
	if spec.fieldtype == "DateRange" and (expression or spec.reqd):
		return [str(ctx.period_start), str(ctx.period_end)]
	if spec.fieldtype == "Link" and spec.options == "Company" and (expression or spec.reqd):
		return ctx.company
	if not spec.reqd:
		return None
	if spec.fieldtype == "Link" and spec.options == "PL Review Cycle":
		return ctx.cycle
	if spec.fieldtype == "Select":
		return next((o for o in spec.select_options if o), None)
	if spec.fieldtype == "Link" and spec.options:
		first = frappe.get_all(spec.options, pluck="name", limit_page_length=1, order_by="creation asc")
		return first[0] if first else None
	return None
