"""The data loading wizard (PL Data Import) on a real site: template, check with preview, import, history,
background jobs (run in-process), and who may use it.

In-process tests run in the test's transaction (rolled back); REST tests use the committed world only
and create nothing. Files written under the site are removed after each test.
"""

import io
import json
import os
from unittest import mock

import openpyxl
import pandas as pd
import pytest

import frappe

from postloan_performance import api, permissions
from postloan_performance.services import data_import, post_loan_data
from tests.integration.test_import import P, loan_rows, no_commit  # noqa: F401

DOCTYPE = "PL Data Import"


@pytest.fixture
def files(world):
	"""Remove the files the test made under the site (File rows go with the rollback)."""
	folder = frappe.get_site_path("private", "files")
	before = set(os.listdir(folder))
	yield
	for name in set(os.listdir(folder)) - before:
		os.remove(os.path.join(folder, name))


@pytest.fixture
def officer(world, no_commit, files):  # noqa: F811
	frappe.set_user(world.users.officer)
	return world.users.officer


def new_import(
	import_type: str, rows: list[dict] | None = None, content: bytes | None = None, name="f.csv", **values
):
	doc = frappe.get_doc({"doctype": DOCTYPE, "import_type": import_type, **values}).insert()
	if content is None:
		content = pd.DataFrame(rows).to_csv(index=False).encode()
	file_doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{P}-{name}",
			"is_private": 1,
			"content": content,
			"attached_to_doctype": DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "import_file",
		}
	).insert()
	doc.import_file = file_doc.file_url
	doc.save()
	return doc


def fresh(doc):
	return frappe.get_doc(DOCTYPE, doc.name)


def test_check_previews_then_import_records_the_history(world, officer):
	frappe.db.set_value("Employee", world.employees.ada, "employee_number", f"{P}-E1")
	doc = new_import("PL Loan", loan_rows(world, 3), name="loans.csv")
	assert (doc.status, doc.file_name) == ("Draft", f"{P}-loans.csv")

	status = api.check_data_import(doc.name)
	assert status["status"] == "Checked"
	doc = fresh(doc)
	assert (doc.total_rows, doc.new_rows, doc.already_present, doc.rejected_rows) == (3, 3, 0, 0)
	assert not frappe.db.exists("PL Loan", f"{P}-L1")  # a check writes nothing
	preview = json.loads(doc.preview)
	assert [r["name"] for r in preview] == [f"{P}-L1", f"{P}-L2", f"{P}-L3"]
	assert (
		preview[0] | {"_row": 2, "_new": True, "principal": 100000.0, "disbursed_on": "2025-01-15"}
		== preview[0]
	)
	assert preview[0]["status"] == "Active"  # as it will be stored: the Select default applied

	status = api.start_data_import(doc.name)
	doc = fresh(doc)
	assert (status["status"], doc.status, doc.inserted_rows, doc.imported_by) == (
		"Imported",
		"Imported",
		3,
		world.users.officer,
	)
	assert doc.started_on and doc.finished_on and doc.seconds is not None
	assert frappe.db.get_value("PL Loan", f"{P}-L3", "owner") == world.users.officer

	# the same file again: nothing new
	again = new_import("PL Loan", loan_rows(world, 3), name="loans-again.csv")
	api.check_data_import(again.name)
	again = fresh(again)
	assert (again.status, again.new_rows, again.already_present) == ("Checked", 0, 3)
	assert json.loads(again.preview)[0]["_new"] is False

	# history: who, when, which file, counts, result
	history = frappe.get_list(
		DOCTYPE,
		filters={"file_name": ("like", f"{P}-%")},
		fields=["name", "owner", "creation", "file_name", "status", "inserted_rows", "total_rows"],
		order_by="creation asc",
	)
	assert [(h.file_name, h.status, h.inserted_rows, h.total_rows) for h in history] == [
		(f"{P}-loans.csv", "Imported", 3, 3),
		(f"{P}-loans-again.csv", "Checked", 0, 3),
	]


def test_refused_file_lists_every_problem_and_keeps_the_rejected_rows(world, officer):
	api_doc = new_import("PL Loan", loan_rows(world, 2), name="loans.csv")
	api.check_data_import(api_doc.name)
	api.start_data_import(api_doc.name)
	rows = [
		{"Loan": f"{P}-L1", "As Of Date": "2026-01-31", "Outstanding": "100", "Colour": "red"},
		{"Loan": f"{P}-NOPE", "As Of Date": "2026-01-31", "Outstanding": "-5", "Colour": ""},
		{"Loan": f"{P}-L2", "As Of Date": "31/01/2026", "Outstanding": "1,000", "Colour": ""},
	]
	doc = new_import("PL Loan Snapshot", rows, name="snapshots.csv")
	api.check_data_import(doc.name)
	doc = fresh(doc)
	assert (doc.status, doc.total_rows, doc.rejected_rows, doc.problem_count) == ("Refused", 3, 2, 4)
	problems = json.loads(doc.problems)
	assert problems["headline"].startswith(
		f"{P}-snapshots.csv was not imported: 1 problem(s) in the header and 3 problem(s) in 2 of 3 row(s)."
	)
	assert problems["lines"][0] == "Header: unknown column 'Colour'"
	assert "Row 4, As Of Date: '31/01/2026' is not a date (use YYYY-MM-DD)" in problems["lines"]
	# the full list: the rejected rows as read, with row number and reasons
	content = frappe.get_doc("File", {"file_url": doc.rejected_file}).get_content()
	rejected = pd.read_csv(io.BytesIO(content if isinstance(content, bytes) else content.encode()), dtype=str)
	assert rejected["Row"].tolist() == ["1", "3", "4"]
	assert rejected.columns.tolist() == ["Row", "Loan", "As Of Date", "Outstanding", "Colour", "Problems"]
	with pytest.raises(frappe.ValidationError, match="Check the file first"):
		api.start_data_import(doc.name)
	assert not frappe.db.exists("PL Loan Snapshot", {"loan": f"{P}-L1"})

	# the corrected file, with the day-first date order chosen on the import
	fixed = [{**r, "As Of Date": "31-01-2026"} for r in rows if r["Loan"] != f"{P}-NOPE"]
	for row in fixed:
		row.pop("Colour")
	doc = fresh(doc)
	doc.date_order = "Day-Month-Year"
	doc.save()
	assert (fresh(doc).status, fresh(doc).rejected_file) == ("Draft", None)  # a new option needs a new check
	file_doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{P}-snapshots-fixed.csv",
			"is_private": 1,
			"content": pd.DataFrame(fixed).to_csv(index=False).encode(),
			"attached_to_doctype": DOCTYPE,
			"attached_to_name": doc.name,
		}
	).insert()
	doc = fresh(doc)
	doc.import_file = file_doc.file_url
	doc.save()
	assert api.check_data_import(doc.name)["status"] == "Checked"
	assert api.start_data_import(doc.name)["inserted_rows"] == 2
	assert frappe.db.get_value("PL Loan Snapshot", f"{P}-L2-2026-01-31", "outstanding") == 1000


def test_an_import_that_ran_cannot_be_changed(world, officer):
	doc = new_import("PL Loan", loan_rows(world, 1))
	api.check_data_import(doc.name)
	api.start_data_import(doc.name)
	doc = fresh(doc)
	doc.import_type = "PL Recovery"
	with pytest.raises(frappe.ValidationError, match="cannot be changed"):
		doc.save()
	with pytest.raises(frappe.ValidationError, match="cannot be checked again"):
		api.check_data_import(doc.name)


def test_large_files_run_as_a_background_job_with_progress(world, officer, monkeypatch):
	monkeypatch.setattr(data_import, "BACKGROUND_ROWS", 2)
	doc = new_import("PL Loan", loan_rows(world, 5))
	calls = []
	real_enqueue = frappe.enqueue

	def enqueue(method, **kwargs):
		calls.append((method, kwargs))
		assert frappe.db.get_value(DOCTYPE, doc.name, "status") == "Queued"
		assert kwargs["now"] is True  # tests run the job body in-process
		return real_enqueue(method, **kwargs)

	monkeypatch.setattr(post_loan_data, "INSERT_CHUNK_SIZE", 2)
	with mock.patch("frappe.enqueue", side_effect=enqueue):
		assert api.check_data_import(doc.name)["status"] == "Checked"
		status = api.start_data_import(doc.name)
	assert [(m, k["queue"], k["job_id"], k["step"], k["deduplicate"]) for m, k in calls] == [
		("postloan_performance.services.data_import.run", "long", f"pl_data_import::{doc.name}", step, True)
		for step in ("check", "import")
	]
	assert (status["status"], status["inserted_rows"]) == ("Imported", 5)
	assert api.data_import_status(doc.name)["progress"]["step"] == "import"
	assert frappe.db.count("PL Loan", {"name": ("like", f"{P}-L%")}) == 5


def test_a_failure_inside_the_import_writes_nothing_and_is_recorded(world, officer, monkeypatch):
	doc = new_import("PL Loan", loan_rows(world, 3))
	api.check_data_import(doc.name)
	monkeypatch.setattr(post_loan_data, "INSERT_CHUNK_SIZE", 1)
	real_insert, done = post_loan_data._insert, []

	def failing_insert(*args):
		if done:
			raise RuntimeError("disk full")
		done.append(1)
		return real_insert(*args)

	monkeypatch.setattr(post_loan_data, "_insert", failing_insert)
	status = api.start_data_import(doc.name)
	assert (status["status"], status["error_message"]) == ("Failed", "disk full")
	assert not frappe.db.exists("PL Loan", f"{P}-L1")  # the first chunk went with the savepoint


# --- templates -----------------------------------------------------------------------------------------


def test_template_has_bilingual_headers_an_example_and_loads_back(world, officer, tmp_path):
	api.download_import_template("PL Loan Snapshot", "xlsx")
	assert frappe.response["filename"] == "pl-loan-snapshot-template.xlsx"
	book = openpyxl.load_workbook(io.BytesIO(frappe.response["filecontent"]))
	assert book.sheetnames == ["Data", "Columns"]
	data = list(book["Data"].values)
	assert data[0][:3] == ("Loan / 贷款", "As Of Date / 截至日期", "Outstanding / 贷款余额")
	assert data[1][:3] == ("LN-2026-000001", "2026-03-31", "95,000.00")
	about = {row[1]: row for row in book["Columns"].values}
	assert about["loan"][2] == "Yes" and about["dpd"][2] == "No"
	assert "Loan No" in about["loan"][3]

	# the template loads as it is once its loan exists (bilingual headers, the first of two sheets)
	loan = {**loan_rows(world, 1)[0], "loan_no": "LN-2026-000001"}
	post_loan_data.import_file("PL Loan", _write(tmp_path / "loan.csv", [loan]))
	path = tmp_path / "template.xlsx"
	path.write_bytes(frappe.response["filecontent"])
	assert post_loan_data.import_file("PL Loan Snapshot", str(path))["inserted"] == 1
	assert frappe.db.get_value("PL Loan Snapshot", "LN-2026-000001-2026-03-31", "overdue_amount") == 1200

	api.download_import_template("PL Collection Case", "csv", "Day-Month-Year")
	text = frappe.response["filecontent"].decode("utf-8-sig").splitlines()
	assert text[0].startswith("Case No / 案件编号,Loan / 贷款,")
	assert ",05-03-2026," in text[1]
	with pytest.raises(frappe.ValidationError):
		api.download_import_template("PL Appraisal", "xlsx")


def _write(path, rows):
	pd.DataFrame(rows).to_csv(path, index=False)
	return str(path)


# --- who may use it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "executive", "lena"])
def test_the_wizard_is_refused_to_others(world, no_commit, files, who):  # noqa: F811
	frappe.set_user(world.users.officer)
	doc = new_import("PL Loan", loan_rows(world, 1))
	frappe.set_user(world.users[who])
	assert not frappe.has_permission(DOCTYPE, "read")
	assert not frappe.has_permission(DOCTYPE, "create")
	with pytest.raises(frappe.PermissionError):
		frappe.get_list(DOCTYPE)
	assert permissions.data_import_query(world.users[who]) == "1=0"
	assert permissions.data_import_has_permission(frappe.get_doc(DOCTYPE, doc.name), "read") is False
	with pytest.raises(frappe.PermissionError):
		frappe.get_doc({"doctype": DOCTYPE, "import_type": "PL Loan"}).insert()
	for call in (api.check_data_import, api.start_data_import, api.data_import_status):
		with pytest.raises(frappe.PermissionError):
			call(doc.name)
	with pytest.raises(frappe.PermissionError):
		api.download_import_template("PL Loan", "csv")


def test_officers_and_the_scheme_owner_share_the_history_and_change_only_their_own(world, no_commit, files):  # noqa: F811
	frappe.set_user(world.users.officer)
	mine = new_import("PL Loan", loan_rows(world, 1))
	frappe.set_user(world.users.manager)
	assert [d.name for d in frappe.get_list(DOCTYPE, filters={"name": mine.name})] == [mine.name]
	assert frappe.get_doc(DOCTYPE, mine.name).has_permission("read")
	assert not frappe.get_doc(DOCTYPE, mine.name).has_permission("write")
	with pytest.raises(frappe.PermissionError):
		api.check_data_import(mine.name)
	own = new_import("PL Loan", loan_rows(world, 1), name="owner.csv")
	assert api.check_data_import(own.name)["status"] == "Checked"


def test_rest_refuses_the_wizard_to_an_appraisee(world, rest):
	ada = rest(world.users.ada)
	assert ada.get(f"/api/resource/{DOCTYPE}").status_code == 403
	response = ada.post(
		"/api/method/postloan_performance.api.download_import_template", data={"doctype": "PL Loan"}
	)
	assert response.status_code == 403
	officer = rest(world.users.officer)
	assert officer.get(f"/api/resource/{DOCTYPE}").status_code == 200


def test_a_file_that_cannot_be_read_is_refused_with_its_reason(world, officer):
	doc = new_import(
		"PL Loan", content="loan_no,customer\n\x81\xff\x81\xff,x\n".encode("latin-1"), name="odd.csv"
	)
	status = api.check_data_import(doc.name)
	assert status["status"] == "Refused"
	assert "neither UTF-8 nor GB18030" in status["error_message"]
	workbook = new_import("PL Loan", content=_xlsx({"About": ["x"]}), name="book.xlsx", sheet="Loans")
	assert api.data_import_sheets(workbook.name) == ["About"]
	status = api.check_data_import(workbook.name)
	assert (status["status"], status["error_message"]) == (
		"Refused",
		f"The workbook {P}-book.xlsx has no sheet Loans; its sheets are: About",
	)


def _xlsx(sheets: dict[str, list]) -> bytes:
	buffer = io.BytesIO()
	with pd.ExcelWriter(buffer) as writer:
		for name, values in sheets.items():
			pd.DataFrame({"note": values}).to_excel(writer, sheet_name=name, index=False)
	return buffer.getvalue()
