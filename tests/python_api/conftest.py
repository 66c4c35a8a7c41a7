"""Fixtures for the finsandbox Python API tests (run against the installed wheel and the real engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[2]
MARKET = Path(os.environ.get("FINSANDBOX_TEST_DATA", REPO / "examples" / "market.parquet"))

OK = "def strategy(data):\n    return data.get('close') > 0\n"


def sleeper(seconds: float) -> str:
    return (
        "import time\n"
        "def strategy(data):\n"
        f"    time.sleep({seconds})\n"
        "    return data.get('close') > 0\n"
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    assert MARKET.is_file(), f"test data missing: {MARKET} (set FINSANDBOX_TEST_DATA)"
    dest = tmp_path / "market.parquet"
    shutil.copyfile(MARKET, dest)
    return dest


def docker_containers(*labels: str) -> List[str]:
    """Names of containers (any state) carrying all the given labels."""
    argv = ["docker", "ps", "-a", "--format", "{{.Names}}"]
    for label in labels:
        argv += ["--filter", f"label={label}"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def children(pid: int) -> List[int]:
    """Direct children of pid, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(autouse=True)
def _no_cargo_on_path() -> Iterator[None]:
    # The point of these tests: the wheel works without a Rust toolchain.
    if os.environ.get("FINSANDBOX_TEST_ALLOW_CARGO") != "1":
        assert shutil.which("cargo") is None, "run these tests with no cargo on PATH (scripts/test_wheel.sh)"
    yield
