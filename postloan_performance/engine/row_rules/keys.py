"""The keys a lender's own systems carry (staff number, e-mail, loan number …) and how links resolve through them."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from postloan_performance.engine.row_rules.specs import SPECS

# --- keys the lender has -----------------------------------------------------------------------------

# Besides its document name, a linked record may be given by these fields (the keys the lender's own
# systems carry): a collector by staff number, company e-mail or user ID, a loan by its loan number, a
# case by its case number, a ticket by its id in the service system. A value that is some record's name
# is that record; otherwise it must match exactly one record through the other keys.
LINK_KEYS: dict[str, tuple[str, ...]] = {
	"Employee": ("employee_number", "company_email", "user_id"),
	"PL Loan": ("loan_no",),
	"PL Collection Case": ("case_no",),
	"PL Service Ticket": ("reference",),
}
# A file column named after the linked record's number (a snapshot file's "loan_no") is that link column,
# where only one column links to that DocType.
LINK_HEADER_KEYS: dict[str, str] = {"PL Loan": "loan_no", "PL Collection Case": "case_no"}
# Headers that mean "this record's own id": the natural key column, where the DocType has one.
NAME_HEADERS = ("name", "id")
DATE_ORDERS = ("ymd", "dmy", "mdy")


def natural_key_column(doctype: str) -> str | None:
	"""The column a file's ``name``/``id`` column stands for: loan_no, case_no or reference (snapshots
	have no single-column key)."""
	naming = SPECS[doctype].naming
	return naming if naming in ("loan_no", "case_no", "reference") else None


def link_header_keys(doctype: str) -> dict[str, str]:
	"""{key field of a linked DocType: link column} for the link columns that may be headed by the linked
	record's number (see :data:`LINK_HEADER_KEYS`)."""
	spec = SPECS[doctype]
	targets = list(spec.links.values())
	return {
		LINK_HEADER_KEYS[target]: column
		for column, target in spec.links.items()
		if target in LINK_HEADER_KEYS and targets.count(target) == 1 and column != LINK_HEADER_KEYS[target]
	}


class LinkIndex:
	"""The stored records of one link target, found by name or by any of its keys (case-insensitively).

	Built from candidate rows ``(key, name, rank)``: rank 0 when ``key`` is the record's name, 1 for the
	other keys (:data:`LINK_KEYS`). A value resolves to a record when its best-ranked candidates are all
	that one record; several records there make it ambiguous.
	"""

	def __init__(self, rows: Iterable):
		frame = pd.DataFrame(list(rows), columns=["key", "name", "rank"], dtype=object)
		frame = frame[frame["key"].notna() & frame["name"].notna()]
		frame["folded"] = frame["key"].astype(str).str.strip().str.lower()
		frame = frame[frame["folded"] != ""]
		frame["rank"] = frame["rank"].astype(int)
		frame = frame[frame["rank"] == frame.groupby("folded")["rank"].transform("min")]
		frame = frame.drop_duplicates(["folded", "name"])
		counts = frame["folded"].map(frame["folded"].value_counts())
		single = frame[counts == 1]
		self.unique: dict[str, str] = dict(zip(single["folded"], single["name"], strict=True))
		several = frame[counts > 1].sort_values("name")
		self.ambiguous: dict[str, list[str]] = {
			key: list(group["name"]) for key, group in several.groupby("folded", sort=False)
		}

	@classmethod
	def of_names(cls, names: Iterable[str]) -> LinkIndex:
		return cls((name, name, 0) for name in names)

	def resolve(self, text: pd.Series) -> tuple[pd.Series, pd.Series]:
		"""``(names, ambiguous)`` of stripped text values: the record's name (NaN when there is none or
		several) and, where several match, the list of their names (NaN elsewhere)."""
		distinct = pd.Series(pd.unique(text.to_numpy(object)), dtype=object)
		folded = distinct.str.lower()
		names = pd.Series(folded.map(self.unique).to_numpy(object), index=distinct.to_numpy(object))
		several = pd.Series(folded.map(self.ambiguous).to_numpy(object), index=distinct.to_numpy(object))
		return text.map(names), text.map(several)
