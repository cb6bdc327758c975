"""Lending Reconciliation reads through the replica like every report of the app (on a site with
Lending, where it has queries to run; tests/integration/test_read_only_reports.py skips it elsewhere)."""

from tests.integration.test_read_only_reports import (  # noqa: F401  (the fixture)
	assert_queries_on_replica,
	clean_replica_state,
)

MODULE = "postloan_performance.postloan_performance.report.lending_reconciliation.lending_reconciliation"


def test_lending_reconciliation_reads_from_the_replica(clean_replica_state):  # noqa: F811
	assert_queries_on_replica("Lending Reconciliation", MODULE)
