"""Incentive payout runs: steps, export, the last pool."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	require_roles,
)


# ---------------------------------------------------------------- incentive payout (PL Payout Run)
@frappe.whitelist(methods=["POST"])
def payout_step(run: str, step: str) -> dict:
	"""One step of a payout run: prepare (scheme owner), confirm (HR Manager or System Manager; creates
	the draft Additional Salary), cancel. Runs of more than 300 lines go to the long queue."""
	from postloan_performance.services import background, locks
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
		job = background.enqueue_long(
			"postloan_performance.api.payout_job",
			f"pl-payout-{step}-{run}",
			run=run,
			step=step,
			publish_progress=True,
		)
		return background.queued(
			job, _("Running in the background for {0} lines; progress is shown here.").format(size)
		)
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
