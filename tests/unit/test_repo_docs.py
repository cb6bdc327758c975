"""The repository stands alone: its code and docs point only at documents it contains."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
	*REPO.joinpath("postloan_performance").rglob("*.py"),
	*REPO.joinpath("postloan_performance").rglob("*.js"),
	*REPO.joinpath("tests").rglob("*.py"),
	*REPO.joinpath("docs").glob("*.md"),
	REPO / "README.md",
]
DOC_LINK = re.compile(r"\bdocs/[\w.-]+\.md\b")


def test_no_reference_to_a_design_document_outside_the_repo():
	cited = [
		str(p.relative_to(REPO))
		for p in SOURCES
		if p != Path(__file__) and "DESIGN" in p.read_text(encoding="utf-8")
	]
	assert cited == []


def test_every_cited_doc_exists():
	missing = {
		(str(p.relative_to(REPO)), link)
		for p in SOURCES
		for link in DOC_LINK.findall(p.read_text(encoding="utf-8"))
		if not (REPO / link).exists()
	}
	assert missing == set()
