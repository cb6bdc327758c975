"""Without Frappe Lending (the integration site): the connector is inactive and harmless."""

import ast
from pathlib import Path

import pytest

import frappe

from postloan_performance.services import lending
from postloan_performance.services.lending import jobs, sync

APP = Path(__file__).resolve().parents[2] / "postloan_performance"


@pytest.fixture(autouse=True)
def without_lending():
	if "lending" in frappe.get_installed_apps():
		pytest.skip("this site has Lending installed")


def test_connector_inactive_and_settings_say_so():
	assert lending.is_active() is False
	assert "Inactive" in frappe.get_single("PL Lending Settings").connector_status
	assert jobs.run_sync() == {"active": False}
	jobs.daily()  # the scheduler hook is a no-op
	with pytest.raises(frappe.ValidationError):
		sync.sync_loans()


def test_run_now_refused_without_lending():
	from postloan_performance.api import run_lending_sync

	with pytest.raises(frappe.ValidationError):
		run_lending_sync()


def test_reconciliation_report_empty_without_lending():
	from postloan_performance.services.reports.lending_reconciliation import get_data

	result = get_data(frappe._dict())
	assert result["data"] == [] and result["message"]


def test_no_module_imports_lending():
	for path in APP.rglob("*.py"):
		tree = ast.parse(path.read_text(encoding="utf-8"))
		for node in ast.walk(tree):
			names = []
			if isinstance(node, ast.Import):
				names = [a.name for a in node.names]
			elif isinstance(node, ast.ImportFrom) and node.module:
				names = [node.module]
			assert not any(n == "lending" or n.startswith("lending.") for n in names), path
