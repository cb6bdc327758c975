# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document


class PLPayoutTeam(Document):
	pass
