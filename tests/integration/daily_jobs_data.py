"""Generated post-loan data for the tests of the daily jobs (classification, collection, early warning).

`generated(...)` makes a fixed-seed dataset whose team, employee and row names carry the test's own prefix
(so a test only ever reads and writes its own rows), without the generated cases, collection work and
alerts (the jobs under test make those), and with every loan Active: `replay_statuses` sets a settled or
written-off loan's final status just before the job processes its last snapshot, as the lender's system
would on that day. The data starts in 2019 so that no other data on the site shares its snapshot dates.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

import frappe

from postloan_performance.datagen import generate
from postloan_performance.engine import frames
from postloan_performance.services.daily_jobs import insert_rows
from postloan_performance.services.dataset_loader import ensure_company, load_post_loan
from tests.integration.factories import COMPANY

EMPTIED = ("cases", "actions", "recoveries", "alerts", "customer_feedback")


def isolate(ds, team_prefix: str, row_prefix: str):
	"""Prefix every team, employee, loan and row name (team names: "Demo " -> team_prefix)."""

	def team(values):
		return values.map(lambda v: v.replace("Demo ", team_prefix, 1) if isinstance(v, str) else v)

	def row(values):
		return values.map(lambda v: row_prefix + v if isinstance(v, str) and v else v)

	ds.employees["first_name"] = ds.employees["first_name"].str.replace("Demo ", team_prefix, n=1)
	ds.employees["team"] = team(ds.employees["team"])
	ds.teams["team_name"] = team(ds.teams["team_name"])
	ds.teams["parent_pl_team"] = team(ds.teams["parent_pl_team"])
	ds.memberships["team"] = team(ds.memberships["team"])
	ds.surveys["team"] = team(ds.surveys["team"])
	ds.loans["managing_team"] = team(ds.loans["managing_team"])
	renames = {
		"loans": ("name", "loan_no"),
		"snapshots": ("name", "loan"),
		"cases": ("name", "case_no", "loan"),
		"actions": ("reference", "collection_case"),
		"recoveries": ("reference", "loan", "collection_case"),
		"alerts": ("reference", "loan"),
		"events": ("reference", "loan"),
		"assessments": ("reference", "loan"),
		"tickets": ("reference", "loan"),
		"customer_feedback": ("reference", "collection_case", "ticket"),
	}
	ds.cases["pl_team"] = team(ds.cases["pl_team"])
	for frame_name, columns in renames.items():
		frame = getattr(ds, frame_name)
		for column in columns:
			frame[column] = row(frame[column])
	return ds


def generated(
	seed: int,
	n_loans: int,
	months: int,
	team_prefix: str,
	row_prefix: str,
	org=None,
	start="2019-01-01",
	keep_work: bool = False,
):
	"""The dataset; ``keep_work`` keeps the generated cases, collection work and alerts."""
	ds = generate(seed, start=start, months=months, n_loans=n_loans, org=org)
	ds = isolate(ds, team_prefix, row_prefix)
	for name in () if keep_work else EMPTIED:
		setattr(ds, name, getattr(ds, name).iloc[0:0].copy())
	ds.final_status = dict(zip(ds.loans["name"], ds.loans["status"], strict=True))
	ds.loans["status"] = "Active"
	return ds


def load(ds, prefix: str) -> dict[str, str]:
	"""Load into the site (inside the test's transaction); returns employee key -> Employee name.

	Employees get names of their own (``{prefix}E0001`` …) instead of the HR-EMP- series that
	``demo_data.load_dataset`` reserves, and teams are written without their nested-set bounds: the
	series row lock and the tree updates would serialise (or deadlock) the tests sharing the site.
	"""
	ensure_company(COMPANY, "_TPL")
	if not frappe.db.exists("Gender", "Female"):
		frappe.get_doc({"doctype": "Gender", "gender": "Female"}).insert(ignore_permissions=True)
	employee_of = {key: f"{prefix}{key}" for key in ds.employees["key"]}
	insert_rows(
		"Employee",
		[
			"name",
			"employee",
			"naming_series",
			"first_name",
			"employee_name",
			"company",
			"status",
			"gender",
			"date_of_birth",
			"date_of_joining",
			"lft",
			"rgt",
		],
		[
			(
				employee_of[key],
				employee_of[key],
				"HR-EMP-",
				first,
				first,
				COMPANY,
				"Active",
				"Female",
				dt.date(1990, 1, 1),
				dt.date(2015, 1, 1),
				0,
				0,
			)
			for key, first in zip(ds.employees["key"], ds.employees["first_name"], strict=True)
		],
	)
	# teams written directly, outside the nested set (no lft/rgt): inserting into the PL Team tree
	# locks the rows of every other team on the site
	insert_rows(
		"PL Team",
		["name", "team_name", "layer", "company", "parent_pl_team", "is_group", "team_lead", "lft", "rgt"],
		[
			(
				t["team_name"],
				t["team_name"],
				t["layer"],
				COMPANY,
				t["parent_pl_team"] or None,
				int(t["is_group"]),
				employee_of.get(t["lead_key"]) if isinstance(t["lead_key"], str) else None,
				0,
				0,
			)
			for t in frames.records(ds.teams)
		],
	)
	insert_rows(
		"PL Team Member",
		["name", "parent", "parenttype", "parentfield", "employee", "from_date", "to_date"],
		[
			(
				f"{prefix}M{i:05d}",
				m["team"],
				"PL Team",
				"members",
				employee_of[m["employee_key"]],
				pd.Timestamp(m["from_date"]).date(),
				None if pd.isna(m["to_date"]) else pd.Timestamp(m["to_date"]).date(),
			)
			for i, m in enumerate(frames.records(ds.memberships))
		],
	)
	load_post_loan(ds, COMPANY, employee_of)
	return employee_of


def month_ends(ds) -> list[dt.date]:
	return sorted({d.date() for d in pd.to_datetime(ds.snapshots["as_of_date"])})


def last_snapshot(ds) -> dict[str, dt.date]:
	frame = ds.snapshots.assign(day=pd.to_datetime(ds.snapshots["as_of_date"]).dt.date)
	return frame.groupby("loan")["day"].max().to_dict()


def replay_statuses(ds, as_of: dt.date) -> None:
	"""Give the loans whose last snapshot is ``as_of`` their final status (Settled / Written Off)."""
	last = last_snapshot(ds)
	for status in ("Settled", "Written Off"):
		loans = [loan for loan, s in ds.final_status.items() if s == status and last.get(loan) == as_of]
		if loans:
			frappe.db.sql("update `tabPL Loan` set `status` = %s where `name` in %s", (status, tuple(loans)))


def bucket(dpd) -> str:
	"""The bucket of a dpd, written out independently of the engine: 30-day steps, M6+ from 151."""
	dpd = int(dpd)
	if dpd <= 0:
		return "M0"
	return "M6+" if dpd > 150 else f"M{math.ceil(dpd / 30)}"


BUCKET_NUMBER = {f"M{i}": i for i in range(6)} | {"M6+": 6}


def snapshots_by_loan(ds) -> dict[str, list[tuple]]:
	"""loan -> [(as_of_date, dpd, outstanding, overdue_amount), …] in date order."""
	frame = ds.snapshots.assign(day=pd.to_datetime(ds.snapshots["as_of_date"]).dt.date).sort_values(
		["loan", "day"]
	)
	out: dict[str, list[tuple]] = {}
	for row in frame.itertuples(index=False):
		out.setdefault(row.loan, []).append(
			(row.day, int(row.dpd), float(row.outstanding), float(row.overdue_amount))
		)
	return out
