"""Score integrity on the write side (issue 13): who may write feedback, appeals, imports and the demo.

REST as real users of the committed world (tests/integration/world.py) where a permission is at stake.
"""

import json
from urllib.parse import quote

import pytest

try:  # the bench's Python may lack it (.ci/run installs it); only the property test needs it
	from hypothesis import HealthCheck, example, given, settings
	from hypothesis import strategies as st
except ImportError:  # pragma: no cover
	st = None

import frappe
from frappe import _

FEEDBACK = "/api/resource/" + quote("PL Feedback")


# ---------------------------------------------------------------- bounded expressions on save
@pytest.mark.parametrize(
	"doc",
	[
		{"doctype": "PL Warning Rule", "rule_name": "_Test PLW Pow", "expression": "dpd ** 9**9**9 > 0"},
		{
			"doctype": "PL Warning Rule",
			"rule_name": "_Test PLW Rep",
			"expression": 'product == "a"*999999999',
		},
		{
			"doctype": "PL KPI",
			"kpi_code": "_TEST-POW",
			"kpi_name": "Pow",
			"layer": "Collection",
			"method": "Formula",
			"formula": "ptp_kept_rate ** 9**9**9",
		},
	],
)
def test_unbounded_expressions_are_refused_on_save_quickly(doc):
	import time

	frappe.new_doc(doc["doctype"])  # load the controller: the time is the check's, not the first import's
	_("The expression is longer than {0} characters.")
	started = time.perf_counter()
	with pytest.raises(frappe.ValidationError) as e:
		frappe.get_doc(doc).insert()
	assert time.perf_counter() - started < 0.5
	assert "**" in str(e.value) or "10000" in str(e.value).replace(",", "")


# ---------------------------------------------------------------- 360 feedback only on a request
def _feedback_count(**filters) -> int:
	frappe.db.rollback()  # see what the REST requests committed
	return frappe.db.count("PL Feedback", filters)


def test_appraisee_cannot_rate_someone_elses_appraisal_without_a_request(world, rest):
	chen = rest(world.users.chen)
	before = _feedback_count(appraisal=world.appraisals.lena)
	response = chen.post(
		FEEDBACK,
		json={
			"appraisal": world.appraisals.lena,
			"reviewer": world.employees.chen,
			"relationship": "Manager",
			"ratings": [
				{"criterion": c, "rating": 1} for c in ("Professional Conduct", "Teamwork", "Compliance")
			],
		},
	)
	assert response.status_code in (403, 417), response.get_data(as_text=True)[:500]
	assert _feedback_count(appraisal=world.appraisals.lena) == before
	assert _feedback_count(reviewer=world.employees.chen, appraisal=world.appraisals.lena) == 0


@pytest.fixture
def manager_request(world):
	"""A feedback request from Lena (Bo's team lead) on Bo's appraisal, as request_feedback makes it."""
	from postloan_performance.services.cycle import get_cycle
	from postloan_performance.services.feedback import _insert_requests

	appraisal = frappe.db.get_value(
		"PL Appraisal", world.appraisals.bo, ["name", "employee", "employee_name", "template"], as_dict=True
	)
	cycle = get_cycle(world.cycle)
	users = {world.employees.lena: frappe._dict(user=world.users.lena, language=None)}
	criteria = {appraisal.template: ["Professional Conduct", "Teamwork", "Compliance"]}
	_insert_requests(cycle, [(appraisal, world.employees.lena, "Manager")], criteria, users)
	name = frappe.db.get_value("PL Feedback", {"appraisal": appraisal.name, "reviewer": world.employees.lena})
	status = cycle.status
	frappe.db.commit()
	yield name
	frappe.db.rollback()
	frappe.db.set_value("PL Review Cycle", world.cycle, "status", status, update_modified=False)
	frappe.db.delete("PL Feedback Rating", {"parent": name})
	frappe.db.delete("ToDo", {"reference_type": "PL Feedback", "reference_name": name})
	frappe.db.delete("PL Feedback", {"name": name})
	frappe.db.commit()


def _ratings(name: str, value: int) -> list[dict]:
	rows = frappe.get_all(
		"PL Feedback Rating", filters={"parent": name}, fields=["name", "criterion"], order_by="idx asc"
	)
	return [{"name": r.name, "criterion": r.criterion, "rating": value} for r in rows]


def test_feedback_request_is_filled_only_while_the_cycle_accepts_it(world, rest, manager_request):
	lena = rest(world.users.lena)
	url = f"{FEEDBACK}/{quote(manager_request)}"
	frappe.db.set_value("PL Review Cycle", world.cycle, "status", "Draft", update_modified=False)
	frappe.db.commit()
	response = lena.put(url, json={"ratings": _ratings(manager_request, 4)})
	assert response.status_code == 417, response.get_data(as_text=True)[:500]

	frappe.db.set_value("PL Review Cycle", world.cycle, "status", "Open", update_modified=False)
	frappe.db.commit()
	response = lena.put(url, json={"ratings": _ratings(manager_request, 4)})
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	# the request cannot be turned into another relationship
	response = lena.put(url, json={"relationship": "Peer"})
	assert response.status_code == 403, response.get_data(as_text=True)[:500]
	frappe.db.rollback()
	assert frappe.db.get_value("PL Feedback", manager_request, "relationship") == "Manager"
	response = lena.post(
		"/api/method/frappe.client.submit",
		data={"doc": json.dumps(frappe.get_doc("PL Feedback", manager_request).as_dict(), default=str)},
	)
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	frappe.db.rollback()
	assert frappe.db.get_value("PL Feedback", manager_request, "docstatus") == 1


def test_relationship_must_match_the_org_chart(world):
	from postloan_performance.services.feedback import expected_relationship

	bo = frappe.db.get_value(
		"PL Appraisal", world.appraisals.bo, ["employee", "pl_team", "review_cycle"], as_dict=True
	)
	assert expected_relationship(bo, world.employees.lena) == "Manager"
	assert expected_relationship(bo, world.employees.bo) == "Self"
	assert expected_relationship(bo, world.employees.chen) is None  # another team
	ada = frappe.db.get_value(
		"PL Appraisal", world.appraisals.ada, ["employee", "pl_team", "review_cycle"], as_dict=True
	)
	assert expected_relationship(ada, world.employees.bo) is None  # Bo is in North, Ada in North 1


# ---------------------------------------------------------------- PL Appeal fields by role and state
APPEAL = "/api/resource/" + quote("PL Appeal")


def _appeal_value(name, field):
	frappe.db.rollback()
	return frappe.db.get_value("PL Appeal", name, field)


def test_appeal_fields_by_role_and_state(world, rest):
	ada = rest(world.users.ada)
	manager = rest(world.users.manager)
	status_before = frappe.db.get_value("PL Appraisal", world.appraisals.ada, "status")
	# the appraisee cannot pre-set the revised score or the resolution
	response = ada.post(
		APPEAL,
		json={
			"appraisal": world.appraisals.ada,
			"reason": "Counted in the wrong month.",
			"revised_score": 99,
			"resolution": "Agreed",
		},
	)
	assert response.status_code == 403, response.get_data(as_text=True)[:500]
	frappe.db.rollback()
	assert not frappe.db.exists("PL Appeal", {"appraisal": world.appraisals.ada})

	response = ada.post(
		APPEAL, json={"appraisal": world.appraisals.ada, "reason": "Counted in the wrong month."}
	)
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	appeal = response.json["data"]["name"]
	url = f"{APPEAL}/{quote(appeal)}"
	try:
		assert ada.put(url, json={"reason": "Cured cases counted in May."}).status_code == 200
		assert ada.put(url, json={"revised_score": 99}).status_code == 403
		assert ada.put(url, json={"resolution": "ok"}).status_code == 403
		assert _appeal_value(appeal, "revised_score") == 0
		# under review: the appraisee's reason is frozen, the owner prepares the decision
		assert manager.put(url, json={"status": "Under Review"}).status_code == 200
		assert ada.put(url, json={"reason": "Changed my mind"}).status_code == 403
		assert _appeal_value(appeal, "reason") == "Cured cases counted in May."
		response = manager.put(url, json={"status": "Rejected", "resolution": "Cases closed in April."})
		assert response.status_code == 200, response.get_data(as_text=True)[:500]
		# decided: nothing is editable, by anyone
		assert ada.put(url, json={"reason": "After the fact"}).status_code == 403
		assert manager.put(url, json={"resolution": "Rewritten"}).status_code == 403
		assert manager.put(url, json={"revised_score": 80}).status_code == 403
		assert _appeal_value(appeal, "resolution") == "Cases closed in April."
		assert _appeal_value(appeal, "reason") == "Cured cases counted in May."
	finally:
		frappe.db.rollback()
		frappe.db.delete("PL Appeal Line", {"parent": appeal})
		frappe.db.delete("PL Appeal", {"name": appeal})
		frappe.db.set_value(
			"PL Appraisal", world.appraisals.ada, "status", status_before, update_modified=False
		)
		frappe.db.commit()


# ---------------------------------------------------------------- nobody passes his own review
def test_leader_linked_late_cannot_pass_his_own_manager_review():
	from frappe.model.workflow import apply_workflow

	from tests.integration.factories import (
		make_appraisal,
		make_company,
		make_cycle,
		make_employee,
		make_team,
		make_user,
	)

	make_company()
	lead = make_employee("_Test PL Late Lead")
	frappe.db.set_value("Employee", lead, "user_id", None)
	team = make_team("_Test PL Late Team", "Collection", members=[(lead, "2026-01-01", None)], team_lead=lead)
	cycle = make_cycle("_Test PL Late Cycle", [team], layers=("Collection",))
	appraisal = make_appraisal(lead, team, cycle)
	assert not frappe.db.get_value("PL Appraisal", appraisal, "appraisee_user")  # no user yet
	user = make_user("late-lead@plp.test", ["PL Team Leader", "PL Appraisee"])
	frappe.db.set_value("Employee", lead, "user_id", user)  # linked after the appraisal was made
	frappe.db.set_value("PL Appraisal", appraisal, "status", "Manager Review", update_modified=False)

	frappe.set_user(user)
	with pytest.raises(frappe.PermissionError):
		apply_workflow(json.dumps({"doctype": "PL Appraisal", "name": appraisal}), "Submit Manager Review")
	frappe.set_user("Administrator")
	assert frappe.db.get_value("PL Appraisal", appraisal, "status") == "Manager Review"


# ---------------------------------------------------------------- the demo only where the site allows it
def test_demo_refused_on_a_site_that_does_not_allow_it(monkeypatch):
	from postloan_performance import api
	from postloan_performance.services import demo

	queued = []
	monkeypatch.setattr(frappe, "enqueue", lambda method, **kwargs: queued.append((method, kwargs)))
	monkeypatch.setattr(demo, "demo_exists", lambda: False)
	monkeypatch.setitem(frappe.conf, "postloan_demo", 0)
	monkeypatch.setitem(frappe.conf, "developer_mode", 0)
	with pytest.raises(frappe.PermissionError):
		api.make_demo(seed=5, n_loans=100, password="Plp-Demo-Secret-1")
	with pytest.raises(frappe.PermissionError):
		demo.make_demo(seed=5, n_loans=100, password="Plp-Demo-Secret-1")
	assert queued == []
	assert not frappe.db.exists("Company", demo.DEMO_COMPANY)


def test_demo_password_is_never_a_job_argument_nor_in_a_message(monkeypatch):
	from postloan_performance import api
	from postloan_performance.services import demo

	queued, published = [], []
	monkeypatch.setattr(frappe, "enqueue", lambda method, **kwargs: queued.append((method, kwargs)))
	monkeypatch.setattr(demo, "demo_exists", lambda: False)
	monkeypatch.setitem(frappe.conf, "postloan_demo", 1)
	secret = "Plp-Demo-Secret-2"
	with pytest.raises(frappe.ValidationError):
		api.make_demo(seed=5, n_loans=100)  # a password must be chosen
	assert api.make_demo(seed=5, n_loans=100, password=secret)["queued"]
	(_method, kwargs) = queued[0]
	assert secret not in json.dumps(kwargs, default=str)
	# the job reads it once from the cache, and its message never shows it
	monkeypatch.setattr(
		demo,
		"make_demo",
		lambda **kw: {
			"users": [{"user": "x@pldemo.example", "role": "PL Appraisee"}],
			"password": kw["password"],
		},
	)
	monkeypatch.setattr(frappe, "publish_realtime", lambda *a, **kw: published.append((a, kw)))
	result = demo.make_demo_job(seed=5, n_loans=100, password_key=kwargs["password_key"])
	assert "password" not in result
	assert published and secret not in json.dumps(published, default=str)
	assert demo.take_password(kwargs["password_key"]) is None  # one time only


# ---------------------------------------------------------------- XLSX row limit by real rows
def _crafted_xlsx(path, rows: int, declared: str = "A1:B2"):
	"""A workbook with `rows` data rows whose sheet declares the dimension `declared`."""
	import io
	import re
	import zipfile

	from openpyxl import Workbook

	workbook = Workbook()
	sheet = workbook.active
	sheet.append(["loan_no", "customer"])
	for i in range(rows):
		sheet.append([f"L{i:05d}", f"Customer {i}"])
	buffer = io.BytesIO()
	workbook.save(buffer)
	source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
	with zipfile.ZipFile(path, "w") as target:
		for item in source.infolist():
			data = source.read(item.filename)
			if item.filename == "xl/worksheets/sheet1.xml":
				data = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{declared}"/>'.encode(), data)
			target.writestr(item, data)
	return str(path)


def test_xlsx_row_limit_counts_the_real_rows(tmp_path):
	from openpyxl import load_workbook

	from postloan_performance.services.post_loan_data import count_data_rows

	path = _crafted_xlsx(tmp_path / "crafted.xlsx", 30)
	assert load_workbook(path, read_only=True).worksheets[0].max_row == 2  # what the file claims
	assert count_data_rows(path) == 30
	assert count_data_rows(path, stop_after=10) == 11  # enough to know it is over the limit


# ---------------------------------------------------------------- bulk writes are sanitised
FORMULA_PREFIXES = ("=", "+", "-", "@")


def _loan(world, loan_no: str, customer: str, **extra) -> dict:
	return {
		"loan_no": loan_no,
		"customer": customer,
		"company": world.company,
		"managing_team": world.teams.north,
		"disbursed_on": "2025-01-15",
		"principal": "100000",
		"maturity_date": "2028-01-15",
		**extra,
	}


def _write_csv(path, rows: list[dict]) -> str:
	import pandas as pd

	pd.DataFrame(rows).to_csv(path, index=False)
	return str(path)


def _is_number(value: str) -> bool:
	try:
		float(value.replace(",", "").rstrip("%"))
	except ValueError:
		return False
	return True


def _inert(value: str | None) -> bool:
	"""No live markup, and no formula prefix (a plain number such as -5 is no formula)."""
	text = (value or "").lower()
	return (
		"onerror" not in text
		and "onload" not in text
		and "<script" not in text
		and "javascript:" not in text
		and not ((value or "").startswith(FORMULA_PREFIXES) and not _is_number(value))
	)


def test_imported_markup_and_formulas_are_stored_inert(world, tmp_path):
	from postloan_performance.services.post_loan_data import import_file

	rows = [
		_loan(world, "_TPLX-1", "<img src=x onerror=alert(document.cookie)>", product="<b>SME</b>"),
		_loan(world, "_TPLX-2", '=HYPERLINK("http://evil.example","x")', branch="@SUM(A1)"),
		_loan(world, "_TPLX-3", "+1+cmd|' /C calc'!A0", branch="-2+3"),
		_loan(world, "_TPLX-4", "Plain < Customer > Ltd", product="SME"),
	]
	import_file("PL Loan", _write_csv(tmp_path / "loans.csv", rows), publish_progress=False)
	stored = {
		r.loan_no: r
		for r in frappe.get_all(
			"PL Loan",
			filters={"loan_no": ("like", "_TPLX-%")},
			fields=["loan_no", "customer", "product", "branch"],
		)
	}
	assert len(stored) == 4
	for row in stored.values():
		for field in ("customer", "product", "branch"):
			assert _inert(row[field]), (row.loan_no, field, row[field])
	assert stored["_TPLX-2"].customer == '\'=HYPERLINK("http://evil.example","x")'
	assert stored["_TPLX-4"].customer == "Plain < Customer > Ltd"  # no markup: unchanged


def test_rejected_rows_export_neutralises_formulas(world, tmp_path):
	from postloan_performance.services.import_messages import rejected_csv
	from postloan_performance.services.post_loan_data import check_file

	rows = [_loan(world, "_TPLY-1", "Fine", principal="=1+1")]  # a formula in a number column
	checked = check_file("PL Loan", _write_csv(tmp_path / "bad.csv", rows))
	assert checked.errors
	exported = rejected_csv(checked).decode("utf-8-sig")
	assert "'=1+1" in exported
	assert ",=1+1" not in exported


def test_insert_many_sanitises_like_save():
	from postloan_performance.services.bulk import insert_many

	now = frappe.utils.now()
	fields = ["name", "creation", "modified", "owner", "modified_by", "loan_no", "customer", "principal"]
	insert_many(
		"PL Loan",
		fields,
		[
			[
				"_TPLZ-1",
				now,
				now,
				"Administrator",
				"Administrator",
				"_TPLZ-1",
				"<script>alert(1)</script>x",
				5,
			],
			["_TPLZ-2", now, now, "Administrator", "Administrator", "_TPLZ-2", "A & B < C", 5],
		],
	)
	assert _inert(frappe.db.get_value("PL Loan", "_TPLZ-1", "customer"))
	assert frappe.db.get_value("PL Loan", "_TPLZ-2", "customer") == "A & B < C"


if st is not None:
	_markup = st.sampled_from(
		[
			"<img src=x onerror=alert(1)>",
			"<script>alert(1)</script>",
			"<a href='javascript:alert(1)'>x</a>",
			"<svg onload=alert(1)>",
			"<iframe src=//evil>",
		]
	)
	_prefix = st.sampled_from(["=", "+", "-", "@", ""])
	_plain = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00,\"'"), max_size=12)

	@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
	@given(
		st.lists(st.tuples(_prefix, _plain, st.one_of(_markup, st.just("")), _plain), min_size=1, max_size=4)
	)
	# found by this test: a tag behind "<?" (an HTML comment opener) that sanitize_html passed through
	@example([("=", "<?", "<img src=x onerror=alert(1)>", "")])
	@example([("", "<!", "<svg onload=alert(1)>", "")])
	def test_property_any_row_with_markup_or_formula_prefix_is_stored_inert(world, tmp_path, cells):
		from postloan_performance.services.post_loan_data import import_file

		tag = frappe.generate_hash(length=8)
		rows = [
			_loan(world, f"_TPLH-{tag}-{i}", f"{prefix}{head}{markup}{tail}".strip() or "x")
			for i, (prefix, head, markup, tail) in enumerate(cells)
		]
		path = _write_csv(tmp_path / f"{tag}.csv", rows)
		import_file("PL Loan", path, publish_progress=False)
		stored = frappe.get_all(
			"PL Loan",
			filters={"loan_no": ("like", f"_TPLH-{tag}-%")},
			fields=["customer"],
			limit_page_length=0,
		)
		assert len(stored) == len(rows)
		for row in stored:
			assert _inert(row.customer), row.customer
		frappe.db.rollback()

else:

	@pytest.mark.skip(reason="hypothesis is not installed in this Python")
	def test_property_any_row_with_markup_or_formula_prefix_is_stored_inert():
		pass
