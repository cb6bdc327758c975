"""Band text of the Banded scoring method: read by engine.bands, judged by scoring.check_bands."""

import pytest

from postloan_performance.engine import EngineError
from postloan_performance.engine.bands import BandError, parse_bands
from postloan_performance.engine.scoring import banded_score


def test_bands_are_sorted_and_may_leave_gaps():
	assert parse_bands("90, , 100\n\n, 60, 0\n60, 80, 70\n") == [
		(None, 60.0, 0.0),
		(60.0, 80.0, 70.0),
		(90.0, None, 100.0),
	]
	assert parse_bands("") == [] and parse_bands(" \n ") == []


@pytest.mark.parametrize(
	"text, code, line",
	[
		("0, 10", "format", 1),
		("0, 10, 5\nten, 20, 5", "number", 2),
		("0, 10, 5\n10, 20, inf", "number", 2),
		("10, 0, 5", "order", 1),
		("0, 10, 5\n\n\n10, 20, -5", "score", 4),  # a negative score would fail only when scoring
		("0, 10, 5\n\n8, 20, 6", "overlap", 3),  # the text's line, blank lines counted
		(", 10, 5\n, 20, 6", "overlap", 2),
	],
)
def test_bad_bands_name_the_line(text, code, line):
	with pytest.raises(BandError) as caught:
		parse_bands(text)
	assert (caught.value.code, caught.value.line) == (code, line)
	assert isinstance(caught.value, EngineError)


def test_what_saves_is_what_scores():
	bands = parse_bands("0, 50, 10\n50, , 90")
	assert banded_score(49.9, bands) == 10.0
	assert banded_score(50, bands) == 90.0
	assert banded_score(-1, bands) == 0.0
