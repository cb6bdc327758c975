"""Integration tests against a real Frappe site.

The site is `PLP_TEST_SITE` (default `plp-test.localhost`) on the bench at `FRAPPE_BENCH`
(default `~/frappe-bench`). Each test runs as Administrator in one transaction that is rolled back
afterwards. Data that REST requests must see (they open their own connection) is made once per
session by `world`, committed, and reused: the makers are idempotent.
"""

import os
import threading
from pathlib import Path

import pytest

frappe = pytest.importorskip("frappe", reason="Frappe is not importable: run with the bench's Python")

BENCH = Path(os.environ.get("FRAPPE_BENCH") or Path.home() / "frappe-bench")
SITES_PATH = BENCH / "sites"
SITE = os.environ.get("PLP_TEST_SITE", "plp-test.localhost")


@pytest.fixture(scope="session", autouse=True)
def site():
	if not (SITES_PATH / SITE / "site_config.json").exists():
		pytest.exit(f"Test site {SITE} not found under {SITES_PATH}: create it or set PLP_TEST_SITE", 2)
	os.chdir(SITES_PATH)
	frappe.init(site=SITE, sites_path=str(SITES_PATH))
	frappe.connect()
	frappe.flags.in_test = True
	frappe.flags.mute_emails = True
	if "postloan_performance" not in frappe.get_installed_apps():
		pytest.exit(f"postloan_performance is not installed on {SITE}", 2)
	frappe.clear_cache()
	yield SITE
	frappe.db.rollback()
	frappe.destroy()


@pytest.fixture(autouse=True)
def rollback(site):
	frappe.set_user("Administrator")
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture(scope="session")
def world(site):
	"""The committed permission world: see tests/integration/world.py."""
	from tests.integration.world import build_world

	data = build_world()
	frappe.db.commit()
	return data


class RestClient:
	"""Calls the real WSGI app (frappe.app.application) as a logged-in user.

	Each request runs in its own thread: Frappe keeps request state in context-local storage and
	destroys it after the request, so the test's own connection and transaction stay untouched.
	"""

	def __init__(self, user: str | None = None, password: str | None = None):
		from werkzeug.test import Client

		import frappe.app

		frappe.app._site = SITE
		frappe.app._sites_path = str(SITES_PATH)
		self.client = Client(frappe.app.application)
		self.user = user
		if user:
			response = self.post("/api/method/login", data={"usr": user, "pwd": password})
			assert response.status_code == 200, response.get_data(as_text=True)

	def _call(self, method: str, path: str, **kwargs):
		result = {}

		def run():
			try:
				result["response"] = getattr(self.client, method)(path, **kwargs)
			except BaseException as e:  # pragma: no cover - surfaced below
				result["error"] = e

		thread = threading.Thread(target=run)
		thread.start()
		thread.join(timeout=120)
		if "error" in result:
			raise result["error"]
		# The request committed on its own connection; start a new transaction here so that the
		# test reads what it wrote (REST tests work on committed data only).
		frappe.db.rollback()
		return result["response"]

	def get(self, path: str, **kwargs):
		return self._call("get", path, **kwargs)

	def post(self, path: str, **kwargs):
		return self._call("post", path, **kwargs)

	def put(self, path: str, **kwargs):
		return self._call("put", path, **kwargs)

	def delete(self, path: str, **kwargs):
		return self._call("delete", path, **kwargs)


@pytest.fixture(scope="session")
def rest(world):
	"""rest(user) -> a RestClient logged in as that test user."""
	from tests.integration.factories import PASSWORD

	clients: dict[str, RestClient] = {}

	def login(user: str) -> RestClient:
		if user not in clients:
			clients[user] = RestClient(user, PASSWORD)
		return clients[user]

	return login
