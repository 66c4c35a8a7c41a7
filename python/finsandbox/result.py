"""The result of one run: a dataclass mirroring ``finsandbox exec --json``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

__all__ = ["Result", "STATUSES"]

#: The statuses of a result document (README, "The result"). ``"error"`` is
#: only seen in a batch, for a strategy the CLI could not read.
STATUSES = (
    "ok",
    "strategy_error",
    "rejected",
    "timeout",
    "memory_limit",
    "killed",
    "engine_error",
    "invalid_output",
    "scoring_error",
    "error",
)

Json = Dict[str, Any]


@dataclass
class Result:
    """One strategy's outcome, as the CLI reported it.

    Every field of schema version 1 is an attribute; nested objects stay
    plain dicts (``metrics["sharpe_ratio"]``, ``position["rows"]``). Fields a
    newer binary adds land in ``extra`` instead of failing. ``raw`` is the
    whole document as parsed. ``index`` is the position of this strategy in
    the list given to :func:`finsandbox.batch` (None for :func:`run`, or when
    the CLI reports a path this package did not pass, e.g. a directory's file).

    ``result["success"]`` and ``result.get("metrics")`` read the raw document,
    for loops written against dict results.
    """

    status: str
    success: bool = False
    schema_version: Optional[int] = None
    run_id: Optional[str] = None
    exit_code: Optional[int] = None
    execution_time_s: Optional[float] = None
    startup_s: Optional[float] = None
    memory_peak_mb: Optional[float] = None
    memory_peak_source: Optional[str] = None
    resources: Optional[Json] = None
    violations: List[Json] = field(default_factory=list)
    metrics: Optional[Json] = None
    backtest: Optional[Json] = None
    stdout: Optional[Json] = None
    stderr: Optional[Json] = None
    error: Optional[Json] = None
    position: Optional[Json] = None
    screening: Optional[Json] = None
    container: Optional[Json] = None
    limits: Optional[Json] = None
    insecure: bool = False
    insecure_reasons: List[str] = field(default_factory=list)
    versions: Optional[Json] = None
    strategy: Optional[Json] = None
    provenance: Optional[Json] = None
    warnings: List[Any] = field(default_factory=list)
    sandbox_warnings: List[Any] = field(default_factory=list)
    extra: Json = field(default_factory=dict)
    raw: Json = field(default_factory=dict, repr=False)
    index: Optional[int] = None

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, index: Optional[int] = None) -> "Result":
        """Parse a result document; unknown keys go to ``extra``."""
        if not isinstance(document, Mapping):
            raise TypeError(f"a result document must be a JSON object, not {type(document).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "raw", "index"}
        kwargs: Dict[str, Any] = {}
        extra: Json = {}
        for key, value in document.items():
            if key in known and value is not None:
                kwargs[key] = value
            elif key in known:
                # null where the schema has a list/bool default: keep the default
                if key not in ("violations", "insecure_reasons", "warnings", "sandbox_warnings", "insecure", "success"):
                    kwargs[key] = None
            else:
                extra[key] = value
        kwargs.setdefault("status", "error")
        kwargs["success"] = bool(document.get("success", kwargs["status"] == "ok"))
        return cls(**kwargs, extra=extra, raw=dict(document), index=index)

    # --- conveniences -------------------------------------------------
    @property
    def ok(self) -> bool:
        """``status == "ok"``."""
        return self.status == "ok"

    @property
    def path(self) -> Optional[str]:
        """The strategy path the CLI ran (a private temp file for source given as a string)."""
        if isinstance(self.strategy, Mapping):
            value = self.strategy.get("path")
            return value if isinstance(value, str) else None
        return None

    @property
    def error_message(self) -> Optional[str]:
        """``error["message"]`` when there is one: what to feed back to a generator."""
        if isinstance(self.error, Mapping):
            value = self.error.get("message")
            return value if isinstance(value, str) else None
        return None

    def to_dict(self) -> Json:
        """The document as the CLI printed it."""
        return dict(self.raw)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.raw


ResultLike = Union[Result, Mapping[str, Any]]
