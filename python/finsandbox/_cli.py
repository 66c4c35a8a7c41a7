"""A thin layer over the ``finsandbox`` CLI: argv lists, never a shell."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path
from typing import (
    IO,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .errors import BinaryNotFoundError, FinsandboxError, InternalError, from_error_document
from .result import Result

__all__ = ["binary_path", "run", "batch", "Executor", "Source", "PathLike"]

PathLike = Union[str, "os.PathLike[str]"]
#: A strategy: a path (``pathlib.Path``, or a ``str`` with no newline ending
#: in ``.py``/``.ipynb``) or Python source (any other ``str``, or ``bytes``).
Source = Union[str, bytes, "os.PathLike[str]"]
#: A config: a file path, or a mapping written to a private temp file (JSON
#: is YAML), e.g. ``{"docker": {"memory_limit": "1g"}}``.
Config = Union[PathLike, Mapping[str, Any], None]

_BINARY = "finsandbox"
_STDERR_KEEP = 64 * 1024
_PATH_SUFFIXES = (".py", ".ipynb")


# --------------------------------------------------------------------------
# the binary


def _candidates() -> List[Path]:
    dirs: List[str] = []
    # The wheel puts the binary in the scripts dir of the scheme it was
    # installed with: the venv's bin, the user base's bin, or the prefix's.
    for scheme in (None, f"{os.name}_user"):
        try:
            path = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if path:
            dirs.append(path)
    dirs.append(os.path.dirname(sys.executable))
    out: List[Path] = []
    for d in dirs:
        p = Path(d) / _BINARY
        if p not in out:
            out.append(p)
    return out


def binary_path() -> str:
    """The ``finsandbox`` binary this package drives.

    ``$FINSANDBOX_BINARY`` when set; else the one the wheel installed in the
    interpreter's scripts directory (venv, user or prefix scheme); else the
    first ``finsandbox`` on PATH. Raises :class:`BinaryNotFoundError`.
    """
    override = os.environ.get("FINSANDBOX_BINARY")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise BinaryNotFoundError(f"FINSANDBOX_BINARY={override!r} is not an executable file")
    for candidate in _candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(_BINARY)
    if found:
        return found
    raise BinaryNotFoundError(
        "the finsandbox binary was not found next to this Python package "
        f"({', '.join(str(c) for c in _candidates())}) nor on PATH",
        hint="reinstall the wheel (`pip install --force-reinstall finsandbox-*.whl`) or set FINSANDBOX_BINARY",
    )


# --------------------------------------------------------------------------
# sources and temp files


def _is_path(source: Source) -> bool:
    if isinstance(source, bytes):
        return False
    if isinstance(source, os.PathLike):
        return True
    if not isinstance(source, str):
        raise TypeError(f"a strategy is a path or source code (str/bytes), not {type(source).__name__}")
    return "\n" not in source and source.strip().endswith(_PATH_SUFFIXES)


def _write_private(directory: str, name: str, content: Union[str, bytes]) -> str:
    path = os.path.join(directory, name)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


class _Staging:
    """A private (0700) temp dir for source strings and config mappings; removed on exit."""

    def __init__(self) -> None:
        self.dir: Optional[str] = None

    def file(self, name: str, content: Union[str, bytes]) -> str:
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="finsandbox-py-")
        return _write_private(self.dir, name, content)

    def __enter__(self) -> "_Staging":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _strategy_path(source: Source, staging: _Staging, name: str) -> str:
    if _is_path(source):
        path = os.fsdecode(os.fspath(source))
        if not os.path.exists(path):
            from .errors import InputError

            raise InputError(
                f"strategy file `{path}` does not exist",
                kind="input_error",
                hint="a str with no newline that ends in .py/.ipynb is taken as a path; pass source code with a newline",
                exit_code=4,
            )
        return path
    return staging.file(name, source)  # type: ignore[arg-type]


def _options(
    staging: _Staging,
    *,
    config: Config = None,
    timeout: Optional[float] = None,
    memory: Union[str, int, None] = None,
    cpus: Optional[float] = None,
    runtime: Optional[str] = None,
) -> List[str]:
    argv: List[str] = []
    if config is not None:
        if isinstance(config, Mapping):
            argv += ["--config", staging.file("config.yaml", json.dumps(config))]
        else:
            argv += ["--config", os.fspath(config)]
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        argv += ["--timeout", str(int(math.ceil(timeout)))]
    if memory is not None:
        argv += ["--memory", str(memory)]
    if cpus is not None:
        argv += ["--cpus", repr(float(cpus)) if not isinstance(cpus, str) else cpus]
    if runtime is not None:
        argv += ["--runtime", str(runtime)]
    return argv


# --------------------------------------------------------------------------
# the child process


class _StderrTail(threading.Thread):
    """Drains the child's stderr (so it never blocks) and keeps the tail."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.buf = bytearray()

    def run(self) -> None:
        read = getattr(self.stream, "read1", self.stream.read)
        while True:
            chunk = read(65536)
            if not chunk:
                break
            self.buf += chunk
            if len(self.buf) > 2 * _STDERR_KEEP:
                del self.buf[: len(self.buf) - _STDERR_KEEP]

    def text(self) -> str:
        self.join(timeout=5)
        return bytes(self.buf[-_STDERR_KEEP:]).decode("utf-8", "replace")


def _spawn(argv: Sequence[str]) -> "subprocess.Popen[bytes]":
    # Own session: a terminal's Ctrl-C reaches only Python, which forwards
    # exactly one SIGINT (the CLI then removes its containers and exits 130).
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _interrupt(proc: "subprocess.Popen[bytes]") -> None:
    """Forward SIGINT and wait for the CLI to clean up.

    A second Ctrl-C while waiting escalates to SIGTERM (also a clean exit for
    the CLI), a third to SIGKILL (which may leave a container for
    ``finsandbox cleanup``).
    """
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    if proc.stdout is not None and not proc.stdout.closed:
        # keep the pipe drained: the CLI may still write while it cleans up
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
    for i, sig in enumerate(signals):
        if proc.poll() is not None:
            return
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            proc.wait()
            return
        except KeyboardInterrupt:
            if i == len(signals) - 1:
                raise
            continue


def _drain(stream: IO[bytes]) -> None:
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


def _parse_document(line: bytes) -> Optional[Dict[str, Any]]:
    text = line.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _is_fatal(doc: Mapping[str, Any]) -> bool:
    """The CLI's error document for the whole command (no strategy attached)."""
    return doc.get("status") == "error" and not doc.get("strategy")


# --------------------------------------------------------------------------
# run


def run(
    source: Source,
    data: PathLike,
    *,
    timeout: Optional[float] = None,
    memory: Union[str, int, None] = None,
    cpus: Optional[float] = None,
    config: Config = None,
    runtime: Optional[str] = None,
) -> Result:
    """Run one strategy in the sandbox: ``finsandbox --json exec``.

    ``source`` is a path or source code (see :data:`Source`); code is written
    to a private 0600 temp file, removed afterwards. ``timeout`` is whole
    seconds (rounded up), not counting the ~1-2 s warm-up; ``memory`` e.g.
    ``"512m"``; ``config`` a config file path or a mapping.

    Returns a :class:`Result` for every strategy outcome (``ok``,
    ``strategy_error``, ``rejected``, ``timeout``, ...). Raises
    :class:`FinsandboxError` subclasses only when there is no result:
    engine unavailable, bad config or usage, bad input file, binary missing.
    Ctrl-C stops the CLI (its container removed) and re-raises
    ``KeyboardInterrupt``.
    """
    binary = binary_path()
    with _Staging() as staging:
        path = _strategy_path(source, staging, "strategy.py")
        argv = [binary, "--json", "exec", path, "--data", os.fspath(data)]
        argv += _options(staging, config=config, timeout=timeout, memory=memory, cpus=cpus, runtime=runtime)
        proc = _spawn(argv)
        tail = _StderrTail(proc.stderr)  # type: ignore[arg-type]
        tail.start()
        try:
            out = proc.stdout.read()  # type: ignore[union-attr]
            code = proc.wait()
        except KeyboardInterrupt:
            _interrupt(proc)
            raise
        finally:
            if proc.poll() is None:  # an exception other than Ctrl-C
                _interrupt(proc)
            proc.stdout.close()  # type: ignore[union-attr]
    stderr = tail.text()
    doc = _parse_document(out)
    if code in (130, 143, 129):
        raise KeyboardInterrupt(f"finsandbox was interrupted (exit {code})")
    if doc is None:
        raise from_error_document(None, exit_code=code, stderr=stderr) if code else InternalError(
            "finsandbox printed no JSON result", exit_code=code, stderr=stderr
        )
    if _is_fatal(doc):
        raise from_error_document(doc, exit_code=code, stderr=stderr)
    return Result.from_dict(doc)


# --------------------------------------------------------------------------
# batch


def batch(
    sources: Iterable[Source],
    data: PathLike,
    *,
    jobs: Optional[int] = None,
    out: Optional[PathLike] = None,
    timeout: Optional[float] = None,
    memory: Union[str, int, None] = None,
    cpus: Optional[float] = None,
    config: Config = None,
    runtime: Optional[str] = None,
) -> Iterator[Result]:
    """Run many strategies: ``finsandbox --json batch``, results yielded as each finishes.

    Results come in completion order; ``Result.index`` is the strategy's
    position in ``sources``. A strategy the CLI could not read is a Result
    with ``status == "error"``. ``out`` also appends the JSONL to that file.
    Stopping the iteration early (``break``, ``close()``) or Ctrl-C stops
    the CLI, which removes every running container.
    """
    items = list(sources)
    if not items:
        raise ValueError("batch() needs at least one strategy")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive int, not {jobs!r}")
    binary = binary_path()
    return _batch(binary, items, data, jobs=jobs, out=out, timeout=timeout, memory=memory,
                  cpus=cpus, config=config, runtime=runtime)


def _batch(
    binary: str,
    items: List[Source],
    data: PathLike,
    *,
    jobs: Optional[int],
    out: Optional[PathLike],
    **options: Any,
) -> Iterator[Result]:
    with _Staging() as staging:
        paths: List[str] = []
        index_of: Dict[str, int] = {}
        width = len(str(len(items)))
        for i, item in enumerate(items):
            path = _strategy_path(item, staging, f"strategy_{i:0{width}d}.py")
            paths.append(path)
            for key in (path, os.path.abspath(path), os.path.realpath(path)):
                index_of.setdefault(key, i)
        argv = [binary, "--json", "batch", *paths, "--data", os.fspath(data)]
        if jobs is not None:
            argv += ["--jobs", str(jobs)]
        if out is not None:
            argv += ["--out", os.fspath(out)]
        argv += _options(staging, **options)
        proc = _spawn(argv)
        tail = _StderrTail(proc.stderr)  # type: ignore[arg-type]
        tail.start()
        fatal: Optional[Dict[str, Any]] = None
        finished = False
        try:
            for line in iter(proc.stdout.readline, b""):  # type: ignore[union-attr]
                doc = _parse_document(line)
                if doc is None:
                    continue
                if _is_fatal(doc):
                    fatal = doc
                    continue
                yield Result.from_dict(doc, index=_index(doc, index_of))
            code = proc.wait()
            finished = True
        except KeyboardInterrupt:
            _interrupt(proc)
            raise
        finally:
            if not finished and proc.poll() is None:
                # the consumer stopped early (GeneratorExit) or an error
                _interrupt(proc)
            proc.stdout.close()  # type: ignore[union-attr]
        stderr = tail.text()
        if code in (130, 143, 129):
            raise KeyboardInterrupt(f"finsandbox batch was interrupted (exit {code})")
        if code != 0 or fatal is not None:
            raise from_error_document(fatal, exit_code=code, stderr=stderr)


def _index(doc: Mapping[str, Any], index_of: Mapping[str, int]) -> Optional[int]:
    strategy = doc.get("strategy")
    path = strategy.get("path") if isinstance(strategy, Mapping) else None
    if not isinstance(path, str):
        return None
    for key in (path, os.path.abspath(path), os.path.realpath(path)):
        if key in index_of:
            return index_of[key]
    return None


# --------------------------------------------------------------------------
# the drop-in executor


class Executor:
    """A drop-in for loops written against the earlier Python executor::

        executor = finsandbox.Executor(config={"docker": {"timeout_seconds": 120}})
        result = executor.execute_strategy(code, "market.parquet")
        if result.success: ... result.metrics["sharpe_ratio"]
        else: ... result.error   # feed back to the generator

    ``config`` is a config file path or a mapping (the YAML config's shape);
    the keyword limits override it per executor.
    """

    def __init__(
        self,
        config: Config = None,
        *,
        timeout: Optional[float] = None,
        memory: Union[str, int, None] = None,
        cpus: Optional[float] = None,
        runtime: Optional[str] = None,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.memory = memory
        self.cpus = cpus
        self.runtime = runtime

    def execute_strategy(self, code: Source, data: PathLike) -> Result:
        """Run ``code`` (source or a path) on ``data``; see :func:`run`."""
        return run(code, data, timeout=self.timeout, memory=self.memory, cpus=self.cpus,
                   config=self.config, runtime=self.runtime)

    def execute_batch(self, codes: Iterable[Source], data: PathLike, *, jobs: Optional[int] = None) -> Iterator[Result]:
        """Many strategies, results in completion order; see :func:`batch`."""
        return batch(codes, data, jobs=jobs, timeout=self.timeout, memory=self.memory, cpus=self.cpus,
                     config=self.config, runtime=self.runtime)
