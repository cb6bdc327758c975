"""Time a whole review cycle, every report, the per-document baseline and the raw SQL floor on the
benchmark site (loaded by ``benchmarks/generate.py``; run with the bench's Python).

    ~/frappe-bench/env/bin/python benchmarks/run.py --site plp-bench.localhost [--sample 20] [--json PATH]
        [--profile compute] [--replica-host 127.0.0.1]

Steps (each timed on its own, committed like a background job would):

1. ``create appraisals`` — ``services.cycle.create_appraisals`` for every member of the cycle's teams;
2. ``compute KPIs + scores`` — ``services.compute.compute_appraisals`` for the whole cycle: every KPI line's
   actual from the post-loan data, line scores, totals and grades (time inside ``apply_scores`` noted);
3. ``calibrate`` — ``services.cycle.start_calibration`` (the forced-distribution proposal) once the reviews
   are done (setting the appraisals to *Calibration* is not timed);
4. every Script Report of the module with the filters a user opening it gets (``benchmarks/reports.py``),
   through ``frappe.desk.query_report.run``;
5. the raw SQL floor — the bare ``GROUP BY`` statements giving the same numbers (``benchmarks/sqlmetrics.py``),
   checked against the pipeline's actuals for every appraisal;
6. the per-document baseline — for a stratified sample of employees: ``frappe.get_doc`` the appraisal,
   one query per metric for that employee (or team), ``doc.save()``; checked against the pipeline's actuals,
   extrapolated per layer to every employee, rolled back.

Per step: wall time, SQL statements (every call of ``Database.sql``: reads, writes, transaction control),
and memory: the peak resident set size (RSS) of this process during the step (Linux ``VmHWM`` after a reset
through ``/proc/self/clear_refs``; sampled every 5 ms where that is not allowed), and its growth over the
RSS at the start of the step. RSS counts everything the process holds (Python objects, numpy/pandas
buffers, the MariaDB client's result buffers), not only Python allocations. The database server's own
memory is not included.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import random
import re
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import interactive
import reports as report_finder
import sqlmetrics
from _site import OUT_DIR, connect, read_manifest
from shape import Targets

import frappe
from frappe.database.database import Database
from frappe.utils import add_days, getdate

from postloan_performance.services import compute as compute_service
from postloan_performance.services.cycle import create_appraisals, start_calibration

TARGET_VS_BASELINE = 20.0
TARGET_VS_FLOOR = 1.5
TARGET_REPORT_S = 2.0
# targets of the default book; a larger one has its own (TARGET_*_LARGE, the whole cycle, daily jobs)
TARGET_PEAK_MB = 2048.0
TARGET_PEAK_MB_LARGE = 4096.0
TARGET_CYCLE_S = 60.0  # the whole cycle, at ten times the book
TARGET_DAILY_S = 300.0  # each daily post-loan job, at ten times the book
TARGET_ONE_APPRAISAL_S = 0.3  # "Recompute KPIs" on one appraisal, any layer
TARGET_ONE_TEAM_S = 0.5
TARGET_FORM_LOAD_S = 0.2  # server side of frappe.desk.form.load.getdoc
CYCLE_STEPS = ("create appraisals", "compute KPIs + scores", "calibrate")


# ------------------------------------------------------------------------------------------- measuring


def _proc_status() -> dict[str, int]:
	values = {}
	with open("/proc/self/status") as f:
		for line in f:
			if line.startswith(("VmRSS:", "VmHWM:")):
				key, amount = line.split(":")
				values[key] = int(amount.split()[0]) * 1024
	return values


class PeakMemory:
	"""Peak RSS during a block: the kernel's high-water mark after a reset, or a 5 ms sampler."""

	def __init__(self):
		try:
			with open("/proc/self/clear_refs", "w") as f:
				f.write("5")
			self.method = "VmHWM"
		except OSError:
			self.method = "sampled"

	def __enter__(self):
		self.start_rss = _proc_status()["VmRSS"]
		self.peak = self.start_rss
		if self.method == "VmHWM":
			with open("/proc/self/clear_refs", "w") as f:
				f.write("5")
		else:
			self._stop = threading.Event()
			self._thread = threading.Thread(target=self._sample, daemon=True)
			self._thread.start()
		return self

	def _sample(self):
		while not self._stop.wait(0.005):
			self.peak = max(self.peak, _proc_status()["VmRSS"])

	def __exit__(self, *exc):
		if self.method == "VmHWM":
			self.peak = max(self.peak, _proc_status()["VmHWM"])
		else:
			self._stop.set()
			self._thread.join()
			self.peak = max(self.peak, _proc_status()["VmRSS"])
		return False


class QueryCounter:
	"""Counts (and times) every Database.sql call of the process, on any connection."""

	def __init__(self):
		self.reads = self.writes = self.other = 0
		self.seconds = 0.0
		original = Database.sql
		counter = self

		def counted(db, query, *args, **kwargs):
			verb = str(query).lstrip()[:8].lower()
			if verb.startswith(("select", "show", "with", "explain")):
				counter.reads += 1
			elif verb.startswith(("insert", "update", "delete", "replace", "truncate")):
				counter.writes += 1
			else:
				counter.other += 1
			started = time.perf_counter()
			try:
				return original(db, query, *args, **kwargs)
			finally:
				counter.seconds += time.perf_counter() - started

		Database.sql = counted

	def snapshot(self) -> tuple[int, int, int, float]:
		return self.reads, self.writes, self.other, self.seconds


class Meter:
	def __init__(self, profile_pattern: str | None):
		self.queries = QueryCounter()
		self.steps: list[dict] = []
		self.profile_pattern = re.compile(profile_pattern, re.I) if profile_pattern else None
		self.profiles: dict[str, str] = {}
		self.memory_method = PeakMemory().method

	@contextlib.contextmanager
	def step(self, name: str, group: str, **extra):
		record = {"step": name, "group": group, **extra, "machine": interactive.machine_facts()}
		profiler = cProfile.Profile() if self.profile_pattern and self.profile_pattern.search(name) else None
		before = self.queries.snapshot()
		with PeakMemory() as memory:
			started = time.perf_counter()
			if profiler:
				profiler.enable()
			try:
				yield record
			finally:
				if profiler:
					profiler.disable()
				record["wall_s"] = time.perf_counter() - started
		after = self.queries.snapshot()
		record["reads"] = after[0] - before[0]
		record["writes"] = after[1] - before[1]
		record["tx"] = after[2] - before[2]
		record["queries"] = record["reads"] + record["writes"] + record["tx"]
		record["sql_s"] = after[3] - before[3]
		record["peak_rss_mb"] = memory.peak / 2**20
		record["rss_growth_mb"] = (memory.peak - memory.start_rss) / 2**20
		if profiler:
			self.profiles[name] = _profile_text(profiler, name)
		self.steps.append(record)


def _profile_text(profiler: cProfile.Profile, name: str) -> str:
	OUT_DIR.mkdir(exist_ok=True)
	slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
	profiler.dump_stats(str(OUT_DIR / f"profile-{slug}.prof"))
	out = io.StringIO()
	stats = pstats.Stats(profiler, stream=out)
	stats.strip_dirs()
	out.write(f"--- cProfile of '{name}': top 25 by cumulative time\n")
	stats.sort_stats("cumulative").print_stats(25)
	out.write(f"--- cProfile of '{name}': top 25 by own time\n")
	stats.sort_stats("tottime").print_stats(25)
	return out.getvalue()


# ---------------------------------------------------------------------------------------------- the cycle


def reset_cycle(cycle: str) -> None:
	"""Remove the appraisals of an earlier run and reopen the cycle (not timed)."""
	names = frappe.get_all("PL Appraisal", filters={"review_cycle": cycle}, pluck="name")
	for start in range(0, len(names), 5000):
		chunk = names[start : start + 5000]
		frappe.db.delete("Version", {"ref_doctype": "PL Appraisal", "docname": ("in", chunk)})
		frappe.db.delete("PL Appraisal KPI", {"parenttype": "PL Appraisal", "parent": ("in", chunk)})
	frappe.db.delete("PL Appraisal", {"review_cycle": cycle})
	frappe.db.set_value("PL Review Cycle", cycle, "status", "Open", update_modified=False)
	frappe.db.commit()


def run_summary(meter: Meter) -> None:
	"""The monthly portfolio summary, rebuilt from scratch: the work an import or the daily job does for
	the months it touched (here all of them). The cycle's NPL totals and Portfolio Quality Trend read it."""
	from postloan_performance.services import portfolio_months

	with meter.step("portfolio summary: rebuild all months", "data") as record:
		result = portfolio_months.refresh_all()
		frappe.db.commit()
		record["note"] = (
			f"{result['month_ends']} month-ends: {result['snapshot_rows']:,} snapshot rows "
			f"({result['snapshot_seconds']:.1f} s), {result['recovery_rows']:,} recovery rows "
			f"({result['recovery_seconds']:.1f} s), {result['case_rows']:,} case rows "
			f"({result['case_seconds']:.1f} s); import-time work, not part of the cycle"
		)


def run_interactive(meter: Meter, cycle: str) -> None:
	"""One appraisal per layer, one team, one form load (benchmarks/interactive.py), on a computed cycle
	that is then reset."""
	create_appraisals(cycle)
	compute_service.compute_appraisals(review_cycle=cycle)
	frappe.db.commit()
	meter.steps.extend(interactive.measure(cycle))
	reset_cycle(cycle)


def run_cycle(meter: Meter, cycle: str) -> dict:
	with meter.step("create appraisals", "cycle") as record:
		result = create_appraisals(cycle)
		frappe.db.commit()
		record["note"] = f"{result['created']:,} appraisals"

	scoring = {"seconds": 0.0}
	original = compute_service.apply_scores

	def timed_scores(*args, **kwargs):
		started = time.perf_counter()
		try:
			return original(*args, **kwargs)
		finally:
			scoring["seconds"] += time.perf_counter() - started

	compute_service.apply_scores = timed_scores
	try:
		with meter.step("compute KPIs + scores", "cycle") as record:
			result = compute_service.compute_appraisals(review_cycle=cycle)
			frappe.db.commit()
			record["note"] = (
				f"{result.appraisals:,} appraisals, {result.lines:,} lines; "
				f"scoring {scoring['seconds']:.2f} s; frame loads {result.queries_by_frame}"
			)
			record["frame_queries"] = result.queries_by_frame
			record["scoring_s"] = scoring["seconds"]
	finally:
		compute_service.apply_scores = original

	team = frappe.db.sql(
		"""select pl_team, count(*) from `tabPL Appraisal` where review_cycle = %s and layer = 'Collection'
		group by pl_team order by pl_team limit 1""",
		cycle,
	)
	if team:
		names = frappe.get_all(
			"PL Appraisal", filters={"review_cycle": cycle, "pl_team": team[0][0]}, pluck="name"
		)
		with meter.step("recompute one team (same data)", "extra") as record:
			result = compute_service.compute_appraisals(names=names)
			frappe.db.commit()
			record["note"] = f"{len(names)} appraisals, {result.changed_appraisals} changed"

	# the reviews are done: every appraisal waits for calibration (not timed)
	frappe.db.sql("update `tabPL Appraisal` set status = 'Calibration' where review_cycle = %s", cycle)
	frappe.db.set_value("PL Review Cycle", cycle, "status", "Scoring", update_modified=False)
	frappe.db.commit()
	with meter.step("calibrate", "cycle") as record:
		result = start_calibration(cycle)
		frappe.db.commit()
		record["note"] = f"{result['proposed']['proposed']:,} grades proposed"

	# the background job that computing the cycle enqueues: the values Scheme Effect Evaluation reads
	from postloan_performance.services.evaluation import refresh_cycle_evaluation

	with meter.step("scheme evaluation values (background job)", "background") as record:
		result = refresh_cycle_evaluation(cycle)
		frappe.db.commit()
		record["note"] = (
			f"{result.get('metrics', 0)} metrics, {result['rows']:,} values stored; "
			"enqueued after compute, not part of the cycle"
		)
	return {}


def run_daily_jobs(meter: Meter, day: str) -> None:
	"""Each daily post-loan job (classification, collection cases, early warning) on the book's last
	snapshot date, as the long-queue job runs it (the service function; the job adds the commit), rolled
	back afterwards (not timed) so that the book stays as loaded."""
	from postloan_performance.services import daily_jobs

	for job in daily_jobs.JOBS:
		method = frappe.get_attr(daily_jobs.JOB_METHOD[job])
		with meter.step(f"daily job: {job}", "daily", day=day) as record:
			result = method(day)
			record["note"] = ", ".join(
				f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
				for k, v in result.items()
				if isinstance(v, int | float | str)
			)
		started = time.perf_counter()
		frappe.db.rollback()
		record["rollback_s"] = time.perf_counter() - started


# --------------------------------------------------------------------------------------------- reports


def run_reports(meter: Meter, ctx: report_finder.Context, replica_host: str | None) -> None:
	from frappe.desk.query_report import run as run_report

	names = report_finder.sync_reports()
	frappe.db.commit()
	conf = frappe.local.conf
	saved = {key: conf.get(key) for key in ("read_from_replica", "replica_host")}
	if replica_host:
		conf.read_from_replica, conf.replica_host = 1, replica_host
	try:
		for name in names:
			filters = report_finder.default_filters(name, ctx)
			unset = report_finder.unset_required(name, filters)
			if unset:  # e.g. the What-If comparison on a site without a what-if: nothing a user could open
				print(f"report {name}: skipped, no record for its required filter {', '.join(unset)}")
				continue
			with meter.step(f"report: {name}", "report", filters=filters) as record:
				try:
					result = run_report(name, filters=filters, ignore_prepared_report=True)
					rows = result.get("result") or []
					record["rows"] = len([r for r in rows if isinstance(r, dict | list | tuple)])
					record["note"] = f"{record['rows']:,} rows"
					record["ok"] = True
				except Exception as e:
					record["ok"] = False
					record["error"] = f"{type(e).__name__}: {frappe.utils.strip_html(str(e))[:200]}"
					record["note"] = "FAILED: " + record["error"]
			frappe.db.rollback()
			for key in ("replica_db", "primary_db"):  # let the next report connect its replica again
				if hasattr(frappe.local, key):
					delattr(frappe.local, key)
	finally:
		for key, value in saved.items():
			conf[key] = value


# ------------------------------------------------------------------------------- floor and baseline


def cycle_window(cycle: str) -> sqlmetrics.Window:
	doc = frappe.db.get_value(
		"PL Review Cycle",
		cycle,
		["period_start", "period_end", "baseline_start", "baseline_end"],
		as_dict=True,
	)
	return sqlmetrics.Window(
		getdate(doc.period_start),
		getdate(doc.period_end),
		getdate(doc.baseline_start) if doc.baseline_start else None,
		getdate(doc.baseline_end) if doc.baseline_end else None,
		cycle,
	)


def pipeline_actuals(cycle: str) -> tuple[dict, list[dict]]:
	"""{(metric, subject): actual or None} from the stored KPI lines, and one row per appraisal."""
	rows = frappe.db.sql(
		"""select a.name, a.employee, a.pl_team, a.layer, k.builtin_metric, k.subject, l.actual, l.no_data
		from `tabPL Appraisal` a
		join `tabPL Appraisal KPI` l on l.parent = a.name and l.parenttype = 'PL Appraisal'
		join `tabPL KPI` k on k.name = l.kpi
		where a.review_cycle = %s and k.method = 'Built-in'""",
		cycle,
		as_dict=True,
	)
	actuals = {}
	for row in rows:
		subject = row.pl_team if row.subject == "Team" else row.employee
		actuals[(row.builtin_metric, subject)] = None if row.no_data else float(row.actual)
	appraisals = frappe.db.sql(
		"select name, employee, pl_team, layer from `tabPL Appraisal` where review_cycle = %s order by name",
		cycle,
		as_dict=True,
	)
	return actuals, appraisals


def same(a: float | None, b: float | None) -> bool:
	if a is None or b is None:
		return a is None and b is None
	return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def run_floor(meter: Meter, cycle: str, actuals: dict, appraisals: list[dict], timed: bool = True) -> dict:
	window = cycle_window(cycle)
	metrics = {code for code, _subject in actuals}
	employees = sorted({a.employee for a in appraisals})
	teams = sorted({a.pl_team for a in appraisals if a.layer == "Management"})
	step = meter.step("raw SQL floor", "floor") if timed else contextlib.nullcontext({})
	with step as record:
		values = sqlmetrics.floor(window, employees, teams, metrics)
	mismatches = [
		(key, actuals[key], values.get(key))
		for key in sorted(actuals)
		if not same(actuals[key], values.get(key))
	]
	if timed:
		record["note"] = f"{len(actuals):,} values of {len(metrics)} metrics; " + (
			"all equal to the pipeline's" if not mismatches else f"{len(mismatches)} DIFFER"
		)
		record["mismatches"] = [list(map(str, m)) for m in mismatches[:20]]
	return {"values": len(values), "mismatches": len(mismatches), "examples": mismatches[:5]}


def sample_employees(appraisals: list[dict], size: int, seed: int) -> dict[str, list[dict]]:
	"""A stratified sample: per layer in proportion to its head count, at least two per layer."""
	by_layer = defaultdict(list)
	for row in appraisals:
		by_layer[row.layer].append(row)
	total = len(appraisals)
	rng = random.Random(seed)
	sample = {}
	for layer, rows in sorted(by_layer.items()):
		count = min(len(rows), max(2, round(size * len(rows) / total)))
		sample[layer] = rng.sample(rows, count)
	return sample


def naive_appraisal(name: str, window: sqlmetrics.Window) -> dict:
	"""The per-document way for one appraisal: load it, query each metric for its subject, save it."""
	doc = frappe.get_doc("PL Appraisal", name)
	values = {}
	for line in doc.kpis:
		kpi = frappe.get_doc("PL KPI", line.kpi)
		if kpi.method != "Built-in":
			continue
		subject = doc.pl_team if kpi.subject == "Team" else doc.employee
		value = sqlmetrics.per_subject(kpi.builtin_metric, subject, window)
		values[(kpi.builtin_metric, subject)] = value
		line.actual = 0 if value is None else value
		line.no_data = 1 if value is None else 0
		line.data_date = window.end
	doc.flags.ignore_permissions = True
	doc.save()
	return values


def run_baseline(
	meter: Meter, cycle: str, actuals: dict, appraisals: list[dict], size: int, seed: int
) -> dict:
	window = cycle_window(cycle)
	sample = sample_employees(appraisals, size, seed)
	counts = defaultdict(int)
	for row in appraisals:
		counts[row.layer] += 1
	per_layer, mismatches, checked = {}, [], 0
	frappe.flags.mute_emails = True
	n_sampled = sum(len(rows) for rows in sample.values())
	with meter.step(f"per-document baseline ({n_sampled} appraisals)", "baseline") as record:
		for layer, rows in sample.items():
			seconds = []
			for row in rows:
				started = time.perf_counter()
				values = naive_appraisal(row.name, window)
				seconds.append(time.perf_counter() - started)
				for key, value in values.items():
					checked += 1
					if not same(actuals.get(key), value):
						mismatches.append((key, actuals.get(key), value))
			per_layer[layer] = {
				"sampled": len(rows),
				"employees": counts[layer],
				"mean_s": sum(seconds) / len(seconds),
				"extrapolated_s": sum(seconds) / len(seconds) * counts[layer],
			}
	frappe.db.rollback()
	extrapolated = sum(v["extrapolated_s"] for v in per_layer.values())
	record["note"] = (
		f"{checked} values checked: "
		+ ("all equal to the pipeline's" if not mismatches else f"{len(mismatches)} DIFFER")
		+ f"; extrapolated to {len(appraisals):,} appraisals: {extrapolated:,.1f} s"
	)
	record["mismatches"] = [list(map(str, m)) for m in mismatches[:20]]
	meter.steps.append(
		{
			"step": f"per-document baseline, extrapolated to {len(appraisals):,}",
			"group": "baseline",
			"wall_s": extrapolated,
			"queries": round(record["queries"] / n_sampled * len(appraisals)),
			"reads": None,
			"writes": None,
			"tx": None,
			"sql_s": None,
			"peak_rss_mb": None,
			"rss_growth_mb": None,
			"note": "per layer: "
			+ ", ".join(
				f"{layer} {v['mean_s']:.3f} s × {v['employees']:,}" for layer, v in per_layer.items()
			),
			"extrapolated": True,
		}
	)
	return {
		"per_layer": per_layer,
		"extrapolated_s": extrapolated,
		"mismatches": len(mismatches),
		"checked": checked,
	}


# ----------------------------------------------------------------------------------------------- output


def machine_info() -> dict:
	load = os.getloadavg()
	memory = {}
	with open("/proc/meminfo") as f:
		for line in f:
			key, value = line.split(":")
			if key in ("MemTotal", "MemAvailable"):
				memory[key] = int(value.split()[0]) // 1024
	variables = dict(
		frappe.db.sql(
			"""show variables where Variable_name in ('version', 'innodb_buffer_pool_size',
			'innodb_flush_log_at_trx_commit')"""
		)
	)
	return {
		"cpus": os.cpu_count(),
		"load_avg": [round(x, 2) for x in load],
		"mem_total_mb": memory.get("MemTotal"),
		"mem_available_mb": memory.get("MemAvailable"),
		"mariadb": variables.get("version"),
		"innodb_buffer_pool_mb": int(variables.get("innodb_buffer_pool_size", 0)) // 2**20,
		"python": sys.version.split()[0],
		"frappe": frappe.__version__,
	}


def print_table(steps: list[dict]) -> str:
	header = f"{'step':<52} {'wall s':>9} {'queries':>8} {'peak MB':>8} {'+MB':>7}  note"
	lines = [header, "-" * len(header)]
	group = None
	for s in steps:
		if group is not None and s["group"] != group:
			lines.append("")
		group = s["group"]
		peak = "" if s.get("peak_rss_mb") is None else f"{s['peak_rss_mb']:.0f}"
		growth = "" if s.get("rss_growth_mb") is None else f"{s['rss_growth_mb']:+.0f}"
		queries = "" if s.get("queries") is None else f"{s['queries']:,}"
		lines.append(
			f"{s['step'][:52]:<52} {s['wall_s']:>9.2f} {queries:>8} {peak:>8} {growth:>7}  {s.get('note', '')}"
		)
	return "\n".join(lines)


def summarise(steps: list[dict], baseline: dict | None, scale: float = 1.0) -> dict:
	by_name = {s["step"]: s for s in steps}
	cycle_s = sum(by_name[name]["wall_s"] for name in CYCLE_STEPS if name in by_name)
	floor = by_name.get("raw SQL floor")
	reports = [s for s in steps if s["group"] == "report"]
	compute = by_name.get("compute KPIs + scores", {})
	recompute = by_name.get("recompute one team (same data)", {})
	measured = [s for s in steps if s.get("peak_rss_mb") is not None]
	summary = {
		"whole_cycle_s": cycle_s,
		"floor_s": floor["wall_s"] if floor else None,
		"baseline_extrapolated_s": baseline["extrapolated_s"] if baseline else None,
		"speedup_vs_baseline": baseline["extrapolated_s"] / cycle_s if baseline and cycle_s else None,
		"ratio_to_floor": cycle_s / floor["wall_s"] if floor and floor["wall_s"] else None,
		"compute_queries": compute.get("queries"),
		"compute_reads": compute.get("reads"),
		"compute_writes": compute.get("writes"),
		"recompute_one_team_reads": recompute.get("reads"),
		"slowest_report": max(reports, key=lambda s: s["wall_s"])["step"] if reports else None,
		"slowest_report_s": max((s["wall_s"] for s in reports), default=None),
		"failed_reports": [s["step"] for s in reports if not s.get("ok")],
		"max_peak_rss_mb": max((s["peak_rss_mb"] for s in measured), default=None),
		"slowest_step": max(
			(s for s in steps if not s.get("extrapolated")), key=lambda s: s["wall_s"], default={}
		).get("step"),
	}
	speedup, ratio = summary["speedup_vs_baseline"], summary["ratio_to_floor"]
	# None: not measured in this run (a skipped part)
	interactive_steps = [s for s in steps if s["group"] == "interactive" and "whole-period" not in s["step"]]
	one = [s["wall_s"] for s in interactive_steps if s["step"].startswith("recompute 1 appraisal")]
	team = [s["wall_s"] for s in interactive_steps if s["step"].startswith("recompute 1 team")]
	form = [s["wall_s"] for s in interactive_steps if s["step"].startswith("open an appraisal form")]
	daily = [s for s in steps if s["group"] == "daily"]
	peak_target = TARGET_PEAK_MB if scale <= 1 else TARGET_PEAK_MB_LARGE
	summary["scale"] = scale
	summary["slowest_daily_job_s"] = max((s["wall_s"] for s in daily), default=None)
	summary["slowest_one_appraisal_s"] = max(one, default=None)
	summary["one_team_s"] = max(team, default=None)
	summary["form_load_s"] = max(form, default=None)
	reports_ok = None if not reports else all(s["wall_s"] < TARGET_REPORT_S and s.get("ok") for s in reports)
	peak_ok = (summary["max_peak_rss_mb"] or 0) < peak_target
	if scale <= 1:  # the targets of the default book
		summary["targets"] = {
			f"one appraisal of any layer under {TARGET_ONE_APPRAISAL_S:g} s (median of 3)": None
			if not one
			else max(one) < TARGET_ONE_APPRAISAL_S,
			f"one team of {interactive.TEAM_SIZE} under {TARGET_ONE_TEAM_S:g} s (median of 3)": None
			if not team
			else max(team) < TARGET_ONE_TEAM_S,
			f"appraisal form load under {TARGET_FORM_LOAD_S:g} s (median of 3)": None
			if not form
			else max(form) < TARGET_FORM_LOAD_S,
			f"whole cycle >= {TARGET_VS_BASELINE:g}x faster than per-document": None
			if speedup is None
			else speedup >= TARGET_VS_BASELINE,
			f"whole cycle within {TARGET_VS_FLOOR:g}x of the raw SQL floor": None
			if ratio is None
			else ratio <= TARGET_VS_FLOOR,
			f"every report under {TARGET_REPORT_S:g} s": reports_ok,
			f"peak RSS of every step under {peak_target:g} MB": peak_ok,
		}
	else:  # the targets of a larger book (ten times the default)
		summary["targets"] = {
			f"whole cycle under {TARGET_CYCLE_S:g} s": None if not cycle_s else cycle_s < TARGET_CYCLE_S,
			f"every report under {TARGET_REPORT_S:g} s": reports_ok,
			f"each daily post-loan job under {TARGET_DAILY_S:g} s": None
			if not daily
			else all(s["wall_s"] < TARGET_DAILY_S for s in daily),
			f"peak RSS of every step under {peak_target:g} MB": peak_ok,
		}
	return summary


def print_summary(summary: dict, machine: dict, memory_method: str) -> str:
	lines = []

	def ratio(value, suffix="x"):
		return "n/a" if value is None else f"{value:.1f}{suffix}"

	lines.append(
		f"whole cycle (create + compute + score + calibrate): {summary['whole_cycle_s']:.2f} s; "
		f"per-document baseline (extrapolated): "
		+ (
			"n/a"
			if summary["baseline_extrapolated_s"] is None
			else f"{summary['baseline_extrapolated_s']:,.1f} s"
		)
		+ "; raw SQL floor: "
		+ ("n/a" if summary["floor_s"] is None else f"{summary['floor_s']:.2f} s")
	)
	lines.append(
		f"  speed-up over per-document: {ratio(summary['speedup_vs_baseline'])}; "
		f"cycle / floor: {ratio(summary['ratio_to_floor'])}"
	)
	lines.append(
		f"  compute queries for the whole cycle: {summary['compute_queries']} "
		f"({summary['compute_reads']} reads, {summary['compute_writes']} writes in chunks of 500 rows); "
		f"recomputing one team reads with {summary['recompute_one_team_reads']} queries"
	)
	lines.append(
		f"  slowest report: {summary['slowest_report']} ({ratio(summary['slowest_report_s'], ' s')}); "
		f"max peak RSS: {ratio(summary['max_peak_rss_mb'], ' MB')} ({memory_method}); "
		f"slowest step: {summary['slowest_step']}"
	)
	if summary["failed_reports"]:
		lines.append("  FAILED reports: " + ", ".join(summary["failed_reports"]))
	for target, ok in summary["targets"].items():
		lines.append(f"  [{'n/a ' if ok is None else 'PASS' if ok else 'MISS'}] {target}")
	lines.append(
		f"  machine: {machine['cpus']} CPUs, load average {machine['load_avg']}, "
		f"MariaDB {machine['mariadb']} (buffer pool {machine['innodb_buffer_pool_mb']} MB), "
		f"Python {machine['python']}, Frappe {machine['frappe']}"
	)
	return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", default="plp-bench.localhost")
	parser.add_argument("--sample", type=int, default=20, help="appraisals in the per-document baseline")
	parser.add_argument("--seed", type=int, default=1, help="seed of the baseline's sample")
	parser.add_argument(
		"--json", help="write the results here (default benchmarks/out/run-<site>-<time>.json)"
	)
	parser.add_argument("--profile", help="cProfile the steps whose name matches this regex (e.g. compute)")
	parser.add_argument(
		"--replica-host", help="run the reports with read_from_replica against this host (e.g. 127.0.0.1)"
	)
	parser.add_argument("--skip-baseline", action="store_true")
	parser.add_argument(
		"--skip-daily", action="store_true", help="skip the daily post-loan jobs on the last snapshot date"
	)
	parser.add_argument("--skip-reports", action="store_true")
	parser.add_argument(
		"--reports-only", action="store_true", help="only the reports, on the cycle of the previous run"
	)
	parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed warm-up pass")
	parser.add_argument(
		"--skip-interactive", action="store_true", help="skip one appraisal / one team / form-load timings"
	)
	parser.add_argument(
		"--interactive-only", action="store_true", help="only one appraisal / one team / form-load timings"
	)
	return parser.parse_args(argv)


def main(argv=None) -> int:
	args = parse_args(argv)
	connect(args.site)
	manifest = read_manifest()
	if not manifest:
		raise SystemExit(f"{args.site} has no benchmark data: run benchmarks/generate.py first")
	cycle = manifest["cycle"]
	frappe.flags.mute_emails = True
	machine_before = machine_info()
	meter = Meter(args.profile)
	print(
		f"benchmark on {args.site}: {manifest['employees']:,} employees in {manifest['teams']} teams, "
		+ ", ".join(f"{k.removeprefix('PL ')} {v:,}" for k, v in manifest["counts"].items())
	)
	print(
		f"cycle {cycle}: {manifest['dates']['period_start']} … {manifest['dates']['period_end']}; "
		f"load average {machine_before['load_avg']}"
	)

	if args.interactive_only:
		args.no_warm_up = True
	if args.reports_only:
		args.no_warm_up = args.skip_baseline = True
	else:
		reset_cycle(cycle)
	if not args.no_warm_up:
		# read the data once so that every timed step starts from the same (warm) caches
		started = time.perf_counter()
		create_appraisals(cycle)
		actuals, appraisals = pipeline_actuals(cycle)
		window = cycle_window(cycle)
		sqlmetrics.floor(
			window,
			sorted({a.employee for a in appraisals}),
			sorted({a.pl_team for a in appraisals if a.layer == "Management"}),
			{code for code, _subject in actuals},
		)
		compute_service.compute_appraisals(review_cycle=cycle)
		frappe.db.rollback()
		reset_cycle(cycle)
		print(f"warm-up pass: {time.perf_counter() - started:.1f} s (not counted)")

	if not args.reports_only and not args.skip_interactive:
		run_interactive(meter, cycle)
	if args.interactive_only:
		args.reports_only = args.skip_reports = args.skip_baseline = True
		args.skip_floor = True
	if not args.reports_only:
		run_summary(meter)
		run_cycle(meter, cycle)
	actuals, appraisals = pipeline_actuals(cycle)
	period = manifest["dates"]
	ctx = report_finder.Context(
		cycle=cycle,
		company=manifest["company"],
		period_start=getdate(period["period_start"]),
		period_end=getdate(period["period_end"]),
		today=getdate(add_days(manifest["data_end"], 1)),
	)
	if not args.skip_reports:
		run_reports(meter, ctx, args.replica_host)
	floor = (
		{}
		if args.reports_only or getattr(args, "skip_floor", False)
		else run_floor(meter, cycle, actuals, appraisals)
	)
	baseline = None
	if not args.skip_baseline:
		baseline = run_baseline(meter, cycle, actuals, appraisals, args.sample, args.seed)
	if not (args.skip_daily or args.reports_only):
		run_daily_jobs(meter, manifest["data_end"])

	default_loans = Targets().loans
	scale = (manifest["spec"]["targets"]["loans"] or default_loans) / default_loans
	summary = summarise(meter.steps, baseline, scale)
	machine = machine_info()
	machine["load_avg_before"] = machine_before["load_avg"]
	table = print_table(meter.steps)
	text = print_summary(summary, machine, meter.memory_method)
	print()
	print(table)
	print()
	print(text)
	for profile in meter.profiles.values():
		print()
		print(profile)
	results = {
		"site": args.site,
		"finished_at": dt.datetime.now().isoformat(timespec="seconds"),
		"machine": machine,
		"memory_measure": f"peak RSS of the runner process during each step ({meter.memory_method})",
		"manifest": manifest,
		"steps": meter.steps,
		"summary": summary,
		"floor_check": {k: v for k, v in floor.items() if k != "examples"},
		"baseline": baseline,
		"table": table,
	}
	path = (
		Path(args.json) if args.json else OUT_DIR / f"run-{args.site}-{time.strftime('%Y%m%d-%H%M%S')}.json"
	)
	path.parent.mkdir(parents=True, exist_ok=True)
	path.write_text(json.dumps(results, indent=1, default=_json_default))
	print(f"\nresults: {path}")
	frappe.destroy()
	return 0 if all(ok is not False for ok in summary["targets"].values()) else 1


def _json_default(value):
	if isinstance(value, dt.date | dt.datetime):
		return value.isoformat()
	if isinstance(value, float) and math.isnan(value):
		return None
	return str(value)


if __name__ == "__main__":
	sys.exit(main())
