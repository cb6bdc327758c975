"""Load the benchmark dataset into a dedicated site (run with the bench's Python).

    ~/frappe-bench/env/bin/python benchmarks/generate.py --site plp-bench.localhost            # full size
    ~/frappe-bench/env/bin/python benchmarks/generate.py --site plp-bench.localhost \\
        --loans 5000 --employees 200 --teams 20                                                 # small

The rows come from ``postloan_performance.datagen`` (fixed seed) shaped to the target counts by
``benchmarks/shape.py``, in parts of at most 200,000 loans (each with its own seed, staff, teams and key
prefix). Employees and teams go through ``services.dataset_loader``; the post-loan rows through ``LOAD DATA
LOCAL INFILE`` (:class:`DataLoader`, ``tsv_rows``) or, with ``--loader insert``, the importer's multi-row
``INSERT IGNORE`` (``services.post_loan_data._insert``).
It also creates the benchmark's review cycle (Draft, every team, the default template of each layer, the
last quarter of the data as the period, the quarter before as the baseline) and one satisfaction survey per
employee for it. A manifest (sizes, seed, cycle, counts) is kept in the site's defaults: running the same
command again loads nothing; other sizes on a loaded site need ``--force`` (the benchmark company's
employees, teams, post-loan rows and cycle are replaced: use it on the benchmark's own site only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tsv_rows
from _site import connect, read_manifest, write_manifest
from shape import Targets, build, part_sizes, parts_of, prefixed, scaled

import frappe
from frappe.utils import add_months, get_last_day, getdate, now

from postloan_performance.engine import row_rules
from postloan_performance.install import default_template_name
from postloan_performance.services import portfolio_months, post_loan_data
from postloan_performance.services.cycle import reserve_names
from postloan_performance.services.dataset_loader import (
	EMPLOYEE_COLUMNS,
	POST_LOAN_FRAMES,
	ensure_company,
	load_employees,
	load_teams,
)

COMPANY, ABBR = "PLB Lender", "PLB"
CYCLE_NAME = "PLB Benchmark Cycle"
LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
COMMIT_EVERY = 200_000  # rows per transaction while loading
LOAD_DATA_ROWS = 250_000  # rows per LOAD DATA file
DATA_TABLES = [doctype for doctype, _columns in POST_LOAN_FRAMES.values()]


def parse_args(argv=None) -> argparse.Namespace:
	defaults = Targets()
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", default="plp-bench.localhost")
	parser.add_argument("--seed", type=int, default=20261130)
	parser.add_argument("--start", default="2025-07-01", help="first day of the data (month-end snapshots)")
	parser.add_argument("--months", type=int, default=12)
	parser.add_argument("--employees", type=int, default=2000)
	parser.add_argument("--teams", type=int, default=100)
	for field, value in defaults.as_dict().items():
		help_text = f"target rows (default {value:,} at 200,000 loans, else in proportion to --loans)"
		parser.add_argument(f"--{field}", type=int, default=None, help=help_text)
	parser.add_argument("--force", action="store_true", help="replace benchmark data of another size")
	parser.add_argument(
		"--loader",
		choices=("load-data", "insert"),
		default="load-data",
		help="load-data: the server parses tab-separated files (LOAD DATA LOCAL INFILE; the default book "
		"in 125 s here); insert: the importer's multi-row INSERT IGNORE",
	)
	parser.add_argument(
		"--scale",
		type=float,
		default=None,
		help="the default book times this (10: 2 M loans, 20,000 staff in 1,000 teams); explicit sizes win",
	)
	args = parser.parse_args(argv)
	if args.scale is not None:
		targets, employees, teams = scaled(args.scale)
		explicit = {a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:])}
		args.loans = args.loans or targets.loans
		if "--employees" not in explicit:
			args.employees = employees
		if "--teams" not in explicit:
			args.teams = teams
	args.loans = args.loans or defaults.loans
	for field, value in defaults.as_dict().items():
		if getattr(args, field) is None:
			setattr(args, field, round(value * args.loans / defaults.loans))
	return args


def spec_of(args: argparse.Namespace) -> dict:
	targets = {field: getattr(args, field) for field in Targets().as_dict()}
	return {
		"seed": args.seed,
		"start": args.start,
		"months": args.months,
		"employees": args.employees,
		"teams": args.teams,
		"targets": targets,
	}


def cycle_dates(start: str, months: int) -> dict[str, dt.date]:
	"""The last quarter of the data (or all of it when shorter) and the quarter before as the baseline."""
	last = getdate(get_last_day(add_months(getdate(start), months - 1)))
	length = min(3, months)
	period_start = getdate(add_months(last, -length + 1)).replace(day=1)
	dates = {"period_start": period_start, "period_end": last}
	if months >= 2 * length:
		dates["baseline_start"] = getdate(add_months(period_start, -length))
		dates["baseline_end"] = getdate(period_start - dt.timedelta(days=1))
	return dates


# ---------------------------------------------------------------------------------------------- loading


def _post_loan_frame(ds, frame_name: str, employee_of: dict[str, str]) -> pd.DataFrame:
	doctype, _columns = POST_LOAN_FRAMES[frame_name]
	spec = row_rules.SPECS[doctype]
	frame = getattr(ds, frame_name).copy()
	if frame_name == "loans":
		frame["company"] = COMPANY
	for column in EMPLOYEE_COLUMNS.get(frame_name, ()):
		frame[column] = frame[column].map(employee_of)
	if "name" not in frame.columns:
		frame["name"] = frame["reference"]
	for column in spec.columns:
		if column not in frame.columns:
			frame[column] = None
	return frame[["name", *spec.columns]]


class DataLoader:
	"""``LOAD DATA LOCAL INFILE ... IGNORE`` of rendered chunks (``tsv_rows``) on a connection of its own,
	in a thread: the server loads one chunk while this process renders the next (two cores busy instead
	of one). Each chunk is committed when loaded; :meth:`finish` waits for the last one."""

	def __init__(self):
		import pymysql

		conf = frappe.conf
		self.connection = pymysql.connect(
			host=conf.db_host or "127.0.0.1",
			port=int(conf.db_port or 3306),
			user=conf.db_user or conf.db_name,
			password=conf.db_password,
			database=conf.db_name,
			charset="utf8mb4",
			local_infile=True,
		)
		self.pool = ThreadPoolExecutor(max_workers=1)
		self.pending: Future | None = None

	def load(self, doctype: str, spec, chunk: pd.DataFrame, timestamp: str, user: str) -> int:
		"""Render ``chunk`` and queue its load; returns the rows the previous chunk wrote."""
		with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8", delete=False) as f:
			f.write(tsv_rows.render(spec, chunk, timestamp, user))
		columns = ", ".join(f"`{c}`" for c in tsv_rows.fields(spec))
		statement = (
			f"load data local infile %s ignore into table `tab{doctype}` character set utf8mb4 "
			f"fields terminated by '\\t' lines terminated by '\\n' ({columns})"
		)
		written = self.finish()
		self.pending = self.pool.submit(self._load, statement, f.name)
		return written

	def _load(self, statement: str, path: str) -> int:
		try:
			with self.connection.cursor() as cursor:
				written = cursor.execute(statement, (path,))
			self.connection.commit()
			return written
		finally:
			os.unlink(path)

	def finish(self) -> int:
		"""Wait for the queued load; the rows it wrote (0 when none was queued)."""
		pending, self.pending = self.pending, None
		return pending.result() if pending else 0

	def close(self) -> None:
		self.finish()
		self.pool.shutdown()
		self.connection.close()


def load_post_loan(
	ds, employee_of: dict[str, str], loader: str = "load-data"
) -> dict[str, tuple[int, float]]:
	"""Every post-loan frame, through LOAD DATA or the bulk loader's INSERT IGNORE path; returns rows
	written and seconds per DocType. Rows go in name order, so the clustered index grows at its end."""
	timestamp, user = now(), frappe.session.user
	data_loader = DataLoader() if loader == "load-data" else None
	size = LOAD_DATA_ROWS if data_loader else post_loan_data.INSERT_CHUNK_SIZE
	written = {}
	try:
		for frame_name, (doctype, _columns) in POST_LOAN_FRAMES.items():
			frame = _post_loan_frame(ds, frame_name, employee_of).sort_values("name", kind="stable")
			spec = row_rules.SPECS[doctype]
			started, rows, since_commit = time.perf_counter(), 0, 0
			for begin in range(0, len(frame), size):
				chunk = frame.iloc[begin : begin + size]
				if data_loader and not tsv_rows.has_markup(spec, chunk):
					rows += data_loader.load(doctype, spec, chunk, timestamp, user)
					continue
				# the importer's own path (and, with LOAD DATA, chunks with markup: the importer sanitises it)
				rows += post_loan_data._insert(doctype, spec, chunk, timestamp, user)
				since_commit += len(chunk)
				if since_commit >= COMMIT_EVERY:
					frappe.db.commit()
					since_commit = 0
			if data_loader:
				rows += data_loader.finish()
			frappe.db.commit()
			written[doctype] = (rows, time.perf_counter() - started)
	finally:
		if data_loader:
			data_loader.close()
	return written


def create_cycle(teams: pd.DataFrame, surveys: pd.DataFrame, dates: dict, employee_of: dict[str, str]) -> str:
	"""The benchmark's review cycle (Draft) and one satisfaction survey per employee for it."""
	if not frappe.db.exists("PL Review Cycle", CYCLE_NAME):
		frappe.get_doc(
			{
				"doctype": "PL Review Cycle",
				"cycle_name": CYCLE_NAME,
				"company": COMPANY,
				"is_trial": 0,
				**dates,
				"templates": [{"layer": layer, "template": default_template_name(layer)} for layer in LAYERS],
				"teams": [{"pl_team": team} for team in teams["team_name"]],
			}
		).insert(ignore_permissions=True)
	if frappe.db.count("PL Satisfaction Survey", {"review_cycle": CYCLE_NAME}):
		return CYCLE_NAME
	names = reserve_names("PLSS-.YYYY.-", len(surveys))
	stamp, user = now(), frappe.session.user
	fields = [
		"name",
		"naming_series",
		"review_cycle",
		"respondent",
		"pl_team",
		"fairness",
		"clarity",
		"motivation",
		"workload",
		"suggestion",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"docstatus",
	]
	standard = [stamp, stamp, user, user, 0]
	rows = [
		[
			name,
			"PLSS-.YYYY.-",
			CYCLE_NAME,
			employee_of[r.respondent],
			r.team,
			*(int(r.fairness), int(r.clarity), int(r.motivation), int(r.workload)),
			r.suggestion or None,
			*standard,
		]
		for name, r in zip(names, surveys.itertuples(index=False), strict=True)
	]
	frappe.db.bulk_insert("PL Satisfaction Survey", fields, rows)
	return CYCLE_NAME


def clear_benchmark_data(organisation: bool) -> None:
	"""--force: remove the post-loan rows and the benchmark cycle; with ``organisation``, also the company's
	employees and the teams (only ever run on the benchmark's own site)."""
	for doctype in DATA_TABLES:
		frappe.db.sql(f"truncate table `tab{doctype}`")  # nosemgrep: DDL on the benchmark's own site
	appraisals = frappe.get_all("PL Appraisal", filters={"review_cycle": CYCLE_NAME}, pluck="name")
	for chunk in _chunks(appraisals, 5000):
		frappe.db.delete("PL Appraisal KPI", {"parent": ("in", chunk), "parenttype": "PL Appraisal"})
		frappe.db.delete("Version", {"ref_doctype": "PL Appraisal", "docname": ("in", chunk)})
	frappe.db.delete("PL Appraisal", {"review_cycle": CYCLE_NAME})
	frappe.db.delete("PL Satisfaction Survey", {"review_cycle": CYCLE_NAME})
	frappe.db.delete("PL Review Cycle Team", {"parent": CYCLE_NAME})
	frappe.db.delete("PL Review Cycle Template", {"parent": CYCLE_NAME})
	frappe.db.delete("PL Review Cycle", {"name": CYCLE_NAME})
	if organisation:
		teams = frappe.get_all("PL Team", filters={"company": COMPANY}, pluck="name")
		frappe.db.delete("PL Team Member", {"parenttype": "PL Team", "parent": ("in", teams or [""])})
		frappe.db.delete("PL Team", {"company": COMPANY})
		frappe.db.delete("Employee", {"company": COMPANY})
	frappe.db.commit()


def _chunks(values: list, size: int):
	iterator = iter(values)
	while chunk := list(itertools.islice(iterator, size)):
		yield chunk


def table_counts() -> dict[str, int]:
	return {doctype: frappe.db.count(doctype) for doctype in DATA_TABLES}


def main(argv=None) -> int:
	args = parse_args(argv)
	spec = spec_of(args)
	connect(args.site)
	if args.loader == "load-data" and str(frappe.db.sql("select @@local_infile")[0][0]) != "1":
		raise SystemExit("the MariaDB server does not allow LOAD DATA LOCAL INFILE: use --loader insert")
	manifest = read_manifest()
	if manifest and manifest.get("spec") == spec:
		print(
			f"{args.site}: benchmark data already loaded ({manifest['counts']['PL Loan Snapshot']:,} snapshots)"
		)
		return 0
	if manifest:
		org_changed = (
			manifest["spec"]["employees"],
			manifest["spec"]["teams"],
			manifest["spec"]["seed"],
		) != (
			args.employees,
			args.teams,
			args.seed,
		)
		if not args.force:
			raise SystemExit(f"{args.site} holds benchmark data of another size: add --force to replace it")
		print("replacing the benchmark data …")
		clear_benchmark_data(organisation=org_changed)

	frappe.flags.mute_emails = True
	ensure_company(COMPANY, ABBR)
	frappe.db.commit()
	loading = time.perf_counter()
	targets = Targets(**spec["targets"])
	parts = parts_of(args.loans)
	employee_of: dict[str, str] = {}
	org = {"teams": [], "surveys": []}
	totals: dict[str, list[float]] = {}
	for index in range(parts):
		started = time.perf_counter()
		part_targets, part_employees, part_teams = part_sizes(
			targets, args.employees, args.teams, parts, index
		)
		ds = build(
			args.seed + index,
			part_targets,
			employees=part_employees,
			teams=part_teams,
			start=args.start,
			months=args.months,
		)
		if parts > 1:  # each part a region of its own: its keys carry its prefix
			ds = prefixed(ds, f"R{index + 1:02d}-")
		generated = time.perf_counter() - started
		part_of = load_employees(ds.employees, COMPANY)
		load_teams(ds, COMPANY, part_of)
		frappe.db.commit()
		employee_of.update(part_of)
		written = load_post_loan(ds, employee_of, args.loader)
		for doctype, (rows, seconds) in written.items():
			total = totals.setdefault(doctype, [0, 0.0])
			total[0] += rows
			total[1] += seconds
		org["teams"].append(ds.teams)
		org["surveys"].append(ds.surveys)
		rows = sum(r for r, _s in written.values())
		print(
			f"part {index + 1}/{parts}: generated in {generated:.1f} s, "
			f"{len(part_of):,} employees, {len(ds.teams)} teams, {rows:,} post-loan rows; "
			f"{time.perf_counter() - loading:.0f} s so far",
			flush=True,
		)
		del ds
	for doctype, (rows, seconds) in totals.items():
		print(
			f"  {doctype:<22} {int(rows):>10,} rows in {seconds:6.1f} s ({rows / max(seconds, 1e-9):,.0f}/s)"
		)
	teams = pd.concat(org["teams"], ignore_index=True)
	surveys = pd.concat(org["surveys"], ignore_index=True)
	portfolio_months.invalidate_all()  # rows written past the importer: the monthly summary is rebuilt
	dates = cycle_dates(args.start, args.months)
	cycle = create_cycle(teams, surveys, dates, employee_of)
	frappe.db.commit()
	for doctype in DATA_TABLES:
		frappe.db.sql(f"analyze table `tab{doctype}`")  # fresh index statistics for the optimiser
	counts = table_counts()
	write_manifest(
		{
			"spec": spec,
			"cycle": cycle,
			"company": COMPANY,
			"dates": {k: str(v) for k, v in dates.items()},
			"data_start": args.start,
			"data_end": str(getdate(get_last_day(add_months(getdate(args.start), args.months - 1)))),
			"counts": counts,
			"employees": len(employee_of),
			"teams": len(teams),
			"parts": parts,
			"loader": args.loader,
			"loaded_at": now(),
		}
	)
	frappe.db.commit()
	print(
		f"loaded in {time.perf_counter() - loading:.1f} s; cycle {cycle} ({dates['period_start']} … {dates['period_end']})"
	)
	for doctype, count in counts.items():
		print(f"  {doctype:<22} {count:>10,}")
	frappe.destroy()
	return 0


if __name__ == "__main__":
	sys.exit(main())
