"""Named locks that serialise a step per review cycle (or per daily job, per import file).

A step takes ``step_lock(kind, key)`` for its whole duration. The lock is MariaDB's ``GET_LOCK`` with a
timeout of 0: a second caller does not wait, it is refused at once with :class:`AlreadyRunning` (HTTP 409,
a translated "already running" message). The lock belongs to the database session, so:

- it is held until the step's transaction ends: it is released right after the commit or the rollback
  (``frappe.db.after_commit`` / ``after_rollback``), never before the writes are visible to others;
- a worker that dies (killed, connection dropped, timeout) loses its connection, and the server frees
  the lock and rolls the transaction back: nothing half-done stays, and the step can be run again.

Before taking the lock the caller's transaction is renewed when it has written nothing (not in tests), so that what the
step reads under the lock is what the previous holder committed (MariaDB's REPEATABLE READ would
otherwise keep a snapshot from before the lock). State checks (``status`` is X) are made under the lock.
Background jobs keep their job-id de-duplication; the job body takes the same lock as the inline path.

Other databases: the lock is a ``SELECT … FOR UPDATE NOWAIT`` on a row of the lock's key where there is
one (the review cycle); without a row there is no lock there (the unique keys still hold).
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager

import frappe
from frappe import _


class AlreadyRunning(frappe.ValidationError):
	"""Another caller is running the same step right now (HTTP 409 Conflict)."""

	http_status_code = 409


def step_title(kind: str) -> str:
	return {
		"cycle": _("Review cycle step"),
		"daily": _("Post-loan daily job"),
		"import": _("Data import"),
		"payout": _("Payout run"),
	}.get(kind, kind)


def lock_name(kind: str, key: str) -> str:
	"""A server-wide lock name, unique per site database (MariaDB lock names are at most 64 characters)."""
	database = frappe.conf.db_name or frappe.local.site or ""
	digest = hashlib.sha1(f"{database}\x1f{kind}\x1f{key}".encode()).hexdigest()[:40]
	return f"plp:{kind}:{digest}"


def _held() -> dict[str, int]:
	if not hasattr(frappe.local, "plp_locks"):
		frappe.local.plp_locks = {}
	return frappe.local.plp_locks


def is_running(kind: str, key: str) -> bool:
	"""True while another session holds the lock (a step is running)."""
	if frappe.db.db_type != "mariadb":
		return False
	name = lock_name(kind, key)
	if name in _held():
		return False
	return not frappe.db.sql("select is_free_lock(%s)", name)[0][0]


def refuse(kind: str, key: str):
	frappe.throw(
		_("{0} {1} is already running; wait for it to finish, then try again.").format(
			step_title(kind), frappe.bold(key)
		),
		exc=AlreadyRunning,
		title=_("Already Running"),
	)


def acquire(kind: str, key: str, until_commit: bool = True) -> bool:
	"""Take the lock until the current transaction ends; False when another session holds it.

	``until_commit=False``: the caller releases it (:func:`release`), for jobs that commit as they go.
	Taking a lock already held by this session does nothing (and returns True).
	"""
	name = lock_name(kind, key)
	held = _held()
	if name in held:
		return True
	if frappe.db.db_type != "mariadb":
		return True
	if not held and not frappe.db.transaction_writes and not frappe.flags.in_test:
		# nothing written yet: end the transaction, so the reads under the lock see the last holder's
		# commit (a test's own transaction is left alone)
		frappe.db.commit()  # nosemgrep
	if not frappe.db.sql("select get_lock(%s, 0)", name)[0][0]:
		return False
	held[name] = 1
	if os.environ.get("PLP_KILL_AT") == "before_commit":
		frappe.db.before_commit.add(lambda: kill_point("before_commit"))
	if until_commit:
		frappe.db.after_commit.add(lambda: release(name))
		frappe.db.after_rollback.add(lambda: release(name))
	return True


def release(name: str) -> None:
	"""Free a lock this session holds (by its :func:`lock_name`)."""
	if _held().pop(name, None):
		try:
			frappe.db.sql("select release_lock(%s)", name)
		except Exception:  # the connection is gone: the server has freed the lock already
			pass


def release_all() -> None:
	"""Free this session's locks now (tests; the end of a transaction does it otherwise)."""
	held = _held()
	for name in list(held):
		held.pop(name, None)
		frappe.db.sql("select release_lock(%s)", name)


@contextmanager
def step_lock(kind: str, key: str, until_commit: bool = True):
	"""Hold the lock of (kind, key) for the block and until its transaction ends, or refuse (409).

	``until_commit=False``: held for the block only, across the commits the block makes.
	"""
	name = lock_name(kind, key)
	taken_here = name not in _held()
	if not acquire(kind, key, until_commit=until_commit):
		refuse(kind, key)
	try:
		yield
	finally:
		if taken_here and not until_commit:
			release(name)


def cycle_lock(cycle: str):
	return step_lock("cycle", cycle)


def locked_cycle_status(cycle: str) -> str | None:
	"""The cycle's status read under the lock (a locking read: the latest committed value)."""
	row = frappe.db.sql("select `status` from `tabPL Review Cycle` where `name` = %s for update", cycle)
	return row[0][0] if row else None


# ---------------------------------------------------------------- fault injection (tests)
KILL_POINTS = (
	"after_header_insert",
	"before_commit",
	"after_first_chunk",
	"before_write",
	"after_partial_write",
)
PAUSE_TIMEOUT = 120  # seconds a paused process waits for the test to let it go on


def kill_point(point: str) -> None:
	"""Die here, without cleanup, when ``PLP_KILL_AT`` names this point (crash tests only).

	The process ends as a killed worker would: no commit, no rollback, no lock release; the database
	rolls the open transaction back and frees the session's locks when the connection drops.

	With ``PLP_PAUSE_AT`` naming this point instead, the process stops here (holding its transaction and
	locks) until the test lets it go on: it creates ``$PLP_PAUSE_DIR/reached`` and waits for
	``$PLP_PAUSE_DIR/go`` (race tests: someone else writes while the step is half-way).
	"""
	if os.environ.get("PLP_KILL_AT") == point:
		os._exit(17)
	if os.environ.get("PLP_PAUSE_AT") == point and os.environ.get("PLP_PAUSE_DIR"):
		import time

		folder = os.environ["PLP_PAUSE_DIR"]
		open(os.path.join(folder, "reached"), "w").close()
		deadline = time.monotonic() + PAUSE_TIMEOUT
		while not os.path.exists(os.path.join(folder, "go")) and time.monotonic() < deadline:
			time.sleep(0.01)
