# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import os

import frappe
from frappe import _
from frappe.model.document import Document

from postloan_performance.engine.row_rules import DOCTYPES
from postloan_performance.services.data_import import RUNNING, reset_values

INPUT_FIELDS = ("import_type", "import_file", "sheet", "date_order")


class PLDataImport(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		already_present: DF.Int
		checked_on: DF.Datetime | None
		date_order: DF.Literal["", "Year-Month-Day", "Day-Month-Year", "Month-Day-Year"]
		error_message: DF.SmallText | None
		file_name: DF.Data | None
		finished_on: DF.Datetime | None
		import_file: DF.Attach | None
		import_type: DF.Literal[
			"PL Loan",
			"PL Loan Snapshot",
			"PL Collection Case",
			"PL Collection Action",
			"PL Recovery",
			"PL Risk Alert",
			"PL Risk Event",
			"PL Risk Assessment",
			"PL Service Ticket",
			"PL Customer Feedback",
		]
		imported_by: DF.Link | None
		inserted_rows: DF.Int
		new_rows: DF.Int
		preview: DF.Code | None
		problem_count: DF.Int
		problems: DF.Code | None
		rejected_file: DF.Attach | None
		rejected_rows: DF.Int
		seconds: DF.Float
		sheet: DF.Autocomplete | None
		started_on: DF.Datetime | None
		status: DF.Literal["Draft", "Checked", "Refused", "Queued", "Importing", "Imported", "Failed"]
		total_rows: DF.Int
	# end: auto-generated types
	"""One post-loan data file through the wizard; the work is in services/data_import.py."""

	def validate(self):
		if self.import_type not in DOCTYPES:
			frappe.throw(_("Choose the data type to load."), title=_("Data Type"))
		self.file_name = self.uploaded_file_name()
		if self.is_new():
			self.update(reset_values())
			return
		if any(self.has_value_changed(field) for field in INPUT_FIELDS):
			if self.status in (*RUNNING, "Imported"):
				frappe.throw(
					_("An import that has run cannot be changed; create a new one for another file."),
					title=_("Not Allowed"),
				)
			self.update(reset_values())  # a new file or option needs a new check

	def uploaded_file_name(self) -> str | None:
		"""The name the file was uploaded under (identical files share one URL in Frappe)."""
		if not self.import_file:
			return None
		name = frappe.db.get_value(
			"File",
			{
				"file_url": self.import_file,
				"attached_to_doctype": self.doctype,
				"attached_to_name": self.name,
			},
			"file_name",
			order_by="creation desc",
		)
		return name or os.path.basename(self.import_file)
