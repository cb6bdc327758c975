"""Incentive payout runs: from a published formal cycle's grades to draft HRMS Additional Salary.

Steps of a PL Payout Run (api.payout_step):

- prepare: refuses trial and unpublished cycles, open appeals and an appeal window that has not
  passed; computes every person's amount set-wise (engine_payout.payout) and stores the lines and totals.
  Preparing again recomputes; nothing else changes when nothing else did.
- confirm (HR Manager or System Manager): creates one draft Additional Salary per line with an
  amount, in bulk, linked to the appraisal (ref_doctype / ref_docname); lines that already have a
  live draft are left alone, so confirming again creates nothing. People without an active salary
  structure on the payroll date are listed on the run and their lines say so.
- cancel: deletes the run's drafts (refused once HR has submitted one) and cancels the run.

An appeal upheld after confirmation (PL Appeal on_update) recomputes the run; the lines whose
amount changed get their draft disabled (a submitted one cancelled) and a new draft, with the
reason on the line and in the run's log. The rest are not touched.

Without HRMS the run still prepares; ``export`` gives its lines as XLSX or CSV. HRMS is never
imported: its tables are read and written by name.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

import frappe
from frappe import _
from frappe.utils import cint, flt, getdate, now_datetime

from postloan_performance.engine import frames
from postloan_performance.engine import payout as engine_payout
from postloan_performance.services.access import PUBLISHED_STATES, team_members_on
from postloan_performance.services.bulk import bulk_update, insert_many
from postloan_performance.services.cycle import reserve_names
from postloan_performance.services.payout_plan import (
	check_cycle,
	payroll_date_of,
	rules_of,
)

ADDITIONAL_SALARY_SERIES = "HR-ADS-.YY.-.MM.-"
BACKGROUND_LINES = 300
LINE_FIELDS = [
	"name",
	"payout_run",
	"review_cycle",
	"employee",
	"employee_name",
	"employee_user",
	"pl_team",
	"layer",
	"appraisal",
	"grade",
	"total_score",
	"coefficient",
	"days",
	"fte",
	"amount",
	"currency",
	"status",
	"confirmed",
	"leader_visible",
	"additional_salary",
	"revision_note",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"docstatus",
]
# what the steps read back of a line: all but the run's own values and the standard fields
_NOT_READ_BACK = {
	"payout_run",
	"review_cycle",
	"employee_user",
	"fte",
	"currency",
	"confirmed",
	"leader_visible",
}
_NOT_READ_BACK |= {"creation", "modified", "owner", "modified_by", "docstatus"}
RUN_LINE_FIELDS = [f for f in LINE_FIELDS if f not in _NOT_READ_BACK]


def hrms_installed() -> bool:
	return "hrms" in frappe.get_installed_apps()


# ---------------------------------------------------------------- computing
# what a line takes of its appraisal (and the grade used: the final, else calibrated, else computed one)
APPRAISAL_COLUMNS = ["name", "employee", "employee_name", "appraisee_user", "pl_team", "layer", "total_score"]


def _appraisals(cycle, plan) -> list[dict]:
	filters = {
		"review_cycle": cycle.name,
		"docstatus": 1,
		"status": ("in", PUBLISHED_STATES),
		"is_trial": 0,
	}
	if plan.layer:
		filters["layer"] = plan.layer
	return frappe.get_all(
		"PL Appraisal",
		filters=filters,
		fields=[*APPRAISAL_COLUMNS, "grade", "calibrated_grade", "final_grade"],
		order_by="name",
	)


def payout_of(people: pd.DataFrame, cycle, plan) -> engine_payout.PayoutResult:
	"""The engine's payout of ``people`` (employee, team, layer, grade, total_score) over the cycle's period
	under ``plan``, with their teams' memberships of the period (one query)."""
	start, end = getdate(cycle.period_start), getdate(cycle.period_end)
	teams = sorted(set(people["team"].dropna()))
	member_columns = ["team", "employee", "from_date", "to_date"]
	memberships = frames.from_rows(
		([row[c] for c in member_columns] for row in team_members_on(teams, start, end)), member_columns
	)
	return engine_payout.compute_payout(people, memberships, start, end, rules_of(plan))


def compute(run) -> tuple[engine_payout.PayoutResult, pd.DataFrame]:
	"""The run's payout from the cycle's published appraisals (three queries). Returns the engine's
	result and the lines as they are stored (one row per appraisal)."""
	plan = frappe.get_doc("PL Incentive Plan", run.plan)
	cycle = frappe.get_doc("PL Review Cycle", run.review_cycle)
	rows = _appraisals(cycle, plan)
	for row in rows:
		row["grade_used"] = engine_payout.grade_used(row.final_grade, row.calibrated_grade, row.grade)
	columns = [*APPRAISAL_COLUMNS, "grade_used"]
	appraisals = frames.from_rows(
		([row[c] for c in columns] for row in rows), columns, numeric=["total_score"]
	)
	people = appraisals.rename(columns={"pl_team": "team", "grade_used": "grade"})[
		["employee", "team", "layer", "grade", "total_score"]
	]
	result = payout_of(people, cycle, plan)
	lines = result.lines.merge(
		appraisals[["employee", "pl_team", "name", "employee_name", "appraisee_user"]].rename(
			columns={"pl_team": "team", "name": "appraisal"}
		),
		on=["employee", "team"],
		how="left",
	)
	lines["leader_visible"] = cint(plan.leaders_see_individuals)
	return result, lines


def _line_rows(run, lines: pd.DataFrame, currency: str) -> list[list]:
	now, user = now_datetime(), frappe.session.user
	rows = []
	for line in lines.itertuples(index=False):
		rows.append(
			{
				"name": f"{run.name}-{line.employee}",
				"payout_run": run.name,
				"review_cycle": run.review_cycle,
				"employee": line.employee,
				"employee_name": line.employee_name,
				"employee_user": line.appraisee_user,
				"pl_team": line.team,
				"layer": line.layer,
				"appraisal": line.appraisal,
				"grade": line.grade,
				"total_score": line.total_score,
				"coefficient": line.coefficient,
				"days": line.days,
				"fte": line.fte,
				"amount": line.amount,
				"currency": currency,
				"status": "Prepared",
				"confirmed": 0,
				"leader_visible": line.leader_visible,
				"additional_salary": None,
				"revision_note": None,
				"creation": now,
				"modified": now,
				"owner": user,
				"modified_by": user,
				"docstatus": 0,
			}
		)
	return [[row[f] for f in LINE_FIELDS] for row in rows]


def _set_totals(run, result: engine_payout.PayoutResult) -> None:
	run.pool = result.pool
	run.total_amount = round(float(result.lines["amount"].sum()), 6) if not result.lines.empty else 0.0
	run.unallocated = result.unallocated
	run.line_count = len(result.lines)
	run.set("teams", [])
	for team in result.teams.itertuples():
		run.append(
			"teams",
			{
				"pl_team": team.team,
				"layer": team.layer,
				"heads": int(team.heads),
				"fte": float(team.fte),
				"mean_score": float(team.mean_score),
				"amount": float(team.amount),
			},
		)


def _run_at_step(run_name: str, statuses: tuple[str, ...], wrong_step: str):
	"""The payout run, or a "Wrong Step" error when its status is not one of `statuses`; `wrong_step` is
	the translated message, {0} the run and {1} its status."""
	run = frappe.get_doc("PL Payout Run", run_name)
	if run.status not in statuses:
		frappe.throw(wrong_step.format(frappe.bold(run.name), _(run.status)), title=_("Wrong Step"))
	return run


def _submitted_salaries(names: list[str]) -> list[str]:
	"""The Additional Salary documents among `names` that HR has submitted."""
	return frappe.get_all("Additional Salary", filters={"name": ("in", names), "docstatus": 1}, pluck="name")


def _count_drafts(run) -> int:
	"""The run's lines that have an Additional Salary draft."""
	return frappe.db.count("PL Payout Line", {"payout_run": run.name, "additional_salary": ("is", "set")})


def prepare(run_name: str, publish_progress: bool = False) -> dict:
	run = _run_at_step(
		run_name,
		("Draft", "Prepared"),
		_("Payout run {0} is {1}; only a draft or prepared run can be prepared."),
	)
	cycle = frappe.get_doc("PL Review Cycle", run.review_cycle)
	check_cycle(cycle)
	plan = frappe.get_doc("PL Incentive Plan", run.plan)
	result, lines = compute(run)
	frappe.db.delete("PL Payout Line", {"payout_run": run.name})
	insert_many("PL Payout Line", LINE_FIELDS, _line_rows(run, lines, plan.currency), chunk_size=1000)
	if publish_progress:
		frappe.publish_progress(100, title=_("Preparing Payout"))
	_set_totals(run, result)
	run.payroll_date = payroll_date_of(plan, cycle)
	run.currency = plan.currency
	run.status = "Prepared"
	run.prepared_by, run.prepared_on = frappe.session.user, now_datetime()
	run.flags.ignore_permissions = True
	run.save()
	return {
		"status": run.status,
		"pool": run.pool,
		"total_amount": run.total_amount,
		"unallocated": run.unallocated,
		"lines": run.line_count,
	}


# ---------------------------------------------------------------- HRMS drafts
def employees_with_salary_structure(employees: list[str], on_date, company: str) -> set[str]:
	"""Employees whose salary structure assignment in effect on `on_date` is submitted, of this company and
	of an active, submitted salary structure, and who are not relieved before `on_date`.

	As in HRMS (get_assigned_salary_structure), the assignment in effect is the latest submitted one that
	starts on or before the date: an older assignment replaced by a later one (to another company or to an
	inactive structure) no longer counts, an assignment starting after the date does not count yet, and
	an employee relieved before the date has none (HRMS refuses a payroll date after relieving)."""
	if not employees:
		return set()
	rows = frappe.db.sql(
		"""select ssa.employee
		from `tabSalary Structure Assignment` ssa
		join `tabSalary Structure` ss on ss.name = ssa.salary_structure
		join `tabEmployee` emp on emp.name = ssa.employee
		where ssa.docstatus = 1 and ss.docstatus = 1 and ss.is_active = 'Yes'
			and ssa.company = %(company)s and ssa.employee in %(employees)s
			and (emp.relieving_date is null or emp.relieving_date >= %(on_date)s)
			and ssa.from_date = (
				select max(latest.from_date) from `tabSalary Structure Assignment` latest
				where latest.employee = ssa.employee and latest.docstatus = 1
					and latest.from_date <= %(on_date)s
			)""",
		{"company": company, "on_date": on_date, "employees": tuple(employees)},
	)
	return {r[0] for r in rows}


def _live_drafts(names: list[str]) -> dict[str, dict]:
	"""Additional Salary rows that still count (not cancelled, not disabled), by name."""
	names = [n for n in names if n]
	if not names:
		return {}
	return {
		r.name: r
		for r in frappe.get_all(
			"Additional Salary",
			filters={"name": ("in", names), "docstatus": ("<", 2), "disabled": 0},
			fields=["name", "docstatus", "amount"],
		)
	}


def _require_hrms() -> None:
	if not hrms_installed():
		frappe.throw(
			_("HRMS is not installed on this site: export the payout run and enter it in payroll."),
			title=_("HRMS Not Installed"),
		)


def _create_drafts(run, plan, lines: list[dict], publish_progress: bool = False) -> dict[str, str]:
	"""One draft Additional Salary per line, in bulk; returns line name -> Additional Salary name."""
	if not lines:
		return {}
	component = frappe.db.get_value("Salary Component", plan.salary_component, ["name", "type"], as_dict=True)
	if not component:
		frappe.throw(
			_("Set an existing salary component on plan {0}.").format(frappe.bold(plan.name)),
			title=_("Missing Salary Component"),
		)
	departments = dict(
		frappe.get_all(
			"Employee",
			filters={"name": ("in", [line["employee"] for line in lines])},
			fields=["name", "department"],
			as_list=True,
		)
	)
	names = reserve_names(ADDITIONAL_SALARY_SERIES, len(lines))
	now, user = now_datetime(), frappe.session.user
	fields = [
		"name",
		"naming_series",
		"employee",
		"employee_name",
		"department",
		"company",
		"salary_component",
		"type",
		"amount",
		"currency",
		"payroll_date",
		"overwrite_salary_structure_amount",
		"deduct_full_tax_on_selected_payroll_date",
		"is_recurring",
		"disabled",
		"ref_doctype",
		"ref_docname",
		"docstatus",
		"creation",
		"modified",
		"owner",
		"modified_by",
	]
	rows = [
		[
			name,
			ADDITIONAL_SALARY_SERIES,
			line["employee"],
			line["employee_name"],
			departments.get(line["employee"]),
			run.company,
			component.name,
			component.type,
			flt(line["amount"]),
			run.currency,
			run.payroll_date,
			0,  # added to what the structure pays, never replacing it
			0,
			0,
			0,
			"PL Appraisal",
			line["appraisal"],
			0,
			now,
			now,
			user,
			user,
		]
		for name, line in zip(names, lines, strict=True)
	]
	total = len(rows)
	step = 500
	for start in range(0, total, step):
		insert_many("Additional Salary", fields, rows[start : start + step])
		if publish_progress:
			done = min(start + step, total)
			frappe.publish_progress(
				done * 100 / total,
				title=_("Creating Additional Salary Drafts"),
				description=_("{0} of {1}").format(done, total),
			)
	return {line["name"]: name for name, line in zip(names, lines, strict=True)}


def _run_lines(run_name: str, **filters) -> list[dict]:
	return frappe.get_all(
		"PL Payout Line",
		filters={"payout_run": run_name, **filters},
		fields=RUN_LINE_FIELDS,
		order_by="pl_team, employee",
	)


def _issue_drafts(run, plan, lines: list[dict], publish_progress: bool = False) -> tuple[dict, list[str]]:
	"""Drafts for the lines that pay something and have none alive; returns (line -> draft, people
	without an active salary structure)."""
	live = _live_drafts([line["additional_salary"] for line in lines])
	todo = [line for line in lines if flt(line["amount"]) > 0 and line["additional_salary"] not in live]
	covered = employees_with_salary_structure(
		sorted({line["employee"] for line in todo}), run.payroll_date, run.company
	)
	missing = [line for line in todo if line["employee"] not in covered]
	missing_names = {line["name"] for line in missing}
	created = _create_drafts(
		run, plan, [line for line in todo if line["employee"] in covered], publish_progress
	)
	updates = {
		line_name: {"additional_salary": draft, "status": "Confirmed", "confirmed": 1}
		for line_name, draft in created.items()
	}
	for line in lines:
		if line["name"] in created:
			continue
		if line["name"] in missing_names:
			updates[line["name"]] = {"status": "No Salary Structure", "confirmed": 1}
		else:
			updates[line["name"]] = {"status": "Confirmed", "confirmed": 1}
	bulk_update("PL Payout Line", updates)
	return created, [f"{line['employee']}: {line['employee_name']}" for line in missing]


def confirm(run_name: str, publish_progress: bool = False) -> dict:
	run = _run_at_step(
		run_name, ("Prepared", "Confirmed"), _("Payout run {0} is {1}; prepare it before confirming.")
	)
	_require_hrms()
	cycle = frappe.get_doc("PL Review Cycle", run.review_cycle)
	if run.status == "Prepared":
		check_cycle(cycle)
	plan = frappe.get_doc("PL Incentive Plan", run.plan)
	created, missing = _issue_drafts(run, plan, _run_lines(run.name), publish_progress)
	run.status = "Confirmed"
	run.drafts_created = _count_drafts(run)
	run.without_salary_structure = "\n".join(missing)
	if created or not run.confirmed_on:
		run.confirmed_by, run.confirmed_on = frappe.session.user, now_datetime()
	run.flags.ignore_permissions = True
	run.save()
	return {"status": run.status, "created": len(created), "without_salary_structure": missing}


def cancel(run_name: str) -> dict:
	run = frappe.get_doc("PL Payout Run", run_name)
	if run.status == "Cancelled":
		return {"status": run.status, "deleted": 0}
	drafts = [line["additional_salary"] for line in _run_lines(run.name) if line["additional_salary"]]
	deleted = 0
	if drafts and hrms_installed():
		submitted = _submitted_salaries(drafts)
		if submitted:
			frappe.throw(
				_("HR has submitted these Additional Salary documents; cancel them first: {0}").format(
					", ".join(submitted[:10])
				),
				title=_("Already in Payroll"),
			)
		deleted = frappe.db.count("Additional Salary", {"name": ("in", drafts), "docstatus": 0})
		frappe.db.delete("Additional Salary", {"name": ("in", drafts), "docstatus": 0})
	frappe.db.sql(
		"""update `tabPL Payout Line` set status = 'Cancelled', confirmed = 0, additional_salary = null
		where payout_run = %s""",
		run.name,
	)
	run.status = "Cancelled"
	run.drafts_created = 0
	run.flags.ignore_permissions = True
	run.save()
	return {"status": run.status, "deleted": deleted}


# ---------------------------------------------------------------- appeals after confirmation
def on_appeal_update(doc, method: str | None = None) -> None:
	"""PL Appeal on_update: an appeal upheld after its cycle's payout was confirmed revises the run."""
	before = doc.get_doc_before_save()
	if doc.status != "Upheld" or (before and before.status == "Upheld") or not doc.review_cycle:
		return
	runs = frappe.get_all(
		"PL Payout Run", filters={"review_cycle": doc.review_cycle, "status": "Confirmed"}, pluck="name"
	)
	reason = _("Appeal {0} upheld: {1}").format(doc.name, doc.resolution or "")
	for run in runs:
		revise(run, reason)


def revise(run_name: str, reason: str) -> dict:
	"""Recompute a confirmed run; only the lines whose amount or grade changed get a new draft (the
	old one disabled, or cancelled when HR had submitted it) and the reason."""
	run = frappe.get_doc("PL Payout Run", run_name)
	plan = frappe.get_doc("PL Incentive Plan", run.plan)
	result, fresh = compute(run)
	old = {line["employee"]: line for line in _run_lines(run.name)}
	changed, updates = [], {}
	for line in fresh.itertuples(index=False):
		before = old.get(line.employee)
		if before is None:
			continue  # nobody joins a confirmed payout through an appeal
		if flt(before["amount"]) == flt(line.amount) and (before["grade"] or "") == (line.grade or ""):
			continue
		note = _("{0}; amount {1} → {2}").format(reason, flt(before["amount"]), flt(line.amount))
		if before["additional_salary"]:
			note += "; " + _("replaces {0}").format(before["additional_salary"])
		updates[before["name"]] = {
			"grade": line.grade,
			"total_score": float(line.total_score),
			"coefficient": float(line.coefficient),
			"amount": float(line.amount),
			"revision_note": note,
			"additional_salary": None,
		}
		changed.append({**before, "amount": float(line.amount), "grade": line.grade})
	if not changed:
		return {"changed": 0}
	old_drafts = [line["additional_salary"] for line in changed if line["additional_salary"]]
	if old_drafts and hrms_installed():
		submitted = _submitted_salaries(old_drafts)
		for name in submitted:
			frappe.get_doc("Additional Salary", name).cancel()
		bulk_update(
			"Additional Salary",
			{name: {"disabled": 1} for name in old_drafts if name not in submitted},
		)
	bulk_update("PL Payout Line", updates)
	created: dict = {}
	missing: list[str] = []
	if hrms_installed():
		created, missing = _issue_drafts(run, plan, _run_lines(run.name, name=("in", list(updates))))
	_set_totals(run, result)
	run.drafts_created = _count_drafts(run)
	entry = _("{0}: {1}; {2} lines revised, {3} drafts re-created").format(
		now_datetime().strftime("%Y-%m-%d %H:%M"), reason, len(changed), len(created)
	)
	run.log = "\n".join(filter(None, [run.log, entry]))
	if missing:
		known = set(filter(None, (run.without_salary_structure or "").split("\n")))
		run.without_salary_structure = "\n".join(sorted(known | set(missing)))
	run.flags.ignore_permissions = True
	run.save()
	return {"changed": len(changed), "created": len(created)}


# ---------------------------------------------------------------- preview and export
EXPORT_COLUMNS = [
	("employee", "Employee"),
	("employee_name", "Employee Name"),
	("pl_team", "Team"),
	("layer", "Layer"),
	("grade", "Grade"),
	("coefficient", "Coefficient"),
	("days", "Days"),
	("amount", "Amount"),
	("status", "Status"),
	("additional_salary", "Additional Salary"),
]


def export(run_name: str, file_format: str = "xlsx") -> tuple[str, bytes]:
	"""The run's lines for payroll without HRMS (or for the record): (file name, content)."""
	lines = _run_lines(run_name)
	header = [_(label) for _field, label in EXPORT_COLUMNS]
	data = [header] + [[line[field] for field, _label in EXPORT_COLUMNS] for line in lines]
	if file_format == "csv":
		buffer = io.StringIO()
		csv.writer(buffer).writerows(data)
		return f"{run_name}.csv", buffer.getvalue().encode("utf-8-sig")
	from frappe.utils.xlsxutils import make_xlsx

	return f"{run_name}.xlsx", make_xlsx(data, _("Payout")).getvalue()
