"""Post-loan operations: the collector's queue, manual classification, alerts, daily jobs, the propensity model."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	MANAGER_ROLES,
	OFFICER_ROLE,
	require_roles,
)

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
	from postloan_performance.services import daily_jobs

	_require_post_loan_role()
	if job not in daily_jobs.JOBS:
		frappe.throw(_("Unknown post-loan job {0}.").format(frappe.utils.escape_html(job)))
	return {"job_id": daily_jobs.enqueue_job(job, day)}


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


@frappe.whitelist(methods=["POST"])
def train_propensity_model() -> dict:
	"""Train the optional propensity-to-pay model on the closed cases; returns its holdout AUC."""
	from postloan_performance.services.propensity import train_model

	_require_post_loan_role()
	return train_model()


@frappe.whitelist(methods=["POST"])
def run_lending_sync() -> str:
	"""Enqueue a Lending connector run now (loans, month-end snapshots, recoveries) on the long queue."""
	from postloan_performance.services.lending import is_active
	from postloan_performance.services.lending.jobs import enqueue_run

	_require_post_loan_role()
	if not is_active():
		frappe.throw(_("The Lending app is not installed on this site."))
	return enqueue_run()
