"""Measure where subject-sized frames stop paying: compute N appraisals on both paths, N growing.

    cd ~/frappe-bench/sites && PYTHONPATH=<checkout> ../env/bin/python <checkout>/benchmarks/crossover.py \\
        --site plp-bench.localhost [--sizes 1,10,20,40,80,160] [--repeats 3]

Needs the benchmark data and the cycle's draft appraisals (creates them with `create_appraisals` when
the cycle has none; run.py resets the cycle at its start). The appraisals are taken in name order over
all people layers (Management appraisals read portfolio frames on both paths), or of one layer with
`--layer`: on the benchmark data the first 1,260 in name order are all Collection appraisals, so compare
the lighter layers with e.g. `--layer "Risk Control"`. Each size is run `repeats` times per path and
rolled back, after one untimed run of each path (meta, imports). Each line also gives the number of
people subjects (distinct employees: the appraisees and the members of their teams for team KPIs), the
unit `SUBJECT_READ_LIMIT` in postloan_performance/services/subject_frames.py counts; the result, with
the machine facts, decides it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import interactive
from _site import OUT_DIR, connect, read_manifest

import frappe

from postloan_performance.services import subject_frames
from postloan_performance.services.compute import compute_appraisals
from postloan_performance.services.cycle import create_appraisals


class _CountingCache(subject_frames.SubjectFrameCache):
	"""Records how many people the subject-sized path read frames for."""

	last_people = None

	def __init__(self, window, review_cycle, people):
		super().__init__(window, review_cycle, people)
		_CountingCache.last_people = len(set(people))


def main(argv=None) -> int:
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="plp-bench.localhost")
	parser.add_argument("--sizes", default="1,10,20,40,80,160")
	parser.add_argument("--repeats", type=int, default=3)
	parser.add_argument("--layer", help="only appraisals of this layer (default: every people layer)")
	args = parser.parse_args(argv)
	connect(args.site)
	frappe.set_user("Administrator")
	cycle = read_manifest()["cycle"]
	if not frappe.db.exists("PL Appraisal", {"review_cycle": cycle}):
		print(f"creating the appraisals of {cycle}", flush=True)
		create_appraisals(cycle)
		frappe.db.commit()
	names = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "docstatus": 0, "layer": args.layer or ("!=", "Management")},
		order_by="name asc",
		pluck="name",
	)
	if not names:
		raise SystemExit(f"{cycle} has no draft appraisals of people layers")
	subject_frames.SubjectFrameCache = _CountingCache  # compute looks it up on the module at each call
	for path in ("set", "subject"):  # warm: meta, imports
		frappe.local.plp_frames_path = path
		compute_appraisals(names=names[:1])
		frappe.local.plp_frames_path = None
		frappe.db.rollback()
	rows = []
	for size in (int(s) for s in args.sizes.split(",")):
		picked = names[:size]
		row = {"appraisals": len(picked), "machine": interactive.machine_facts()}
		for path in ("set", "subject"):
			runs = []
			for _ in range(args.repeats):
				frappe.local.plp_frames_path = path
				started = time.perf_counter()
				compute_appraisals(names=picked)
				runs.append(time.perf_counter() - started)
				frappe.local.plp_frames_path = None
				frappe.db.rollback()
			row[path] = statistics.median(runs)
			row[f"{path}_runs"] = [round(r, 4) for r in runs]
		row["people"] = _CountingCache.last_people
		row["layer"] = args.layer
		print(
			f"{row['appraisals']:>5} appraisals ({row['people']} people): whole-period {row['set']:.3f} s, "
			f"subject-sized {row['subject']:.3f} s, load {row['machine']['load_avg'][0]}",
			flush=True,
		)
		rows.append(row)
	OUT_DIR.mkdir(exist_ok=True)
	path = OUT_DIR / f"crossover-{args.site}-{time.strftime('%Y%m%d-%H%M%S')}.json"
	path.write_text(json.dumps(rows, indent=1))
	print(f"results: {path}")
	frappe.destroy()
	return 0


if __name__ == "__main__":
	raise SystemExit(main())
