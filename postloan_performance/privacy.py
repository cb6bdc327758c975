"""The read side of the privacy model: no side door around the row rules of permissions.py.

- Child tables follow their parent: a row of a child DocType (PL Appraisal KPI, PL Feedback Rating,
  PL Appeal Line, ...) is visible exactly when its parent document is. The hooks are generated from
  the DocType metadata (hooks.py calls :func:`child_doctypes`), so a new child table is covered
  without new code.
- Counting endpoints (`frappe.client.get_count`, the list sidebar's group-by counts) count through
  `frappe.get_list`, i.e. only the rows the user may read (hooks.py: override_whitelisted_methods).
- Results (scores, grades, the manager's comment, KPI actuals) of an appraisal are the appraisee's
  only once it is published, and never in a trial cycle: a form or a single row shows them blank
  before; a list, count or aggregate that filters, groups, sorts or selects on them narrows the
  appraisee's own rows to his published formal appraisals (so bisection on a score finds nothing).
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import frappe

DOCTYPE_DIR = Path(__file__).parent / "postloan_performance" / "doctype"

# What an appraisal's results are: hidden from the appraisee before publication and in trial cycles.
RESULT_FIELDS = {
	"PL Appraisal": (
		"computed_on",
		"quantitative_score",
		"qualitative_score",
		"total_score",
		"grade",
		"calibrated_grade",
		"calibration_reason",
		"final_grade",
		"manager_comment",
	),
	"PL Appraisal KPI": (
		"actual",
		"no_data",
		"achievement",
		"score",
		"weighted_score",
		"data_date",
		"note",
	),
}
_RESULT_TOKENS = frozenset(f for fields in RESULT_FIELDS.values() for f in fields)
# request keys that never name a column
_NOT_COLUMNS = ("cmd", "doctype", "name", "parent", "parent_doctype", "limit", "limit_page_length")


# ---------------------------------------------------------------- metadata (no site needed)
@lru_cache
def _doctype_files() -> tuple[dict, ...]:
	docs = []
	for path in sorted(DOCTYPE_DIR.glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		if data.get("doctype") == "DocType" and path.stem == path.parent.name:
			docs.append(data)
	return tuple(docs)


def app_doctypes() -> list[str]:
	"""Every DocType of the app, child tables included (from the JSON files)."""
	return [d["name"] for d in _doctype_files()]


def child_doctypes() -> list[str]:
	"""The app's child DocTypes (istable), from the JSON files: hooks.py wires a rule for each."""
	return [d["name"] for d in _doctype_files() if d.get("istable")]


def parents_of(child: str) -> list[str]:
	"""The DocTypes that hold `child` in a table field (the app's own, from metadata)."""
	return [
		d["name"]
		for d in _doctype_files()
		if not d.get("istable")
		and any(
			f.get("fieldtype") in ("Table", "Table MultiSelect") and f.get("options") == child
			for f in d.get("fields", [])
		)
	]


# ---------------------------------------------------------------- child tables follow their parent
def _parent_rows_sql(parent: str, user: str) -> str | None:
	"""SQL condition on a child row's `parent` for the parent documents `user` may read, or None."""
	from frappe.model.db_query import DatabaseQuery

	if not frappe.has_permission(parent, "read", user=user):
		return None
	if frappe.get_meta(parent).issingle:
		return "1=1"
	query = DatabaseQuery(parent, user=user).execute(
		fields=[f"`tab{parent}`.`name`"], limit_page_length=0, order_by="", user=user, run=0
	)
	return f"({query})"


def child_query(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of a child DocType: rows whose parent the user may read."""
	user = user or frappe.session.user
	if user == "Administrator":
		return ""
	table = f"`tab{doctype}`"
	parts = []
	for parent in parents_of(doctype):
		subquery = _parent_rows_sql(parent, user)
		if subquery is None:
			continue
		condition = f"{table}.`parenttype` = {frappe.db.escape(parent)}"
		if subquery != "1=1":
			condition += f" and {table}.`parent` in {subquery}"
		parts.append(f"({condition})")
	return "(" + " or ".join(parts) + ")" if parts else "1=0"


def child_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool:
	"""has_permission of a child row: the same answer as for its parent document."""
	user = user or frappe.session.user
	if (
		not doc.get("parenttype")
		or not doc.get("parent")
		or doc.get("parenttype") not in parents_of(doc.doctype)
	):
		return False
	if frappe.get_meta(doc.parenttype).issingle:
		return bool(frappe.has_permission(doc.parenttype, ptype or "read", user=user))
	if not frappe.db.exists(doc.parenttype, doc.parent):
		return False
	parent = frappe.get_doc(doc.parenttype, doc.parent)
	return bool(frappe.has_permission(doc.parenttype, ptype or "read", doc=parent, user=user))


# ---------------------------------------------------------------- results before publication
@contextmanager
def reading_results():
	"""Within it, lists of PL Appraisal read results (a report of scores, grades or KPI actuals, whatever
	its request names): the appraisee's own rows narrow to his published formal appraisals."""
	previous = frappe.flags.get("plp_reads_results")
	frappe.flags.plp_reads_results = True
	try:
		yield
	finally:
		frappe.flags.plp_reads_results = previous


def asks_for_results() -> bool:
	"""Whether the current request names a result column (fields, filters, grouping, sorting) or all
	columns, or reads results (:func:`reading_results`): then the appraisee's own rows are narrowed to
	his published formal appraisals."""
	if frappe.flags.get("plp_results_blanked"):
		return False
	if frappe.flags.get("plp_reads_results"):
		return True
	form = getattr(frappe.local, "form_dict", None) or {}
	values = {k: v for k, v in form.items() if k not in _NOT_COLUMNS}
	if not values:
		return False
	text = json.dumps(values, default=str)
	if _RESULT_TOKENS & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)):
		return True
	return bool(re.search(r"(^|[\s`.\[\"',])\*", text))


def results_hidden(appraisal: dict | None, user: str | None = None) -> bool:
	"""Whether the results of `appraisal` (a dict with appraisee_user, status, is_trial) are hidden from
	`user`: he is its appraisee, reads it only as such, and it is not a published formal appraisal."""
	from postloan_performance.services.access import PUBLISHED_STATES, reads_all_results

	user = user or frappe.session.user
	if not appraisal or appraisal.get("appraisee_user") != user or reads_all_results(user):
		return False
	if appraisal.get("status") in PUBLISHED_STATES and not appraisal.get("is_trial"):
		return False
	return True


def blank_results(doc) -> None:
	"""Empty the result fields of a loaded PL Appraisal (and its KPI lines) or PL Appraisal KPI row."""
	for fieldname in RESULT_FIELDS.get(doc.doctype, ()):
		doc.set(fieldname, None)
	for row in doc.get("kpis") or []:
		blank_results(row)


# ---------------------------------------------------------------- counting endpoints
def _parent_for(doctype: str, parent: str | None) -> str | None:
	if not frappe.get_meta(doctype).istable:
		return None
	return parent or next(iter(parents_of(doctype)), None)


def _is_app_doctype(doctype: str) -> bool:
	return doctype in app_doctypes()


@frappe.whitelist()
def get_count(
	doctype: str,
	filters: str | dict | list | None = None,
	debug: bool = False,
	cache: bool = False,
	parent: str | None = None,
) -> int:
	"""`frappe.client.get_count` that counts only the rows the user may read (through get_list)."""
	from frappe.client import get_count as core_get_count
	from frappe.utils import get_safe_filters

	if not _is_app_doctype(doctype):
		return core_get_count(doctype, filters=filters, debug=debug, cache=cache)
	rows = frappe.get_list(
		doctype,
		filters=get_safe_filters(filters),
		fields=[f"count(distinct `tab{doctype}`.`name`) as total"],
		parent_doctype=_parent_for(doctype, parent),
		order_by="",
		limit_page_length=0,
	)
	return int(rows[0]["total"] if rows else 0)


@frappe.whitelist()
def get_group_by_count(doctype: str, current_filters: str | dict | list, field: str) -> list[dict]:
	"""The list sidebar's counts; for "Assigned To", only over the documents the user may read."""
	from frappe.desk.listview import get_group_by_count as core_group_by_count

	if not _is_app_doctype(doctype):
		return core_group_by_count(doctype, current_filters, field)
	if field != "assigned_to":
		meta = frappe.get_meta(doctype)
		if not meta.has_field(field) and field not in frappe.model.default_fields:
			frappe.throw(frappe._("Field {0} does not belong to {1}").format(field, doctype))
		return frappe.get_list(
			doctype,
			filters=frappe.parse_json(current_filters),
			group_by=f"`tab{doctype}`.`{field}`",
			fields=["count(*) as count", f"`{field}` as name"],
			order_by="count desc",
			limit=50,
			parent_doctype=_parent_for(doctype, None),
		)
	names = frappe.get_list(
		doctype,
		filters=frappe.parse_json(current_filters),
		pluck="name",
		limit_page_length=0,
		parent_doctype=_parent_for(doctype, None),
	)
	if not names:
		return []
	todo = frappe.qb.DocType("ToDo")
	user = frappe.qb.DocType("User")
	count = frappe.query_builder.functions.Count("*").as_("count")
	return (
		frappe.qb.from_(todo)
		.from_(user)
		.select(todo.allocated_to.as_("name"), count)
		.where(
			(todo.status != "Cancelled")
			& (todo.allocated_to == user.name)
			& (user.user_type == "System User")
			& (todo.reference_type == doctype)
			& (todo.reference_name.isin(names))
		)
		.groupby(todo.allocated_to)
		.orderby(count, order=frappe.qb.desc)
		.limit(50)
		.run(as_dict=True)
	)


def _tokens(value) -> set[str]:
	return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", json.dumps(value, default=str)))


def _only_selects_results(form: dict) -> bool:
	"""The desk's list view: result columns only selected (no filter, sort, group or aggregate on
	them) and the name selected, so that the rows stay and their results can be blanked."""
	fields = frappe.parse_json(form.get("fields") or "[]")
	if not isinstance(fields, list) or any("(" in str(f) or "*" in str(f) for f in fields):
		return False
	if not any(str(f).replace("`", "").split(".")[-1] == "name" for f in fields):
		return False
	rest = {k: v for k, v in form.items() if k not in (*_NOT_COLUMNS, "fields")}
	return not (_RESULT_TOKENS & _tokens(rest))


@frappe.whitelist()
@frappe.read_only()
def reportview_get() -> dict:
	"""`frappe.desk.reportview.get` (list and report views) that shows the appraisee his own appraisal in
	Self Review with its results blank, rather than hiding the row."""
	from frappe.desk.reportview import get as core_get

	form = frappe.local.form_dict
	if form.get("doctype") != "PL Appraisal" or not _only_selects_results(form):
		return core_get()
	frappe.flags.plp_results_blanked = True
	try:
		data = core_get()
	finally:
		frappe.flags.plp_results_blanked = False
	if not isinstance(data, dict):
		return data  # no rows
	keys, values = data.get("keys") or [], data.get("values") or []
	if "name" not in keys or not values:
		return data
	own = frappe.get_all(
		"PL Appraisal",
		filters={"appraisee_user": frappe.session.user},
		fields=["name", "appraisee_user", "status", "is_trial"],
	)
	hidden = {row.name for row in own if results_hidden(row)}
	blank = [i for i, key in enumerate(keys) if key in RESULT_FIELDS["PL Appraisal"]]
	at = keys.index("name")
	for row in values:
		if row[at] in hidden:
			for i in blank:
				row[i] = None
	return data
