"""Time an incentive payout of 2,000 employees: computing it and creating its HRMS drafts.

    cd ~/frappe-bench/sites && PYTHONPATH=<checkout> ../env/bin/python <checkout>/benchmarks/payout_speed.py \
        --site plp-payout.localhost [--employees 2000 --teams 100]

Needs a site with HRMS. Everything it makes (employees, teams, a published cycle with its appraisals,
salary structure assignments for all but one in twenty, a plan and a run) is written in bulk in one
transaction that is rolled back at the end, so the site is left as it was. Prints the seconds of:
compute (services.payout.compute: the queries and the engine), prepare (compute + storing the lines
and totals), confirm (the draft Additional Salary in bulk) and a second confirm (creates nothing).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _site import connect

import frappe
from frappe.utils import now_datetime

from postloan_performance.services import payout as service
from postloan_performance.services.bulk import insert_many

PREFIX = "PAYB"
GRADES = "SAABBBBCCD"


def parse_args(argv=None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", default="plp-payout.localhost")
	parser.add_argument("--employees", type=int, default=2000)
	parser.add_argument("--teams", type=int, default=100)
	return parser.parse_args(argv)


def _common():
	now = now_datetime()
	return {"creation": now, "modified": now, "owner": "Administrator", "modified_by": "Administrator"}


def setup(args) -> str:
	company = frappe.get_all("Company", pluck="name", limit=1)[0]
	currency = frappe.get_cached_value("Company", company, "default_currency")
	common = _common()
	if not frappe.db.exists("Gender", "Female"):
		frappe.get_doc({"doctype": "Gender", "gender": "Female"}).insert()
	employees = [f"{PREFIX}-EMP-{i:05d}" for i in range(args.employees)]
	fields = [
		"name",
		"first_name",
		"employee_name",
		"company",
		"status",
		"gender",
		"date_of_birth",
		"date_of_joining",
		*common,
	]
	insert_many(
		"Employee",
		fields,
		[
			[e, e, e, company, "Active", "Female", "1990-01-01", "2020-01-01", *common.values()]
			for e in employees
		],
	)
	teams = []
	for t in range(args.teams):
		team = frappe.get_doc(
			{
				"doctype": "PL Team",
				"team_name": f"{PREFIX} Team {t:03d}",
				"layer": "Collection",
				"company": company,
			}
		).insert()
		teams.append(team.name)
	member_fields = [
		"name",
		"parent",
		"parenttype",
		"parentfield",
		"idx",
		"employee",
		"employee_name",
		"from_date",
		*common,
	]
	members = []
	for i, e in enumerate(employees):
		start = "2025-01-01" if i % 7 else "2026-02-15"  # one in seven joined halfway through
		members.append(
			[
				f"{PREFIX}M{i:06d}",
				teams[i % len(teams)],
				"PL Team",
				"members",
				1,
				e,
				e,
				start,
				*common.values(),
			]
		)
	insert_many("PL Team Member", member_fields, members)
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": f"{PREFIX} Cycle",
			"company": company,
			"period_start": "2026-01-01",
			"period_end": "2026-03-31",
			"templates": [{"layer": "Collection", "template": "Collection - Default"}],
			"teams": [{"pl_team": t} for t in teams],
		}
	).insert()
	frappe.db.set_value("PL Review Cycle", cycle.name, "status", "Published")
	appraisal_fields = [
		"name", "employee", "employee_name", "pl_team", "layer", "review_cycle", "company", "template", "is_trial",
		"status", "docstatus", "published_on", "total_score", "final_grade", "period_start", "period_end", *common,
	]  # fmt: skip
	insert_many(
		"PL Appraisal",
		appraisal_fields,
		[
			[
				f"{PREFIX}-PLA-{i:05d}",
				e,
				e,
				teams[i % len(teams)],
				"Collection",
				cycle.name,
				company,
				"Collection - Default",
				0,
				"Published",
				1,
				"2026-04-01 09:00:00",
				50 + (i * 37) % 50,
				GRADES[(i * 7) % len(GRADES)],
				"2026-01-01",
				"2026-03-31",
				*common.values(),
			]  # fmt: skip
			for i, e in enumerate(employees)
		],
	)
	for name, abbr in (("PAYB Incentive", "PAYBI"), ("PAYB Basic", "PAYBB")):
		if not frappe.db.exists("Salary Component", name):
			frappe.get_doc(
				{
					"doctype": "Salary Component",
					"salary_component": name,
					"salary_component_abbr": abbr,
					"type": "Earning",
				}
			).insert()
	structure = frappe.get_doc(
		{
			"doctype": "Salary Structure",
			"name": f"{PREFIX} Structure",
			"company": company,
			"payroll_frequency": "Monthly",
			"currency": currency,
			"is_active": "Yes",
			"earnings": [{"salary_component": "PAYB Basic", "abbr": "PAYBB", "amount": 5000}],
		}
	).insert()
	structure.submit()
	ssa_fields = [
		"name",
		"employee",
		"salary_structure",
		"company",
		"currency",
		"from_date",
		"base",
		"docstatus",
		*common,
	]
	insert_many(
		"Salary Structure Assignment",
		ssa_fields,
		[
			[
				f"{PREFIX}-SSA-{i:05d}",
				e,
				structure.name,
				company,
				currency,
				"2025-01-01",
				5000,
				1,
				*common.values(),
			]
			for i, e in enumerate(employees)
			if i % 20
		],
	)
	plan = frappe.get_doc(
		{
			"doctype": "PL Incentive Plan",
			"plan_name": f"{PREFIX} Plan",
			"company": company,
			"effective_from": "2025-01-01",
			"pool_basis": "Target per Employee",
			"target_amount": 1234.56,
			"team_split": "Weighted by Team Score",
			"salary_component": "PAYB Incentive",
		}
	).insert()
	return (
		frappe.get_doc({"doctype": "PL Payout Run", "plan": plan.name, "review_cycle": cycle.name})
		.insert()
		.name
	)


def timed(label: str, fn):
	start = time.perf_counter()
	result = fn()
	seconds = time.perf_counter() - start
	print(f"{label:<28} {seconds:7.2f} s")
	return result, seconds


def main(argv=None) -> None:
	args = parse_args(argv)
	connect(args.site)
	if not service.hrms_installed():
		raise SystemExit("HRMS is not installed on this site")
	try:
		run, _ = timed("setup (bulk, rolled back)", lambda: setup(args))
		(result, _lines), _ = timed(
			f"compute {args.employees} lines", lambda: service.compute(frappe.get_doc("PL Payout Run", run))
		)
		print(
			f"  pool {result.pool:,.2f} = sum {result.lines['amount'].sum():,.2f}; unallocated {result.unallocated}"
		)
		timed("prepare (compute + store)", lambda: service.prepare(run))
		confirmed, _ = timed("confirm (drafts in bulk)", lambda: service.confirm(run))
		print(
			f"  {confirmed['created']} drafts, {len(confirmed['without_salary_structure'])} without structure"
		)
		again, _ = timed("confirm again", lambda: service.confirm(run))
		print(f"  {again['created']} drafts created on the second confirm")
	finally:
		frappe.db.rollback()
		frappe.destroy()


if __name__ == "__main__":
	main()
