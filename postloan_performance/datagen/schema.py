"""The generated data's shape: the frames' columns (DocType field names), label sets and the Dataset."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

ACTION_TYPES = ("Call", "SMS", "Visit", "Letter", "Legal")
CONTACT_RESULTS = ("", "Right Party", "Third Party", "No Contact")
CHANNELS = ("Phone", "App", "WeChat", "Branch", "Email")
PRODUCTS = ("Consumer", "SME", "Mortgage", "Auto")
BRANCHES = ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Nanjing")

COLUMNS: dict[str, tuple[str, ...]] = {
	"employees": ("key", "first_name", "layer", "team", "is_lead"),
	"teams": ("team_name", "layer", "parent_pl_team", "lead_key", "is_group"),
	"memberships": ("team", "employee_key", "from_date", "to_date"),
	"loans": (
		"name",
		"loan_no",
		"customer",
		"product",
		"branch",
		"managing_team",
		"disbursed_on",
		"principal",
		"maturity_date",
		"collateral_value",
		"status",
	),
	"snapshots": (
		"name",
		"loan",
		"as_of_date",
		"outstanding",
		"overdue_amount",
		"dpd",
		"bucket",
		"classification",
	),
	"cases": (
		"name",
		"case_no",
		"loan",
		"opened_on",
		"closed_on",
		"entry_bucket",
		"entry_overdue_amount",
		"collector",
		"pl_team",
		"status",
	),
	"actions": (
		"reference",
		"collection_case",
		"collector",
		"action_type",
		"action_on",
		"contact_result",
		"outcome",
		"ptp_amount",
		"ptp_date",
	),
	"recoveries": ("reference", "loan", "collection_case", "collector", "amount", "received_on"),
	"alerts": ("reference", "loan", "rule", "severity", "raised_on", "officer", "outcome", "outcome_on"),
	"events": ("reference", "loan", "event_type", "reported_on", "resolved_on", "handler"),
	"assessments": ("reference", "loan", "portfolio", "author", "report_date", "quality_rating", "reviewer"),
	"tickets": (
		"reference",
		"customer",
		"loan",
		"channel",
		"agent",
		"status",
		"opened_on",
		"first_response_on",
		"resolved_on",
	),
	"customer_feedback": (
		"reference",
		"customer",
		"employee",
		"collection_case",
		"ticket",
		"csat",
		"nps",
		"given_on",
	),
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
