"""The waits people see: one appraisal's "Recompute KPIs", one team's, and opening an appraisal form.

Each figure is the median of `repeats` runs (the machine is shared: single runs are noisy), measured both
on the set-wise path (whole-period frames, forced) and on the path the code chooses (subject-sized frames
for few people, see postloan_performance/services/subject_frames.py), and rolled back after each run.
Every record keeps the machine facts of its own moment (CPUs, load average, InnoDB buffer pool).
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict

import frappe

from postloan_performance.services import compute as compute_service

LAYERS = ("Management", "Collection", "Customer Service", "Risk Control")
TEAM_SIZE = 20


def machine_facts() -> dict:
	pool = frappe.db.sql("show variables like 'innodb_buffer_pool_size'")
	return {
		"cpus": os.cpu_count(),
		"load_avg": [round(x, 2) for x in os.getloadavg()],
		"innodb_buffer_pool_mb": int(pool[0][1]) // 2**20 if pool else None,
	}


def _median_of(repeats: int, action) -> tuple[float, list[float]]:
	runs = []
	for _ in range(repeats):
		started = time.perf_counter()
		action()
		runs.append(time.perf_counter() - started)
		frappe.db.rollback()
	return statistics.median(runs), runs


def _compute(names: list[str], path: str | None):
	def run():
		frappe.local.plp_frames_path = path
		try:
			compute_service.compute_appraisals(names=names)
		finally:
			frappe.local.plp_frames_path = None

	return run


def _form_load(name: str):
	def run():
		from frappe.desk.form.load import getdoc

		frappe.local.response = frappe._dict(docs=[])
		getdoc("PL Appraisal", name)

	return run


def pick(cycle: str) -> tuple[dict[str, str], list[str]]:
	"""One draft appraisal per layer, and the draft appraisals of one team (the team whose number of
	appraisals is closest to TEAM_SIZE, at most TEAM_SIZE of them)."""
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "docstatus": 0},
		fields=["name", "layer", "pl_team"],
		order_by="name asc",
		limit_page_length=0,
	)
	one = {}
	by_team = defaultdict(list)
	for row in rows:
		one.setdefault(row.layer, row.name)
		by_team[row.pl_team].append(row.name)
	team = min(by_team, key=lambda t: (abs(len(by_team[t]) - TEAM_SIZE), t)) if by_team else None
	return one, (by_team[team][:TEAM_SIZE] if team else [])


def measure(cycle: str, repeats: int = 3) -> list[dict]:
	"""Records for the benchmark table: group "interactive", wall_s the median of `repeats`."""
	one, team = pick(cycle)
	cases = [(f"recompute 1 appraisal: {layer}", [one[layer]]) for layer in LAYERS if layer in one]
	if team:
		cases.append((f"recompute 1 team ({len(team)} appraisals)", team))
	records = []
	frappe.set_user("Administrator")
	for label, names in cases:
		_compute(names, None)()  # warm: meta, imports
		frappe.db.rollback()
		for path, suffix in (("set", " [whole-period frames]"), (None, "")):
			facts = machine_facts()
			median, runs = _median_of(repeats, _compute(names, path))
			records.append(_record(label + suffix, median, runs, facts))
	if one:
		name = next(iter(one.values()))
		_form_load(name)()
		facts = machine_facts()
		median, runs = _median_of(repeats, _form_load(name))
		records.append(_record("open an appraisal form (getdoc, server side)", median, runs, facts))
	return records


def _record(step: str, median: float, runs: list[float], facts: dict) -> dict:
	return {
		"step": step,
		"group": "interactive",
		"wall_s": median,
		"runs_s": [round(r, 4) for r in runs],
		"machine": facts,
		"note": f"median of {len(runs)}; load {facts['load_avg'][0]}",
	}
