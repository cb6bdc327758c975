"""Unique keys the database keeps (services/constraints.py): in place after install and migrate, a racing
second writer creates nothing, and on a site that already has duplicates the empty ones are merged away
and the others refused and reported (the patch, the bench command).

Adding or dropping an index commits, so these tests commit their data and remove it afterwards.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import uuid

import pytest

import frappe

from postloan_performance.services import constraints
from tests.integration.conftest import SITE, SITES_PATH
from tests.integration.factories import COMPANY, make_cycle

APPRAISAL_KEY = next(k for k in constraints.KEYS if k.doctype == "PL Appraisal")
FIELDS = [
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"docstatus",
	"status",
	"review_cycle",
	"employee",
	"company",
	"pl_team",
	"layer",
	"template",
]


def _has_index(doctype: str, index: str) -> bool:
	return bool(frappe.db.sql(f"show index from `tab{doctype}` where Key_name = %s", index))


@pytest.fixture
def cycle(world):
	name = make_cycle(f"_Test PL UK {uuid.uuid4().hex[:8]}", [world.teams.north])
	frappe.db.commit()
	yield name
	frappe.db.rollback()
	names = frappe.get_all("PL Appraisal", {"review_cycle": name}, pluck="name")
	frappe.db.delete("PL Appraisal KPI", {"parent": ("in", names or [""])})
	frappe.db.delete("PL Appraisal", {"review_cycle": name})
	frappe.db.delete("PL Review Cycle Team", {"parent": name})
	frappe.db.delete("PL Review Cycle Template", {"parent": name})
	frappe.db.delete("PL Review Cycle", name)
	frappe.db.commit()
	constraints.apply_unique_keys(doctypes=["PL Appraisal"])  # whatever a test left, the key is back
	assert _has_index("PL Appraisal", APPRAISAL_KEY.index)


def _appraisal(cycle: str, employee: str, docstatus: int = 0, status: str = "Draft", ignore: bool = False):
	from postloan_performance.services.bulk import insert_many

	name = f"_T-UK-{uuid.uuid4().hex[:10]}"
	now = frappe.utils.now_datetime()
	row = [name, now, now, "Administrator", "Administrator", docstatus, status, cycle, employee, COMPANY]
	row += ["_Test PL North", "Collection", "Collection - Default"]
	insert_many("PL Appraisal", FIELDS, [row], ignore_duplicates=ignore)
	return name


def _line(parent: str):
	frappe.db.sql(
		"""insert into `tabPL Appraisal KPI` (`name`, `parent`, `parenttype`, `parentfield`, `idx`, `kpi`)
		values (%s, %s, 'PL Appraisal', 'kpis', 1, null)""",
		(f"_T-UK-L-{uuid.uuid4().hex[:8]}", parent),
	)


def _live(cycle: str) -> list[str]:
	return frappe.get_all("PL Appraisal", {"review_cycle": cycle, "docstatus": ("<", 2)}, pluck="name")


def test_every_key_is_in_place():
	for key in constraints.KEYS:
		if frappe.db.sql("show tables like %s", f"tab{key.doctype}"):
			assert _has_index(key.doctype, key.index), key.doctype


def test_second_writer_creates_nothing(cycle, world):
	first = _appraisal(cycle, world.employees.ada)
	_appraisal(cycle, world.employees.ada, ignore=True)  # INSERT IGNORE: nothing
	assert _live(cycle) == [first]
	with pytest.raises(Exception) as raised:
		_appraisal(cycle, world.employees.ada)
	assert frappe.db.is_duplicate_entry(raised.value) or "Duplicate" in str(raised.value)
	frappe.db.rollback()


def test_cancelled_appraisal_does_not_collide(cycle, world):
	cancelled = _appraisal(cycle, world.employees.bo, docstatus=2, status="Cancelled")
	live = _appraisal(cycle, world.employees.bo)
	assert {cancelled, live} == set(frappe.get_all("PL Appraisal", {"review_cycle": cycle}, pluck="name"))
	frappe.db.rollback()


def _without_index():
	frappe.db.sql_ddl(f"alter table `tabPL Appraisal` drop index `{APPRAISAL_KEY.index}`")


def test_duplicates_merged_or_refused(cycle, world):
	_without_index()
	kept = _appraisal(cycle, world.employees.ada)
	_line(kept)
	empty = _appraisal(cycle, world.employees.ada)
	_line(empty)
	# two submitted appraisals of one person: both carry work, the group is refused
	submitted = [_appraisal(cycle, world.employees.bo, 1, "Approved") for _ in range(2)]
	frappe.db.commit()

	dry = constraints.apply_unique_keys(dry_run=True, doctypes=["PL Appraisal"])
	assert (dry["groups"], dry["merged"], dry["refused"]) == (2, 1, 1)
	assert len(_live(cycle)) == 4  # a dry run changes nothing

	result = constraints.apply_unique_keys(doctypes=["PL Appraisal"])
	assert (result["groups"], result["merged"], result["refused"]) == (2, 1, 1)
	assert sorted(_live(cycle)) == sorted([kept, *submitted])
	assert not frappe.db.exists("PL Appraisal KPI", {"parent": empty})
	assert frappe.db.exists("PL Appraisal KPI", {"parent": kept})
	assert not _has_index("PL Appraisal", APPRAISAL_KEY.index)  # refused: not added
	text = "\n".join(constraints.summary_lines(result))
	assert "1 refused" in text and submitted[0] in text and submitted[1] in text

	frappe.db.delete("PL Appraisal", submitted[1])  # the admin resolves it, then runs it again
	frappe.db.commit()
	again = constraints.apply_unique_keys(doctypes=["PL Appraisal"])
	assert (again["groups"], again["refused"]) == (0, 0)
	assert _has_index("PL Appraisal", APPRAISAL_KEY.index)


def test_patch_reports_what_it_merged(cycle, world):
	from postloan_performance.patches.v0_3 import unique_keys

	_without_index()
	for _ in range(3):
		_appraisal(cycle, world.employees.chen)
	frappe.db.commit()
	out = io.StringIO()
	with contextlib.redirect_stdout(out):
		unique_keys.execute()
	assert "1 groups of duplicates, 1 merged, 0 refused" in out.getvalue(), out.getvalue()
	assert "PL Appraisal: 1 groups, 1 merged (2 empty duplicates removed), 0 refused" in out.getvalue()
	assert len(_live(cycle)) == 1
	assert _has_index("PL Appraisal", APPRAISAL_KEY.index)


def test_bench_command_dry_run():
	env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
	done = subprocess.run(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			SITE,
			"postloan-unique-keys",
			"--dry-run",
		],
		cwd=str(SITES_PATH),
		env=env,
		capture_output=True,
		text=True,
		timeout=120,
	)
	assert done.returncode == 0, done.stdout + done.stderr
	assert "Unique keys: 0 groups of duplicates, 0 would merge, 0 refused" in done.stdout
	assert "PL Appraisal: 0 groups" in done.stdout
