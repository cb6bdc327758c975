"""Whitelisted endpoints. Each one is type-annotated and checks permissions before it acts."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	EXECUTIVE_ROLE,
	MANAGER_ROLES,
	OFFICER_ROLE,
	require_data_import,
	require_roles,
)

COMPUTE_ROLES = tuple(sorted(MANAGER_ROLES))


@frappe.whitelist(methods=["POST"])
def compute_appraisal(appraisal: str) -> dict:
	"""Recompute one draft appraisal's KPI lines from post-loan data and score them."""
	from postloan_performance.services.compute import compute_appraisals
	from postloan_performance.services.evaluation import enqueue_refresh

	require_roles(*COMPUTE_ROLES)
	doc = frappe.get_doc("PL Appraisal", appraisal)
	doc.check_permission("write")
	if doc.docstatus != 0:
		frappe.throw(_("Only draft appraisals can be recomputed."), title=_("Not Allowed"))
	from postloan_performance.services.cycle import locked_cycle

	locked_cycle(doc.review_cycle)  # not while a step of its cycle runs
	result = compute_appraisals([appraisal])
	enqueue_refresh(doc.review_cycle)  # the Scheme Effect Evaluation's stored metric values
	return dict(result)


@frappe.whitelist()
def import_post_loan_data(
	doctype: str,
	file_url: str,
	dry_run: bool = False,
	date_order: str | None = None,
	sheet: str | None = None,
) -> dict:
	"""Bulk-load a CSV/XLSX File (public or private) into one of the post-loan data DocTypes.

	Every row is validated first; a file with any problem in its header or rows is refused whole (the
	message counts the problems, summarises them per column and lists each bad row with its number and
	reason) and nothing is written. Links may be given by the keys the lender has (staff number, e-mail,
	loan number, case number). Files over 100,000 rows run as a background job (the answer then says
	``queued``). Re-loading a file inserts nothing new. ``date_order``: Year-Month-Day, Day-Month-Year or
	Month-Day-Year (blank: PL Post-Loan Settings); ``sheet``: the workbook's sheet (blank: the first).
	The desk's wizard for the same is a PL Data Import.
	"""
	from postloan_performance.services import postloan_data

	if doctype not in postloan_data.POST_LOAN_DOCTYPES:
		frappe.throw(
			_("{0} cannot be loaded with the post-loan bulk loader; choose one of: {1}").format(
				frappe.utils.escape_html(_(doctype or "")),
				", ".join(_(d) for d in postloan_data.POST_LOAN_DOCTYPES),
			)
		)
	require_data_import()
	path = postloan_data.readable_file_path(file_url)
	large = postloan_data.LARGE_FILE_ROWS
	if postloan_data.count_data_rows(path, sheet, stop_after=large) > large:
		return postloan_data.enqueue_import(
			doctype, path, dry_run=dry_run, date_order=date_order, sheet=sheet
		)
	return postloan_data.import_file(doctype, path, dry_run=dry_run, date_order=date_order, sheet=sheet)


# ---------------------------------------------------------------- data import wizard (PL Data Import)
def _data_import(name: str, ptype: str = "write"):
	require_data_import()
	doc = frappe.get_doc("PL Data Import", name)
	doc.check_permission(ptype)
	return doc


@frappe.whitelist(methods=["POST"])
def check_data_import(data_import: str) -> dict:
	"""Check a PL Data Import's file without writing (a dry run): counts new / already present / rejected,
	the first rows as they will be stored, or every problem with the rejected rows as a CSV."""
	from postloan_performance.services import data_import as service

	return service.check(_data_import(data_import))


@frappe.whitelist(methods=["POST"])
def start_data_import(data_import: str) -> dict:
	"""Import a checked PL Data Import's file (in the background when it is large)."""
	from postloan_performance.services import data_import as service

	return service.start(_data_import(data_import))


@frappe.whitelist()
def data_import_status(data_import: str) -> dict:
	"""Status, counts and progress of a PL Data Import."""
	from postloan_performance.services import data_import as service

	return service.status(_data_import(data_import, "read"))


@frappe.whitelist()
def data_import_sheets(data_import: str) -> list[str]:
	"""The sheets of a PL Data Import's workbook (none for a CSV)."""
	from postloan_performance.services import data_import as service

	return service.sheets(_data_import(data_import, "read"))


@frappe.whitelist()
def download_import_template(doctype: str, file_format: str = "xlsx", date_order: str | None = None) -> None:
	"""A template for a post-loan data type: English and Chinese headers and one example row (CSV or XLSX;
	the workbook also lists every column with what it accepts)."""
	from postloan_performance.services import data_import as service

	require_data_import()
	file_name, content = service.template(doctype, file_format, date_order)
	frappe.response["filename"] = file_name
	frappe.response["filecontent"] = content
	frappe.response["type"] = "binary"


# ---------------------------------------------------------------- review cycle steps
CYCLE_ROLES = tuple(sorted(MANAGER_ROLES))


def _cycle_for_step(cycle: str):
	require_roles(*CYCLE_ROLES)
	doc = frappe.get_doc("PL Review Cycle", cycle)
	doc.check_permission("write")
	return doc


def _run_or_enqueue(step: str, cycle: str, method: str) -> dict:
	"""Small cycles run now; large ones go to the long queue (one job per cycle and step)."""
	from postloan_performance.services.cycle import BACKGROUND_THRESHOLD, scope_members
	from postloan_performance.services.locks import is_running, refuse

	size = len(scope_members(frappe.get_doc("PL Review Cycle", cycle)))
	if size <= BACKGROUND_THRESHOLD or frappe.flags.in_test:
		return frappe.get_attr(method)(cycle)  # takes the cycle's step lock (services/locks.py)
	if is_running("cycle", cycle):
		refuse("cycle", cycle)
	job = frappe.enqueue(
		method,
		queue="long",
		timeout=3600,
		job_id=f"pl-{step}-{cycle}",
		deduplicate=True,
		enqueue_after_commit=True,
		cycle_name=cycle,
		publish_progress=True,
	)
	frappe.msgprint(
		_("Running in the background for {0} employees; progress is shown here.").format(size), alert=True
	)
	return {"queued": True, "job_id": getattr(job, "id", None)}


@frappe.whitelist(methods=["POST"])
def cycle_step(cycle: str, step: str) -> dict:
	"""Run one step of a review cycle: open, create_appraisals, start_self_review, start_scoring,
	compute, start_calibration, approve_all, publish, close."""
	from postloan_performance.services import cycle as service

	_cycle_for_step(cycle)
	if step == "create_appraisals":
		return _run_or_enqueue(step, cycle, "postloan_performance.services.cycle.create_appraisals")
	if step == "compute":
		status = frappe.db.get_value("PL Review Cycle", cycle, "status")
		if status not in ("Open", "Scoring"):
			frappe.throw(
				_("KPIs are computed while the cycle is Open or Scoring; it is {0}.").format(_(status)),
				title=_("Wrong Step"),
			)
		return _run_or_enqueue(step, cycle, "postloan_performance.api.compute_cycle_job")
	steps = {
		"open": service.open_cycle,
		"start_self_review": service.start_self_review,
		"start_scoring": service.start_scoring,
		"start_calibration": service.start_calibration,
		"approve_all": service.approve_all,
		"publish": service.publish_cycle,
		"close": service.close_cycle,
	}
	if step not in steps:
		frappe.throw(_("Unknown review cycle step {0}.").format(step))
	return steps[step](cycle)


def compute_cycle_job(cycle_name: str, publish_progress: bool = False) -> dict:
	"""Background job: compute every draft appraisal of a cycle."""
	from postloan_performance.services.compute import compute_appraisals
	from postloan_performance.services.cycle import locked_cycle
	from postloan_performance.services.evaluation import enqueue_refresh

	status = locked_cycle(cycle_name).status  # one compute per cycle at a time; the status under the lock
	if status not in ("Open", "Scoring"):
		frappe.throw(
			_("KPIs are computed while the cycle is Open or Scoring; it is {0}.").format(_(status)),
			title=_("Wrong Step"),
		)
	result = dict(compute_appraisals(review_cycle=cycle_name, publish_progress=publish_progress))
	enqueue_refresh(cycle_name)  # the Scheme Effect Evaluation's stored metric values
	return result


@frappe.whitelist()
def latest_review_cycle(company: str | None = None) -> str | None:
	"""The review cycle a report opens on: the latest (by period end) that has started (is not Draft) and
	that the user may read, in `company` or else the user's default company when it has one; trial
	cycles only for those who see trial results. None when there is none."""
	from postloan_performance.services.access import sees_trial_results

	if not frappe.has_permission("PL Review Cycle", "read"):
		return None
	filters = {"status": ("!=", "Draft")}
	if not sees_trial_results():
		filters["is_trial"] = 0
	# the asked company, else the user's default one first and then any company
	scopes = (
		[company] if company else [c for c in (frappe.defaults.get_user_default("Company"),) if c] + [None]
	)
	for scope in scopes:
		rows = frappe.get_list(
			"PL Review Cycle",
			filters={**filters, **({"company": scope} if scope else {})},
			order_by="period_end desc, period_start desc, creation desc",
			limit_page_length=1,
			pluck="name",
		)
		if rows:
			return rows[0]
	return None


@frappe.whitelist()
def calibration_view(cycle: str) -> list[dict]:
	"""Per layer and grade: target share, actual share and deviation."""
	from postloan_performance.services.cycle import calibration_view as view

	require_roles(*CYCLE_ROLES, EXECUTIVE_ROLE)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("read")
	return view(cycle)


@frappe.whitelist(methods=["POST"])
def override_grade(appraisal: str, grade: str, reason: str) -> dict:
	"""Calibrator's override of an appraisal's grade; the reason is required."""
	from postloan_performance.services.cycle import override_grade as override

	require_roles(*CYCLE_ROLES)
	frappe.get_doc("PL Appraisal", appraisal).check_permission("write")
	return override(appraisal, grade, reason)


@frappe.whitelist(methods=["POST"])
def request_feedback(cycle: str) -> dict:
	"""Send the 360 feedback requests of an Open or Scoring review cycle (safe to run again)."""
	from postloan_performance.services.feedback import request_feedback as request

	require_roles(*COMPUTE_ROLES)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("write")
	return request(cycle)


@frappe.whitelist()
def feedback_summary(appraisal: str) -> dict:
	"""The aggregated 360 feedback of an appraisal: combined rating per criterion, never who rated."""
	from postloan_performance.services.feedback import feedback_summary as summary

	return summary(appraisal)


# ---------------------------------------------------------------- workspace: number cards and charts
def _dashboard_company(filters: str | dict | None) -> str | None:
	from postloan_performance.services import dashboard

	dashboard.require_pl_role()
	return dashboard.company_from(filters)


@frappe.whitelist()
def current_npl_ratio(filters: str | dict | None = None) -> dict | str:
	"""Number card: NPL ratio (percent) on the latest snapshot date."""
	from postloan_performance.services import dashboard

	result = dashboard.npl_ratio(_dashboard_company(filters))
	return dashboard.card(
		result["value"],
		dashboard.report_or_list_route("Portfolio Quality Trend", "PL Loan Snapshot"),
		_("No snapshots yet"),
	)


@frappe.whitelist()
def recovery_rate_last_month(filters: str | dict | None = None) -> dict | str:
	"""Number card: recovery rate (percent) of the last full month of data."""
	from postloan_performance.services import dashboard

	result = dashboard.recovery_rate(_dashboard_company(filters))
	return dashboard.card(
		result["value"],
		dashboard.report_or_list_route("Portfolio Quality Trend", "PL Recovery"),
		_("No collection cases"),
	)


@frappe.whitelist()
def open_cycle_progress(filters: str | dict | None = None) -> dict | str:
	"""Number card: share of the open review cycle's appraisals that are past Manager Review."""
	from postloan_performance.services import dashboard

	dashboard.require_pl_role()
	try:
		dashboard.require_chart_roles("PL Grade Distribution")  # the cycle's progress: the same readers
	except frappe.PermissionError:
		frappe.clear_messages()
		return _("No open cycle")  # a card on his workspace answers quietly, with nothing to show
	result = dashboard.open_cycle_progress(_dashboard_company(filters))
	if not result["cycle"]:
		return _("No open cycle")
	return dashboard.card(
		result["value"],
		["List", "PL Appraisal"],
		_("No open cycle"),
		route_options={"review_cycle": result["cycle"]},
	)


@frappe.whitelist()
def npl_trend_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: monthly NPL ratio."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL NPL Trend")
	return dashboard.npl_trend(_dashboard_company(filters))


@frappe.whitelist()
def grade_distribution_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: final grades of the latest published formal cycle."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL Grade Distribution")
	return dashboard.grade_distribution(_dashboard_company(filters))


@frappe.whitelist()
def kpi_achievement_chart(chart_name: str | None = None, filters: str | dict | None = None) -> dict:
	"""Dashboard chart: mean achievement by KPI of the latest computed cycle."""
	from postloan_performance.services import dashboard

	dashboard.require_chart_roles("PL KPI Achievement")
	return dashboard.kpi_achievement(_dashboard_company(filters))


# ---------------------------------------------------------------- post-loan operations
POST_LOAN_ROLES = (OFFICER_ROLE, "System Manager")
QUEUE_READER_ROLES = (OFFICER_ROLE, *sorted(MANAGER_ROLES))


def _require_post_loan_role() -> None:
	require_roles(*POST_LOAN_ROLES, message=_("Only post-loan officers may do this."))


def _queue_employee(employee: str | None) -> str:
	"""The collector whose queue the session user may read: his own, any (post-loan officers and managers),
	or a current member of a team he leads."""
	from postloan_performance.services.access import employee_of, led_teams

	own = employee_of()
	if not employee or employee == own:
		if not own:
			frappe.throw(_("Your user is not linked to an employee."), frappe.PermissionError)
		return own
	if frappe.session.user == "Administrator" or set(frappe.get_roles()) & set(QUEUE_READER_ROLES):
		return employee
	teams = led_teams()
	if teams and frappe.db.sql(
		"""select 1 from `tabPL Team Member` where `parenttype` = 'PL Team' and `parent` in %(teams)s
		and `employee` = %(employee)s and `from_date` <= curdate()
		and (`to_date` is null or `to_date` >= curdate()) limit 1""",
		{"teams": tuple(teams), "employee": employee},
	):
		return employee
	frappe.throw(_("You may not see the queue of {0}.").format(employee), frappe.PermissionError)


@frappe.whitelist()
def my_collection_queue(employee: str | None = None, limit: int = 200) -> list[dict]:
	"""A collector's open cases, highest priority first (overdue amount, bucket, broken promises and,
	when enabled, the propensity to pay), each with the parts of its priority."""
	from postloan_performance.services.collection import my_queue

	target = _queue_employee(employee)
	return my_queue(target, limit=max(1, min(int(limit or 200), 1000)))


@frappe.whitelist(methods=["POST"])
def set_manual_classification(
	snapshot: str, classification: str | None = None, reason: str | None = None
) -> dict:
	"""Record a manual five-category classification of a snapshot with its reason (blank removes it)."""
	from postloan_performance.services.delinquency import set_manual_classification as record

	_require_post_loan_role()
	return record(snapshot, classification, reason)


@frappe.whitelist(methods=["POST"])
def close_risk_alert(alert: str, outcome: str, note: str | None = None, modified: str | None = None) -> dict:
	"""Close an early-warning alert as Confirmed or False Alarm (its officer or a post-loan officer).
	``modified``: the alert's timestamp as the officer saw it; a later change is a conflict."""
	from postloan_performance.services.early_warning import close_alert

	return close_alert(alert, outcome, note, modified=modified)


@frappe.whitelist(methods=["POST"])
def run_post_loan_job(job: str, day: str | None = None) -> dict:
	"""Enqueue a daily post-loan job now (classification, collection or early_warning) on the long queue."""
	from postloan_performance.services import post_loan_ops

	_require_post_loan_role()
	if job not in post_loan_ops.JOBS:
		frappe.throw(_("Unknown post-loan job {0}.").format(frappe.utils.escape_html(job)))
	return {"job_id": post_loan_ops.enqueue_job(job, day)}


@frappe.whitelist()
def post_loan_job_status(job_id: str) -> dict:
	"""Status, progress and, once finished, duration and result of a post-loan job."""
	from frappe.utils.background_jobs import get_job

	_require_post_loan_role()
	if not job_id.startswith("pl-daily-"):
		frappe.throw(_("Unknown post-loan job {0}.").format(frappe.utils.escape_html(job_id)))
	job = get_job(job_id)
	if not job:
		return {"job_id": job_id, "status": "not found"}
	started, ended = job.started_at, job.ended_at
	return {
		"job_id": job_id,
		"status": str(job.get_status()),
		"progress": job.meta.get("progress"),
		"step": job.meta.get("step"),
		"started_at": str(started) if started else None,
		"ended_at": str(ended) if ended else None,
		"seconds": (ended - started).total_seconds() if started and ended else None,
		"result": job.return_value() if ended else None,
	}


# ---------------------------------------------------------------- demo
@frappe.whitelist(methods=["POST"])
def make_demo(seed: int = 2026, n_loans: int = 3000, password: str | None = None) -> dict:
	"""Create the demo (System Manager only, on a site that allows it) as a background job on the long
	queue, with progress. The users' password is chosen here and handed to the job through a one-time
	cache key, never as a job argument."""
	from postloan_performance.services import demo

	demo.require_system_manager()
	demo.require_demo_allowed()
	if len(password or "") < demo.MIN_PASSWORD_LENGTH:
		frappe.throw(
			_("Choose a password of at least {0} characters for the demo users.").format(
				demo.MIN_PASSWORD_LENGTH
			),
			title=_("Password Required"),
		)
	if demo.demo_exists():
		frappe.throw(_("The demo is already loaded; remove it first."), title=_("Demo Exists"))
	if not 0 < n_loans <= demo.MAX_LOANS:
		frappe.throw(_("The number of loans must be between 1 and {0}.").format(demo.MAX_LOANS))
	job = frappe.enqueue(
		"postloan_performance.services.demo.make_demo_job",
		queue="long",
		timeout=3600,
		job_id=f"pl-demo-{frappe.local.site}",
		deduplicate=True,
		enqueue_after_commit=True,
		seed=seed,
		n_loans=n_loans,
		password_key=demo.stash_password(password),
	)
	frappe.msgprint(_("Creating the demo in the background; progress is shown here."), alert=True)
	return {"queued": True, "job_id": getattr(job, "id", None)}


@frappe.whitelist(methods=["POST"])
def remove_demo() -> dict:
	"""Remove the demo (System Manager only) as a background job on the long queue."""
	from postloan_performance.services import demo

	demo.require_system_manager()
	job = frappe.enqueue(
		"postloan_performance.services.demo.remove_demo_job",
		queue="long",
		timeout=3600,
		job_id=f"pl-demo-{frappe.local.site}",
		deduplicate=True,
		enqueue_after_commit=True,
	)
	frappe.msgprint(_("Removing the demo in the background."), alert=True)
	return {"queued": True, "job_id": getattr(job, "id", None)}


@frappe.whitelist(methods=["POST"])
def train_propensity_model() -> dict:
	"""Train the optional propensity-to-pay model on the closed cases; returns its holdout AUC."""
	from postloan_performance.services.propensity import train_model

	_require_post_loan_role()
	return train_model()


# ---------------------------------------------------------------- scheme effect evaluation
SCHEME_EFFECT_ROLES = (*sorted(MANAGER_ROLES), EXECUTIVE_ROLE)  # the report's roles


@frappe.whitelist(methods=["POST"])
def refresh_scheme_evaluation(cycle: str) -> dict:
	"""Recompute the stored metric values of the Scheme Effect Evaluation for a cycle, on the long queue
	(for those who may read the report)."""
	from postloan_performance.services.evaluation import enqueue_refresh

	require_roles(*SCHEME_EFFECT_ROLES)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("read")
	job_id = enqueue_refresh(cycle)
	if not job_id:
		frappe.throw(_("The background queue is not reachable; try again later."), title=_("Not Queued"))
	frappe.msgprint(_("Computing the scheme effect metric values in the background."), alert=True)
	return {"queued": True, "job_id": job_id}


# ---------------------------------------------------------------- incentive payout (PL Payout Run)
@frappe.whitelist(methods=["POST"])
def payout_step(run: str, step: str) -> dict:
	"""One step of a payout run: prepare (scheme owner), confirm (HR Manager or System Manager; creates
	the draft Additional Salary), cancel. Runs of more than 300 lines go to the long queue."""
	from postloan_performance.services import locks
	from postloan_performance.services import payout as service
	from postloan_performance.services.payout_access import CONFIRM_ROLES, PREPARE_ROLES

	steps = {"prepare": PREPARE_ROLES, "confirm": CONFIRM_ROLES, "cancel": (*PREPARE_ROLES, *CONFIRM_ROLES)}
	if step not in steps:
		frappe.throw(_("Unknown payout step {0}.").format(frappe.utils.escape_html(step)))
	require_roles(*steps[step])
	doc = frappe.get_doc("PL Payout Run", run)
	doc.check_permission("write")
	if locks.is_running("payout", run):  # one step of a run at a time: a second click is refused (409)
		locks.refuse("payout", run)
	if step == "cancel":
		with locks.step_lock("payout", run):
			return service.cancel(run)
	size = (
		frappe.db.count("PL Payout Line", {"payout_run": run})
		if step == "confirm"
		else frappe.db.count("PL Appraisal", {"review_cycle": doc.review_cycle, "docstatus": 1})
	)
	if size > service.BACKGROUND_LINES and not frappe.flags.in_test:
		job = frappe.enqueue(
			"postloan_performance.api.payout_job",
			queue="long",
			timeout=3600,
			job_id=f"pl-payout-{step}-{run}",
			deduplicate=True,
			enqueue_after_commit=True,
			run=run,
			step=step,
			publish_progress=True,
		)
		frappe.msgprint(
			_("Running in the background for {0} lines; progress is shown here.").format(size), alert=True
		)
		return {"queued": True, "job_id": getattr(job, "id", None)}
	return payout_job(run, step)


def payout_job(run: str, step: str, publish_progress: bool = False) -> dict:
	"""Background job (or direct call) of a payout step, under the run's lock."""
	from postloan_performance.services import locks
	from postloan_performance.services import payout as service

	method = {"prepare": service.prepare, "confirm": service.confirm}[step]
	with locks.step_lock("payout", run):
		return method(run, publish_progress=publish_progress)


@frappe.whitelist()
def export_payout(run: str, file_format: str = "xlsx") -> None:
	"""A payout run's lines as XLSX or CSV (payroll without HRMS, or the record)."""
	from postloan_performance.services import payout as service
	from postloan_performance.services.payout_access import CONFIRM_ROLES, PREPARE_ROLES

	require_roles(*PREPARE_ROLES, *CONFIRM_ROLES)
	frappe.get_doc("PL Payout Run", run).check_permission("read")
	if file_format not in ("xlsx", "csv"):
		frappe.throw(_("Choose xlsx or csv."))
	file_name, content = service.export(run, file_format)
	frappe.response["filename"] = file_name
	frappe.response["filecontent"] = content
	frappe.response["type"] = "binary"


@frappe.whitelist()
def last_payout_pool(filters: str | dict | None = None) -> dict | str:
	"""Number card: the pool of the last confirmed payout run."""
	company = _dashboard_company(filters)
	run = frappe.get_list(
		"PL Payout Run",
		filters={"status": "Confirmed", **({"company": company} if company else {})},
		fields=["name", "pool", "currency"],
		order_by="confirmed_on desc",
		limit=1,
	)
	if not run:
		return _("No confirmed payout yet")
	return {
		"value": run[0].pool,
		"fieldtype": "Currency",
		"route": ["query-report", "Payout Preview"],
		"route_options": {"payout_run": run[0].name},
	}
