"""Parallel callers of one review cycle step: how many appraisals, how many refusals, how long.

    # 4 worker processes x create_appraisals on a new cycle of 200 employees (made once, then reused)
    cd ~/frappe-bench/sites && ../env/bin/python /path/to/benchmarks/parallel_steps.py --site SITE

    # the same over REST, as a real user, on an existing open cycle (e.g. the demo's)
    ../env/bin/python benchmarks/parallel_steps.py --site SITE --cycle CYCLE \\
        --url http://127.0.0.1:8000 --user demo.manager@... --password ...

Each caller has its own connection and all start together. Without the step lock and the unique key
(before issue 18) four callers made every appraisal four times; with them the answer is one appraisal
per employee and one "already running" (HTTP 409) refusal per caller that came while the step ran.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _site import bench_path, connect

import frappe

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "tests" / "integration" / "race_worker.py"
TEAM = "_Bench PL Parallel"


def make_cycle(employees: int) -> str:
	"""A new open cycle over a team of ``employees`` (the team and its people are made once)."""
	company = frappe.db.get_value("Company", {}, "name", order_by="creation asc")
	if not frappe.db.exists("PL Team", TEAM):
		people = []
		for i in range(employees):
			doc = frappe.get_doc(
				{
					"doctype": "Employee",
					"first_name": f"Bench Parallel {i:04d}",
					"company": company,
					"gender": frappe.db.get_value("Gender", {}, "name"),
					"date_of_birth": "1990-01-01",
					"date_of_joining": "2020-01-01",
					"status": "Active",
				}
			).insert(ignore_permissions=True)
			people.append(doc.name)
		frappe.get_doc(
			{
				"doctype": "PL Team",
				"team_name": TEAM,
				"layer": "Collection",
				"company": company,
				"members": [{"employee": e, "from_date": "2020-01-01"} for e in people],
			}
		).insert(ignore_permissions=True)
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": f"Bench Parallel {uuid.uuid4().hex[:6]}",
			"company": frappe.db.get_value("PL Team", TEAM, "company"),
			"is_trial": 1,
			"period_start": "2026-01-01",
			"period_end": "2026-03-31",
			"baseline_start": "2025-10-01",
			"baseline_end": "2025-12-31",
			"templates": [{"layer": "Collection", "template": "Collection - Default"}],
			"teams": [{"pl_team": TEAM}],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	from postloan_performance.services.cycle import open_cycle

	open_cycle(cycle.name)
	frappe.db.commit()
	return cycle.name


def by_processes(site: str, cycle: str, step: str, callers: int) -> list[dict]:
	sites = str(bench_path() / "sites")
	env = {**os.environ, "PYTHONPATH": f"{REPO}:{os.environ.get('PYTHONPATH', '')}"}
	with tempfile.TemporaryDirectory() as tmp:
		go = os.path.join(tmp, "go")
		procs = [
			subprocess.Popen(
				[
					sys.executable,
					str(WORKER),
					site,
					sites,
					"Administrator",
					os.path.join(tmp, f"r{i}"),
					go,
					"postloan_performance.api.cycle_step",
					json.dumps({"cycle": cycle, "step": step}),
				],
				stdout=subprocess.PIPE,
				text=True,
				env=env,
				cwd=sites,
			)
			for i in range(callers)
		]
		while not all(os.path.exists(os.path.join(tmp, f"r{i}")) for i in range(callers)):
			time.sleep(0.02)
		open(go, "w").close()
		return [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def by_rest(url: str, user: str, password: str, cycle: str, step: str, callers: int, host: str) -> list[dict]:
	import requests

	sessions = []
	for _ in range(callers):
		session = requests.Session()
		session.headers["Host"] = host  # the site, when the address is 127.0.0.1:PORT
		session.post(f"{url}/api/method/login", data={"usr": user, "pwd": password}).raise_for_status()
		sessions.append(session)
	barrier, answers = threading.Barrier(callers), [None] * callers

	def call(i):
		barrier.wait()
		r = sessions[i].post(
			f"{url}/api/method/postloan_performance.api.cycle_step", data={"cycle": cycle, "step": step}
		)
		body = r.json() if r.content else {}
		answers[i] = (
			{"ok": body.get("message")} if r.ok else {"status": r.status_code, "error": body.get("exc_type")}
		)

	threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	return answers


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--site", required=True)
	parser.add_argument("--cycle", help="an existing open cycle (default: a new one)")
	parser.add_argument("--step", default="create_appraisals")
	parser.add_argument("--callers", type=int, default=4)
	parser.add_argument("--employees", type=int, default=200)
	parser.add_argument("--url", help="call over REST at this address (default: worker processes)")
	parser.add_argument("--user")
	parser.add_argument("--password")
	args = parser.parse_args()
	connect(args.site)
	cycle = args.cycle or make_cycle(args.employees)
	started = time.monotonic()
	if args.url:
		answers = by_rest(args.url, args.user, args.password, cycle, args.step, args.callers, args.site)
	else:
		answers = by_processes(args.site, cycle, args.step, args.callers)
	seconds = time.monotonic() - started
	frappe.db.rollback()
	appraisals = frappe.db.count("PL Appraisal", {"review_cycle": cycle, "docstatus": ("<", 2)})
	employees = len(
		frappe.db.sql("select distinct employee from `tabPL Appraisal` where review_cycle = %s", cycle)
	)
	refused = sum(1 for a in answers if a.get("status") == 409)
	ok = sum(1 for a in answers if "ok" in a)
	print(
		f"{args.callers} x {args.step} on {cycle}: {ok} answered 200, {refused} refused (409), "
		f"{len(answers) - ok - refused} other; {appraisals} appraisals for {employees} employees; {seconds:.2f} s"
	)
	for a in answers:
		print("  ", json.dumps(a, default=str)[:200])


if __name__ == "__main__":
	main()
