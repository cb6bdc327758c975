"""`bench backup` of the test site, restored into a new site, shows the same appraisals and report figures
(and keeps the unique keys: their generated columns come back with the dump).

The new site's database is made with the local MariaDB root account over its socket (no password);
without one the test is skipped. The site and its database are dropped afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import sys

import pytest

import frappe

from postloan_performance.services import constraints
from tests.integration import races
from tests.integration.conftest import SITE, SITES_PATH
from tests.integration.test_races import BEFORE, advance, new_cycle, race_org  # noqa: F401 (fixture)

RESTORED = "plp-races-restore.localhost"


def _root(sql: str, stdin=None) -> subprocess.CompletedProcess:
	return subprocess.run(
		["mariadb", "-u", "root", *(["-e", sql] if sql else [])],
		stdin=stdin,
		capture_output=True,
		text=stdin is None,
		timeout=600,
	)


def _bench(site: str, *args: str) -> subprocess.CompletedProcess:
	return subprocess.run(
		[sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", site, *args],
		cwd=str(SITES_PATH),
		env={**os.environ},
		capture_output=True,
		text=True,
		timeout=900,
	)


def test_backup_restored_into_a_new_site_gives_the_same_figures(race_org):  # noqa: F811
	if _root("select 1").returncode:
		pytest.skip("no local MariaDB root account over the socket to create the restored site's database")
	cycle = new_cycle(race_org, "backup")
	advance(cycle, (*BEFORE["close"],))  # published: appraisals, scores, grades, Versions
	expected = races.figures(cycle)
	assert len(expected["appraisals"]) == 6

	done = _bench(SITE, "backup")
	assert done.returncode == 0, done.stdout + done.stderr
	dump = max(
		glob.glob(str(SITES_PATH / SITE / "private" / "backups" / "*-database.sql.gz")), key=os.path.getmtime
	)

	db_name = "_plp_restore_" + secrets.token_hex(4)
	password = secrets.token_hex(12)
	site_dir = SITES_PATH / RESTORED
	try:
		created = _root(
			f"create database `{db_name}` character set utf8mb4 collate utf8mb4_unicode_ci;"
			+ "".join(
				f"create user '{db_name}'@'{host}' identified by '{password}';"
				f"grant all privileges on `{db_name}`.* to '{db_name}'@'{host}';"
				for host in ("localhost", "127.0.0.1", "%")
			)
			+ "flush privileges;"
		)
		assert created.returncode == 0, created.stderr
		for folder in ("logs", "private/backups", "public/files", "private/files"):
			os.makedirs(site_dir / folder, exist_ok=True)
		config = json.loads((SITES_PATH / SITE / "site_config.json").read_text())
		config.update(db_name=db_name, db_password=password)
		(site_dir / "site_config.json").write_text(json.dumps(config))
		unzip = subprocess.Popen(["gunzip", "-c", dump], stdout=subprocess.PIPE)
		loaded = subprocess.run(
			["mariadb", "-u", "root", db_name], stdin=unzip.stdout, capture_output=True, timeout=900
		)
		unzip.wait()
		assert loaded.returncode == 0, loaded.stderr.decode()[-2000:]

		restored = races.run_processes(1, "tests.integration.races.figures", {"cycle": cycle}, site=RESTORED)
		assert restored == [{"ok": expected}]
		keys = _root(
			f"select count(*) from information_schema.statistics where table_schema = '{db_name}'"
			" and index_name like 'plp_unique_%%' and seq_in_index = 1"
		)
		# the unique keys came back, every one of them
		assert keys.stdout.split()[-1] == str(len(constraints.KEYS)), keys.stdout
	finally:
		_root(
			f"drop database if exists `{db_name}`;"
			+ "".join(
				f"drop user if exists '{db_name}'@'{host}';" for host in ("localhost", "127.0.0.1", "%")
			)
		)
		shutil.rmtree(site_dir, ignore_errors=True)
		frappe.db.rollback()
