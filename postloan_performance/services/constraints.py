"""Unique keys the database keeps, so that no race can write a record twice.

Each key is a unique index; where only the "live" records must be unique (an appraisal that is not
cancelled, an open collection case, a pending alert, an open appeal) a generated column is NULL for the
others, and NULLs never collide in a unique index:

=================  =========================================  ===========================================
DocType            unique among                               generated column
=================  =========================================  ===========================================
PL Appraisal       (review_cycle, employee), not cancelled    ``_plp_live`` = 1 while docstatus < 2
PL Feedback        (appraisal, reviewer), not cancelled       ``_plp_live`` = 1 while docstatus < 2
PL Metric Value    (cycle, period, metric, scope, subject)    ``_plp_key`` = md5 of the five
Collection Case    loan, while the case is open               ``_plp_open_loan`` = loan unless closed
PL Risk Alert      (loan, rule), while Pending                ``_plp_pending`` = 1 while Pending
PL Appeal          appraisal, while Open / Under Review       ``_plp_open`` = 1 while open
PL Payout Line     (payout_run, employee)                     none
=================  =========================================  ===========================================

Before an index is added, existing duplicates are resolved: in each group the most advanced record is
kept and the others are deleted when they are empty (nothing a person typed or decided hangs on them); a
group where more than one record carries work is refused: left as it is, reported, and its index not
added (the admin resolves it, then runs ``bench --site S postloan-unique-keys`` again).

Applied on install, after every migrate and by the patch ``v0_3.unique_keys``; inserts that may race use
``INSERT IGNORE`` so a second writer creates nothing. MariaDB only (other databases: nothing is done).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import frappe

from postloan_performance.engine.delinquency import CLOSED_CASE_STATUSES


@dataclass(frozen=True)
class UniqueKey:
	doctype: str
	index: str
	columns: tuple[str, ...]
	# generated column (name, SQL type, expression) or None
	generated: tuple[str, str, str] | None = None
	# the group of a row (SQL expression over the table, alias t); rows with a NULL group are not keyed
	group: str = ""
	# most advanced first (SQL ORDER BY over alias t)
	rank: str = "t.`creation` asc"
	# SQL (alias t) true for a row that may be deleted as an empty duplicate
	empty: str = "1"
	# child tables (doctype, parent column) deleted with a removed duplicate
	children: tuple[tuple[str, str], ...] = field(default_factory=tuple)
	# other tables whose rows point at a removed duplicate by (column): deleted with it
	dependents: tuple[tuple[str, str], ...] = field(default_factory=tuple)


_CLOSED = ", ".join(f"'{s}'" for s in CLOSED_CASE_STATUSES)
_APPRAISAL_RANK = (
	"t.`docstatus` desc, field(t.`status`, 'Acknowledged', 'Appealed', 'Published', 'Approved',"
	" 'Calibration', 'Manager Review', 'Self Review') = 0, field(t.`status`, 'Acknowledged', 'Appealed',"
	" 'Published', 'Approved', 'Calibration', 'Manager Review', 'Self Review'), t.`total_score` desc,"
	" t.`creation` asc, t.`name` asc"
)


def _unique_while(
	doctype: str, index: str, key: tuple[str, ...], flag: str, condition: str, **rest
) -> UniqueKey:
	"""`key` unique among the rows where `condition` holds (SQL, `{t}` before each column): the generated
	tinyint column `flag` is 1 for those rows and NULL for the others; the same rows are grouped."""
	aliased = [f"t.`{column}`" for column in key]
	group = aliased[0] if len(key) == 1 else f"concat_ws(0x1f, {', '.join(aliased)})"
	return UniqueKey(
		doctype,
		index,
		(*key, flag),
		(flag, "tinyint", f"if({condition.format(t='')}, 1, null)"),
		group=f"if({condition.format(t='t.')}, {group}, null)",
		**rest,
	)


KEYS: tuple[UniqueKey, ...] = (
	_unique_while(
		"PL Appraisal",
		"plp_unique_cycle_employee",
		("review_cycle", "employee"),
		"_plp_live",
		"{t}`docstatus` < 2",
		rank=_APPRAISAL_RANK,
		# a draft nobody touched: no feedback, no appeal, no manual value typed
		empty=(
			"t.`docstatus` = 0 and t.`status` = 'Draft'"
			" and not exists (select 1 from `tabPL Feedback` f where f.`appraisal` = t.`name`)"
			" and not exists (select 1 from `tabPL Appeal` a where a.`appraisal` = t.`name`)"
		),
		children=(("PL Appraisal KPI", "parent"),),
	),
	_unique_while(
		"PL Feedback",
		"plp_unique_appraisal_reviewer",
		("appraisal", "reviewer"),
		"_plp_live",
		"{t}`docstatus` < 2",
		rank="t.`docstatus` desc, t.`modified` > t.`creation` desc, t.`creation` asc, t.`name` asc",
		empty=(
			"t.`docstatus` = 0 and not exists (select 1 from `tabPL Feedback Rating` r"
			" where r.`parent` = t.`name` and r.`parenttype` = 'PL Feedback' and ifnull(r.`rating`, 0) > 0)"
		),
		children=(("PL Feedback Rating", "parent"),),
		dependents=(("ToDo", "reference_name"),),
	),
	UniqueKey(
		"PL Metric Value",
		"plp_unique_metric_value",
		("_plp_key",),
		(
			"_plp_key",
			"char(32)",
			"md5(concat_ws(0x1f, `review_cycle`, `period`, `metric`, `scope`, ifnull(`subject`, '')))",
		),
		group="md5(concat_ws(0x1f, t.`review_cycle`, t.`period`, t.`metric`, t.`scope`, ifnull(t.`subject`, '')))",
		rank="t.`computed_on` desc, t.`name` asc",
		empty="1",  # derived values: the latest is kept, the others are recomputable copies
	),
	UniqueKey(
		"PL Collection Case",
		"plp_unique_open_case",
		("_plp_open_loan",),
		("_plp_open_loan", "varchar(140)", f"if(`status` in ({_CLOSED}), null, `loan`)"),
		group=f"if(t.`status` in ({_CLOSED}), null, t.`loan`)",
		rank="t.`opened_on` asc, t.`creation` asc, t.`name` asc",
		empty=(
			"not exists (select 1 from `tabPL Collection Action` x where x.`collection_case` = t.`name`)"
			" and not exists (select 1 from `tabPL Recovery` x where x.`collection_case` = t.`name`)"
			" and not exists (select 1 from `tabPL Customer Feedback` x where x.`collection_case` = t.`name`)"
		),
	),
	_unique_while(
		"PL Risk Alert",
		"plp_unique_pending_alert",
		("loan", "rule"),
		"_plp_pending",
		"{t}`outcome` = 'Pending'",
		rank="t.`raised_on` asc, t.`creation` asc, t.`name` asc",
		empty="ifnull(t.`outcome_note`, '') = ''",
	),
	_unique_while(
		"PL Appeal",
		"plp_unique_open_appeal",
		("appraisal",),
		"_plp_open",
		"{t}`status` in ('Open', 'Under Review')",
		rank="t.`status` = 'Under Review' desc, t.`creation` asc, t.`name` asc",
		empty="0",  # an appeal is what a person wrote: never deleted, a duplicate is refused
		children=(("PL Appeal Line", "parent"),),
	),
	UniqueKey(
		"PL Payout Line",
		"plp_unique_payout_line",
		("payout_run", "employee"),
		group="concat_ws(0x1f, t.`payout_run`, t.`employee`)",
		rank="ifnull(t.`additional_salary`, '') != '' desc, t.`creation` asc, t.`name` asc",
		# a line is derived (prepare writes them again); one that carries a draft salary is kept
		empty="ifnull(t.`additional_salary`, '') = ''",
	),
)


def _table(doctype: str) -> str:
	return f"`tab{doctype}`"


def _table_exists(doctype: str) -> bool:
	return bool(frappe.db.sql("show tables like %s", f"tab{doctype}"))


def _has_column(doctype: str, column: str) -> bool:
	return bool(frappe.db.sql(f"show columns from {_table(doctype)} like %s", column))  # nosemgrep


def _has_index(doctype: str, index: str) -> bool:
	return bool(frappe.db.sql(f"show index from {_table(doctype)} where Key_name = %s", index))  # nosemgrep


def duplicate_groups(key: UniqueKey) -> list[list[frappe._dict]]:
	"""Groups of two or more records with the same key, each ordered most advanced first, with whether
	each record is empty (may be deleted)."""
	rows = frappe.db.sql(
		f"""select t.`name`, {key.group} as `_group`, ({key.empty}) as `_empty`
		from {_table(key.doctype)} t
		where {key.group} in (
			select g from (select {key.group} as g from {_table(key.doctype)} t
				where {key.group} is not null group by g having count(*) > 1) d
		)
		order by `_group`, `_empty` asc, {key.rank}""",  # nosemgrep
		as_dict=True,
	)
	groups: dict[str, list] = {}
	for row in rows:
		groups.setdefault(row._group, []).append(row)
	return list(groups.values())


def _delete(key: UniqueKey, names: list[str]) -> None:
	if not names:
		return
	for child, column in key.children:
		if _table_exists(child):
			frappe.db.delete(child, {column: ("in", names)})
	for dependent, column in key.dependents:
		filters = {column: ("in", names)}
		if frappe.db.has_column(dependent, "reference_type"):
			filters["reference_type"] = key.doctype
		frappe.db.delete(dependent, filters)
	frappe.db.delete("Version", {"ref_doctype": key.doctype, "docname": ("in", names)})
	frappe.db.delete(key.doctype, {"name": ("in", names)})


def apply_key(key: UniqueKey, dry_run: bool = False) -> dict:
	"""Resolve the duplicates of one key and add its index. Returns what was found and done."""
	report = {
		"doctype": key.doctype,
		"index": key.index,
		"groups": 0,
		"merged": 0,
		"deleted": [],
		"refused": [],
		"indexed": False,
	}
	if not _table_exists(key.doctype):
		report["skipped"] = "no table"
		return report
	if key.generated and not _has_column(key.doctype, key.generated[0]):
		if dry_run:
			report["groups_note"] = "generated column not added yet"
		else:
			name, sql_type, expression = key.generated
			report["changed"] = True
			frappe.db.sql_ddl(
				f"alter table {_table(key.doctype)} add column `{name}` {sql_type}"
				f" as ({expression}) persistent"  # nosemgrep
			)
	groups = duplicate_groups(key)
	report["groups"] = len(groups)
	to_delete: list[str] = []
	for group in groups:
		_keep, others = group[0], group[1:]
		if all(row._empty for row in others):
			to_delete += [row.name for row in others]
			report["merged"] += 1
		else:
			report["refused"].append([row.name for row in group])
	report["deleted"] = to_delete
	if dry_run:
		report["indexed"] = _has_index(key.doctype, key.index)
		return report
	_delete(key, to_delete)
	if report["refused"]:
		report["indexed"] = _has_index(key.doctype, key.index)
		return report
	if not _has_index(key.doctype, key.index):
		report["changed"] = True
		columns = ", ".join(f"`{c}`" for c in key.columns)
		frappe.db.sql_ddl(
			f"alter table {_table(key.doctype)} add unique index `{key.index}` ({columns})"  # nosemgrep
		)
	report["indexed"] = True
	return report


def apply_unique_keys(dry_run: bool = False, doctypes: list[str] | None = None) -> dict:
	"""Apply every unique key (or those of ``doctypes``); commits each key's deletions with its index."""
	if frappe.db.db_type != "mariadb":
		return {"keys": [], "groups": 0, "merged": 0, "refused": 0, "skipped": "not MariaDB"}
	reports = []
	for key in KEYS:
		if doctypes and key.doctype not in doctypes:
			continue
		report = apply_key(key, dry_run=dry_run)
		reports.append(report)
		if not dry_run and (report["groups"] or report.get("changed")):
			frappe.db.commit()  # nosemgrep: DDL commits anyway; the deletions go with their index
	return {
		"keys": reports,
		"groups": sum(r["groups"] for r in reports),
		"merged": sum(r["merged"] for r in reports),
		"refused": sum(len(r["refused"]) for r in reports),
		"dry_run": dry_run,
	}


def summary_lines(result: dict) -> list[str]:
	"""What was merged and refused, for the patch's output and the bench command."""
	verb = "would merge" if result.get("dry_run") else "merged"
	lines = [
		f"Unique keys: {result['groups']} groups of duplicates, {result['merged']} {verb},"
		f" {result['refused']} refused"
	]
	for r in result["keys"]:
		if r.get("skipped"):
			continue
		state = "in place" if r["indexed"] else "NOT added"
		lines.append(
			f"  {r['doctype']}: {r['groups']} groups, {r['merged']} {verb}"
			f" ({len(r['deleted'])} empty duplicates removed), {len(r['refused'])} refused; index {state}"
		)
		for names in r["refused"]:
			lines.append(f"    refused (resolve by hand): {', '.join(names)}")
	return lines


def after_migrate() -> None:
	"""Hook: keep the keys in place after every migrate (new tables, restored sites)."""
	result = apply_unique_keys()
	if result.get("groups"):
		print("\n".join(summary_lines(result)))
