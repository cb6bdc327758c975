"""One racing caller in its own process, with its own database connection (tests/integration/races.py).

    python race_worker.py SITE SITES_PATH USER READY_FILE GO_FILE CALL JSON_KWARGS

Connects, signals READY_FILE, waits for GO_FILE (so that all callers start together), calls CALL (a dotted
path) with the keyword arguments as USER, commits and prints one JSON line: {"ok": result}, or
{"refused": message, "status": 409} for an "already running" refusal, or {"error": type, "message", "status"}.
With ``PLP_KILL_AT`` set, the process may end at that point with exit code 17 and print nothing.
"""

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
	site, sites_path, user, ready_file, go_file, call, kwargs = argv[1:8]
	os.chdir(sites_path)
	import frappe

	frappe.init(site=site, sites_path=sites_path)
	frappe.connect()
	frappe.set_user(user)
	frappe.flags.mute_emails = True
	import importlib

	from postloan_performance.services.locks import AlreadyRunning

	module, _sep, attr = call.rpartition(".")
	method = getattr(importlib.import_module(module), attr)
	open(ready_file, "w").close()
	deadline = time.monotonic() + 60
	while not os.path.exists(go_file) and time.monotonic() < deadline:
		time.sleep(0.005)
	try:
		result = method(**json.loads(kwargs))
		frappe.db.commit()
		out = {"ok": result}
	except AlreadyRunning as e:
		frappe.db.rollback()
		out = {"refused": str(e), "status": 409}
	except Exception as e:
		frappe.db.rollback()
		out = {
			"error": type(e).__name__,
			"message": str(e)[:500],
			"status": getattr(e, "http_status_code", 500),
		}
	finally:
		frappe.destroy()
	print(json.dumps(out, default=str))
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
