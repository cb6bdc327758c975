"""The base controller of the app's child tables: a row read on its own is judged by its parent.

Frappe checks a child row fetched by name (`/api/resource/<child>/<name>`, `frappe.client.get`) only
against the parent DocType's role permissions when the row does not carry its parent document; every
child DocType of the app inherits this class so that the parent document's row rules decide.
"""

import frappe
from frappe.model.document import Document


class PLChildDocument(Document):
	def has_permission(self, permtype="read", *, debug=False, user=None) -> bool:
		from postloan_performance.privacy import child_has_permission

		if self.flags.ignore_permissions:
			return True
		user = user or frappe.session.user
		if user == "Administrator":
			return True
		return child_has_permission(self, permtype, user)
