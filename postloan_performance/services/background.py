"""The app's long steps as background jobs: how they are queued and what the caller is told."""

import frappe


def enqueue_long(method: str, job_id: str, after_commit: bool = True, **kwargs):
	"""Queue `method` (a dotted path) with `kwargs` on the long queue for up to an hour, once per `job_id`
	(deduplicated), when the caller's transaction commits unless `after_commit` is off. Returns the job."""
	return frappe.enqueue(
		method,
		queue="long",
		timeout=3600,
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=after_commit,
		**kwargs,
	)


def queued(job, message: str) -> dict:
	"""Tell the user (`message`, translated) that the step runs in the background; the step's answer."""
	frappe.msgprint(message, alert=True)
	return {"queued": True, "job_id": getattr(job, "id", None)}
