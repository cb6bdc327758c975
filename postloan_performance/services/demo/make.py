"""Making the demo, inline or as a background job with progress."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import numpy as np

import frappe
from frappe import _

from postloan_performance.datagen import Dataset
from postloan_performance.services import portfolio_months
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.demo.cycles import _run_cycle
from postloan_performance.services.demo.guard import demo_exists, require_demo_allowed, take_password
from postloan_performance.services.demo.inventory import demo_checksum, demo_counts
from postloan_performance.services.demo.payout import _make_payout
from postloan_performance.services.demo.people import _make_briefing, _make_users
from postloan_performance.services.demo.plan import DEMO_ABBR, DEMO_COMPANY, cycle_plan, demo_dataset
from postloan_performance.services.demo.remove import remove_demo
from postloan_performance.services.demo.scheme_trial import make_what_if


# ---------------------------------------------------------------- make
class _Progress:
	def __init__(self, total: int, publish: bool, callback: Callable[[int, int, str], None] | None):
		self.total, self.publish, self.callback, self.done = total, publish, callback, 0

	def __call__(self, description: str):
		self.done += 1
		if self.publish:
			frappe.publish_progress(
				self.done * 100 / self.total, title=_("Creating the demo"), description=description
			)
		if self.callback:
			self.callback(self.done, self.total, description)


def make_demo(
	seed: int = 2026,
	n_loans: int = 3000,
	months: int = 12,
	password: str | None = None,
	publish_progress: bool = False,
	on_progress: Callable[[int, int, str], None] | None = None,
) -> dict:
	"""Create the demo (see the module docstring). Refuses when a demo is already loaded.

	Does not commit: the caller (bench command, background job) commits once at the end, so a
	failure leaves nothing behind.
	"""
	require_demo_allowed()
	if demo_exists():
		frappe.throw(
			_(
				"The demo is already loaded; remove it first (bench --site {0} postloan-demo --remove)."
			).format(frappe.local.site),
			title=_("Demo Exists"),
		)
	plan = cycle_plan()
	progress = _Progress(7 + 2 * len(plan), publish_progress, on_progress)
	password = password or f"PLdemo-{secrets.token_hex(5)}"
	original_user = frappe.session.user

	ds = demo_dataset(seed, n_loans, months)
	progress(_("Generated the data set"))
	loaded = load_dataset(ds, DEMO_COMPANY, DEMO_ABBR)
	employee_of: dict[str, str] = loaded["employees"]
	progress(_("Loaded employees, teams and post-loan data"))
	people = _make_users(ds, employee_of, password)
	progress(_("Created the demo users"))
	_make_briefing(ds, employee_of, people, plan[0].period_start)
	progress(_("Recorded the scheme briefing"))

	ctx = frappe._dict(
		ds=ds,
		seed=seed,
		employee_of=employee_of,
		key_of={name: key for key, name in employee_of.items()},
		people=people,
		latent=_latent(ds, seed),
	)
	cycles = []
	try:
		frappe.set_user(people.manager)
		previous = None
		for index, spec in enumerate(plan):
			cycles.append(_run_cycle(ctx, spec, index, previous, progress))
			previous = spec.cycle_name
		payout = _make_payout(plan)
		what_if = make_what_if()
	finally:
		frappe.set_user(original_user)
	# the Portfolio Quality Trend summary of every month-end, so that the report's first open reads it
	# rather than builds it
	portfolio_months.refresh_missing()
	progress(_("Built the monthly portfolio summary"))

	counts = demo_counts()
	progress(_("Counted the demo records"))
	checksum = demo_checksum()
	progress(_("Done"))
	return {
		"company": DEMO_COMPANY,
		"seed": seed,
		"cycles": cycles,
		"payout": payout,
		"what_if": what_if,
		"counts": counts,
		"checksum": checksum,
		"users": people.listing,
		"password": password,
	}


def make_demo_job(seed: int = 2026, n_loans: int = 3000, password_key: str | None = None) -> dict:
	"""Background job of api.make_demo: creates the demo with progress, then tells the user how to log in
	(the job runner commits). The password comes from a one-time cache key and is never echoed."""
	password = take_password(password_key) if password_key else None
	if not password:
		frappe.throw(_("The demo password has expired; start the demo again."), title=_("Demo Not Created"))
	result = make_demo(seed=seed, n_loans=n_loans, password=password, publish_progress=True)
	rows = "".join(
		f"<li>{frappe.utils.escape_html(u['user'])}: {frappe.utils.escape_html(u['role'])}</li>"
		for u in result["users"]
	)
	frappe.publish_realtime(
		"msgprint",
		{
			"title": _("Demo Ready"),
			"message": _("The demo users are:")
			+ f"<ul>{rows}</ul>"
			+ _("They log in with the password you chose."),
		},
		user=frappe.session.user,
		after_commit=True,
	)
	return {k: v for k, v in result.items() if k != "password"}


def remove_demo_job() -> dict:
	"""Background job of api.remove_demo (the job runner commits)."""
	result = remove_demo(publish_progress=True)
	frappe.publish_realtime(
		"msgprint",
		{"title": _("Demo Removed"), "message": _("The demo data, users and employees were removed.")},
		user=frappe.session.user,
		after_commit=True,
	)
	return result


def _latent(ds: Dataset, seed: int) -> dict[str, float]:
	"""A hidden 'how colleagues see him' per employee key, fixed for the seed (drives 360 ratings)."""
	rng = np.random.default_rng([int(seed) % (1 << 64), 102])
	keys = list(ds.employees["key"])
	return dict(zip(keys, rng.normal(0.0, 0.45, len(keys)), strict=True))
