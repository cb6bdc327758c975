"""The import contracts of pyproject.toml hold, and they break when a layer is crossed."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
	return subprocess.run(
		[str(LINT), "--no-cache", "--config", str(root / "pyproject.toml")],
		cwd=root,
		capture_output=True,
		text=True,
		env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
		check=False,
	)


@pytest.fixture
def copy(tmp_path):
	shutil.copytree(REPO / "postloan_performance", tmp_path / "postloan_performance")
	shutil.copy(REPO / "pyproject.toml", tmp_path)
	return tmp_path


def test_the_repository_keeps_its_layers():
	result = lint(REPO)
	assert result.returncode == 0, result.stdout + result.stderr
	assert "0 broken" in result.stdout


def _append(path: Path, line: str) -> None:
	path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")


@pytest.mark.parametrize(
	"module, line, contract",
	[
		("engine/scoring/lines.py", "import frappe", "engine and datagen are pure"),
		("datagen/generator.py", "from postloan_performance.services import bulk", "engine and datagen"),
		(
			"services/bulk.py",
			"from postloan_performance.postloan_performance.doctype.pl_kpi import pl_kpi",
			"services never import a controller",
		),
		(
			"postloan_performance/doctype/pl_kpi/pl_kpi.py",
			"from postloan_performance.postloan_performance.doctype.pl_team import pl_team",
			"a controller never imports another controller",
		),
	],
)
def test_crossing_a_layer_breaks_a_contract(copy, module, line, contract):
	_append(copy / "postloan_performance" / module, line)
	result = lint(copy)
	assert result.returncode != 0
	assert f"{contract}" in result.stdout and "BROKEN" in result.stdout, result.stdout
