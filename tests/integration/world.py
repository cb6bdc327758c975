"""A small committed organisation for permission tests.

    _Test PL North (Collection, lead: Lena)          _Test PL Risk (Risk Control, lead: Rui)
      members: Lena, Bo                                members: Rui, Chen
      └── _Test PL North 1 (Collection, lead: -)
            members: Ada

Users (password factories.PASSWORD):
    manager@plp.test  PL Performance Manager
    exec@plp.test     PL Executive
    officer@plp.test  PL Post-Loan Officer
    lena@plp.test     PL Team Leader + PL Appraisee (leads North and, through it, North 1)
    rui@plp.test      PL Team Leader + PL Appraisee (leads Risk)
    ada@plp.test, bo@plp.test, chen@plp.test   PL Appraisee

Appraisals in cycle "_Test PL Cycle": Ada (Published), Bo (Manager Review), Lena (Published),
Chen (Published), Rui (Self Review).
"""

import frappe

from tests.integration.factories import (
	COMPANY,
	make_appraisal,
	make_company,
	make_cycle,
	make_employee,
	make_team,
	make_user,
)

CYCLE = "_Test PL Cycle"
APPRAISEE = "PL Appraisee"
LEADER = "PL Team Leader"


def _set_state(name: str, status: str, submit: bool):
	doc = frappe.get_doc("PL Appraisal", name)
	if submit and doc.docstatus == 0:
		doc.flags.ignore_permissions = True
		doc.submit()
	frappe.db.set_value("PL Appraisal", name, "status", status, update_modified=False)
	if status in ("Published", "Acknowledged", "Appealed"):
		frappe.db.set_value(
			"PL Appraisal", name, "published_on", frappe.utils.now_datetime(), update_modified=False
		)


def build_world() -> frappe._dict:
	frappe.set_user("Administrator")
	make_company()
	users = frappe._dict(
		manager=make_user("manager@plp.test", ["PL Performance Manager"]),
		executive=make_user("exec@plp.test", ["PL Executive"]),
		officer=make_user("officer@plp.test", ["PL Post-Loan Officer"]),
		lena=make_user("lena@plp.test", [LEADER, APPRAISEE]),
		rui=make_user("rui@plp.test", [LEADER, APPRAISEE]),
		ada=make_user("ada@plp.test", [APPRAISEE]),
		bo=make_user("bo@plp.test", [APPRAISEE]),
		chen=make_user("chen@plp.test", [APPRAISEE]),
	)
	emp = frappe._dict(
		{
			key: make_employee(f"_Test PL {key.title()}", user=users[key])
			for key in ("lena", "rui", "ada", "bo", "chen")
		}
	)
	start = "2025-01-01"
	north = make_team(
		"_Test PL North",
		"Collection",
		members=[(emp.lena, start, None), (emp.bo, start, None)],
		team_lead=emp.lena,
		is_group=1,
	)
	north1 = make_team("_Test PL North 1", "Collection", members=[(emp.ada, start, None)], parent=north)
	risk = make_team(
		"_Test PL Risk",
		"Risk Control",
		members=[(emp.rui, start, None), (emp.chen, start, None)],
		team_lead=emp.rui,
	)
	cycle = make_cycle(CYCLE, [north, north1, risk])
	appraisals = frappe._dict(
		ada=make_appraisal(emp.ada, north1, cycle),
		bo=make_appraisal(emp.bo, north, cycle),
		lena=make_appraisal(emp.lena, north, cycle),
		chen=make_appraisal(emp.chen, risk, cycle),
		rui=make_appraisal(emp.rui, risk, cycle),
	)
	for key in ("ada", "lena", "chen"):
		_set_state(appraisals[key], "Published", submit=True)
	_set_state(appraisals.rui, "Self Review", submit=False)
	_set_state(appraisals.bo, "Manager Review", submit=False)
	return frappe._dict(
		company=COMPANY,
		users=users,
		employees=emp,
		teams=frappe._dict(north=north, north1=north1, risk=risk),
		cycle=cycle,
		appraisals=appraisals,
	)
