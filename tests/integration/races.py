"""Racing callers for the concurrency tests: real processes (race_worker.py) and REST threads.

Both start their callers together (processes wait for a "go" file, threads for a barrier) and each caller
has its own database connection. Nothing here asserts timing: the tests assert outcomes only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import frappe

from tests.integration.conftest import SITE, SITES_PATH

WORKER = Path(__file__).with_name("race_worker.py")
REPO = Path(__file__).resolve().parents[2]
KILLED = 17


def run_processes(
	n: int,
	call: str,
	kwargs: dict,
	user: str = "Administrator",
	env: dict | None = None,
	timeout: int = 180,
	site: str = SITE,
) -> list[dict]:
	"""Start ``n`` worker processes calling ``call(**kwargs)`` at the same moment; their JSON answers
	(``{"killed": True}`` for a process that died at a kill point)."""
	return collect(start_processes(n, call, kwargs, user=user, env=env, timeout=timeout, site=site))


def start_processes(
	n: int,
	call: str,
	kwargs: dict,
	user: str = "Administrator",
	env: dict | None = None,
	timeout: int = 180,
	site: str = SITE,
) -> dict:
	"""Start the worker processes and let them go together, without waiting for them (:func:`collect`)."""
	tmp = tempfile.TemporaryDirectory(prefix="plp-race-")
	go = os.path.join(tmp.name, "go")
	environment = {
		**os.environ,
		"PYTHONPATH": f"{REPO}:{os.environ.get('PYTHONPATH', '')}",
		**(env or {}),
	}
	procs, ready_files = [], []
	for i in range(n):
		ready = os.path.join(tmp.name, f"ready-{i}")
		ready_files.append(ready)
		procs.append(
			subprocess.Popen(
				[
					sys.executable,
					str(WORKER),
					site,
					str(SITES_PATH),
					user,
					ready,
					go,
					call,
					json.dumps(kwargs),
				],
				stdout=subprocess.PIPE,
				stderr=subprocess.PIPE,
				text=True,
				env=environment,
				cwd=str(SITES_PATH),
			)
		)
	deadline = time.monotonic() + timeout
	while not all(os.path.exists(r) for r in ready_files):
		if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
			break
		time.sleep(0.02)
	open(go, "w").close()
	return {"procs": procs, "tmp": tmp, "timeout": timeout}


def collect(started: dict) -> list[dict]:
	"""Wait for the processes of :func:`start_processes`; their JSON answers."""
	answers = []
	try:
		for proc in started["procs"]:
			out, err = proc.communicate(timeout=started["timeout"])
			if proc.returncode == KILLED:
				answers.append({"killed": True})
				continue
			lines = [line for line in out.splitlines() if line.startswith("{")]
			assert proc.returncode == 0 and lines, f"worker failed ({proc.returncode}): {out}\n{err[-3000:]}"
			answers.append(json.loads(lines[-1]))
	finally:
		started["tmp"].cleanup()
	frappe.db.rollback()  # a fresh snapshot: see what the workers committed
	return answers


class Pause:
	"""A folder for ``PLP_PAUSE_AT`` (services/locks.kill_point): the process says it has reached the
	point, and waits there until :meth:`release`."""

	def __init__(self, point: str):
		self.tmp = tempfile.TemporaryDirectory(prefix="plp-pause-")
		self.env = {"PLP_PAUSE_AT": point, "PLP_PAUSE_DIR": self.tmp.name}

	def wait_reached(self, timeout: float = 120) -> bool:
		deadline = time.monotonic() + timeout
		while not os.path.exists(os.path.join(self.tmp.name, "reached")):
			if time.monotonic() > deadline:
				return False
			time.sleep(0.02)
		return True

	def release(self) -> None:
		open(os.path.join(self.tmp.name, "go"), "w").close()

	def cleanup(self) -> None:
		self.tmp.cleanup()


def rest_clients(user: str, password: str, n: int) -> list:
	"""``n`` werkzeug clients of the real WSGI app, each logged in as ``user`` (its own session)."""
	from tests.integration.conftest import RestClient

	return [RestClient(user, password) for _ in range(n)]


def post_together(clients: list, path: str, data: dict) -> list:
	"""POST ``data`` to ``path`` from every client at the same moment (one thread each); the responses
	as (HTTP status, JSON body)."""
	barrier = threading.Barrier(len(clients))
	results: list = [None] * len(clients)

	def run(i, client):
		barrier.wait()
		try:
			response = client.client.post(path, data=data)
			try:
				body = json.loads(response.get_data(as_text=True) or "{}")
			except ValueError:
				body = {"raw": response.get_data(as_text=True)[:500]}
			results[i] = (response.status_code, body)
		except BaseException as e:  # surfaced by the assertion below
			results[i] = (None, {"error": repr(e)})

	threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout=180)
	frappe.db.rollback()
	assert all(r and r[0] for r in results), results
	return results


def exc_type(body: dict) -> str:
	return body.get("exc_type") or ""


def figures(cycle: str) -> dict:
	"""What a restored site must show the same: the cycle's appraisals (per employee: state, scores,
	grades, line scores), its calibration view and the workspace's grade distribution chart."""
	from postloan_performance.services import dashboard
	from postloan_performance.services.cycle import calibration_view

	appraisals = frappe.db.sql(
		"""select a.`employee`, a.`status`, a.`docstatus`, a.`total_score`, a.`grade`, a.`final_grade`,
		group_concat(concat_ws(':', k.`kpi`, k.`score`) order by k.`idx`) as `lines`
		from `tabPL Appraisal` a left join `tabPL Appraisal KPI` k on k.`parent` = a.`name`
		where a.`review_cycle` = %s group by a.`name` order by a.`employee`""",
		cycle,
		as_dict=True,
	)
	company = frappe.db.get_value("PL Review Cycle", cycle, "company")
	return json.loads(
		json.dumps(
			{
				"appraisals": appraisals,
				"calibration": calibration_view(cycle),
				"grades": dashboard.grade_distribution(company),
			},
			default=str,
		)
	)
