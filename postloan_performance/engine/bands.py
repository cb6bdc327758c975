"""Score bands for the Banded scoring method, written one per line as `from, to, score`."""

import itertools
import math


class BandError(ValueError):
	"""`code` is "format", "number", "order" or "overlap"; `line` is the 1-based line number."""

	def __init__(self, code: str, line: int):
		super().__init__(f"{code} at line {line}")
		self.code = code
		self.line = line


def parse_bands(text: str) -> list[tuple[float | None, float | None, float]]:
	"""Parse band lines into (from, to, score) tuples sorted by `from`.

	`from` is inclusive and `to` exclusive; an empty bound is open-ended (None). Bands may leave gaps
	(an actual in a gap scores 0) but may not overlap.
	"""
	bands: list[tuple[float | None, float | None, float]] = []
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
		if low is not None and high is not None and low >= high:
			raise BandError("order", number)
		bands.append((low, high, score))

	ordered = sorted(bands, key=lambda b: -math.inf if b[0] is None else b[0])
	for (_l1, h1, _s1), (l2, _h2, _s2) in itertools.pairwise(ordered):
		if h1 is None or l2 is None or l2 < h1:
			raise BandError("overlap", bands.index((l2, _h2, _s2)) + 1)
	return ordered
