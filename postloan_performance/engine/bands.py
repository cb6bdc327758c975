"""Score bands for the Banded scoring method, written one per line as `from, to, score`.

This module only reads the text; the rule a set of bands must follow is ``scoring.check_bands``, the same
one the scoring uses, so a template that saves is a template that scores.
"""

import math

from postloan_performance.engine import EngineError
from postloan_performance.engine.scoring import ConfigError, check_bands

_CODES = {"invalid_band_score": "score", "band_order": "order", "band_overlap": "overlap"}


class BandError(EngineError):
	"""`code` is "format", "number", "score" (negative), "order" or "overlap"; `line` is the 1-based
	line number of the text."""

	def __init__(self, code: str, line: int):
		super().__init__(code, line=line)

	@property
	def line(self) -> int:
		return self.details["line"]


def parse_bands(text: str) -> list[tuple[float | None, float | None, float]]:
	"""Parse band lines into (from, to, score) tuples sorted by `from`.

	`from` is inclusive and `to` exclusive; an empty bound is open-ended (None). Bands may leave gaps
	(an actual in a gap scores 0) but may not overlap. No line gives no band (an empty list).
	"""
	bands: list[tuple[float | None, float | None, float]] = []
	lines: list[int] = []
	for number, raw in enumerate((text or "").splitlines(), start=1):
		line = raw.strip()
		if not line:
			continue
		parts = [p.strip() for p in line.split(",")]
		if len(parts) != 3 or not parts[2]:
			raise BandError("format", number)
		try:
			low = float(parts[0]) if parts[0] else None
			high = float(parts[1]) if parts[1] else None
			score = float(parts[2])
		except ValueError:
			raise BandError("number", number) from None
		if any(v is not None and not math.isfinite(v) for v in (low, high, score)):
			raise BandError("number", number)
		bands.append((low, high, score))
		lines.append(number)
	if not bands:
		return []
	try:
		return check_bands(bands)
	except ConfigError as exc:
		if exc.code == "band_overlap":
			second = tuple(exc.details["second"])
			index = next(i for i, band in enumerate(bands) if band[:2] == second)
		else:
			index = exc.details.get("band", 0)
		raise BandError(_CODES.get(exc.code, exc.code), lines[index]) from None
