"""Every Script Report of the module reads through ``frappe.read_only()``, so a site with a MariaDB replica
(``read_from_replica`` and ``replica_host`` in site_config.json) runs the reports on the replica.

``frappe.read_only()`` leaves no attribute to check reliably, so the tests check what it does: with
``read_from_replica`` set, calling ``execute`` asks ``frappe.connect_replica`` for the replica before running
the report; and on a real second connection (the same server standing in for the replica) every query of
the report runs there, never on the primary, which is restored afterwards. Nothing is committed.
"""

import importlib
import json
from pathlib import Path
from unittest import mock

import pytest

import frappe
from frappe.database.database import Database

MODULE = "Postloan Performance"
REPORT_DIR = Path(__file__).resolve().parents[2] / "postloan_performance" / "postloan_performance" / "report"


def script_reports() -> list[tuple[str, str]]:
	"""(report name, python module) of every Script Report of the module in this checkout."""
	found = []
	for path in sorted(REPORT_DIR.glob("*/*.json")):
		if path.stem != path.parent.name:
			continue
		doc = json.loads(path.read_text(encoding="utf-8"))
		if doc.get("doctype") == "Report" and doc.get("report_type") == "Script Report":
			if doc.get("module") == MODULE:
				found.append(
					(doc["name"], f"postloan_performance.postloan_performance.report.{path.stem}.{path.stem}")
				)
	return found


REPORTS = script_reports()


class ReplicaRequested(Exception):
	pass


@pytest.fixture
def clean_replica_state():
	yield
	for key in ("replica_db", "primary_db"):
		if hasattr(frappe.local, key):
			delattr(frappe.local, key)


def test_the_module_has_script_reports():
	assert len(REPORTS) >= 1


def test_every_script_report_on_the_site_is_checked():
	on_site = set(
		frappe.get_all("Report", filters={"module": MODULE, "report_type": "Script Report"}, pluck="name")
	)
	assert on_site <= {name for name, _module in REPORTS}


@pytest.mark.parametrize("report, module_path", REPORTS, ids=[name for name, _ in REPORTS])
def test_execute_asks_for_the_replica_first(report, module_path, clean_replica_state):
	execute = importlib.import_module(module_path).execute
	with (
		mock.patch.dict(frappe.local.conf, {"read_from_replica": 1}),
		mock.patch.object(frappe, "connect_replica", side_effect=ReplicaRequested) as connect,
	):
		with pytest.raises(ReplicaRequested):
			execute(frappe._dict())
	connect.assert_called_once_with()


def typical_filters() -> frappe._dict:
	"""Filters that let every report reach its queries (its result does not matter here)."""
	cycle = frappe.get_all("PL Review Cycle", pluck="name", limit_page_length=1, order_by="creation asc")
	company = frappe.get_all("Company", pluck="name", limit_page_length=1, order_by="creation asc")
	what_if = frappe.get_all("PL Scheme What-If", pluck="name", limit_page_length=1, order_by="creation asc")
	return frappe._dict(
		review_cycle=cycle[0] if cycle else "_Test PL No Such Cycle",
		company=company[0] if company else None,
		from_date="2026-01-01",
		to_date="2026-03-31",
		what_if=what_if[0] if what_if else "_Test PL No Such What-If",
	)


# reports that read another app's tables: without that app they answer with a message and no query
# (tests/lending checks Lending Reconciliation on a site with Lending)
NEEDS_APP = {"Lending Reconciliation": "lending"}


@pytest.mark.parametrize("report, module_path", REPORTS, ids=[name for name, _ in REPORTS])
def test_every_query_runs_on_the_replica_connection(report, module_path, clean_replica_state):
	"""A second connection to the same server plays the replica: whatever the report reads, it reads
	there (the report may still refuse the filters; its result does not matter here)."""
	app = NEEDS_APP.get(report)
	if app and app not in frappe.get_installed_apps():
		pytest.skip(f"{report} reads the tables of {app}, which this site does not have")
	assert_queries_on_replica(report, module_path)


def assert_queries_on_replica(report: str, module_path: str) -> None:
	"""Run the report's ``execute`` with a second connection as the replica; every query must run there."""
	execute = importlib.import_module(module_path).execute
	filters = typical_filters()
	primary = frappe.local.db
	connections = []
	original_sql = Database.sql

	def spy(db, *args, **kwargs):
		connections.append(db)
		return original_sql(db, *args, **kwargs)

	replica_conf = {"read_from_replica": 1, "replica_host": frappe.local.conf.db_host or "127.0.0.1"}
	with mock.patch.dict(frappe.local.conf, replica_conf), mock.patch.object(Database, "sql", spy):
		try:
			execute(filters)
		except frappe.ValidationError:
			pass
	assert frappe.local.db is primary, "the primary connection is restored after the report"
	assert connections, f"{report} ran no query"
	assert all(db is not primary for db in connections), f"{report} queried the primary connection"
