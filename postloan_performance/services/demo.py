"""A realistic, removable demo: a lender with teams in four layers, a year of post-loan data and a
trial cycle, two formal cycles and a cycle in progress.

``make_demo(seed)`` is deterministic: the same seed gives the same people, loans, snapshots,
collection work, ratings, scores and grades (see :func:`demo_checksum`). Everything it creates is
marked so that ``remove_demo()`` deletes exactly that and nothing else:

- company "PL Demo Lender" (abbr PLD); PL Teams, PL Loans, PL Review Cycles, PL Appraisals, PL Scheme
  Briefings and Employees belong to it;
- document names of the generated post-loan rows start with ``PLD-``, team and cycle names with
  ``PLD ``; users have e-mail addresses ``@pldemo.example``.

Work is set-wise, through the same services the desk uses (bulk loader, review cycle steps, KPI
computation); the few people who have a user do their part through the real workflow actions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.model.workflow import apply_workflow
from frappe.utils import add_days, add_months, get_first_day, get_last_day, getdate, now_datetime

from postloan_performance.datagen import Dataset, LayerSpec, OrgSpec, generate
from postloan_performance.services import cycle as cycle_service
from postloan_performance.services import portfolio_months
from postloan_performance.services.bulk import bulk_update, insert_versions
from postloan_performance.services.compute import compute_appraisals
from postloan_performance.services.demo_data import load_dataset
from postloan_performance.services.feedback import FEEDBACK_SERIES
from postloan_performance.services.teams import team_members_on

DEMO_COMPANY = "PL Demo Lender"
DEMO_ABBR = "PLD"
NAME_PREFIX = "PLD-"
TEAM_PREFIX = "PLD "
USER_DOMAIN = "pldemo.example"
SURVEY_SERIES = "PLSS-.YYYY.-"
# The demo's data runs up to this month-end; review cycles are the calendar quarters around it.
DATA_END = dt.date(2026, 9, 30)
MIN_MONTHS = 12
MAX_LOANS = 200_000
LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
DEMO_ORG = OrgSpec(
	management=LayerSpec(3, 3),
	collection=LayerSpec(6, 8),
	risk_control=LayerSpec(2, 5),
	customer_service=LayerSpec(2, 6),
)
MANAGEMENT_TEAM_NAMES = ("Head Office", "North Region", "South Region")
SURNAMES = (
	"Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
	"Zheng Liang Xie Song Tang Han Feng Deng Cao Peng"
).split()
GIVEN_NAMES = (
	"Wei Fang Na Min Jing Lei Qiang Jun Yang Yong Yan Jie Juan Tao Ming Chao Xiu Xia Ping Gang "
	"Hui Hong Bin Ying Hua Lin Bo Dan Ning Yu Xin Hao Kai Lan Rui Shu Ting Wen Yi Zhen"
).split()
SELF_ASSESSMENTS = (
	"Cleared most of my early-bucket cases within the month; two large M3 cases still need work.",
	"Handled more alerts than last quarter and wrote shorter, clearer risk reports.",
	"Kept first response under target on most days; the WeChat channel was the busiest.",
	"Focused on promises to pay and checked every broken promise within three days.",
	"Coached two new colleagues while keeping my own portfolio on track.",
)
MANAGER_COMMENTS = (
	"Solid quarter; keep the follow-up discipline on promises to pay.",
	"Good analysis; escalate critical events earlier.",
	"Reliable and calm with difficult customers; well done.",
)
APPEAL_REASONS = (
	"Two cured cases were booked to a colleague after my transfer; please check the case log.",
	"The risk event of late September was resolved on time but recorded a week late.",
	"Several tickets were reopened by the system after resolution and counted against me.",
)


class DemoError(frappe.ValidationError):
	pass


# ---------------------------------------------------------------- plan
def _quarter_start(day: dt.date) -> dt.date:
	return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _quarter(start: dt.date) -> tuple[dt.date, dt.date, str]:
	end = getdate(get_last_day(add_months(start, 2)))
	return start, end, f"{start.year} Q{(start.month - 1) // 3 + 1}"


def cycle_plan(data_end: dt.date = DATA_END) -> list[frappe._dict]:
	"""The demo's review cycles: a trial, two formal cycles and one in progress (oldest first)."""
	last = _quarter_start(data_end)
	quarters = [_quarter(getdate(add_months(last, 3 * k))) for k in (-3, -2, -1, 0, 1)]
	baseline, trial, formal1, formal2, current = quarters
	spec = []
	for (start, end, label), base, is_trial, final in (
		(trial, baseline, 1, "Closed"),
		(formal1, trial, 0, "Closed"),
		(formal2, formal1, 0, "Published"),
		(current, formal2, 0, "Open"),
	):
		spec.append(
			frappe._dict(
				cycle_name=f"{TEAM_PREFIX}{label}" + (" Trial" if is_trial else ""),
				period_start=start,
				period_end=end,
				baseline_start=base[0],
				baseline_end=base[1],
				is_trial=is_trial,
				final_status=final,
			)
		)
	return spec


def data_start(months: int, data_end: dt.date = DATA_END) -> dt.date:
	return getdate(get_first_day(add_months(data_end, -(months - 1))))


# ---------------------------------------------------------------- dataset
def _people(count: int, seed: int) -> list[str]:
	"""`count` distinct, realistic names, the same for the same seed."""
	rng = np.random.default_rng([int(seed) % (1 << 64), 101])
	pool = [f"{s} {g}" for s in SURNAMES for g in GIVEN_NAMES]
	order = rng.permutation(len(pool))
	names = [pool[i] for i in order[:count]]
	return names + [f"Demo Employee {i:04d}" for i in range(len(names) + 1, count + 1)]


def _team_name(generated: str) -> str:
	"""'Demo Collection 01' -> 'PLD Collection 01'; management teams get regional names."""
	rest = generated.removeprefix("Demo ")
	if rest.startswith("Management "):
		number = int(rest.rsplit(" ", 1)[1])
		if number <= len(MANAGEMENT_TEAM_NAMES):
			rest = MANAGEMENT_TEAM_NAMES[number - 1]
	return TEAM_PREFIX + rest


def _prefixed(series: pd.Series) -> pd.Series:
	return series.map(lambda v: NAME_PREFIX + v if isinstance(v, str) and v else v)


def demo_dataset(seed: int = 2026, n_loans: int = 3000, months: int = 12) -> Dataset:
	"""The generated dataset with the demo's names: people, teams, and every document name prefixed."""
	if months < MIN_MONTHS:
		raise DemoError(_("The demo needs at least {0} months of data.").format(MIN_MONTHS))
	ds = generate(seed, start=data_start(months), months=months, n_loans=n_loans, org=DEMO_ORG)
	teams = {name: _team_name(name) for name in ds.teams["team_name"]}

	def team(series: pd.Series) -> pd.Series:
		return series.map(lambda v: teams.get(v, v) if isinstance(v, str) else v)

	frames = ds.frames()
	frames["employees"] = ds.employees.assign(
		first_name=_people(len(ds.employees), seed), team=team(ds.employees["team"])
	)
	frames["teams"] = ds.teams.assign(
		team_name=team(ds.teams["team_name"]), parent_pl_team=team(ds.teams["parent_pl_team"])
	)
	frames["memberships"] = ds.memberships.assign(team=team(ds.memberships["team"]))
	frames["surveys"] = ds.surveys.assign(team=team(ds.surveys["team"]))
	prefixed_columns = {
		"loans": ("name", "loan_no", "customer"),
		"snapshots": ("name", "loan"),
		"cases": ("name", "case_no", "loan"),
		"actions": ("reference", "collection_case"),
		"recoveries": ("reference", "loan", "collection_case"),
		"alerts": ("reference", "loan"),
		"events": ("reference", "loan"),
		"assessments": ("reference", "loan"),
		"tickets": ("reference", "customer", "loan"),
		"customer_feedback": ("reference", "customer", "collection_case", "ticket"),
	}
	for frame, columns in prefixed_columns.items():
		frames[frame] = frames[frame].assign(**{c: _prefixed(frames[frame][c]) for c in columns})
	frames["loans"] = frames["loans"].assign(managing_team=team(frames["loans"]["managing_team"]))
	frames["cases"] = frames["cases"].assign(pl_team=team(frames["cases"]["pl_team"]))
	frames["assessments"] = frames["assessments"].assign(portfolio=team(frames["assessments"]["portfolio"]))
	return Dataset(**frames)


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


def require_system_manager() -> None:
	"""The demo creates and deletes users and a company: System Manager only (also in tests, unlike
	frappe.only_for)."""
	if frappe.session.user != "Administrator" and "System Manager" not in frappe.get_roles():
		frappe.throw(_("Only a System Manager can create or remove the demo."), frappe.PermissionError)


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
	progress = _Progress(6 + 2 * len(plan), publish_progress, on_progress)
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
	finally:
		frappe.set_user(original_user)

	counts = demo_counts()
	progress(_("Counted the demo records"))
	checksum = demo_checksum()
	progress(_("Done"))
	return {
		"company": DEMO_COMPANY,
		"seed": seed,
		"cycles": cycles,
		"payout": payout,
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


# ---------------------------------------------------------------- users and briefing
def _email(name: str) -> str:
	return f"{name.lower().replace(' ', '.')}@{USER_DOMAIN}"


def _make_user(email: str, first_name: str, last_name: str, roles: list[str], password: str) -> str:
	from frappe.utils.password import update_password

	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name,
				"last_name": last_name,
				"send_welcome_email": 0,
				"user_type": "System User",
			}
		)
		user.flags.no_welcome_mail = True
		user.append_roles(*roles)
		user.insert(ignore_permissions=True)
		if "System Manager" not in roles:
			# Frappe makes the first System User of a site without any System Manager (but
			# Administrator) a System Manager; a demo user must have his demo roles only.
			frappe.db.delete("Has Role", {"parent": email, "parenttype": "User", "role": "System Manager"})
			frappe.clear_cache(user=email)
	else:
		# a user left from an earlier demo (e.g. the app was uninstalled, which removes its roles)
		user = frappe.get_doc("User", email)
		missing = [role for role in roles if role not in {r.role for r in user.roles}]
		if missing:
			user.flags.ignore_permissions = True
			user.add_roles(*missing)
	update_password(email, password)
	# the desk's company filters and new forms start on the demo company, not the site's default one
	frappe.defaults.set_user_default("company", DEMO_COMPANY, email)
	return email


def _make_users(ds: Dataset, employee_of: dict[str, str], password: str) -> frappe._dict:
	"""The scheme owner, an executive, a post-loan officer, five team leads and three staff."""
	people = frappe._dict(listing=[], leads={}, staff=[])
	for key, first, last, role in (
		("manager", "Lin", "Yue", "PL Performance Manager"),
		("executive", "Gao", "Jian", "PL Executive"),
		("officer", "Xu", "Ping", "PL Post-Loan Officer"),
	):
		email = _make_user(f"{key}@{USER_DOMAIN}", first, last, [role], password)
		people[key] = email
		people.listing.append({"user": email, "role": _(role), "employee": None})

	employees = ds.employees.set_index("key")
	teams = ds.teams.set_index("team_name")
	lead_teams = [TEAM_PREFIX + n for n in ("Head Office", "North Region")] + [
		f"{TEAM_PREFIX}{layer} 01" for layer in LAYERS[1:]
	]
	for team in lead_teams:
		key = teams.loc[team, "lead_key"]
		people.leads[team] = _link_user(
			key, employees, employee_of, ["PL Team Leader", "PL Appraisee"], password
		)
		people.listing.append(
			{"user": people.leads[team], "role": _("PL Team Leader"), "employee": employee_of[key]}
		)
	# staff who stay in their team the whole time (their lead is their manager in every cycle)
	movers = set(ds.memberships["employee_key"][ds.memberships["employee_key"].duplicated()])
	for layer in LAYERS[1:]:
		team = f"{TEAM_PREFIX}{layer} 01"
		candidates = ds.employees[
			(ds.employees["team"] == team) & ~ds.employees["is_lead"] & ~ds.employees["key"].isin(movers)
		]
		key = candidates["key"].iloc[0]
		user = _link_user(key, employees, employee_of, ["PL Appraisee"], password)
		people.staff.append(frappe._dict(key=key, user=user, team=team, employee=employee_of[key]))
		people.listing.append({"user": user, "role": _("PL Appraisee"), "employee": employee_of[key]})
	return people


def _link_user(key: str, employees: pd.DataFrame, employee_of: dict, roles: list[str], password: str) -> str:
	name = employees.loc[key, "first_name"]
	surname, given = name.split(" ", 1)
	user = _make_user(_email(name), surname, given, roles, password)
	frappe.db.set_value("Employee", employee_of[key], "user_id", user, update_modified=False)
	return user


def _make_briefing(ds: Dataset, employee_of: dict, people, before: dt.date):
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	head = ds.teams[ds.teams["parent_pl_team"].isna()]["lead_key"].iloc[0]
	day = add_days(before, -14)
	frappe.get_doc(
		{
			"doctype": "PL Scheme Briefing",
			"title": _("Post-loan performance scheme: launch briefing"),
			"company": DEMO_COMPANY,
			"briefing_type": "Training",
			"briefing_date": day,
			"scheme_version": "1.0",
			"presenter": employee_of[head],
			"content": _(
				"KPIs per layer, the trial run, 360 feedback, calibration, publication and how to appeal."
			),
			"attendees": [
				{
					"employee": employee_of[key],
					"employee_name": first,
					"user_id": users.get(employee_of[key]),
					"acknowledged": 1,
					"acknowledged_on": f"{add_days(day, 1)} 10:00:00",
				}
				for key, first in zip(ds.employees["key"], ds.employees["first_name"], strict=True)
			],
		}
	).insert(ignore_permissions=True)


# ---------------------------------------------------------------- one cycle
def _run_cycle(ctx, spec, index: int, previous: str | None, progress) -> dict:
	ds = ctx.ds
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": spec.cycle_name,
			"company": DEMO_COMPANY,
			"is_trial": spec.is_trial,
			"compare_with": previous,
			"period_start": spec.period_start,
			"period_end": spec.period_end,
			"baseline_start": spec.baseline_start,
			"baseline_end": spec.baseline_end,
			"self_review_deadline": add_days(spec.period_end, 10),
			"feedback_deadline": add_days(spec.period_end, 12),
			"manager_review_deadline": add_days(spec.period_end, 20),
			"appeal_window_days": 10,
			"templates": [{"layer": layer, "template": f"{layer} - Default"} for layer in LAYERS],
			"teams": [{"pl_team": t} for t in ds.teams["team_name"]],
		}
	).insert()
	name = cycle.name
	cycle_service.open_cycle(name)
	cycle_service.create_appraisals(name)
	cycle_service.start_self_review(name)
	appraisals = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": name, "docstatus": 0},
		fields=["name", "employee", "employee_name", "pl_team", "template"],
	)
	appraisals.sort(key=lambda a: ctx.key_of[a.employee])
	if spec.final_status != "Open":  # the survey follows the reviews
		_insert_surveys(ctx, name, index, appraisals)
	_insert_feedback(ctx, cycle, index, appraisals)
	progress(_("{0}: appraisals, 360 feedback and survey").format(name))

	_user_reviews(ctx, name, index)
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 200 + index])
	if spec.final_status == "Open":
		# reviews under way: most self reviews done, about half of the manager reviews
		pending = _names(name, "Self Review")
		_advance(name, "Self Review", "Manager Review", [n for n in pending if rng.random() < 0.7])
		in_review = _names(name, "Manager Review")
		_advance(name, "Manager Review", "Calibration", [n for n in in_review if rng.random() < 0.5])
		progress(_("{0}: reviews under way").format(name))
		return {"cycle": name, "status": frappe.db.get_value("PL Review Cycle", name, "status")}

	# the scheme owner skips the reviews nobody wrote (the set-wise form of "Skip … Review")
	_advance(name, "Self Review", "Manager Review", _names(name, "Self Review"))
	_advance(name, "Manager Review", "Calibration", _names(name, "Manager Review"))
	cycle_service.start_scoring(name)
	compute_appraisals(review_cycle=name)
	cycle_service.start_calibration(name)
	if not spec.is_trial:
		_override_one(name)
	cycle_service.approve_all(name)
	cycle_service.publish_cycle(name)
	if not spec.is_trial:
		_after_publication(ctx, name, final=spec.final_status == "Closed")
	if spec.final_status == "Closed":
		cycle_service.close_cycle(name)
	progress(_("{0}: scored, calibrated and published").format(name))
	return {"cycle": name, "status": frappe.db.get_value("PL Review Cycle", name, "status")}


def _names(cycle: str, status: str) -> list[str]:
	return frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "docstatus": 0, "status": status},
		pluck="name",
		order_by="name asc",
	)


def _advance(cycle: str, from_status: str, to_status: str, names: list[str]) -> int:
	"""Move appraisals on in the workflow set-wise, with their audit trail (as start_self_review)."""
	if not names:
		return 0
	now, user = now_datetime(), frappe.session.user
	bulk_update(
		"PL Appraisal", {n: {"status": to_status, "modified": now, "modified_by": user} for n in names}
	)
	insert_versions("PL Appraisal", {n: {"changed": [["status", from_status, to_status]]} for n in names})
	return len(names)


def _workflow(user: str, appraisal: str, action: str, **values):
	"""One real workflow action by a demo user (values are saved first, as the form would)."""
	manager = frappe.session.user
	frappe.set_user(user)
	try:
		if values:
			doc = frappe.get_doc("PL Appraisal", appraisal)
			doc.update(values)
			doc.save()
		apply_workflow(json.dumps({"doctype": "PL Appraisal", "name": appraisal}), action)
	finally:
		frappe.set_user(manager)


def _appraisal_of(cycle: str, employee: str) -> str | None:
	return frappe.db.get_value(
		"PL Appraisal", {"review_cycle": cycle, "employee": employee, "docstatus": ("<", 2)}, "name"
	)


def _user_reviews(ctx, cycle: str, index: int):
	"""The people with a user write their self-assessment; their leads write the manager review."""
	people = ctx.people
	for i, staff in enumerate(people.staff):
		appraisal = _appraisal_of(cycle, staff.employee)
		text = SELF_ASSESSMENTS[(i + index) % len(SELF_ASSESSMENTS)]
		_workflow(staff.user, appraisal, "Submit Self Review", self_assessment=text)
		_workflow(
			people.leads[staff.team],
			appraisal,
			"Submit Manager Review",
			manager_comment=MANAGER_COMMENTS[(i + index) % len(MANAGER_COMMENTS)],
		)
	for i, user in enumerate(people.leads.values()):
		employee = frappe.db.get_value("Employee", {"user_id": user}, "name")
		appraisal = _appraisal_of(cycle, employee)
		text = SELF_ASSESSMENTS[(i + index + 2) % len(SELF_ASSESSMENTS)]
		_workflow(user, appraisal, "Submit Self Review", self_assessment=text)


def _override_one(cycle: str):
	"""The calibrator lifts one collector just below the A band, with the reason."""
	candidates = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "layer": "Collection", "calibrated_grade": "B"},
		fields=["name"],
		order_by="total_score desc, employee_name asc",
		limit=1,
	)
	if candidates:
		cycle_service.override_grade(
			candidates[0].name,
			"A",
			_("Took over the hardest portfolio of the team in the middle of the quarter."),
		)


def _after_publication(ctx, cycle: str, final: bool):
	"""Acknowledgements and appeals by the people with a user; the scheme owner decides some appeals.

	In a cycle that will be closed, every appeal is decided (one upheld, one rejected); in the latest
	cycle one appeal is under review and one is still open.
	"""
	people = ctx.people
	staff = people.staff
	leads = list(people.leads.values())
	collection_lead = people.leads[f"{TEAM_PREFIX}Collection 01"]
	lead_employee = frappe.db.get_value("Employee", {"user_id": collection_lead}, "name")
	if final:
		acknowledging = [(staff[0].user, staff[0].employee), (leads[0], None)]
		appealing = [(staff[1], "Rejected"), (staff[2], "Upheld")]
	else:
		acknowledging = [(staff[1].user, staff[1].employee), (staff[2].user, staff[2].employee)]
		appealing = [
			(staff[0], "Under Review"),
			(frappe._dict(user=collection_lead, employee=lead_employee), "Open"),
		]
	for user, employee in acknowledging:
		employee = employee or frappe.db.get_value("Employee", {"user_id": user}, "name")
		_workflow(user, _appraisal_of(cycle, employee), "Acknowledge")
	for i, (person, outcome) in enumerate(appealing):
		appraisal = _appraisal_of(cycle, person.employee)
		kpi = frappe.get_all(
			"PL Appraisal KPI",
			filters={"parent": appraisal, "parenttype": "PL Appraisal"},
			pluck="kpi",
			order_by="idx asc",
			limit=1,
		)
		frappe.set_user(person.user)
		try:
			appeal = frappe.get_doc(
				{
					"doctype": "PL Appeal",
					"appraisal": appraisal,
					"reason": APPEAL_REASONS[i % len(APPEAL_REASONS)],
					"disputed_lines": [{"kpi": kpi[0], "comment": APPEAL_REASONS[i % len(APPEAL_REASONS)]}]
					if kpi
					else [],
				}
			).insert()
		finally:
			frappe.set_user(people.manager)
		if outcome == "Open":
			continue
		appeal.reload()
		appeal.status = outcome
		if outcome == "Upheld":
			appeal.revised_score = round(min(100.0, (appeal.original_score or 0) + 8.0), 2)
			appeal.resolution = _("The case log confirms the claim; the KPI actual was corrected.")
		elif outcome == "Rejected":
			appeal.resolution = _("The figures match the loan system; the result stands.")
		appeal.save()


# ---------------------------------------------------------------- incentive payout
DEMO_PLAN = f"{TEAM_PREFIX}Incentive Plan"


def _make_payout(plan: list) -> dict:
	"""An incentive plan and the payout of the closed formal cycle: prepared, and confirmed where HRMS
	is installed. The demo has no payroll: nobody has a salary structure, so the run lists everyone as
	without one and creates no Additional Salary (the plan names no salary component)."""
	from postloan_performance.services import payout as payout_service

	spec = next(s for s in plan if not s.is_trial and s.final_status == "Closed")
	# a closed cycle is history: its results were published three weeks after the period
	frappe.db.sql(
		"""update `tabPL Appraisal` set published_on = %s
		where review_cycle = %s and published_on is not null""",
		(add_days(spec.period_end, 21), spec.cycle_name),
	)
	frappe.get_doc(
		{
			"doctype": "PL Incentive Plan",
			"plan_name": DEMO_PLAN,
			"company": DEMO_COMPANY,
			"effective_from": spec.period_start,
			"pool_basis": "Target per Employee",
			"target_amount": 1500,
			"team_split": "Weighted by Team Score",
			"team_floor": 0.5,
			"team_cap": 2,
			"payroll_date_rule": "Last Day of Next Month",
		}
	).insert()
	run = frappe.get_doc(
		{"doctype": "PL Payout Run", "plan": DEMO_PLAN, "review_cycle": spec.cycle_name}
	).insert()
	result = {"run": run.name, **payout_service.prepare(run.name)}
	if payout_service.hrms_installed():
		result.update(payout_service.confirm(run.name))
		result["without_salary_structure"] = len(result["without_salary_structure"])
	return result


# ---------------------------------------------------------------- 360 feedback and survey
def _insert_feedback(ctx, cycle, index: int, appraisals: list) -> int:
	"""Submitted 360 feedback for every appraisal: self, manager and up to two peers (set-wise)."""
	teams = {
		t.name: t
		for t in frappe.get_all("PL Team", {"company": DEMO_COMPANY}, ["name", "parent_pl_team", "team_lead"])
	}
	members: dict[str, list[str]] = {}
	for row in team_members_on(list(teams), getdate(cycle.period_start), getdate(cycle.period_end)):
		members.setdefault(row.team, []).append(row.employee)
	criteria = {
		t: frappe.get_all(
			"PL Feedback Criterion",
			filters={"parent": t, "parenttype": "PL KPI Template"},
			pluck="criterion",
			order_by="idx asc",
		)
		for t in {a.template for a in appraisals}
	}
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 300 + index])
	bias = {"Self": 0.35, "Manager": 0.0, "Peer": 0.1}

	def manager_of(team: str, employee: str) -> str | None:
		seen = set()
		while team and team not in seen and team in teams:
			seen.add(team)
			if teams[team].team_lead and teams[team].team_lead != employee:
				return teams[team].team_lead
			team = teams[team].parent_pl_team
		return None

	requests = []
	for a in appraisals:
		manager = manager_of(a.pl_team, a.employee)
		peers = sorted(
			(e for e in set(members.get(a.pl_team, [])) if e not in (a.employee, manager)),
			key=lambda e: ctx.key_of.get(e, e),
		)
		chosen = [peers[i] for i in sorted(rng.permutation(len(peers))[:2])] if peers else []
		reviewers = [(a.employee, "Self")] + ([(manager, "Manager")] if manager else [])
		reviewers += [(p, "Peer") for p in chosen]
		for reviewer, relationship in reviewers:
			mean = 3.6 + ctx.latent[ctx.key_of[a.employee]] + bias[relationship]
			ratings = [int(np.clip(round(mean + rng.normal(0.0, 0.55)), 1, 5)) for _c in criteria[a.template]]
			requests.append((a, reviewer, relationship, ratings))
	if not requests:
		return 0
	names = cycle_service.reserve_names(FEEDBACK_SERIES, len(requests))
	now, user = now_datetime(), frappe.session.user
	common = [now, now, user, user]
	feedback_fields = [
		"name",
		"naming_series",
		"appraisal",
		"appraisee",
		"appraisee_name",
		"review_cycle",
		"reviewer",
		"reviewer_user",
		"relationship",
		"docstatus",
		"creation",
		"modified",
		"owner",
		"modified_by",
	]
	rating_fields = ["name", "parent", "parenttype", "parentfield", "idx", "criterion", "rating", "docstatus"]
	rating_fields += ["creation", "modified", "owner", "modified_by"]
	feedback_rows, rating_rows = [], []
	for name, (a, reviewer, relationship, ratings) in zip(names, requests, strict=True):
		feedback_rows.append(
			[
				name,
				FEEDBACK_SERIES,
				a.name,
				a.employee,
				a.employee_name,
				cycle.name,
				reviewer,
				users.get(reviewer),
				relationship,
				1,
				*common,
			]
		)
		for idx, (criterion, rating) in enumerate(zip(criteria[a.template], ratings, strict=True), start=1):
			rating_rows.append(
				[
					frappe.generate_hash(length=10),
					name,
					"PL Feedback",
					"ratings",
					idx,
					criterion,
					rating,
					1,
					*common,
				]
			)
	frappe.db.bulk_insert("PL Feedback", feedback_fields, feedback_rows, chunk_size=2000)
	frappe.db.bulk_insert("PL Feedback Rating", rating_fields, rating_rows, chunk_size=2000)
	return len(feedback_rows)


def _insert_surveys(ctx, cycle: str, index: int, appraisals: list) -> int:
	"""The scheme satisfaction survey of a cycle: about 85 % answer; clarity and fairness improve as
	the scheme settles in (set-wise)."""
	surveys = ctx.ds.surveys.set_index("respondent")
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 400 + index])
	drift = np.array([0.25, 0.3, 0.15, 0.0]) * index
	rows = []
	for a in appraisals:
		key = ctx.key_of[a.employee]
		answers = rng.random() < 0.85
		noise = rng.normal(0.0, 0.5, 4)
		keep_suggestion = rng.random() < 0.5
		if not answers or key not in surveys.index:
			continue
		base = surveys.loc[key, ["fairness", "clarity", "motivation", "workload"]].to_numpy(dtype=float)
		ratings = np.clip(np.round(base + drift + noise), 1, 5).astype(int)
		suggestion = surveys.loc[key, "suggestion"] if keep_suggestion else None
		rows.append((a, users.get(a.employee), [int(r) for r in ratings], suggestion))
	if not rows:
		return 0
	names = cycle_service.reserve_names(SURVEY_SERIES, len(rows))
	now, user = now_datetime(), frappe.session.user
	fields = [
		"name",
		"naming_series",
		"review_cycle",
		"respondent",
		"respondent_user",
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
	values = [
		[
			name,
			SURVEY_SERIES,
			cycle,
			a.employee,
			respondent_user,
			a.pl_team,
			*ratings,
			suggestion,
			now,
			now,
			user,
			user,
			0,
		]
		for name, (a, respondent_user, ratings, suggestion) in zip(names, rows, strict=True)
	]
	frappe.db.bulk_insert("PL Satisfaction Survey", fields, values, chunk_size=2000)
	return len(values)


# ---------------------------------------------------------------- what the demo made
POST_LOAN_DOCTYPES = (
	"PL Loan",
	"PL Loan Snapshot",
	"PL Collection Case",
	"PL Collection Action",
	"PL Recovery",
	"PL Risk Alert",
	"PL Risk Event",
	"PL Risk Assessment",
	"PL Service Ticket",
	"PL Customer Feedback",
)


class _Scope:
	"""The names of everything that belongs to the demo, read from the database (a few queries)."""

	def __init__(self):
		company = DEMO_COMPANY
		self.employees = frappe.get_all("Employee", {"company": company}, pluck="name")
		self.teams = frappe.get_all("PL Team", {"company": company}, pluck="name")
		self.loans = frappe.get_all("PL Loan", {"company": company}, pluck="name")
		self.cycles = frappe.get_all("PL Review Cycle", {"company": company}, pluck="name")
		self.appraisals = self._any("PL Appraisal", company=[company], review_cycle=self.cycles)
		self.feedback = self._any("PL Feedback", appraisal=self.appraisals, review_cycle=self.cycles)
		self.appeals = self._any("PL Appeal", appraisal=self.appraisals)
		self.surveys = self._any(
			"PL Satisfaction Survey", review_cycle=self.cycles, respondent=self.employees
		)
		self.briefings = frappe.get_all("PL Scheme Briefing", {"company": company}, pluck="name")
		self.plans = frappe.get_all("PL Incentive Plan", {"company": company}, pluck="name")
		self.payouts = frappe.get_all("PL Payout Run", {"company": company}, pluck="name")
		self.cases = self._any(
			"PL Collection Case", loan=self.loans, pl_team=self.teams, collector=self.employees
		)
		self.tickets = self._any("PL Service Ticket", loan=self.loans, agent=self.employees)
		self.users = frappe.get_all("User", {"name": ("like", f"%@{USER_DOMAIN}")}, pluck="name")

	@staticmethod
	def _any(doctype: str, **columns: list[str]) -> list[str]:
		"""Names of rows whose column is one of the given values, for any of the columns."""
		found: set[str] = set()
		for column, values in columns.items():
			for chunk in _chunks(values):
				found.update(frappe.get_all(doctype, {column: ("in", chunk)}, pluck="name"))
		return sorted(found)


def _chunks(values: list, size: int = 1000):
	values = list(values)
	for start in range(0, len(values), size):
		yield values[start : start + size]


def _delete(doctype: str, column: str, values: list) -> int:
	deleted = 0
	for chunk in _chunks(values):
		deleted += frappe.db.count(doctype, {column: ("in", chunk)})
		frappe.db.delete(doctype, {column: ("in", chunk)})
	return deleted


def demo_counts() -> dict[str, int]:
	"""Rows that belong to the demo, per DocType (users and employees included)."""
	scope = _Scope()
	counts = {
		"Employee": len(scope.employees),
		"User": len(scope.users),
		"PL Team": len(scope.teams),
		"PL Review Cycle": len(scope.cycles),
		"PL Appraisal": len(scope.appraisals),
		"PL Feedback": len(scope.feedback),
		"PL Appeal": len(scope.appeals),
		"PL Satisfaction Survey": len(scope.surveys),
		"PL Scheme Briefing": len(scope.briefings),
		"PL Incentive Plan": len(scope.plans),
		"PL Payout Run": len(scope.payouts),
		"PL Loan": len(scope.loans),
		"PL Collection Case": len(scope.cases),
		"PL Service Ticket": len(scope.tickets),
	}
	for doctype, column, values in (
		("PL Loan Snapshot", "loan", scope.loans),
		("PL Collection Action", "collection_case", scope.cases),
		("PL Recovery", "loan", scope.loans),
		("PL Risk Alert", "loan", scope.loans),
		("PL Risk Event", "loan", scope.loans),
		("PL Risk Assessment", "loan", scope.loans),
		("PL Customer Feedback", "employee", scope.employees),
	):
		counts[doctype] = sum(frappe.db.count(doctype, {column: ("in", c)}) for c in _chunks(values))
	return counts


def demo_checksum() -> str:
	"""SHA-256 over the demo's appraisal results, keyed by names that do not depend on the site
	(cycle, employee name, layer, total score to 6 decimals, final grade, status)."""
	rows = frappe.db.sql(
		"""
		select a.review_cycle, a.employee_name, a.layer, a.total_score, ifnull(a.final_grade, ''), a.status
		from `tabPL Appraisal` a
		where a.company = %s and a.docstatus < 2
		""",
		DEMO_COMPANY,
	)
	lines = sorted(f"{c}|{e}|{layer}|{float(t or 0):.6f}|{g}|{s}" for c, e, layer, t, g, s in rows)
	return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# ---------------------------------------------------------------- remove
def remove_demo(publish_progress: bool = False) -> dict:
	"""Delete everything the demo created: post-loan rows, scheme records, users, employees and, when
	nothing else uses it, the company. Set-wise deletes; does not commit (the caller does)."""
	scope = _Scope()
	removed = demo_counts()
	portfolio_months.invalidate_all()  # the Portfolio Quality Trend summary of the demo's loans
	for doctype, column, values in (
		# child tables first, then their parents
		("PL Appraisal KPI", "parent", scope.appraisals),
		("PL Feedback Rating", "parent", scope.feedback),
		("PL Appeal Line", "parent", scope.appeals),
		("PL Review Cycle Template", "parent", scope.cycles),
		("PL Review Cycle Team", "parent", scope.cycles),
		("PL Briefing Attendee", "parent", scope.briefings),
		("PL Payout Line", "payout_run", scope.payouts),
		("PL Payout Team", "parent", scope.payouts),
		("PL Incentive Grade", "parent", scope.plans),
		("PL Payout Run", "name", scope.payouts),
		("PL Incentive Plan", "name", scope.plans),
		("PL Team Member", "parent", scope.teams),
		("PL Metric Value", "review_cycle", scope.cycles),  # the cycles' stored Scheme Effect values
		("PL Appeal", "name", scope.appeals),
		("PL Feedback", "name", scope.feedback),
		("PL Satisfaction Survey", "name", scope.surveys),
		("PL Appraisal", "name", scope.appraisals),
		("PL Review Cycle", "name", scope.cycles),
		("PL Scheme Briefing", "name", scope.briefings),
	):
		_delete(doctype, column, values)
	if publish_progress:
		frappe.publish_progress(30, title=_("Removing the demo"), description=_("Review cycles removed"))

	_delete("PL Collection Action", "collection_case", scope.cases)
	for doctype, column, values in (
		("PL Customer Feedback", "collection_case", scope.cases),
		("PL Customer Feedback", "ticket", scope.tickets),
		("PL Customer Feedback", "employee", scope.employees),
		("PL Recovery", "collection_case", scope.cases),
		("PL Recovery", "loan", scope.loans),
		("PL Risk Alert", "loan", scope.loans),
		("PL Risk Event", "loan", scope.loans),
		("PL Risk Assessment", "loan", scope.loans),
		("PL Risk Assessment", "portfolio", scope.teams),
		("PL Loan Snapshot", "loan", scope.loans),
	):
		_delete(doctype, column, values)
	_delete("PL Service Ticket", "name", scope.tickets)
	_delete("PL Collection Case", "name", scope.cases)
	_delete("PL Loan", "name", scope.loans)
	if publish_progress:
		frappe.publish_progress(70, title=_("Removing the demo"), description=_("Post-loan data removed"))

	# audit trail, assignments and notifications of the deleted documents
	deleted_docs = {
		"PL Appraisal": scope.appraisals,
		"PL Feedback": scope.feedback,
		"PL Appeal": scope.appeals,
		"PL Review Cycle": scope.cycles,
		"PL Team": scope.teams,
		"PL Scheme Briefing": scope.briefings,
		"PL Payout Run": scope.payouts,
		"PL Incentive Plan": scope.plans,
	}
	for doctype, names in deleted_docs.items():
		for chunk in _chunks(names):
			frappe.db.delete("Version", {"ref_doctype": doctype, "docname": ("in", chunk)})
			frappe.db.delete("ToDo", {"reference_type": doctype, "reference_name": ("in", chunk)})
			frappe.db.delete("Comment", {"reference_doctype": doctype, "reference_name": ("in", chunk)})
			frappe.db.delete("Notification Log", {"document_type": doctype, "document_name": ("in", chunk)})
	_delete_teams(scope.teams)

	for chunk in _chunks(scope.users):
		frappe.db.delete("Notification Log", {"for_user": ("in", chunk)})
		contacts = frappe.get_all("Contact", {"user": ("in", chunk)}, pluck="name")
		contacts += frappe.get_all("Contact Email", {"email_id": ("in", chunk)}, pluck="parent")
		for contact in sorted(set(contacts)):
			frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True)
	_delete("Employee", "name", scope.employees)
	for user in scope.users:
		_delete_user(user)
	company_removed = _delete_company()
	if publish_progress:
		frappe.publish_progress(100, title=_("Removing the demo"), description=_("Done"))
	return {"removed": removed, "company_removed": company_removed}


def _delete_user(user: str):
	"""Delete a demo user. Frappe refuses to delete any user on a site where no one but Administrator is
	System Manager (a fresh site without the setup wizard); there the user's own clean-up is done here
	and the document is deleted without its on_trash check."""
	frappe.db.savepoint("pl_demo_user")
	try:
		frappe.delete_doc("User", user, ignore_permissions=True, force=True)
		return
	except frappe.ValidationError:
		if frappe.db.get_value("Role", "System Manager", "disabled") or _other_system_managers(user):
			raise
		frappe.db.rollback(save_point="pl_demo_user")
		frappe.clear_messages()
	for doctype, column in (
		("ToDo", "allocated_to"),
		("DocShare", "user"),
		("User Permission", "user"),
		("Notification Log", "for_user"),
		("DefaultValue", "parent"),
	):
		frappe.db.delete(doctype, {column: user})
	if frappe.db.exists("Notification Settings", user):
		frappe.delete_doc("Notification Settings", user, ignore_permissions=True, force=True)
	frappe.delete_doc("User", user, ignore_permissions=True, force=True, ignore_on_trash=True)
	frappe.clear_cache(user=user)


def _other_system_managers(user: str) -> bool:
	managers = frappe.get_all(
		"Has Role",
		filters={
			"role": "System Manager",
			"parenttype": "User",
			"parent": ("not in", ("Administrator", user)),
		},
		pluck="parent",
	)
	return bool(managers and frappe.db.exists("User", {"name": ("in", managers), "enabled": 1}))


def _delete_teams(teams: list[str]):
	_delete("PL Team", "name", teams)
	if teams:
		from frappe.utils.nestedset import rebuild_tree

		rebuild_tree("PL Team")


def _delete_company() -> bool:
	"""Delete the demo company unless something else still links to it."""
	if not frappe.db.exists("Company", DEMO_COMPANY):
		return False
	frappe.db.savepoint("pl_demo_company")
	try:
		frappe.delete_doc("Company", DEMO_COMPANY, ignore_permissions=True)
	except (frappe.LinkExistsError, frappe.ValidationError):
		frappe.db.rollback(save_point="pl_demo_company")
		frappe.clear_messages()
		return False
	return True
