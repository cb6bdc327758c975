"""Making and removing the demo (System Manager, on sites that allow it)."""

import frappe
from frappe import _


# ---------------------------------------------------------------- demo
@frappe.whitelist(methods=["POST"])
def make_demo(seed: int = 2026, n_loans: int = 3000, password: str | None = None) -> dict:
	"""Create the demo (System Manager only, on a site that allows it) as a background job on the long
	queue, with progress. The users' password is chosen here and handed to the job through a one-time
	cache key, never as a job argument."""
	from postloan_performance.services import background, demo

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
	job = background.enqueue_long(
		"postloan_performance.services.demo.make_demo_job",
		_demo_job_id(),
		seed=seed,
		n_loans=n_loans,
		password_key=demo.stash_password(password),
	)
	return background.queued(job, _("Creating the demo in the background; progress is shown here."))


@frappe.whitelist(methods=["POST"])
def remove_demo() -> dict:
	"""Remove the demo (System Manager only) as a background job on the long queue."""
	from postloan_performance.services import background, demo

	demo.require_system_manager()
	job = background.enqueue_long("postloan_performance.services.demo.remove_demo_job", _demo_job_id())
	return background.queued(job, _("Removing the demo in the background."))


def _demo_job_id() -> str:
	"""Making and removing the demo share one job id: one of them at a time per site."""
	return f"pl-demo-{frappe.local.site}"
