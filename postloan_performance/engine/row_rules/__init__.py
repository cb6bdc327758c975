"""Row rules of the post-loan data DocTypes, shared by the bulk loader and single documents.

Pure pandas/numpy (no frappe). One :class:`Spec` per DocType says which columns a file may have, which
are required, which hold dates, datetimes, numbers (with bounds), Select options or links, which
cross-field rules apply and how a row's document name is made. :func:`validate_frame` checks a whole
frame column by column (vectorised: no Python loop over the rows for any check) and returns the typed
frame plus every problem as a machine-readable error::

    {"row": 7, "column": "outstanding", "value": "-5", "code": "negative", "detail": {}}

``row`` is the row number a spreadsheet user sees (header = row 1, first data row = row 2); header
problems (unknown, missing or repeated columns) are reported on row 1. The Frappe layer
(``services/post_loan_data.py``) turns codes into translated messages. Codes:

``unknown_column``, ``missing_column``, ``duplicate_column`` (row 1), ``required``, ``too_long``,
``invalid_characters`` (``<``/``>`` in a name), ``not_a_date``, ``not_a_number``, ``not_an_integer``,
``negative``, ``not_positive``, ``out_of_range``, ``future_date``, ``invalid_option``, ``unknown_link``,
``ambiguous_link`` (a value that is a key of several records), ``date_order``, ``exceeds``, ``required_if``,
``required_one_of``, ``duplicate_in_file``.

Headers match a column by field name, by label (the Frappe layer passes the English and Chinese labels as
``aliases``) or by a bilingual "label / 标签", case-, width- and space-insensitively; a ``name``/``id``
column is the natural key (loan_no, case_no, reference). Link values are the linked record's name or
another key of it (:data:`LINK_KEYS`: an employee's staff number, e-mail or user ID, a loan number, a case
number), resolved through a :class:`LinkIndex` the Frappe layer builds with one query per target.

Names are deterministic so that re-loading a file finds the rows it loaded before: a loan is named by
``loan_no``, a case by ``case_no``, a snapshot ``{loan}-{as_of_date:%Y-%m-%d}`` (the DocType's
``format:{loan}-{as_of_date}``), every other record by its ``reference`` (the id in the lender's
system) or, without one, by a 16-hex-digit SHA-1 of the DocType and the row's natural key.

Numbers: the database stores a blank number as 0 (Frappe's numeric columns are NOT NULL), so blank
amounts and dpd mean 0 in the cross-field rules; ratings (csat, quality_rating) are "not rated" when
blank, and a document saved from the desk with 0 there is read as blank (see :func:`validate_record`).
"""

from __future__ import annotations

from postloan_performance.engine.delinquency import (
	BUCKET_UPPER_DPD,
	BUCKETS,
	CLASSIFICATION_UPPER_DPD,
	CLASSIFICATIONS,
)
from postloan_performance.engine.row_rules.examples import EXAMPLES, example_row, format_date_text
from postloan_performance.engine.row_rules.keys import (
	DATE_ORDERS,
	LINK_HEADER_KEYS,
	LINK_KEYS,
	NAME_HEADERS,
	LinkIndex,
	link_header_keys,
	natural_key_column,
)
from postloan_performance.engine.row_rules.parsing import document_names, hash_name
from postloan_performance.engine.row_rules.specs import (
	DOCTYPES,
	MAX_TEXT_LENGTH,
	SPECS,
	Number,
	Spec,
	bucket_for_dpd,
	classification_for_dpd,
)
from postloan_performance.engine.row_rules.validation import (
	link_values,
	map_headers,
	problem_summary,
	rejected_rows,
	row_count,
	validate_frame,
	validate_record,
)

__all__ = [
	"BUCKETS",
	"BUCKET_UPPER_DPD",
	"CLASSIFICATIONS",
	"CLASSIFICATION_UPPER_DPD",
	"DATE_ORDERS",
	"DOCTYPES",
	"EXAMPLES",
	"LINK_HEADER_KEYS",
	"LINK_KEYS",
	"LinkIndex",
	"MAX_TEXT_LENGTH",
	"NAME_HEADERS",
	"Number",
	"SPECS",
	"Spec",
	"bucket_for_dpd",
	"classification_for_dpd",
	"document_names",
	"example_row",
	"format_date_text",
	"hash_name",
	"link_header_keys",
	"link_values",
	"map_headers",
	"natural_key_column",
	"problem_summary",
	"rejected_rows",
	"row_count",
	"validate_frame",
	"validate_record",
]
