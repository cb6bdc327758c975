"""A realistic, removable demo: a lender with teams in four layers, a year of post-loan data and a
trial cycle, two formal cycles and a cycle in progress.

``make_demo(seed)`` is deterministic: the same seed gives the same people, loans, snapshots,
collection work, ratings, scores and grades (see :func:`demo_checksum`). Everything it creates is
marked so that ``remove_demo()`` deletes exactly that and nothing else:

- company "PL Demo Lender" (abbr PLD); PL Teams, PL Loans, PL Review Cycles, PL Appraisals, PL Scheme
  Briefings and Employees belong to it;
- document names of the generated post-loan rows start with ``PLD-``, team and cycle names with
  ``PLD ``; users have e-mail addresses ``@pldemo.example``.

Work is set-wise, through the same services the desk uses (bulk loader, review cycle steps, KPI
computation); the few people who have a user do their part through the real workflow actions.
"""

from __future__ import annotations

from postloan_performance.services.demo.guard import (
	DEMO_CONFIG_KEY,
	MIN_PASSWORD_LENGTH,
	PASSWORD_CACHE_PREFIX,
	demo_allowed,
	demo_exists,
	require_demo_allowed,
	require_system_manager,
	stash_password,
	take_password,
)
from postloan_performance.services.demo.inventory import POST_LOAN_DOCTYPES, demo_checksum, demo_counts
from postloan_performance.services.demo.make import make_demo, make_demo_job, remove_demo_job
from postloan_performance.services.demo.payout import DEMO_PLAN
from postloan_performance.services.demo.plan import (
	APPEAL_REASONS,
	DATA_END,
	DEMO_ABBR,
	DEMO_COMPANY,
	DEMO_ORG,
	GIVEN_NAMES,
	MANAGEMENT_TEAM_NAMES,
	MANAGER_COMMENTS,
	MAX_LOANS,
	MIN_MONTHS,
	NAME_PREFIX,
	SELF_ASSESSMENTS,
	SURNAMES,
	SURVEY_SERIES,
	TEAM_PREFIX,
	USER_DOMAIN,
	DemoError,
	cycle_plan,
	data_start,
	demo_dataset,
)
from postloan_performance.services.demo.remove import remove_demo

__all__ = [
	"APPEAL_REASONS",
	"DATA_END",
	"DEMO_ABBR",
	"DEMO_COMPANY",
	"DEMO_CONFIG_KEY",
	"DEMO_ORG",
	"DEMO_PLAN",
	"DemoError",
	"GIVEN_NAMES",
	"MANAGEMENT_TEAM_NAMES",
	"MANAGER_COMMENTS",
	"MAX_LOANS",
	"MIN_MONTHS",
	"MIN_PASSWORD_LENGTH",
	"NAME_PREFIX",
	"PASSWORD_CACHE_PREFIX",
	"POST_LOAN_DOCTYPES",
	"SELF_ASSESSMENTS",
	"SURNAMES",
	"SURVEY_SERIES",
	"TEAM_PREFIX",
	"USER_DOMAIN",
	"cycle_plan",
	"data_start",
	"demo_allowed",
	"demo_checksum",
	"demo_counts",
	"demo_dataset",
	"demo_exists",
	"make_demo",
	"make_demo_job",
	"remove_demo",
	"remove_demo_job",
	"require_demo_allowed",
	"require_system_manager",
	"stash_password",
	"take_password",
]
