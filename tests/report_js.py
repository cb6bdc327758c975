"""A script report's filters as the desk builds them, read from its .js without a browser.

Reports build their common filters with the helpers of ``public/js/report_filters.js``
(``postloan_performance.report.company()``, ``...closed_months(3)`` …). Tests that read a report's
filters from its source (the privacy matrix, the browser suite) call :func:`report_script`, which puts
each helper's returned objects in place of its call, so a filter is found wherever it is declared."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "postloan_performance"
SHARED = APP / "public" / "js" / "report_filters.js"
_CALL = re.compile(r"(?:\.\.\.)?postloan_performance\.report\.(\w+)\([^)]*\)")
_METHOD = re.compile(r"^\t(\w+)\([^)]*\) \{\n(.*?)^\t\},?$", re.M | re.S)


def shared_helpers() -> dict[str, str]:
	"""Helper name -> the text of its body."""
	return {name: body for name, body in _METHOD.findall(SHARED.read_text(encoding="utf-8"))}


def report_script(js_path: Path) -> str:
	"""The report's .js with every shared helper call replaced by the helper's body."""
	text = js_path.read_text(encoding="utf-8") if js_path.exists() else ""
	helpers = shared_helpers()

	def expand(match: re.Match) -> str:
		if match.group(1) not in helpers:
			raise KeyError(f"{js_path.name} calls postloan_performance.report.{match.group(1)}, not defined")
		return helpers[match.group(1)]

	return _CALL.sub(expand, text)
