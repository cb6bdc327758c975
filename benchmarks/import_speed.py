"""Time the bulk loader on lender-sized files, by internal names and by the keys the lender has.

    ~/frappe-bench/env/bin/python benchmarks/import_speed.py --site plp-im.localhost            # 200,000 rows
    ~/frappe-bench/env/bin/python benchmarks/import_speed.py --site plp-im.localhost --rows 20000

Sets up once (committed, idempotent) on the site's company: the generated employees (``datagen``, each
with a staff number and a company e-mail) and the loans (named ``IMP-…``; ``--remove`` deletes them); then writes CSV files of ``--rows`` month-end
snapshots and recoveries twice, links by internal names and by the lender's keys (loan numbers under a
"Loan No" header, staff numbers), and loads each file ``--repeat`` times through
``services.post_loan_data.import_file``, each load in a transaction that is rolled back. The "names only"
line loads the names file with the other keys switched off: the lookup the loader did before it
resolved keys. Prints the median seconds of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _site import OUT_DIR, connect

import frappe
from frappe.utils import now

from postloan_performance.datagen.generator import OrgSpec, generate
from postloan_performance.engine import row_rules
from postloan_performance.services import import_keys, post_loan_data
from postloan_performance.services.bulk import bulk_update
from postloan_performance.services.dataset_loader import load_employees

PREFIX = "IMP-"


def parse_args(argv=None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", default="plp-bench.localhost")
	parser.add_argument("--rows", type=int, default=200_000, help="snapshot rows per file")
	parser.add_argument("--recoveries", type=int, default=50_000, help="recovery rows per file")
	parser.add_argument("--repeat", type=int, default=3)
	parser.add_argument("--seed", type=int, default=20261205)
	parser.add_argument("--company", default=None, help="default: the site's default company")
	parser.add_argument("--remove", action="store_true", help="delete the benchmark's loans and stop")
	return parser.parse_args(argv)


def setup(args) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
	"""Employees (with staff numbers and e-mails) and loans on the site; the snapshot and recovery frames."""
	months = 12
	ds = generate(args.seed, months=months, n_loans=args.rows // months + 2_000, org=OrgSpec.scaled(200, 20))
	company = args.company or frappe.defaults.get_global_default("company")
	employee_of = load_employees(ds.employees, company)
	bulk_update(
		"Employee",
		{
			name: {"employee_number": f"S-{i:05d}", "company_email": f"staff{i:05d}@lender.example"}
			for i, name in enumerate(sorted(employee_of.values()))
		},
	)
	# names of their own, apart from the generated datasets other tests and the demo load
	loans = ds.loans.copy()
	loans["name"] = loans["loan_no"] = PREFIX + loans["loan_no"]
	loans["company"] = company
	loans["managing_team"] = None
	spec = row_rules.SPECS["PL Loan"]
	for column in spec.columns:
		if column not in loans:
			loans[column] = None
	loans = loans[["name", *spec.columns]]
	timestamp, user = now(), frappe.session.user
	for start in range(0, len(loans), post_loan_data.INSERT_CHUNK_SIZE):
		post_loan_data._insert(
			"PL Loan", spec, loans.iloc[start : start + post_loan_data.INSERT_CHUNK_SIZE], timestamp, user
		)
	frappe.db.commit()
	snapshots = ds.snapshots.head(args.rows).copy()
	snapshots["loan"] = PREFIX + snapshots["loan"]
	recoveries = ds.recoveries.head(args.recoveries).copy()
	recoveries["loan"] = PREFIX + recoveries["loan"]
	recoveries["reference"] = PREFIX + recoveries["reference"]
	recoveries["collector"] = recoveries["collector"].map(employee_of)
	return snapshots, recoveries, employee_of


def write_files(snapshots: pd.DataFrame, recoveries: pd.DataFrame, employee_of: dict[str, str]) -> dict:
	folder = OUT_DIR / "import"
	folder.mkdir(parents=True, exist_ok=True)
	number = dict(
		frappe.get_all(
			"Employee",
			filters={"name": ("in", list(employee_of.values()))},
			fields=["name", "employee_number"],
			as_list=True,
		)
	)
	snap = snapshots[["loan", "as_of_date", "outstanding", "overdue_amount", "dpd"]].copy()
	snap["as_of_date"] = pd.to_datetime(snap["as_of_date"]).dt.strftime("%Y-%m-%d")
	by_key = snap.rename(columns={"loan": "Loan No"})
	by_key["Loan No"] = by_key["Loan No"].str.lower()
	rec = recoveries[["reference", "loan", "collector", "amount", "received_on"]].copy()
	rec["received_on"] = pd.to_datetime(rec["received_on"]).dt.strftime("%Y-%m-%d")
	rec_key = rec.assign(collector=rec["collector"].map(number), loan=rec["loan"].str.lower())
	files = {
		("PL Loan Snapshot", "names"): folder / "snapshots-names.csv",
		("PL Loan Snapshot", "keys"): folder / "snapshots-loan-numbers.csv",
		("PL Recovery", "names"): folder / "recoveries-names.csv",
		("PL Recovery", "keys"): folder / "recoveries-staff-numbers.csv",
	}
	snap.to_csv(files[("PL Loan Snapshot", "names")], index=False)
	by_key.to_csv(files[("PL Loan Snapshot", "keys")], index=False)
	rec.to_csv(files[("PL Recovery", "names")], index=False)
	rec_key.to_csv(files[("PL Recovery", "keys")], index=False)
	return files


def timed_load(doctype: str, path: Path, repeat: int, names_only: bool = False) -> tuple[float, dict]:
	seconds, result = [], None
	for _ in range(repeat):
		frappe.db.rollback()
		started = time.perf_counter()
		if names_only:
			with mock.patch.object(import_keys, "key_fields", return_value=()):
				result = post_loan_data.import_file(doctype, str(path), publish_progress=False)
		else:
			result = post_loan_data.import_file(doctype, str(path), publish_progress=False)
		seconds.append(time.perf_counter() - started)
		frappe.db.rollback()
	return statistics.median(seconds), result


def main(argv=None) -> int:
	args = parse_args(argv)
	connect(args.site)
	if args.remove:
		frappe.db.delete("PL Loan", {"name": ("like", f"{PREFIX}%")})
		frappe.db.commit()
		print("removed the benchmark's loans")
		return 0
	started = time.perf_counter()
	snapshots, recoveries, employee_of = setup(args)
	files = write_files(snapshots, recoveries, employee_of)
	print(
		f"set up in {time.perf_counter() - started:.1f} s ({len(snapshots):,} snapshots, {len(recoveries):,} recoveries)"
	)
	for doctype in ("PL Loan Snapshot", "PL Recovery"):
		timed_load(doctype, files[(doctype, "keys")], 1)  # warm-up: metadata, caches, buffer pool
		base, _ = timed_load(doctype, files[(doctype, "names")], args.repeat, names_only=True)
		names, result = timed_load(doctype, files[(doctype, "names")], args.repeat)
		keys, keyed = timed_load(doctype, files[(doctype, "keys")], args.repeat)
		assert result["inserted"] == keyed["inserted"] == result["rows"], (result, keyed)
		print(f"{doctype}: {result['rows']:,} rows, median of {args.repeat}")
		print(f"  names only (keys off)        {base:6.2f} s")
		print(f"  internal names               {names:6.2f} s  ({(names / base - 1) * 100:+.1f} %)")
		print(f"  lender keys                  {keys:6.2f} s  ({(keys / base - 1) * 100:+.1f} %)")
	frappe.destroy()
	return 0


if __name__ == "__main__":
	sys.exit(main())
