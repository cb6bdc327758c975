"""The connector's runs: back-fill or daily increment from PL Lending Settings, in the background."""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, getdate, now_datetime, today

from postloan_performance.services.lending import is_active, sync

SETTINGS = "PL Lending Settings"
JOB_ID = "pl-lending-sync"


def _lines(text) -> list[str]:
	return [line.strip() for line in (text or "").splitlines() if line.strip()]


def configuration() -> dict:
	settings = frappe.get_single(SETTINGS)
	return {
		"companies": _lines(settings.companies),
		"products": _lines(settings.loan_products),
		"mapping": [
			{
				"loan_product": row.loan_product,
				"branch": row.branch,
				"cost_center": row.cost_center,
				"pl_team": row.pl_team,
			}
			for row in settings.team_map
		],
		"backfill_from": settings.backfill_from,
		"last_run": settings.last_run,
		"enabled": settings.enable_daily_sync,
	}


def _progress(done: int, total: int) -> None:
	frappe.publish_progress(
		done * 100 / max(total, 1), title=_("Lending sync"), description=f"{done}/{total}"
	)


def run_sync(start=None, end=None, progress=_progress) -> dict:
	"""One run over the configured scope; records its time and counts on PL Lending Settings."""
	if not is_active():
		return {"active": False}
	config = configuration()
	result = sync.run(
		start=start or config["backfill_from"],
		end=end,
		companies=config["companies"],
		products=config["products"],
		mapping=config["mapping"],
		progress=progress,
	)
	summary = dict(result, unmapped=len(result["unmapped"]), unmapped_loans=result["unmapped"][:50])
	frappe.db.set_single_value(
		SETTINGS, {"last_run": now_datetime(), "last_result": json.dumps(summary, default=str)}
	)
	frappe.db.commit()  # nosemgrep: end of a background run
	frappe.publish_realtime("pl_lending_sync_done", summary, user=frappe.session.user)
	return result


def enqueue_run() -> str:
	frappe.enqueue(
		"postloan_performance.services.lending.jobs.run_sync",
		queue="long",
		timeout=3600,
		job_id=JOB_ID,
		deduplicate=True,
	)
	return JOB_ID


def daily() -> None:
	"""Scheduler hook, after Lending's daily loan classification: the previous and current month-ends
	(the current one as of today's data), so amendments of last month are reflected too."""
	if not is_active() or not frappe.db.get_single_value(SETTINGS, "enable_daily_sync"):
		return
	start = getdate(get_first_day(add_months(today(), -1)))
	run_sync(start=start, end=getdate(today()), progress=None)


def after_lending_classification(doc, method=None) -> None:
	"""doc_events hook of Lending's Process Loan Classification: the daily increment once it is in."""
	if is_active() and frappe.db.get_single_value(SETTINGS, "enable_daily_sync"):
		frappe.enqueue(
			"postloan_performance.services.lending.jobs.daily",
			queue="long",
			job_id=JOB_ID + "-daily",
			deduplicate=True,
			enqueue_after_commit=True,
		)
