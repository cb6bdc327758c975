"""Post-loan data: row rules shared by the DocType controllers and the bulk loader (being written)."""


def validate_document(doc) -> None:
	return None
