"""The Python API against the real engine, with the binary from the installed wheel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import finsandbox
from finsandbox import Result

from conftest import OK, alive, children, comm, docker_containers, sleeper


# ------------------------------------------------------------------ install


def test_binary_is_the_wheels_static_one_and_versions_agree() -> None:
    path = Path(finsandbox.binary_path())
    scripts = Path(sysconfig.get_path("scripts")).resolve()
    assert path.resolve().parent == scripts, f"{path} is not the wheel's binary (expected in {scripts})"
    head = path.read_bytes()[:8192]
    assert head.startswith(b"\x7fELF")
    assert b"ld-linux" not in head, "the wheel's binary is dynamically linked"
    out = subprocess.run([str(path), "--version"], check=True, capture_output=True, text=True).stdout
    assert out.split()[0] == "finsandbox"
    assert out.split()[1] == finsandbox.__version__


def test_missing_binary_is_an_exception(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.setenv("FINSANDBOX_BINARY", "/nonexistent/finsandbox")
    with pytest.raises(finsandbox.BinaryNotFoundError):
        finsandbox.run(OK, data=data)


# ------------------------------------------------------------------ outcomes


def test_run_ok_has_metrics_and_removes_its_temp_file(data: Path) -> None:
    result = finsandbox.run(OK, data=data, timeout=120)
    assert isinstance(result, Result)
    assert result.status == "ok", result.raw
    assert result.success is True and result.ok
    assert result.exit_code == 0
    assert isinstance(result.metrics, dict) and isinstance(result.metrics["sharpe_ratio"], float)
    assert result.position is not None and result.position["rows"] > 0
    assert result.provenance is not None and len(result.provenance["strategy_sha256"]) == 64
    assert result.container is not None and result.container["removed"] is True
    assert result["status"] == "ok"  # dict-style access for older loops
    # the source string went through a private temp file that is gone now
    assert result.path is not None and not os.path.exists(result.path)
    assert not os.path.exists(os.path.dirname(result.path))


def test_run_from_a_path(tmp_path: Path, data: Path) -> None:
    strategy = tmp_path / "s.py"
    strategy.write_text(OK)
    for source in (strategy, str(strategy)):
        result = finsandbox.run(source, data=data)
        assert result.status == "ok", result.raw
        assert result.path is not None and os.path.samefile(result.path, strategy)


def test_missing_py_path_is_an_input_error(data: Path) -> None:
    with pytest.raises(finsandbox.InputError):
        finsandbox.run("no_such_strategy.py", data=data)


def test_rejected_source_is_a_result(data: Path) -> None:
    result = finsandbox.run("import os\n" + OK, data=data)
    assert result.status == "rejected"
    assert result.success is False
    assert result.container is None and result.exit_code is None
    assert result.screening is not None
    assert [f["rule"] for f in result.screening["findings"]] == ["FS001"]


def test_strategy_error_is_a_result(data: Path) -> None:
    result = finsandbox.run("def strategy(data):\n    raise ValueError('boom')\n", data=data)
    assert result.status == "strategy_error"
    assert result.error is not None and result.error["type"] == "ValueError"
    assert "boom" in (result.error_message or "")


def test_timeout_is_a_result(data: Path) -> None:
    result = finsandbox.run(sleeper(60), data=data, timeout=3)
    assert result.status == "timeout", result.raw
    assert result.success is False
    assert result.limits is not None and result.limits["timeout_seconds"] == 3


# ------------------------------------------------------------------ batch


def test_batch_streams_in_completion_order(tmp_path: Path, data: Path) -> None:
    # Input order 0..4; they sleep 16, 4, 12, 0, 8 s: all five start together
    # (jobs=5), so they finish 3, 1, 4, 2, 0, four seconds apart (wider than
    # the spread of the warm-ups on a loaded 2-core machine).
    sleeps = [16, 4, 12, 0, 8]
    out = tmp_path / "results.jsonl"
    stream = finsandbox.batch([sleeper(s) for s in sleeps], data=data, jobs=5, out=out, timeout=120)
    got = []
    still_running_at_first = None
    for result in stream:
        if not got:
            # Streamed, not collected: when the first result arrives the CLI
            # is still running the others, their containers still there.
            clis = [p for p in children(os.getpid()) if comm(p) == "finsandbox"]
            assert len(clis) == 1, clis
            still_running_at_first = docker_containers(
                "finsandbox.managed=true", f"finsandbox.owner-pid={clis[0]}"
            )
        got.append(result)
    assert [r.status for r in got] == ["ok"] * 5, [r.raw for r in got]
    order = [r.index for r in got]
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert still_running_at_first, "no container of the batch was running when the first result arrived"
    # completion order (shortest sleep first), not input order
    assert order == [3, 1, 4, 2, 0], [(r.index, r.startup_s, r.execution_time_s) for r in got]
    assert order != sorted(order)
    # --out got the same lines
    assert len(out.read_text().splitlines()) == 5


def test_batch_reports_an_unusable_data_file_as_an_exception(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(finsandbox.InputError) as info:
        list(finsandbox.batch([OK], data=bad))
    assert info.value.exit_code == 4


# ------------------------------------------------------------------ drop-in executor


def test_executor_drop_in(data: Path) -> None:
    executor = finsandbox.Executor(config={"docker": {"timeout_seconds": 120, "memory_limit": "1g"}})
    result = executor.execute_strategy(OK, data)
    assert result.status == "ok" and result.success
    assert result.limits is not None and result.limits["memory_bytes"] == 1 << 30
    assert result.limits["timeout_seconds"] == 120
    assert result["success"] is True and result.get("metrics")["sharpe_ratio"] == result.metrics["sharpe_ratio"]
    rejected = executor.execute_strategy("import subprocess\n" + OK, data)
    assert rejected.status == "rejected"


def test_executor_bad_config_key_is_an_exception(data: Path) -> None:
    executor = finsandbox.Executor(config={"docker": {"no_such_key": 1}})
    with pytest.raises(finsandbox.ConfigError) as info:
        executor.execute_strategy(OK, data)
    assert info.value.exit_code == 2 and "no_such_key" in str(info.value)


# ------------------------------------------------------------------ exceptions


def test_bad_config_value_is_an_exception(data: Path) -> None:
    with pytest.raises(finsandbox.ConfigError) as info:
        finsandbox.run(OK, data=data, memory="lots")
    assert info.value.exit_code == 2 and info.value.kind == "config_error"
    assert isinstance(info.value, finsandbox.UsageError)


def test_missing_engine_is_an_exception(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.setenv("FINSANDBOX_ENGINE", "/nonexistent")
    with pytest.raises(finsandbox.EngineError) as info:
        finsandbox.run(OK, data=data)
    assert info.value.exit_code == 3 and info.value.kind == "engine_error"
    assert info.value.hint
    with pytest.raises(finsandbox.EngineError):
        list(finsandbox.batch([OK, OK], data=data))


# ------------------------------------------------------------------ Ctrl-C


CHILD = textwrap.dedent(
    """
    import sys, finsandbox
    src = "import time\\ndef strategy(data):\\n    time.sleep(600)\\n    return data.get('close') > 0\\n"
    try:
        if sys.argv[2] == "run":
            finsandbox.run(src, data=sys.argv[1], timeout=900)
        else:
            for r in finsandbox.batch([src, src], data=sys.argv[1], jobs=2, timeout=900):
                print("unexpected result", r.status, flush=True)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        raise
    """
)


def _wait_for(predicate, what: str, proc: subprocess.Popen, limit: int = 1200):  # type: ignore[no-untyped-def]
    """Poll until predicate() is truthy (not a timing assertion: a bound on a hang)."""
    import time

    for _ in range(limit):
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the child Python exited ({proc.returncode}) before {what}: {proc.communicate()}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"gave up waiting for {what}")


@pytest.mark.parametrize("mode", ["run", "batch"])
def test_sigint_to_python_stops_the_child_and_leaves_no_container(tmp_path: Path, data: Path, mode: str) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cli = _wait_for(
            lambda: next((p for p in children(proc.pid) if comm(p) == "finsandbox"), None), "the CLI to start", proc
        )
        label = f"finsandbox.owner-pid={cli}"
        want = 1 if mode == "run" else 2
        _wait_for(lambda: len(docker_containers("finsandbox.managed=true", label)) >= want, "its containers", proc)
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in stdout, (stdout, stderr)
    assert "unexpected result" not in stdout
    # Python re-raised KeyboardInterrupt: it dies of SIGINT
    assert proc.returncode in (-signal.SIGINT, 130), (proc.returncode, stderr)
    assert not alive(cli), "the finsandbox CLI outlived the Python process"
    assert docker_containers("finsandbox.managed=true", label) == []
