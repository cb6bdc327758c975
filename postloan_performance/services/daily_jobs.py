"""The daily post-loan jobs: scheduling, which snapshot dates to process, progress and set-wise writes.

Three jobs run every day on the long queue (hooks.py ``scheduler_events`` → :func:`enqueue_daily_jobs`):

* ``classification`` – :mod:`services.delinquency`: bucket and five-category classification of snapshots;
* ``collection`` – :mod:`services.collection`: open, escalate and close collection cases, assign them;
* ``early_warning`` – :mod:`services.early_warning`: evaluate warning rules, raise and assign alerts.

Each job processes the snapshot dates after the last date it processed (``*_processed_through`` on PL
Post-Loan Settings) up to the run day, in date order; the first run takes only the latest snapshot date.
Every step is idempotent (deterministic names, decisions from the stored state), so running a day again
changes nothing. The service functions never commit; :func:`run_job` (the background job) commits after
each processed date and reports progress with ``frappe.publish_progress`` and the RQ job's meta.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime, nowdate

from postloan_performance.services import portfolio_months
from postloan_performance.services.bulk import insert_many
from postloan_performance.services.locks import kill_point, step_lock

SETTINGS = "PL Post-Loan Settings"
JOBS = ("classification", "collection", "early_warning")
THROUGH_FIELD = {
	"classification": "classification_processed_through",
	"collection": "collection_processed_through",
	"early_warning": "warning_processed_through",
}
SUMMARY_FIELD = {
	"classification": "classification_last_run",
	"collection": "collection_last_run",
	"early_warning": "warning_last_run",
}
JOB_METHOD = {
	"classification": "postloan_performance.services.delinquency.process_date",
	"collection": "postloan_performance.services.collection.process_date",
	"early_warning": "postloan_performance.services.early_warning.process_date",
}
NAMES_PER_UPDATE = 5_000
INSERT_CHUNK_SIZE = 5_000


# --- settings ----------------------------------------------------------------------------------------


def setting(fieldname: str, default: Any = None) -> Any:
	"""A value of PL Post-Loan Settings; ``default`` while it was never saved (``get_single_value`` would
	say 0 for an unsaved Check or number, e.g. turning the daily jobs off on a new site)."""
	rows = frappe.db.sql(
		"select `value` from `tabSingles` where `doctype` = %s and `field` = %s", (SETTINGS, fieldname)
	)
	if not rows or rows[0][0] is None:
		return default
	df = frappe.get_meta(SETTINGS).get_field(fieldname)
	return frappe.utils.data.cast(df.fieldtype, rows[0][0]) if df else rows[0][0]


# --- which dates -------------------------------------------------------------------------------------


def snapshot_dates(after: dt.date | None, through: dt.date) -> list[dt.date]:
	"""Distinct snapshot dates in (after, through], ascending (an index range scan)."""
	if after is None:
		latest = frappe.db.sql(
			"select max(`as_of_date`) from `tabPL Loan Snapshot` where `as_of_date` <= %s", through
		)[0][0]
		return [getdate(latest)] if latest else []
	rows = frappe.db.sql(
		"""select distinct `as_of_date` from `tabPL Loan Snapshot`
		where `as_of_date` > %s and `as_of_date` <= %s order by `as_of_date`""",
		(after, through),
	)
	return [getdate(r[0]) for r in rows]


def pending_dates(job: str, day: dt.date | str | None = None) -> list[dt.date]:
	"""The snapshot dates ``job`` has still to process up to ``day`` (default today)."""
	day = getdate(day or nowdate())
	through = setting(THROUGH_FIELD[job])
	return snapshot_dates(getdate(through) if through else None, day)


def mark_processed(job: str, through: dt.date, summary: dict) -> None:
	values = {
		SUMMARY_FIELD[job]: json.dumps({"at": str(now_datetime()), **summary}, default=str, sort_keys=True)
	}
	current = setting(THROUGH_FIELD[job])
	if not current or getdate(current) < getdate(through):
		values[THROUGH_FIELD[job]] = getdate(through)
	frappe.db.set_single_value(SETTINGS, values)


# --- progress ----------------------------------------------------------------------------------------


class Progress:
	"""Progress of a job: ``frappe.publish_progress`` to the user and ``progress`` in the RQ job's meta."""

	def __init__(self, title: str, publish: bool = True, start: float = 0.0, span: float = 100.0):
		self.title, self.publish, self.start, self.span = title, publish, start, span
		self.job = None
		if publish:
			try:
				from rq import get_current_job

				self.job = get_current_job()
			except Exception:
				self.job = None

	def part(self, index: int, count: int) -> Progress:
		"""The progress of step ``index`` of ``count`` equal steps (e.g. one snapshot date of several)."""
		span = self.span / max(count, 1)
		child = Progress(self.title, False, self.start + index * span, span)
		child.publish, child.job = self.publish, self.job
		return child

	def __call__(self, fraction: float, description: str = "") -> None:
		percent = round(self.start + self.span * max(0.0, min(1.0, fraction)), 1)
		if not self.publish:
			return
		frappe.publish_progress(percent, title=self.title, description=description)
		if self.job is not None:
			try:
				self.job.meta["progress"] = percent
				self.job.meta["step"] = description
				self.job.save_meta()
			except Exception:
				pass


def no_progress(_fraction: float, _description: str = "") -> None:
	return None


# --- set-wise writes ---------------------------------------------------------------------------------


def chunks(values: Sequence, size: int) -> Iterable[Sequence]:
	for start in range(0, len(values), size):
		yield values[start : start + size]


def update_grouped(doctype: str, names: Sequence[str], values: Sequence[tuple], fields: Sequence[str]) -> int:
	"""Set ``fields`` of each named row to its tuple of ``values`` with one UPDATE per distinct tuple and
	5,000 names: fast when few distinct values (buckets, classes, statuses) cover many rows."""
	groups: dict[tuple, list[str]] = {}
	for name, row in zip(names, values, strict=True):
		groups.setdefault(tuple(row), []).append(name)
	assignments = ", ".join(f"`{f}` = %s" for f in fields)
	statements = 0
	for row, members in groups.items():
		for part in chunks(members, NAMES_PER_UPDATE):
			placeholders = ", ".join(["%s"] * len(part))
			frappe.db.sql(
				f"update `tab{doctype}` set {assignments} where `name` in ({placeholders})",  # nosemgrep
				[*row, *part],
			)
			statements += 1
			kill_point("after_partial_write")  # crash tests: a date half-written, not committed
	return statements


def insert_rows(
	doctype: str, fields: Sequence[str], rows: list[tuple], chunk_size: int = INSERT_CHUNK_SIZE
) -> int:
	"""Multi-row ``INSERT IGNORE`` of new documents (standard columns added), ``chunk_size`` rows per
	statement (`services.bulk.insert_many`); returns the rows sent."""
	if not rows:
		return 0
	now, user = now_datetime(), frappe.session.user
	all_fields = [*fields, "creation", "modified", "owner", "modified_by", "docstatus", "idx"]
	full = [(*row, now, now, user, user, 0, 0) for row in rows]
	insert_many(doctype, all_fields, full, chunk_size=chunk_size, ignore_duplicates=True)
	kill_point("after_partial_write")  # crash tests: a date half-written, not committed
	return len(rows)


# --- scheduling --------------------------------------------------------------------------------------


def enqueue_daily_jobs() -> dict:
	"""Scheduler entry (daily): enqueue the three post-loan jobs on the long queue, one per job and day."""
	if not setting("enable_daily_jobs", 1):
		return {"enabled": False}
	day = nowdate()
	queued = {}
	for job in JOBS:
		queued[job] = enqueue_job(job, day)
	return {"enabled": True, "queued": queued}


def enqueue_job(job: str, day: str | dt.date | None = None) -> str:
	"""Enqueue one daily job (deduplicated by job and day); returns the RQ job id."""
	if job not in JOBS:
		frappe.throw(_("Unknown post-loan job {0}.").format(job))
	day = str(getdate(day or nowdate()))
	job_id = f"pl-daily-{job}-{day}"
	frappe.enqueue(
		"postloan_performance.services.daily_jobs.run_job",
		queue="long",
		timeout=6 * 3600,
		job_id=job_id,
		deduplicate=True,
		job=job,
		day=day,
	)
	return job_id


def run_job(job: str, day: str | dt.date | None = None, publish: bool = True) -> dict:
	"""Background job body: process every pending snapshot date of ``job`` up to ``day`` (commits per date)."""
	day = getdate(day or nowdate())
	titles = {
		"classification": _("Loan classification"),
		"collection": _("Collection cases"),
		"early_warning": _("Early warning"),
	}
	with step_lock("daily", job, until_commit=False):  # one run of each job at a time (services/locks.py)
		return _run_job(job, day, titles[job], publish)


def _run_job(job: str, day: dt.date, title: str, publish: bool) -> dict:
	progress = Progress(title, publish=publish)
	dates = pending_dates(job, day)
	started = time.monotonic()
	results = []
	method: Callable = frappe.get_attr(JOB_METHOD[job])
	for index, as_of in enumerate(dates):
		result = method(as_of, progress=progress.part(index, len(dates)))
		results.append(result)
		mark_processed(job, as_of, {"date": as_of, **result})
		if not frappe.flags.in_test:
			frappe.db.commit()  # nosemgrep: each processed date is kept even if a later one fails
		kill_point("after_first_chunk")  # crash tests: the next run goes on from the next date
	if dates and job in ("classification", "collection"):
		# these jobs made months of the Portfolio Quality Trend summary stale: rebuild them now rather
		# than in the first report that reads them
		portfolio_months.refresh_missing()
	progress(1.0, _("Done"))
	summary = {"job": job, "day": day, "dates": dates, "seconds": round(time.monotonic() - started, 2)}
	if not dates:
		summary["note"] = "nothing to process"
	return {**summary, "results": results}
