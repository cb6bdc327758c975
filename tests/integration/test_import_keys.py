"""A lender's own files on a real site: the keys it has (staff numbers, e-mails, loan and case numbers),
its encodings (UTF-8 with BOM, GB18030), Chinese headers, workbooks with several sheets, day-first dates.

Everything happens inside the test's transaction (rolled back by conftest); the loader never commits.
"""

import codecs
import io
from unittest import mock

import pandas as pd
import pytest

import frappe

from postloan_performance.services import import_files, import_messages
from postloan_performance.services.post_loan_data import PostLoanImportError, import_file
from tests.integration.test_import import P, loan_rows, no_commit, write  # noqa: F401

DATA_COLUMNS = {
	"PL Collection Case": ["name", "loan", "collector", "status", "opened_on", "entry_overdue_amount"],
	"PL Collection Action": [
		"name",
		"collection_case",
		"collector",
		"action_type",
		"action_on",
		"ptp_amount",
	],
	"PL Recovery": ["name", "loan", "collection_case", "collector", "amount", "received_on"],
	"PL Loan Snapshot": ["name", "loan", "as_of_date", "outstanding", "dpd", "bucket"],
	"PL Risk Assessment": ["name", "loan", "author", "reviewer", "report_date", "quality_rating"],
}


@pytest.fixture
def keyed(world, no_commit, tmp_path):  # noqa: F811
	"""Staff numbers and company e-mails for the world's employees (rolled back with the test); the
	loader runs as a post-loan officer."""
	frappe.set_user(world.users.officer)
	keys = {}
	for i, key in enumerate(("ada", "bo", "chen"), start=1):
		employee = world.employees[key]
		number, email = f"{P}-E{i:03d}", f"{key}.work@lender.example"
		frappe.db.set_value("Employee", employee, {"employee_number": number, "company_email": email})
		keys[key] = {"name": employee, "number": number, "email": email, "user": world.users[key]}
	import_file("PL Loan", write(tmp_path / "loans.csv", loan_rows(world, 3)))
	return keys


FILTER_COLUMN = {
	"PL Collection Action": "collection_case",
	"PL Recovery": "loan",
	"PL Risk Assessment": "loan",
}


def stored(doctype: str) -> list[tuple]:
	columns = ", ".join(f"`{c}`" for c in DATA_COLUMNS[doctype])
	where = FILTER_COLUMN.get(doctype, "name")
	return frappe.db.sql(
		f"select {columns} from `tab{doctype}` where `{where}` like %s order by name", (f"{P}%",)
	)


def files_by(keys: dict, by: str) -> dict[str, list[dict]]:
	"""The same data; Employee links by ``by`` ("name", "number", "email", "user"), loans and cases by
	name or by number under a differently spelled header and case."""
	lender = by != "name"
	loan = (lambda i: f"{P}-l{i}") if lender else (lambda i: f"{P}-L{i}")
	case = (lambda i: f"{P}-c{i}") if lender else (lambda i: f"{P}-C{i}")
	ada, bo, chen = (keys[k][by] for k in ("ada", "bo", "chen"))
	loan_header = "Loan No" if lender else "loan"
	return {
		"PL Collection Case": [
			{"case_no": f"{P}-C1", "loan": loan(2), "collector": ada, "opened_on": "2026-01-10"},
			{
				"case_no": f"{P}-C2",
				"loan": loan(3),
				"collector": bo,
				"status": "Cured",
				"opened_on": "2026-01-05",
				"closed_on": "2026-02-10",
				"entry_overdue_amount": "5,000.00",
			},
		],
		"PL Collection Action": [
			{
				"reference": f"{P}-A1",
				"collection_case": case(1),
				"collector": ada,
				"action_type": "Call",
				"action_on": "2026-01-11 09:30:00",
				"ptp_amount": "800",
				"ptp_date": "2026-01-20",
			},
			{
				"reference": "",
				"collection_case": case(2),
				"collector": bo,
				"action_type": "SMS",
				"action_on": "2026-01-12",
			},
		],
		"PL Recovery": [
			{
				"reference": f"{P}-R1",
				"loan": loan(2),
				"collection_case": case(1),
				"collector": ada,
				"amount": "800",
				"received_on": "2026-01-19",
			}
		],
		"PL Loan Snapshot": [
			{loan_header: loan(i), "as_of_date": "2026-01-31", "outstanding": "90,000", "dpd": str(40 * i)}
			for i in (1, 2, 3)
		],
		"PL Risk Assessment": [
			{
				"reference": f"{P}-RA1",
				"loan": loan(1),
				"author": chen,
				"reviewer": ada,
				"report_date": "2026-01-20",
			}
		],
	}


@pytest.mark.parametrize("by", ["number", "email", "user"])
def test_files_keyed_by_the_lenders_keys_store_the_same_rows_as_internal_names(keyed, tmp_path, by):
	frappe.db.savepoint("by_name")
	for doctype, rows in files_by(keyed, "name").items():
		import_file(doctype, write(tmp_path / f"{doctype}.csv", rows))
	expected = {doctype: stored(doctype) for doctype in DATA_COLUMNS}
	assert all(expected.values()) and len(expected["PL Loan Snapshot"]) == 3
	frappe.db.rollback(save_point="by_name")
	assert not stored("PL Recovery")

	for doctype, rows in files_by(keyed, by).items():
		result = import_file(doctype, write(tmp_path / f"{doctype}-{by}.csv", rows))
		assert result["inserted"] == len(rows), doctype
	assert {doctype: stored(doctype) for doctype in DATA_COLUMNS} == expected


def test_unknown_and_ambiguous_keys_are_listed_per_row(keyed, tmp_path):
	frappe.db.set_value(
		"Employee", keyed["chen"]["name"], "employee_number", keyed["bo"]["number"]
	)  # repeated
	rows = [
		{
			"case_no": f"{P}-C1",
			"loan": f"{P}-L1",
			"collector": keyed["ada"]["number"],
			"opened_on": "2026-01-10",
		},
		{
			"case_no": f"{P}-C2",
			"loan": f"{P}-L2",
			"collector": keyed["bo"]["number"],
			"opened_on": "2026-01-10",
		},
		{
			"case_no": f"{P}-C3",
			"loan": f"{P}-L9",
			"collector": "nobody@lender.example",
			"opened_on": "2026-01-10",
		},
	]
	with pytest.raises(PostLoanImportError) as caught:
		import_file("PL Collection Case", write(tmp_path / "cases.csv", rows))
	assert {(e["row"], e["column"], e["code"]) for e in caught.value.errors} == {
		(3, "collector", "ambiguous_link"),
		(4, "loan", "unknown_link"),
		(4, "collector", "unknown_link"),
	}
	lines = "\n".join(caught.value.lines)
	both = sorted([keyed["bo"]["name"], keyed["chen"]["name"]])
	assert (
		f"Row 3, Collector: '{keyed['bo']['number']}' matches several Employee records ({', '.join(both)})"
		in lines
	)
	assert (
		"Row 4, Collector: Employee 'nobody@lender.example' does not exist (looked up by ID, Employee Number"
		in lines
	)
	assert not frappe.db.exists("PL Collection Case", f"{P}-C1")


def test_keys_are_resolved_with_one_query_per_target_and_file(keyed, tmp_path):
	rows = [
		{
			"reference": f"{P}-RA{i}",
			"loan": f"{P}-L1",
			"author": keyed["chen"]["email"],
			"reviewer": keyed["ada"]["number"] if i % 2 else keyed["bo"]["user"],
			"report_date": "2026-01-20",
		}
		for i in range(30)
	]
	path = write(tmp_path / "assessments.csv", rows)
	real_sql, lookups = frappe.db.sql, []

	def counting_sql(query, *args, **kwargs):
		if "from `tabEmployee`" in str(query):
			lookups.append(str(query))
		return real_sql(query, *args, **kwargs)

	with mock.patch.object(frappe.db, "sql", side_effect=counting_sql):
		assert import_file("PL Risk Assessment", path)["inserted"] == 30
	assert len(lookups) == 1  # author and reviewer together, every key in one statement
	assert lookups[0].count("union all") == 3


# --- encodings, headers, sheets, dates -----------------------------------------------------------------


def snapshot_frame(headers=("loan", "as_of_date", "outstanding", "dpd"), day="2026-03-31") -> pd.DataFrame:
	return pd.DataFrame(
		[[f"{P}-L{i}", day, "1,000.50", str(10 * i)] for i in (1, 2)], columns=list(headers), dtype=object
	)


def snapshot_names(day="2026-03-31") -> set[str]:
	return set(
		frappe.get_all(
			"PL Loan Snapshot", filters={"as_of_date": day, "name": ("like", f"{P}%")}, pluck="name"
		)
	)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8", "utf-16"])
def test_encodings_with_chinese_headers_load(keyed, tmp_path, encoding):
	frame = snapshot_frame(headers=("贷款", "截至日期", "贷款余额", "逾期天数"))
	path = tmp_path / f"snapshots-{encoding}.csv"
	frame.to_csv(path, index=False, encoding=encoding, sep="\t" if encoding == "utf-16" else ",")
	raw = path.read_bytes()
	assert raw.startswith(codecs.BOM_UTF8) == (encoding == "utf-8-sig")
	if encoding == "gb18030":
		with pytest.raises(UnicodeDecodeError):
			raw.decode("utf-8")
	result = import_file("PL Loan Snapshot", str(path))
	assert (result["rows"], result["inserted"]) == (2, 2)
	assert snapshot_names() == {f"{P}-L1-2026-03-31", f"{P}-L2-2026-03-31"}
	assert frappe.db.get_value("PL Loan Snapshot", f"{P}-L2-2026-03-31", ["outstanding", "dpd"]) == (
		1000.5,
		20,
	)


def test_semicolon_csv_and_a_file_in_no_known_encoding(keyed, tmp_path):
	path = tmp_path / "semicolon.csv"
	snapshot_frame().to_csv(path, index=False, sep=";")
	assert import_file("PL Loan Snapshot", str(path))["inserted"] == 2
	bad = tmp_path / "latin.csv"
	bad.write_bytes("loan,as_of_date\n\x81\xff\x81\xff,2026-01-31\n".encode("latin-1"))
	with pytest.raises(frappe.ValidationError, match="neither UTF-8 nor GB18030"):
		import_file("PL Loan Snapshot", str(bad))


def test_a_workbook_sheet_is_picked(keyed, tmp_path):
	path = tmp_path / "book.xlsx"
	with pd.ExcelWriter(path) as writer:
		pd.DataFrame({"note": ["read me first"]}).to_excel(writer, sheet_name="About", index=False)
		snapshot_frame().to_excel(writer, sheet_name="Snapshots", index=False)
	assert import_files.sheet_names(str(path)) == ["About", "Snapshots"]
	with pytest.raises(PostLoanImportError):  # the first sheet is not a snapshot file
		import_file("PL Loan Snapshot", str(path))
	with pytest.raises(frappe.ValidationError, match="has no sheet Nope; its sheets are: About, Snapshots"):
		import_file("PL Loan Snapshot", str(path), sheet="Nope")
	assert import_file("PL Loan Snapshot", str(path), sheet="Snapshots")["inserted"] == 2


def test_day_first_dates_by_site_setting_or_per_import(keyed, tmp_path):
	path = write(tmp_path / "dmy.csv", snapshot_frame(day="31-03-2026").to_dict("records"))
	with pytest.raises(PostLoanImportError) as caught:
		import_file("PL Loan Snapshot", path)  # the site reads year first by default
	assert "'31-03-2026' is not a date (use YYYY-MM-DD)" in caught.value.lines[0]
	assert import_file("PL Loan Snapshot", path, dry_run=True, date_order="Day-Month-Year")["new"] == 2
	frappe.db.set_single_value("PL Post-Loan Settings", "import_date_order", "Day-Month-Year")
	assert import_file("PL Loan Snapshot", path)["inserted"] == 2
	assert snapshot_names() == {f"{P}-L1-2026-03-31", f"{P}-L2-2026-03-31"}
	with pytest.raises(frappe.ValidationError, match="Unknown date order"):
		import_file("PL Loan Snapshot", path, date_order="Year-Day-Month")


def test_repeated_headers_in_a_csv_are_reported(keyed, tmp_path):
	path = tmp_path / "repeated.csv"
	path.write_text(f"loan,as_of_date,Loan\n{P}-L1,2026-03-31,{P}-L1\n", encoding="utf-8")
	with pytest.raises(PostLoanImportError) as caught:
		import_file("PL Loan Snapshot", str(path))
	assert [(e["row"], e["column"], e["code"]) for e in caught.value.errors] == [
		(1, "loan", "duplicate_column")
	]


def test_rejected_rows_csv_has_every_problem_with_the_row_as_read(keyed, tmp_path):
	days = pd.date_range("2025-01-01", periods=300).strftime("%Y-%m-%d")
	rows = [{"loan": f"{P}-L1", "as_of_date": day, "outstanding": "5", "colour": ""} for day in days]
	rows[5]["outstanding"] = "-1"
	rows[250].update(loan="nope", as_of_date="soon")
	with pytest.raises(PostLoanImportError) as caught:
		import_file("PL Loan Snapshot", write(tmp_path / "s.csv", rows))
	error = caught.value
	headline = str(error).split("<br>")[0]
	assert "1 problem(s) in the header and 3 problem(s) in 2 of 300 row(s)" in headline
	csv_text = import_messages.rejected_csv(error.checked).decode("utf-8-sig")
	frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
	assert frame.columns.tolist() == ["Row", "loan", "as_of_date", "outstanding", "colour", "Problems"]
	assert frame["Row"].tolist() == ["1", "7", "252"]
	assert frame["Problems"].iloc[0] == "Header: unknown column 'colour'"
	assert frame["Problems"].iloc[1] == "Outstanding: '-1' is negative"
	last = frame.iloc[2]
	assert (last["loan"], last["as_of_date"], last["outstanding"]) == ("nope", "soon", "5")
	assert last["Problems"].startswith("Loan: PL Loan 'nope' does not exist (looked up by ID, Loan No); ")
	assert "As Of Date: 'soon' is not a date" in last["Problems"]
