"""The generated data's shape: the frames' columns (DocType field names), label sets and the Dataset."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from postloan_performance.engine.row_rules import SPECS

ACTION_TYPES = ("Call", "SMS", "Visit", "Letter", "Legal")
CONTACT_RESULTS = ("", "Right Party", "Third Party", "No Contact")
CHANNELS = ("Phone", "App", "WeChat", "Branch", "Email")
PRODUCTS = ("Consumer", "SME", "Mortgage", "Auto")
BRANCHES = ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Nanjing")

# The post-loan frames are the importer's row shapes (engine.row_rules SPECS, one per DocType), so that
# a generated frame loads the way an imported file does; "name" leads where the generator names the
# documents itself. The organisation frames and the survey have no importer.
FRAME_DOCTYPES: dict[str, str] = {
	"loans": "PL Loan",
	"snapshots": "PL Loan Snapshot",
	"cases": "PL Collection Case",
	"actions": "PL Collection Action",
	"recoveries": "PL Recovery",
	"alerts": "PL Risk Alert",
	"events": "PL Risk Event",
	"assessments": "PL Risk Assessment",
	"tickets": "PL Service Ticket",
	"customer_feedback": "PL Customer Feedback",
}
NAMED_FRAMES = frozenset({"loans", "snapshots", "cases"})
# importer columns the generator leaves to the loader (company) or never fills (a later valuation)
NOT_GENERATED = frozenset({"company", "last_appraisal_value", "last_appraisal_date"})


def _importer_columns(frame: str) -> tuple[str, ...]:
	spec = SPECS[FRAME_DOCTYPES[frame]]
	columns = tuple(c for c in spec.columns if c not in NOT_GENERATED)
	return ("name", *columns) if frame in NAMED_FRAMES else columns


COLUMNS: dict[str, tuple[str, ...]] = {
	"employees": ("key", "first_name", "layer", "team", "is_lead"),
	"teams": ("team_name", "layer", "parent_pl_team", "lead_key", "is_group"),
	"memberships": ("team", "employee_key", "from_date", "to_date"),
	**{frame: _importer_columns(frame) for frame in FRAME_DOCTYPES},
	"surveys": ("respondent", "team", "fairness", "clarity", "motivation", "workload", "suggestion"),
}

NO_DAY = np.iinfo(np.int64).min  # int64 view of NaT (days or seconds)
DAY_SECONDS = 86_400

# ------------------------------------------------------------------------------------------------- dataset


@dataclass
class Dataset:
	"""The generated frames; columns as in :data:`COLUMNS` (DocType field names, ``name`` = document name)."""

	employees: pd.DataFrame
	teams: pd.DataFrame
	memberships: pd.DataFrame
	loans: pd.DataFrame
	snapshots: pd.DataFrame
	cases: pd.DataFrame
	actions: pd.DataFrame
	recoveries: pd.DataFrame
	alerts: pd.DataFrame
	events: pd.DataFrame
	assessments: pd.DataFrame
	tickets: pd.DataFrame
	customer_feedback: pd.DataFrame
	surveys: pd.DataFrame

	def frames(self) -> dict[str, pd.DataFrame]:
		"""Frame name → DataFrame, in declaration order."""
		return {item.name: getattr(self, item.name) for item in fields(self)}

	def row_counts(self) -> dict[str, int]:
		return {name: len(frame) for name, frame in self.frames().items()}

	def engine_frames(self) -> dict[str, pd.DataFrame]:
		"""The frames under the names and columns ``engine.metrics`` reads (``collection_case`` → ``case``,
		``surveys`` → ``survey``); employee columns keep employee keys."""
		frames = {name: frame for name, frame in self.frames().items() if name != "surveys"}
		for name in ("actions", "recoveries", "customer_feedback"):
			frames[name] = frames[name].rename(columns={"collection_case": "case"})
		frames["survey"] = self.surveys
		return frames
