"""Pure-Python parts: no engine."""

from __future__ import annotations

from pathlib import Path

import finsandbox
from finsandbox import Result
from finsandbox._cli import _is_path
from finsandbox.errors import from_error_document


def test_unknown_fields_are_kept_not_fatal() -> None:
    r = Result.from_dict({"status": "ok", "success": True, "metrics": {"sharpe_ratio": 1.0},
                          "schema_version": 1, "future_field": {"x": 1}, "warnings": None})
    assert r.status == "ok" and r.success and r.metrics == {"sharpe_ratio": 1.0}
    assert r.extra == {"future_field": {"x": 1}}
    assert r.warnings == []
    assert r["future_field"] == {"x": 1}


def test_path_or_code() -> None:
    assert _is_path(Path("anything"))
    assert _is_path("strategies/a.py") and _is_path("nb.ipynb")
    assert not _is_path("def strategy(data):\n    return 1\n")
    assert not _is_path("x = 1")
    assert not _is_path(b"a.py")


def test_error_documents_map_to_classes() -> None:
    def doc(kind: str, code: int) -> dict:
        return {"status": "error", "success": False, "exit_code": code,
                "error": {"kind": kind, "message": "m", "hint": "h"}}

    assert type(from_error_document(doc("config_error", 2), exit_code=2)) is finsandbox.ConfigError
    assert type(from_error_document(doc("engine_error", 3), exit_code=3)) is finsandbox.EngineError
    assert type(from_error_document(doc("engine_unavailable", 3), exit_code=3)) is finsandbox.EngineError
    assert type(from_error_document(doc("input_error", 4), exit_code=4)) is finsandbox.InputError
    assert type(from_error_document(None, exit_code=2, stderr="error: unexpected argument")) is finsandbox.UsageError
    e = from_error_document(None, exit_code=2, stderr="error: unexpected argument '--x'\n")
    assert "unexpected argument" in str(e)


def test_the_installed_package_is_tested() -> None:
    import sys

    assert finsandbox.__file__ is not None
    assert finsandbox.__file__.startswith(sys.prefix), (
        f"testing {finsandbox.__file__}, not the wheel installed in {sys.prefix}"
    )
