"""No form fetches from Employee: the scheme owner and the post-loan officer may select employees but not
read them (install.allow_employee_selection), and a fetch through an Employee link stops their form with
Frappe's "You need Read permission to fetch values". The controllers copy those values on the server."""

import json
from pathlib import Path

DOCTYPES = Path(__file__).resolve().parents[2] / "postloan_performance" / "postloan_performance" / "doctype"


def test_no_field_is_fetched_through_an_employee_link():
	fetched = []
	for path in sorted(DOCTYPES.glob("*/*.json")):
		meta = json.loads(path.read_text(encoding="utf-8"))
		if meta.get("doctype") != "DocType":
			continue
		employee_links = {
			f["fieldname"]
			for f in meta["fields"]
			if f["fieldtype"] == "Link" and f.get("options") == "Employee"
		}
		fetched += [
			f"{meta['name']}.{f['fieldname']}"
			for f in meta["fields"]
			if (f.get("fetch_from") or "").split(".")[0] in employee_links
		]
	assert fetched == []
