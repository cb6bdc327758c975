"""Tests on a real site WITHOUT HRMS (ERPNext only, setup wizard done, this app installed).

The site is `PLP_NOHRMS_SITE` (default `plp-nohrms.localhost`); .ci/run creates it when missing. The
fixtures (one rolled-back transaction per test, the committed permission world, REST clients) are the
integration suite's, pointed at this site: run this directory in its own pytest session.
"""

import os

import pytest

pytest.importorskip("frappe", reason="Frappe is not importable: run with the bench's Python")

os.environ["PLP_TEST_SITE"] = os.environ.get("PLP_NOHRMS_SITE", "plp-nohrms.localhost")

from tests.integration.conftest import rest, rollback, site, world  # noqa: F401
