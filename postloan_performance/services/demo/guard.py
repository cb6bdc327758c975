"""Who may make or remove the demo, on which sites, and how its password travels to the job."""

from __future__ import annotations

import frappe
from frappe import _

from postloan_performance.services.access import require_roles
from postloan_performance.services.demo.plan import DEMO_COMPANY


def require_system_manager() -> None:
	"""The demo creates and deletes users and a company: System Manager only (also in tests, unlike
	frappe.only_for)."""
	require_roles("System Manager", message=_("Only a System Manager can create or remove the demo."))


DEMO_CONFIG_KEY = "postloan_demo"
PASSWORD_CACHE_PREFIX = "postloan_performance:demo_password:"
MIN_PASSWORD_LENGTH = 8


def demo_allowed() -> bool:
	"""The demo makes enabled users with site-wide PL roles and one shared password: only on a site that
	allows it (site config ``postloan_demo``) or in developer mode, never on a production site by mistake."""
	return bool(frappe.conf.get(DEMO_CONFIG_KEY) or frappe.conf.get("developer_mode"))


def require_demo_allowed() -> None:
	if not demo_allowed():
		frappe.throw(
			_(
				"The demo creates enabled users with one shared password, so it only runs on a site that allows "
				"it: bench --site {0} set-config {1} 1 (or in developer mode)."
			).format(frappe.local.site, DEMO_CONFIG_KEY),
			frappe.PermissionError,
			title=_("Demo Not Allowed"),
		)


def stash_password(password: str) -> str:
	"""Keep the demo password for the background job under a one-time cache key (never in the job's
	arguments, which the job queue stores and shows)."""
	key = frappe.generate_hash(length=24)
	frappe.cache.set_value(PASSWORD_CACHE_PREFIX + key, password, expires_in_sec=3600)
	return key


def take_password(key: str) -> str | None:
	"""The password stashed under ``key``, once: the key is deleted as it is read."""
	value = frappe.cache.get_value(PASSWORD_CACHE_PREFIX + key, expires=True)
	frappe.cache.delete_value(PASSWORD_CACHE_PREFIX + key)
	return value


def demo_exists() -> bool:
	"""Anything of a demo on the site: its teams or loans, or its employees (left, e.g., by an uninstall
	of an earlier version, which kept them); `remove_demo` takes all of it away."""
	return bool(
		frappe.db.exists("Company", DEMO_COMPANY)
		and (
			frappe.db.exists("PL Team", {"company": DEMO_COMPANY})
			or frappe.db.exists("PL Loan", {"company": DEMO_COMPANY})
			or frappe.db.exists("Employee", {"company": DEMO_COMPANY})
		)
	)
