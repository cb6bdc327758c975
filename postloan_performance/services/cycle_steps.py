"""The steps of a review cycle by name: run now, or on the long queue when the cycle is large.

Called by the PL Review Cycle document methods (and the older ``api.cycle_step``), which check the
caller's roles and write permission first.
"""

import frappe
from frappe import _

from postloan_performance.services import cycle as service
from postloan_performance.services.background import enqueue_long, queued
from postloan_performance.services.locks import is_running, refuse

# the queued compute job keeps its public path (stored and running jobs name it)
COMPUTE_JOB = "postloan_performance.api.compute_cycle_job"
STEPS = (
	"open",
	"create_appraisals",
	"start_self_review",
	"compute",
	"start_scoring",
	"start_calibration",
	"approve_all",
	"publish",
	"close",
)


def run_step(cycle: str, step: str) -> dict:
	"""Run one step of a review cycle (see STEPS); the caller has checked permissions."""
	if step == "create_appraisals":
		return _run_or_enqueue(step, cycle, "postloan_performance.services.cycle.create_appraisals")
	if step == "compute":
		_require_computable(frappe.db.get_value("PL Review Cycle", cycle, "status"))
		return _run_or_enqueue(step, cycle, COMPUTE_JOB)
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


def _require_computable(status: str):
	if status not in ("Open", "Scoring"):
		frappe.throw(
			_("KPIs are computed while the cycle is Open or Scoring; it is {0}.").format(_(status)),
			title=_("Wrong Step"),
		)


def _run_or_enqueue(step: str, cycle: str, method: str) -> dict:
	"""Small cycles run now; large ones go to the long queue (one job per cycle and step)."""
	size = len(service.scope_members(frappe.get_doc("PL Review Cycle", cycle)))
	if size <= service.BACKGROUND_THRESHOLD or frappe.flags.in_test:
		return frappe.get_attr(method)(cycle)  # takes the cycle's step lock (services/locks.py)
	if is_running("cycle", cycle):
		refuse("cycle", cycle)
	job = enqueue_long(method, f"pl-{step}-{cycle}", cycle_name=cycle, publish_progress=True)
	return queued(job, _("Running in the background for {0} employees; progress is shown here.").format(size))


def compute_cycle_job(cycle_name: str, publish_progress: bool = False) -> dict:
	"""Background job: compute every draft appraisal of a cycle."""
	from postloan_performance.services.compute import compute_appraisals
	from postloan_performance.services.evaluation import enqueue_refresh

	_require_computable(service.locked_cycle(cycle_name).status)  # one compute per cycle at a time
	result = dict(compute_appraisals(review_cycle=cycle_name, publish_progress=publish_progress))
	enqueue_refresh(cycle_name)  # the Scheme Effect Evaluation's stored metric values
	return result
