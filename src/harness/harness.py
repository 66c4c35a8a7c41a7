"""finsandbox in-container harness (protocol 1).

Runs as `python3 -I -B -c <this file + runtime_policy.py + "main()">` inside
the sandbox container (the host embeds the three as one program). It is
trusted code only until the strategy starts: from then on the strategy controls
the whole process, this module's objects included, so nothing this file
reports after that point is believed by the host beyond the position itself
(which the host re-validates and which is the strategy's answer anyway).

Input: JSON lines on stdin, in two phases. First the setup (everything but
the strategy); the harness then does its trusted work (imports, the finlab
layer, the in-process lockdown) and answers with a READY frame (kind Y);
only then does the host tighten the CPU limit and send the strategy as a
second line, {"source": "...", "filename": "strategy.py"}. A setup line that
carries "source" itself is a whole request in one line (tests drive the
harness that way):
    {"protocol": 1, "source": "...", "filename": "strategy.py", "compat": "...",
     "data_path": "/data/market", "max_position_bytes": N,
     "aliases": {...}, "prices": {"close": "price:收盤價", ...},
     "run": {"start_date": "YYYY-MM-DD", "end_date": ..., "fee_ratio": x, "tax_ratio": y}}
(`compat` is finlab_compat.py, the finlab-compatible API; `aliases` the one
alias table, src/harness/aliases.json; `prices` the columns the host prices
with; `run` what the strategy finds pre-bound. The last three are optional.)
Also optional: "runtime_policy": true switches the audit-hook layer on
(install_runtime_policy; off when absent), "allowed_imports": [...] the
screen's configured allow-list for it. The summary then carries
"runtime_policy" ("on"/"off") and "runtime_policy_refusals" ([{rule, what}]).

Output: frames on the container's stdout, nothing else:
    b"FSB" + kind (1 byte) + length (u32, big endian) + payload
    kind Y: ready: the trusted phase is over (empty payload, sent once)
    kind O: a chunk the strategy wrote to its stdout
    kind P: the position, a Parquet file (wide: `date` + one column per symbol)
    kind R: the run summary, JSON, always last
The strategy's own prints never reach the channel raw: its fd 1 is a pipe that a
thread drains into O frames.
"""

import json
import os
import struct
import sys
import threading
import traceback

PROTOCOL = 1
MAGIC = b"FSB"


class Channel:
    """The private copy of the container's stdout that carries frames."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, kind, payload):
        header = MAGIC + kind + struct.pack(">I", len(payload))
        with self.lock:
            view = memoryview(header + payload)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


def redirect_stdout(channel):
    """Point fd 1 at a pipe whose reader forwards everything as O frames."""
    read_end, write_end = os.pipe()
    os.dup2(write_end, 1)
    os.close(write_end)

    def pump():
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:
                return
            if not chunk:
                return
            channel.send(b"O", chunk)

    thread = threading.Thread(target=pump, name="finsandbox-stdout", daemon=True)
    thread.start()
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    return thread


def finish_stdout(thread):
    try:
        sys.stdout.flush()
    except Exception:
        pass
    devnull = os.open("/dev/null", os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    # A strategy may have kept a copy of fd 1 alive; do not wait for it forever.
    thread.join(timeout=2.0)


def versions():
    import numpy
    import pandas
    import pyarrow

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
    }


CLONE_THREAD = 0x00010000


def lockdown():
    """A second seccomp filter, for the strategy only: no new programs, no new
    processes (threads stay allowed), no sockets of any family, and none of
    the calls the container profile denies (so they stay denied under runtimes
    that do not apply the container's profile, such as gVisor).

    Installed after the harness's own imports and the data load, right before
    untrusted code runs. The container's profile still applies underneath;
    filters only ever add restrictions. clone3 answers ENOSYS because its
    flags sit behind a pointer seccomp cannot inspect; libc then falls back to
    clone, whose flags can be checked.
    """
    import errno

    import seccomp

    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in (
        "execve", "execveat", "fork", "vfork", "socket", "socketpair",
        "memfd_create", "ptrace", "process_vm_readv", "process_vm_writev", "mknod", "mknodat",
        "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "bpf",
        "perf_event_open", "keyctl", "add_key", "request_key", "personality", "unshare", "setns",
        "mount", "umount2", "pivot_root", "chroot",
    ):
        f.add_rule(deny, name)
    f.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # TSYNC: the kernel installs the filter on every thread of the process at
    # once, or on none and load() fails (fail closed). Without it, threads that
    # the imports started (OpenBLAS workers, Arrow's pools) keep only the
    # container's filter, and code that gets onto one of them (a signal handler)
    # could fork, exec and open sockets again.
    f.set_attr(seccomp.Attr.CTL_TSYNC, 1)
    before = thread_filter_counts()
    f.load()
    check_every_thread_filtered(before, thread_filter_counts())


def thread_filter_counts():
    """`Seccomp_filters` of every thread of this process, by thread id; None
    where the kernel does not report the count (gVisor has no such field)."""
    counts = {}
    for tid in os.listdir("/proc/self/task"):
        count = None
        try:
            with open(f"/proc/self/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Seccomp_filters:"):
                        count = int(line.split()[1])
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        counts[int(tid)] = count
    return counts


def check_every_thread_filtered(before, after):
    """Fail closed unless every thread now carries one filter more than the
    main thread had before: TSYNC promises it, this checks it."""
    main_before = before.get(os.getpid())
    if main_before is None:
        return  # no per-thread counts here (gVisor): TSYNC's own guarantee stands
    expected = main_before + 1
    wrong = {tid: n for tid, n in after.items() if n != expected}
    if wrong:
        raise RuntimeError(
            f"threads without the in-process filter after loading it with TSYNC: {wrong} (expected {expected} each)"
        )


class InvalidOutput(Exception):
    pass


def encode_position(position, limit):
    """Check the position's shape and types, then serialise it as Parquet."""
    import io

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(position, pd.Series):
        raise InvalidOutput("the position is a Series; return a DataFrame (dates x symbols)")
    if not isinstance(position, pd.DataFrame):
        raise InvalidOutput(
            f"the position must be a pandas DataFrame (dates x symbols), got {type(position).__name__}"
        )
    frame = pd.DataFrame(position)
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    except Exception as err:
        raise InvalidOutput(f"the position's index must hold dates: {err}")
    # A zone-aware index keeps each timestamp's own wall-clock date: the zone
    # is dropped, not converted. Converting to UTC first would move local
    # midnight east of UTC to the previous day, and the next-day trading rule
    # would then trade on the signal's own day (look-ahead). The date a
    # strategy wrote is the date it meant; refusing zones would break
    # strategies that localise to the exchange's zone for good reasons.
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.normalize()
    if index.hasnans:
        raise InvalidOutput("the position's index has missing dates")
    if not index.is_unique:
        raise InvalidOutput("the position's index has duplicate dates")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise InvalidOutput("the position has duplicate symbol columns")
    if "date" in columns:
        raise InvalidOutput("the position has a column named 'date'; columns must be symbols")
    is_bool = all(pd.api.types.is_bool_dtype(t) for t in frame.dtypes) and len(columns) > 0
    arrays = [pa.array(index.values.astype("datetime64[D]"), type=pa.date32())]
    for i, name in enumerate(columns):
        col = frame.iloc[:, i]
        if is_bool:
            arrays.append(pa.array(col.to_numpy(dtype=bool), type=pa.bool_()))
            continue
        # Complex is "numeric" to pandas, but casting it to float drops the
        # imaginary part with only a warning; object columns may hold anything.
        if pd.api.types.is_complex_dtype(col.dtype) or pd.api.types.is_object_dtype(col.dtype):
            raise InvalidOutput(f"position column {name!r} is {col.dtype}, not numeric or boolean")
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            raise InvalidOutput(f"position column {name!r} is {col.dtype}, not numeric or boolean")
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        arrays.append(pa.array(values, type=pa.float64()))
    table = pa.Table.from_arrays(arrays, names=["date"] + columns)
    table = table.sort_by("date")
    buf = io.BytesIO()
    # The host accepts exactly this layout (v1 data pages, plain, uncompressed)
    # and refuses anything else before decoding it.
    pq.write_table(
        table,
        buf,
        compression="none",
        use_dictionary=False,
        write_statistics=False,
        store_schema=False,
        data_page_version="1.0",
    )
    payload = buf.getvalue()
    if len(payload) > limit:
        raise InvalidOutput(f"the position is {len(payload)} bytes, over the {limit}-byte limit")
    return payload


def strategy_traceback(err):
    """The traceback from the strategy's first frame on, without harness frames."""
    tb = err.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != STRATEGY_FILENAME[0]:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(err), err, tb))


STRATEGY_FILENAME = ["strategy.py"]


def install_compat(compat, request, recorder):
    """Install the finlab API with the host's alias table and price columns
    (the harness derives neither itself)."""
    return compat.install(request["data_path"], recorder, request.get("aliases"), request.get("prices"))


def strategy_namespace(compat, request, data, filename):
    """The strategy's globals: exactly the names a finlab strategy generator
    pre-binds (`data`, `sim`, `pd`, `np`, `start_date`, `end_date`,
    `fee_ratio`, `tax_ratio`), built before the lockdown so no import
    happens after it."""
    import sys

    sim = sys.modules["finlab.backtest"].sim
    return compat.namespace(data, sim, filename, request.get("run"))


def fail(channel, summary, status, kind, message, tb, code):
    summary["status"] = status
    summary["error"] = {"type": kind, "message": message, "traceback": tb}
    channel.send(b"R", json.dumps(summary).encode())
    os._exit(code)


def main():
    channel = Channel(os.dup(1))
    summary = {"protocol": PROTOCOL, "status": "ok", "warnings": []}
    stdin = sys.stdin.buffer
    try:
        request = json.loads(stdin.readline().decode("utf-8"))
        if request.get("protocol") != PROTOCOL:
            raise RuntimeError(f"host speaks protocol {request.get('protocol')}, harness speaks {PROTOCOL}")
        summary["versions"] = versions()
        # The finlab-compatible API, sent in with the request like this file.
        import types
        import linecache

        compat = types.ModuleType("finsandbox_finlab")
        exec(compile(request["compat"], "finlab_compat.py", "exec"), compat.__dict__)
        recorder = compat.Recorder()
        data = install_compat(compat, request, recorder)
    except BaseException as err:  # the harness itself failed: not the strategy's fault
        fail(channel, summary, "harness_error", type(err).__name__, str(err), traceback.format_exc(), 3)

    try:
        lockdown()
    except BaseException as err:  # fail closed: no filter, no strategy
        fail(
            channel,
            summary,
            "harness_error",
            "LockdownError",
            f"the in-process seccomp lockdown could not be installed: {err}",
            traceback.format_exc(),
            3,
        )

    # The trusted phase is over: the host may now tighten the CPU limit and
    # send the strategy. Nothing after this line is trusted by the host.
    channel.send(b"Y", b"")
    try:
        part = request if "source" in request else json.loads(stdin.readline().decode("utf-8"))
        source = part["source"]
        filename = part.get("filename") or "strategy.py"
        STRATEGY_FILENAME[0] = filename
        # Tracebacks show the strategy's source lines: that is what lets an
        # LLM loop repair the code from the error alone.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = strategy_namespace(compat, request, data, filename)
    except BaseException as err:
        fail(channel, summary, "harness_error", type(err).__name__, str(err), traceback.format_exc(), 3)
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as err:
        fail(
            channel,
            summary,
            "strategy_error",
            type(err).__name__,
            str(err),
            "".join(traceback.format_exception_only(type(err), err)),
            1,
        )

    refusals = []
    summary["runtime_policy_refusals"] = refusals
    try:
        summary["runtime_policy"] = "on" if install_runtime_policy(request, code, filename, refusals) else "off"
    except BaseException as err:  # fail closed: no policy, no strategy
        summary["status"] = "harness_error"
        summary["error"] = {
            "type": "RuntimePolicyError",
            "message": f"the runtime policy could not be installed: {err}",
            "traceback": traceback.format_exc(),
        }
        channel.send(b"R", json.dumps(summary).encode())
        os._exit(3)

    pump = redirect_stdout(channel)
    position = None
    try:
        exec(code, namespace)
        position = compat.pick_position(namespace, recorder, data)
        if position is None:
            raise InvalidOutput(
                "the strategy produced no position: define `def strategy(data): return position`, "
                "assign a module-level `position`, or call `sim(position, ...)`"
            )
        payload = encode_position(position, int(request.get("max_position_bytes", 1 << 28)))
    except InvalidOutput as err:
        summary["status"] = "invalid_output"
        summary["error"] = {"type": "InvalidOutput", "message": str(err), "traceback": ""}
    except SystemExit as err:
        summary["status"] = "strategy_error"
        summary["error"] = {"type": "SystemExit", "message": f"the strategy called exit({err.code!r})", "traceback": ""}
    except BaseException as err:
        summary["status"] = "strategy_error"
        summary["error"] = {"type": type(err).__name__, "message": str(err), "traceback": strategy_traceback(err)}
    finish_stdout(pump)
    if summary["status"] == "ok":
        channel.send(b"P", payload)
    if recorder.called:
        summary["sim_params"] = recorder.params
    summary["warnings"].extend(str(n) for n in compat.NOTES[:50])
    try:
        import resource

        summary["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception:
        pass
    channel.send(b"R", json.dumps(summary, default=str).encode())
    sys.stderr.flush()
    os._exit(0 if summary["status"] == "ok" else 1)
