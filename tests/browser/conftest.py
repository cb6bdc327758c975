"""Browser tests: the desk in Chromium, driven by Playwright, as the demo's people.

Run against a served site with the demo loaded (see README, "Browser tests"):

	PLP_BASE_URL     the site as the browser reaches it, e.g. http://plp-ci.localhost:8011
	PLP_TEST_SITE    the same site's name on the bench (server-side checks and clean-up)
	PLP_DEMO_PASSWORD  the demo users' password (postloan-demo --password)
	PLP_ADMIN_PASSWORD Administrator's password (default: admin)
	PLP_SCREENSHOTS=docs (or --screenshots)  write the README's screenshots to docs/

Without a base URL, Chromium (`chromium` on the PATH), Playwright or Frappe the tests are skipped.
Each role logs in once (/api/method/login); its cookies are reused by every test of that role.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.browser.helpers import ROLE_KEYS, TEST_PREFIX, PageWatch

BASE_URL = (os.environ.get("PLP_BASE_URL") or "").rstrip("/")
SITE = os.environ.get("PLP_TEST_SITE", "")
DEMO_PASSWORD = os.environ.get("PLP_DEMO_PASSWORD", "")
ADMIN_PASSWORD = os.environ.get("PLP_ADMIN_PASSWORD", "admin")
BENCH = Path(os.environ.get("FRAPPE_BENCH") or Path.home() / "frappe-bench")
REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser):
	parser.addoption(
		"--screenshots",
		action="store_true",
		default=False,
		help="browser tests: write the README's screenshots (docs/*.png)",
	)


def _why_not() -> str | None:
	if not BASE_URL:
		return "PLP_BASE_URL is not set: no served site to test in a browser"
	if not shutil.which("chromium"):
		return "chromium is not on the PATH (apt-get install chromium)"
	try:
		import playwright.sync_api  # noqa: F401
	except ImportError:
		return "playwright is not installed (pip install playwright; no browser download is needed)"
	try:
		import frappe  # noqa: F401
	except ImportError:
		return "Frappe is not importable: run with the bench's Python"
	if not SITE or not (BENCH / "sites" / SITE / "site_config.json").exists():
		return f"PLP_TEST_SITE ({SITE!r}) is not a site of the bench at {BENCH}"
	if not DEMO_PASSWORD:
		return "PLP_DEMO_PASSWORD is not set (the demo users' password)"
	return None


def pytest_collection_modifyitems(config, items):
	reason = _why_not()
	if reason:
		skip = pytest.mark.skip(reason=reason)
		for item in items:
			if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
				item.add_marker(skip)


@pytest.fixture(scope="session")
def screenshots_dir(request) -> Path | None:
	if (
		request.config.getoption("--screenshots", default=False)
		or os.environ.get("PLP_SCREENSHOTS") == "docs"
	):
		return REPO / "docs"
	return None


# ---------------------------------------------------------------- the server side
@pytest.fixture(scope="session")
def server():
	"""A Frappe connection to the served site: discovery, checks against the database and clean-up.

	Every read starts a new transaction (`fresh()`), so it sees what the web server committed.
	"""
	import frappe

	cwd = os.getcwd()
	os.chdir(BENCH / "sites")
	frappe.init(site=SITE, sites_path=str(BENCH / "sites"))
	frappe.connect()
	frappe.set_user("Administrator")
	if not frappe.db.exists("Company", "PL Demo Lender"):
		pytest.exit(f"the demo is not loaded on {SITE}: bench --site {SITE} postloan-demo", 2)
	yield frappe
	frappe.db.rollback()
	frappe.destroy()
	os.chdir(cwd)


def fresh(frappe) -> None:
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture(scope="session")
def people(server) -> dict[str, str]:
	"""The user of each role key: the demo's scheme owner, executive and post-loan officer, the lead of
	its first collection team and one of his staff (found on the site: their names come from the seed),
	and Administrator as the System Manager."""
	frappe = server
	team = "PLD Collection 01"
	lead_employee = frappe.db.get_value("PL Team", team, "team_lead")
	lead = frappe.db.get_value("Employee", lead_employee, "user_id")
	staff = frappe.db.sql(
		"""select e.user_id from `tabPL Team Member` m join `tabEmployee` e on e.name = m.employee
		where m.parenttype = 'PL Team' and m.parent = %s and e.user_id like %s and e.name != %s
		order by e.user_id limit 1""",
		(team, "%@pldemo.example", lead_employee),
		pluck=True,
	)
	assert lead and staff, f"the demo's {team} has no lead or staff with a user"
	return {
		"scheme_owner": "manager@pldemo.example",
		"team_leader": lead,
		"appraisee": staff[0],
		"executive": "executive@pldemo.example",
		"officer": "officer@pldemo.example",
		"system_manager": "Administrator",
	}


def password_of(user: str) -> str:
	return ADMIN_PASSWORD if user == "Administrator" else DEMO_PASSWORD


# ---------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def playwright_instance():
	from playwright.sync_api import sync_playwright

	with sync_playwright() as p:
		yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
	browser = playwright_instance.chromium.launch(
		executable_path=shutil.which("chromium"),
		headless=True,
		args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
	)
	yield browser
	browser.close()


@pytest.fixture(scope="session")
def storage_states(browser, people, tmp_path_factory) -> dict[str, str]:
	"""Log each role in once; its cookies (storage state) are reused by every test of the role."""
	states = {}
	folder = tmp_path_factory.mktemp("plbt-states")

	def state(role_key: str) -> str:
		if role_key not in states:
			user = people[role_key]
			context = browser.new_context(base_url=BASE_URL)
			# from inside the page: Chromium resolves *.localhost itself, the API client may not
			page = context.new_page()
			page.goto(f"{BASE_URL}/api/method/ping")
			status = page.evaluate(
				"""([usr, pwd]) => fetch('/api/method/login', {method: 'POST',
					headers: {'Content-Type': 'application/x-www-form-urlencoded'},
					body: new URLSearchParams({usr, pwd})}).then((r) => r.status)""",
				[user, password_of(user)],
			)
			assert status == 200, f"login of {user} failed: HTTP {status}"
			path = str(folder / f"{role_key}.json")
			context.storage_state(path=path)
			context.close()
			states[role_key] = path
		return states[role_key]

	return state


class Desk:
	"""One role's browser page in the desk, with its watcher."""

	def __init__(self, context, role_key: str, user: str):
		self.context = context
		self.role_key = role_key
		self.user = user
		self.page = context.new_page()
		self.page.set_default_timeout(30_000)
		self.watch = PageWatch(self.page, BASE_URL)

	def open(self, route: str, settle_timeout: float = 30.0) -> None:
		"""Open a desk route (`/app/<route>`) and wait until the desk has settled."""
		on_desk = "/app" in self.page.url and self.page.evaluate(
			"() => !!(window.frappe && frappe.boot && frappe.router && frappe.container)"
		)
		if on_desk:
			# within the loaded desk, as a click on a link would (no reload of the whole desk)
			self.page.evaluate("(route) => frappe.set_route(route)", f"app/{route}")
		else:
			self.page.goto(f"{BASE_URL}/app/{route}", wait_until="domcontentloaded")
			self.page.wait_for_function(
				"() => window.frappe && frappe.boot && frappe.router && frappe.container"
			)
		self.settle(timeout=settle_timeout)

	def route(self, *parts) -> None:
		"""Move within the desk as a click would (frappe.set_route), without reloading it."""
		self.page.evaluate("(parts) => frappe.set_route(...parts)", list(parts))
		self.settle()

	def settle(self, quiet_ms: int = 300, timeout: float = 30.0) -> None:
		"""Wait until no request of the desk is running (and none started) for `quiet_ms`."""
		deadline = time.monotonic() + timeout
		quiet_since = None
		while time.monotonic() < deadline:
			busy = self.page.evaluate(
				"() => !window.frappe || !frappe.request || frappe.request.ajax_count > 0"
				" || (frappe.dom && frappe.dom.freeze_count > 0)"
			)
			now = time.monotonic()
			if busy:
				quiet_since = None
			elif quiet_since is None:
				quiet_since = now
			elif (now - quiet_since) * 1000 >= quiet_ms:
				return
			self.page.wait_for_timeout(50)
		raise AssertionError(f"the desk did not settle within {timeout}s on {self.page.url}")

	def press(self, label: str, group: str | None = None) -> None:
		"""Press a button of the page's toolbar (in its group's dropdown when it has one)."""
		from urllib.parse import quote

		if group:
			self.page.locator(
				f'.page-actions .inner-group-button[data-label="{quote(group)}"] > button'
			).click()
			self.page.locator(
				f'.page-actions .inner-group-button[data-label="{quote(group)}"] .dropdown-item[data-label="{quote(label)}"]'
			).click()
		else:
			self.page.locator(f'.page-actions button[data-label="{quote(label)}"]').first.click()

	def buttons(self) -> dict[str, list[str]]:
		"""The toolbar's custom buttons the user sees: group label -> item labels ('' for plain ones)."""
		return self.page.evaluate(
			"""() => {
			const out = {"": []};
			const toolbar = document.querySelector('.page-container:not([style*="display: none"]) .page-actions')
				|| document.querySelector('.page-actions');
			const visible = (e) => e && e.offsetParent !== null;
			for (const g of document.querySelectorAll('.page-actions .inner-group-button')) {
				if (!visible(g)) continue;
				out[decodeURIComponent(g.dataset.label)] = [...g.querySelectorAll('.dropdown-item')]
					.map((a) => decodeURIComponent(a.dataset.label));
			}
			for (const b of document.querySelectorAll('.page-actions .custom-actions > button[data-label]')) {
				if (visible(b)) out[""].push(decodeURIComponent(b.dataset.label));
			}
			return out;
		}"""
		)

	def close_dialogs(self) -> list[str]:
		"""Close message dialogs that are open; returns their texts."""
		texts = []
		for _ in range(5):
			dialog = self.page.locator(".modal.show .modal-content").last
			if not dialog.count() or not dialog.is_visible():
				break
			texts.append(dialog.inner_text())
			self.page.keyboard.press("Escape")
			self.page.wait_for_timeout(300)
		return texts

	def fill(self, fieldname: str, value: str) -> None:
		"""Type into a field of the current form as a person would (Data, Text Editor, Small Text)."""
		control = self.page.locator(f'.form-layout .frappe-control[data-fieldname="{fieldname}"]').first
		editor = control.locator('.ql-editor[contenteditable="true"]')
		target = editor.first if editor.count() else control.locator("input, textarea").first
		target.click()
		target.fill(value)
		self.page.keyboard.press("Tab")
		self.settle()

	def save(self) -> None:
		"""Ctrl+S, then wait until the form is saved."""
		self.page.keyboard.press("Control+s")
		self.settle()
		dialog = self.page.locator(".modal.show .modal-body").last
		if dialog.count() and dialog.is_visible():
			raise AssertionError(f"saving {self.page.url} showed: {dialog.inner_text()[:500]}")
		self.page.wait_for_function("() => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty()")

	def workflow_action(self, action: str) -> None:
		"""Choose a workflow action from the form's Actions menu."""
		self.page.locator(".page-actions .actions-btn-group > button").click()
		self.page.locator(".page-actions .actions-btn-group .dropdown-item", has_text=action).first.click()
		self.settle()

	def js(self, expression: str, arg=None):
		return self.page.evaluate(expression, arg)

	def close(self) -> None:
		self.context.close()


@pytest.fixture
def desk(browser, storage_states, people):
	"""desk(role_key) -> a logged-in Desk of that role. Any page error, failed request or HTTP error of
	the app that the test did not declare fails the test (checked at its end)."""
	opened: list[Desk] = []

	def make(role_key: str) -> Desk:
		assert role_key in ROLE_KEYS, role_key
		context = browser.new_context(
			base_url=BASE_URL, storage_state=storage_states(role_key), viewport={"width": 1400, "height": 900}
		)
		d = Desk(context, role_key, people[role_key])
		opened.append(d)
		return d

	yield make
	problems = []
	for d in opened:
		problems += d.watch.problems
		d.close()
	if problems:
		pytest.fail("the page reported problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def cleanup(server):
	"""Names of records the tests created (doctype, name), deleted at the end of the session; and every
	review cycle whose name starts with the test prefix, with its appraisals, feedback and appeals."""
	created: list[tuple[str, str]] = []
	yield created
	frappe = server
	fresh(frappe)
	for doctype, name in reversed(created):
		if frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
	delete_test_cycles(frappe)
	frappe.db.commit()


def delete_test_cycles(frappe) -> int:
	cycles = frappe.get_all("PL Review Cycle", {"cycle_name": ("like", f"{TEST_PREFIX}%")}, pluck="name")
	if not cycles:
		return 0
	appraisals = frappe.get_all("PL Appraisal", {"review_cycle": ("in", cycles)}, pluck="name")
	feedback = frappe.get_all("PL Feedback", {"review_cycle": ("in", cycles)}, pluck="name")
	frappe.db.delete("ToDo", {"reference_type": "PL Feedback", "reference_name": ("in", feedback or [""])})
	for doctype, key, values in (
		("PL Appeal", "appraisal", appraisals),
		("PL Feedback", "review_cycle", cycles),
		("PL Satisfaction Survey", "review_cycle", cycles),
		("PL Metric Value", "review_cycle", cycles),
	):
		if values and frappe.db.table_exists(doctype):
			names = frappe.get_all(doctype, {key: ("in", values)}, pluck="name")
			_delete(frappe, doctype, names)
	_delete(frappe, "PL Appraisal", appraisals)
	frappe.db.delete("ToDo", {"reference_type": "PL Appraisal", "reference_name": ("in", appraisals or [""])})
	_delete(frappe, "PL Review Cycle", cycles)
	return len(cycles)


def _delete(frappe, doctype: str, names: list[str]) -> None:
	"""Delete rows and their child rows directly (submitted documents cannot be deleted otherwise)."""
	if not names:
		return
	meta = frappe.get_meta(doctype)
	for df in meta.get_table_fields():
		frappe.db.delete(df.options, {"parenttype": doctype, "parent": ("in", names)})
	frappe.db.delete(doctype, {"name": ("in", names)})


@pytest.fixture(scope="session")
def _role_desks(browser, storage_states, people):
	desks: dict[str, Desk] = {}
	yield desks
	for d in desks.values():
		d.close()


@pytest.fixture
def role_desk(request, _role_desks, browser, storage_states, people):
	"""role_desk(role_key) -> that role's Desk, one page per role kept open across tests (the smoke
	matrix moves it from page to page). Its watcher starts empty for each test; a page that saw a
	failure is closed so that the next test starts on a fresh one."""
	used: list[str] = []

	def get(role_key: str) -> Desk:
		if role_key not in _role_desks:
			context = browser.new_context(
				base_url=BASE_URL,
				storage_state=storage_states(role_key),
				viewport={"width": 1400, "height": 900},
			)
			_role_desks[role_key] = Desk(context, role_key, people[role_key])
		d = _role_desks[role_key]
		d.watch.reset()
		used.append(role_key)
		return d

	yield get
	failed = getattr(request.node, "rep_call", None)
	for role_key in used:
		if failed is None or failed.failed:
			_role_desks.pop(role_key).close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	outcome = yield
	report = outcome.get_result()
	if report.when == "call":
		item.rep_call = report


STATS = {"pages": 0, "roles": set(), "steps": 0}


@pytest.fixture(scope="session")
def stats():
	"""What the session covered (pages opened, roles, cycle steps pressed), shown in the summary."""
	return STATS


def pytest_terminal_summary(terminalreporter):
	if STATS["pages"] or STATS["steps"]:
		terminalreporter.write_line(
			f"browser tests covered {STATS['pages']} pages, {len(STATS['roles'])} roles,"
			f" {STATS['steps']} review cycle steps"
		)
