"""Exceptions for what is not a strategy outcome.

A strategy that fails, is rejected, times out or is killed is a
:class:`finsandbox.Result` with that status, never an exception. These are
raised only when the CLI could not produce a result at all: its JSON error
document (``{"status": "error", "error": {"kind", "message", "hint"},
"exit_code"}``) is mapped to a class by ``kind``, then by exit code.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

__all__ = [
    "FinsandboxError",
    "BinaryNotFoundError",
    "UsageError",
    "ConfigError",
    "EngineError",
    "InputError",
    "InternalError",
    "from_error_document",
]


class FinsandboxError(Exception):
    """Base class: the CLI could not produce a result.

    ``kind``, ``message``, ``hint`` and ``exit_code`` come from the CLI's
    error document; ``stderr`` is the tail of what it wrote on stderr.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        hint: Optional[str] = None,
        exit_code: Optional[int] = None,
        stderr: str = "",
        document: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.message = message
        self.kind = kind
        self.hint = hint
        self.exit_code = exit_code
        self.stderr = stderr
        self.document: Dict[str, Any] = dict(document or {})
        text = message
        if hint:
            text += f" (hint: {hint})"
        if exit_code is not None:
            text += f" [exit {exit_code}]"
        super().__init__(text)


class BinaryNotFoundError(FinsandboxError):
    """The ``finsandbox`` binary is not installed next to this package nor on PATH."""


class UsageError(FinsandboxError):
    """Exit 2: a bad argument, option value or usage."""


class ConfigError(UsageError):
    """Exit 2 with kind ``config_error``: a bad config file or value, the sandbox disabled, weakening refused."""


class EngineError(FinsandboxError):
    """Exit 3 (kind ``engine_error``): the container engine is unavailable or failed, or the image is missing or stale."""


class InputError(FinsandboxError):
    """Exit 4 (kind ``input_error``): a strategy or data file unreadable or invalid."""


class InternalError(FinsandboxError):
    """Exit 1: a bug in finsandbox (please report it), or output this package cannot read."""


_BY_KIND = {
    "config_error": ConfigError,
    "usage_error": UsageError,
    "engine_error": EngineError,
    "input_error": InputError,
    "internal_error": InternalError,
}

_BY_EXIT = {1: InternalError, 2: UsageError, 3: EngineError, 4: InputError}


def _class_for(kind: Optional[str], exit_code: Optional[int]) -> type:
    if kind:
        if kind in _BY_KIND:
            return _BY_KIND[kind]
        if kind.startswith("engine"):
            return EngineError
        if kind.startswith("config"):
            return ConfigError
        if kind.startswith("input"):
            return InputError
    if exit_code in _BY_EXIT:
        return _BY_EXIT[exit_code]  # type: ignore[index,unused-ignore]
    return FinsandboxError


def from_error_document(
    document: Optional[Mapping[str, Any]],
    *,
    exit_code: Optional[int],
    stderr: str = "",
) -> FinsandboxError:
    """Build the exception for a CLI error document (or, with none, from the exit code and stderr)."""
    err: Mapping[str, Any] = {}
    if document and isinstance(document.get("error"), Mapping):
        err = document["error"]
    kind = err.get("kind") if isinstance(err.get("kind"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    hint = err.get("hint") if isinstance(err.get("hint"), str) else None
    code = exit_code
    if document and isinstance(document.get("exit_code"), int):
        code = document["exit_code"]
    if not message:
        tail = stderr.strip().splitlines()
        message = tail[-1] if tail else f"finsandbox exited with code {exit_code} and no result"
        if len(tail) > 1:
            message = "; ".join(line.strip() for line in tail[-5:])
    cls = _class_for(kind, code)
    error: FinsandboxError = cls(message, kind=kind, hint=hint, exit_code=code, stderr=stderr, document=document)
    return error
