"""Automated collection: the daily case lifecycle, assignment by strategy, and the collectors' queues.

:func:`process_date` is the daily job's step for one snapshot date S (see ``services.daily_jobs``):

1. three queries read the snapshots of S with their loans, the open cases, and the previous snapshot date's
   dpd; ``engine.delinquency.case_decisions`` decides per loan: open, escalate, rebucket, cure, pay off,
   write off or nothing (a loan never gets a second open case);
2. closings and bucket/amount changes are written set-wise (grouped UPDATEs);
3. new cases and escalations that move to another strategy rule are grouped by (strategy, rule, team) and
   assigned by ``engine.assignment`` (Round Robin, Workload Balanced, Performance Weighted) among the
   team's members active on S; every assignment gets a note naming the rule, the method and the
   candidates' loads, shares or turn order;
4. new cases are bulk-inserted (deterministic names ``{loan}-{S:%Y%m%d}``, INSERT IGNORE), re-assigned
   escalations bulk-updated.

Case dates are the snapshot date S (the day the delinquency was observed), not the day the job runs.
Running S again changes nothing. Nothing here commits.

:func:`my_queue` lists a collector's open cases by priority (``engine.assignment.queue_priority``).
"""

from __future__ import annotations

from postloan_performance.services.collection.daily import assign_batches, case_name, process_date
from postloan_performance.services.collection.queue import broken_promises, my_queue
from postloan_performance.services.collection.reading import (
	last_round_robin,
	last_scores,
	members_on,
	read_day,
)
from postloan_performance.services.collection.strategy import (
	CASE,
	DEFAULT_ACTION,
	DEFAULT_RULES,
	STRATEGY,
	Rule,
	choose_strategy,
	load_strategies,
	rule_end_bucket,
	rule_label,
	rule_of,
	strategy_message,
	validate_strategy,
)

__all__ = [
	"CASE",
	"DEFAULT_ACTION",
	"DEFAULT_RULES",
	"Rule",
	"STRATEGY",
	"assign_batches",
	"broken_promises",
	"case_name",
	"choose_strategy",
	"last_round_robin",
	"last_scores",
	"load_strategies",
	"members_on",
	"my_queue",
	"process_date",
	"read_day",
	"rule_end_bucket",
	"rule_label",
	"rule_of",
	"strategy_message",
	"validate_strategy",
]
