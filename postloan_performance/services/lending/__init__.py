"""Connector to Frappe Lending: the lender's own loan book feeds PL Loan, PL Loan Snapshot and PL Recovery.

The connector is optional: it is active only on sites where the Lending app is installed, and nothing
here imports ``lending`` (it reads Lending's tables with SQL), so the app installs and runs without it.
"""

from __future__ import annotations

import frappe

LENDING_APP = "lending"


def is_active() -> bool:
	"""True when the Lending app is installed on this site."""
	return LENDING_APP in frappe.get_installed_apps()


def connector_status() -> str:
	"""The sentence PL Lending Settings shows about the connector."""
	from frappe import _

	if is_active():
		return _("Active: the Lending app is installed.")
	return _("Inactive: the Lending app is not installed on this site.")
