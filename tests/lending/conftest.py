"""Tests on a real site WITH Frappe Lending (ERPNext + Lending, setup wizard done, this app installed).

The site is `PLP_LENDING_SITE` (default `plp-ci-lending.localhost`); .ci/run creates it when missing.
Outside CI the directory is skipped when that site is absent or has no Lending; in CI it fails instead.
The fixtures (one rolled-back transaction per test) are the integration suite's, pointed at this site:
run this directory in its own pytest session.
"""

import os
from pathlib import Path

import pytest

pytest.importorskip("frappe", reason="Frappe is not importable: run with the bench's Python")

SITE = os.environ.get("PLP_LENDING_SITE", "plp-ci-lending.localhost")
os.environ["PLP_TEST_SITE"] = SITE
_BENCH = Path(os.environ.get("FRAPPE_BENCH") or Path.home() / "frappe-bench")
if not (_BENCH / "sites" / SITE / "site_config.json").exists() and not os.environ.get("CI"):
	pytest.skip(f"no Lending site {SITE} (set PLP_LENDING_SITE)", allow_module_level=True)

from tests.integration.conftest import rollback, site  # noqa: F401
