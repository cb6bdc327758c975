"""Scheme what-if speed: a draft version of each layer's template scored over the benchmark cycle.

    cd ~/frappe-bench/sites && PYTHONPATH=<checkout> ../env/bin/python <checkout>/benchmarks/whatif_speed.py \\
        --site plp-bench.localhost [--repeats 3]

Needs the benchmark data and the cycle's appraisals (run.py, or crossover.py, creates them). For every
layer with appraisals in the cycle: a new version of its template is drafted, a what-if created and run
in the request (services.scheme_whatif.execute), timed; everything is rolled back. Prints one line per
layer and the sum (the whole cycle's staff), with the machine facts.
"""

from __future__ import annotations

import argparse
import statistics
import time

import interactive
from _site import connect, read_manifest

import frappe

from postloan_performance.services import scheme_versions, scheme_whatif


def main(argv=None) -> int:
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="plp-bench.localhost")
	parser.add_argument("--repeats", type=int, default=3)
	args = parser.parse_args(argv)
	connect(args.site)
	cycle = read_manifest()["cycle"]
	layers = frappe.db.sql(
		"""select layer, template, count(*) from `tabPL Appraisal`
		where review_cycle = %s and docstatus < 2 group by layer, template order by layer""",
		cycle,
	)
	if not layers:
		raise SystemExit(f"no appraisals in {cycle}: run benchmarks/run.py or crossover.py first")
	total = 0.0
	for layer, template, people in layers:
		runs = []
		for _ in range(args.repeats):
			draft = scheme_versions.new_version(template)
			name = scheme_whatif.create(draft, cycle)
			started = time.perf_counter()
			result = scheme_whatif.execute(name)
			runs.append(time.perf_counter() - started)
			frappe.db.rollback()
		median = statistics.median(runs)
		total += median
		print(
			f"what-if {layer:<17} {people:>5} people  {median:6.2f} s  (median of {args.repeats}; "
			f"status {result.get('status')}, load {interactive.machine_facts()['load_avg'][0]})",
			flush=True,
		)
	people = sum(int(n) for _l, _t, n in layers)
	print(f"what-if, every layer  {people:>5} people  {total:6.2f} s  (sum of the medians; target < 10 s)")
	return 0


if __name__ == "__main__":
	raise SystemExit(main())
