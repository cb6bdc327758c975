"""Connect to a bench site from a benchmark script (run with the bench's Python)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import frappe

MANIFEST_KEY = "plp_benchmark_manifest"
OUT_DIR = Path(__file__).resolve().parent / "out"


def bench_path() -> Path:
	return Path(os.environ.get("FRAPPE_BENCH") or Path.home() / "frappe-bench")


def connect(site: str) -> None:
	"""frappe.init + connect as Administrator; exits with a message when the site does not exist."""
	sites = bench_path() / "sites"
	if not (sites / site / "site_config.json").exists():
		raise SystemExit(f"site {site} not found under {sites}: create it first (benchmarks/bench.sh does)")
	os.chdir(sites)
	frappe.init(site=site, sites_path=str(sites))
	frappe.connect()
	frappe.set_user("Administrator")
	if "postloan_performance" not in frappe.get_installed_apps():
		raise SystemExit(f"postloan_performance is not installed on {site}")


def read_manifest() -> dict | None:
	value = frappe.db.get_global(MANIFEST_KEY)
	return json.loads(value) if value else None


def write_manifest(manifest: dict) -> None:
	frappe.db.set_global(MANIFEST_KEY, json.dumps(manifest, sort_keys=True, default=str))
