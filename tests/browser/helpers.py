"""Helpers of the browser tests: who plays which role, the page watcher and desk navigation.

Nothing here imports Frappe: the server side (discovery of the demo's people, checks against the
database, clean-up) lives in conftest.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.report_js import report_script

APP = Path(__file__).resolve().parents[2] / "postloan_performance"
MODULE = APP / "postloan_performance"
WORKSPACE_ROUTE = "post-loan-performance"
# Records the tests create carry this prefix, so that teardown (and a person) can find them.
TEST_PREFIX = "PLBT "

# The demo's people, by what they do. Administrator stands for the System Manager (he has every role).
ROLE_KEYS = ("scheme_owner", "team_leader", "appraisee", "executive", "officer", "system_manager")
ROLES_OF = {
	"scheme_owner": {"PL Performance Manager"},
	"team_leader": {"PL Team Leader", "PL Appraisee"},
	"appraisee": {"PL Appraisee"},
	"executive": {"PL Executive"},
	"officer": {"PL Post-Loan Officer"},
	"system_manager": None,  # Administrator: every permission
}

# Uncaught page errors that are not the app's, each with why it is tolerated.
TOLERATED_PAGE_ERRORS = (
	# Frappe Charts redraws a chart on resize after the chart left the page (frappe/charts#347):
	# cosmetic, raised from the library's ResizeObserver callback, not by the app.
	re.compile(r"removeChild"),
	re.compile(r"ResizeObserver loop"),
)
# Requests that may fail: there is no realtime (socket.io) server in CI; the desk retries and the
# pages work without it.
TOLERATED_URLS = (re.compile(r"/socket\.io/"),)


def slug(doctype: str) -> str:
	return doctype.lower().replace(" ", "-")


# ---------------------------------------------------------------- metadata (DocType and report JSON)
@dataclass
class DocTypeMeta:
	name: str
	istable: bool
	issingle: bool
	submittable: bool
	read_only: bool
	in_create: bool
	perms: dict[str, set[str]]  # role -> {"read", "write", "create", ...} at permlevel 0
	fields: list[dict] = field(default_factory=list)

	def allowed(self, role_key: str, ptype: str) -> bool:
		roles = ROLES_OF[role_key]
		if roles is None:
			return True
		return any(ptype in self.perms.get(role, ()) for role in roles)

	@property
	def desk_page(self) -> tuple[bool, str]:
		"""Whether the DocType has a page of its own in the desk, and if not why."""
		if self.istable:
			return False, "child table: edited inside its parent's form"
		if self.read_only:
			return False, "read-only DocType (rebuilt by the system): the desk gives it no list link or form"
		return True, ""


PTYPES = ("read", "write", "create", "delete", "submit", "cancel")


def doctypes() -> list[DocTypeMeta]:
	"""Every DocType of the app, read from its JSON."""
	result = []
	for path in sorted(MODULE.glob("doctype/*/*.json")):
		data = json.loads(path.read_text())
		if data.get("doctype") != "DocType":
			continue
		perms: dict[str, set[str]] = {}
		for p in data.get("permissions", []):
			if p.get("permlevel"):
				continue
			perms.setdefault(p["role"], set()).update(k for k in PTYPES if p.get(k))
		result.append(
			DocTypeMeta(
				name=data["name"],
				istable=bool(data.get("istable")),
				issingle=bool(data.get("issingle")),
				submittable=bool(data.get("is_submittable")),
				read_only=bool(data.get("read_only")),
				in_create=bool(data.get("in_create")),
				perms=perms,
				fields=data.get("fields", []),
			)
		)
	return result


@dataclass
class ReportMeta:
	name: str
	ref_doctype: str
	roles: set[str]
	required_filters: list[str]

	def allowed(self, role_key: str) -> bool:
		roles = ROLES_OF[role_key]
		return roles is None or bool(roles & self.roles)


def reports() -> list[ReportMeta]:
	result = []
	for path in sorted(MODULE.glob("report/*/*.json")):
		data = json.loads(path.read_text())
		if data.get("doctype") != "Report":
			continue
		js = report_script(path.with_suffix(".js"))  # shared filter helpers expanded
		required = re.findall(r'fieldname:\s*"(\w+)"[^{}]*?reqd:\s*1', js)
		result.append(
			ReportMeta(
				name=data["name"],
				ref_doctype=data["ref_doctype"],
				roles={r["role"] for r in data.get("roles", [])},
				required_filters=required,
			)
		)
	return result


# ---------------------------------------------------------------- the page watcher
class PageWatch:
	"""Collects what goes wrong on a page: uncaught errors, failed requests and HTTP errors of the app.

	A test that expects an error (a refused save) declares it with `expect(pattern)`; anything else
	makes `problems` non-empty and the test fails (`assert_clean`).
	"""

	def __init__(self, page, base_url: str):
		self.page = page
		self.origin = urlparse(base_url).netloc
		self.problems: list[str] = []
		self.expected: list[re.Pattern] = []
		page.on("pageerror", self._on_pageerror)
		page.on("requestfailed", self._on_requestfailed)
		page.on("response", self._on_response)

	def expect(self, pattern: str) -> None:
		self.expected.append(re.compile(pattern))

	def reset(self) -> None:
		self.problems.clear()
		self.expected.clear()

	def _tolerated(self, text: str) -> bool:
		return any(p.search(text) for p in self.expected)

	def _app_url(self, url: str) -> bool:
		return urlparse(url).netloc == self.origin and not any(p.search(url) for p in TOLERATED_URLS)

	def _on_pageerror(self, error) -> None:
		text = f"{getattr(error, 'name', '')}: {getattr(error, 'message', error)}"
		stack = getattr(error, "stack", "") or ""
		if any(p.search(text) for p in TOLERATED_PAGE_ERRORS) and "ResizeObserver" in stack + text:
			return
		if not self._tolerated(text):
			self.problems.append(f"page error: {text}\n{stack[:1500]}")

	def _on_requestfailed(self, request) -> None:
		if not self._app_url(request.url):
			return
		failure = request.failure or ""
		# a request the browser dropped because the page moved on is not a failure of the app
		if "ERR_ABORTED" in failure:
			return
		text = f"request failed: {request.method} {request.url} ({failure})"
		if not self._tolerated(text):
			self.problems.append(text)

	def _on_response(self, response) -> None:
		if response.status < 400 or not self._app_url(response.url):
			return
		try:
			body = response.text()[:600]
		except Exception:  # the page may have moved on
			body = ""
		sent = (response.request.post_data or "")[:300]
		text = f"HTTP {response.status}: {response.request.method} {response.url} [{sent}] {body}"
		if not self._tolerated(text):
			self.problems.append(text)

	def assert_clean(self) -> None:
		assert not self.problems, "the page reported problems:\n" + "\n".join(self.problems)
