"""Pure calculation engine of the post-loan performance scheme.

Everything under ``engine/`` is plain Python + pandas/numpy (scipy only lazily in ``stats``); nothing here
imports frappe, so the maths is tested without a site. The engine never builds user-visible text: it raises
:class:`EngineError` subclasses whose ``code`` is machine readable and whose ``details`` carry the offending
values (line indexes, columns …); the Frappe layer maps ``code`` to a translated message.

Modules: ``scoring`` (line scores, aggregation, grades, forced distribution), ``metrics`` (the eighteen
built-in metrics over pandas frames), ``stats`` (significance tests for the effect evaluation).
"""

from __future__ import annotations

from typing import Any

__all__ = ["EngineError"]


class EngineError(ValueError):
	"""Base of every error raised by the engine.

	``code`` is a stable machine-readable identifier (e.g. ``"target_order"``); ``details`` is a dict of the
	offending values. ``str(exc)`` is only meant for logs, never for users.
	"""

	code: str = "engine_error"

	def __init__(self, code: str | None = None, /, **details: Any) -> None:
		if code is not None:
			self.code = code
		self.details: dict[str, Any] = details
		super().__init__(self.code, details)

	def __str__(self) -> str:
		return f"{self.code}: {self.details}" if self.details else self.code

	def __reduce__(self) -> tuple[Any, ...]:
		# background jobs may pickle exceptions; keep code and details across the round trip
		return (_rebuild_error, (type(self), self.code, self.details))


def _rebuild_error(cls: type[EngineError], code: str, details: dict[str, Any]) -> EngineError:
	error = cls.__new__(cls)
	EngineError.__init__(error, code, **details)
	return error
