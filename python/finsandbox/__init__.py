"""finsandbox: run untrusted, LLM-written trading strategies in a hardened container.

A thin, typed layer over the ``finsandbox`` binary installed by the same
wheel (never a second implementation)::

    import finsandbox
    result = finsandbox.run(code, data="market.parquet", timeout=60)
    if result.success:
        print(result.metrics["sharpe_ratio"])
    else:
        print(result.status, result.error)

    for r in finsandbox.batch(codes, data="market.parquet", jobs=2):
        print(r.index, r.status)            # completion order
"""

from __future__ import annotations

from ._cli import Executor, batch, binary_path, run
from .errors import (
    BinaryNotFoundError,
    ConfigError,
    EngineError,
    FinsandboxError,
    InputError,
    InternalError,
    UsageError,
)
from .result import STATUSES, Result


def _version() -> str:
    # maturin copies Cargo.toml's version into the wheel's metadata, so this
    # is the binary's version.
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "0+unknown"
    try:
        return version("finsandbox")
    except PackageNotFoundError:
        return "0+unknown"


__version__: str = _version()

__all__ = [
    "__version__",
    "binary_path",
    "run",
    "batch",
    "Executor",
    "Result",
    "STATUSES",
    "FinsandboxError",
    "BinaryNotFoundError",
    "UsageError",
    "ConfigError",
    "EngineError",
    "InputError",
    "InternalError",
]
