"""finsandbox in-container harness (protocol 1).

Runs as `python3 -I -B -c <this file>` inside the sandbox container. It is
trusted code only until the strategy starts: from then on the strategy controls
the whole process, this module's objects included, so nothing this file
reports after that point is believed by the host beyond the position itself
(which the host re-validates and which is the strategy's answer anyway).

Input: one JSON document on stdin:
    {"protocol": 1, "source": "...", "filename": "strategy.py", "compat": "...",
     "data_path": "/data/market", "max_position_bytes": N}
(`compat` is finlab_compat.py, the finlab-compatible API.)

Output: frames on the container's stdout, nothing else:
    b"FSB" + kind (1 byte) + length (u32, big endian) + payload
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


# ---------------------------------------------------------------------------
# The runtime policy: a second layer inside the interpreter, not the boundary.
# ---------------------------------------------------------------------------

# What the strategy itself may import: the screen's default allow-list (the
# host may send its configured list as `allowed_imports`). What the libraries
# import for themselves (lazily loaded submodules, their own dependencies) is
# judged by who imports: library code from Python's own directories may.
DEFAULT_ALLOWED_IMPORTS = (
    "pandas", "numpy", "math", "statistics", "datetime", "time", "itertools", "functools",
    "collections", "typing", "dataclasses", "decimal", "fractions", "re", "json", "finlab",
    "warnings", "random", "operator", "heapq", "bisect", "enum", "copy", "string", "calendar",
)

RUNTIME_RULES = {
    "R001": "files are written only under /tmp",
    "R002": "files are read only from the data, Python's own library and /tmp",
    "R003": "imports outside the allow-list",
    "R004": "compiling or executing strings, making code objects",
    "R005": "ctypes",
    "R006": "pickle and marshal loads",
    "R007": "new processes and signals",
    "R008": "sockets",
    "R009": "walking the interpreter's objects",
}


def install_runtime_policy(request, code, filename, refusals):
    """Install the PEP 578 audit hook that refuses, with the rule's id in the
    message, what a strategy has no business doing: see RUNTIME_RULES.

    Called last in the trusted phase, right before the strategy's code runs:
    after the imports, the data load and the seccomp lockdown, so nothing the
    harness needs is refused. An audit hook cannot be removed once added.

    This is a second layer, not the boundary: code that runs in the process
    can in principle corrupt the interpreter itself. The container and the
    seccomp filters stay what holds; this layer makes escapes through the
    Python surface fail early, with a message that names the rule.
    `refusals` collects what was refused (for the summary; informational only,
    since the strategy controls the process).
    """
    import _io
    import collections
    import dataclasses
    import keyword
    import re as _re
    import types
    import resource  # noqa: F401  (the summary reads it after the strategy)

    if not request.get("runtime_policy", True):
        return False

    allowed_imports = frozenset(request.get("allowed_imports") or DEFAULT_ALLOWED_IMPORTS)
    realpath = os.path.realpath
    fspath = os.fspath
    fsdecode = os.fsdecode
    getframe = sys._getframe
    isabs = os.path.isabs
    pid = os.getpid()

    def roots(paths):
        out = []
        for p in paths:
            if p and os.path.isdir(p):
                out.append(realpath(p).rstrip("/") + "/")
        return tuple(sorted(set(out)))

    library_roots = roots(list(sys.path) + ["/usr/share/zoneinfo"])
    data_path = realpath(request.get("data_path") or "/data/market")
    tmp_root = realpath("/tmp").rstrip("/") + "/"
    read_roots = library_roots + (tmp_root, data_path.rstrip("/") + "/")
    read_files = frozenset({data_path, "/dev/null", "/dev/urandom", "/dev/random"})
    write_files = frozenset({"/dev/null"})
    # The process may read its own threads' status (the self-test checks the filters).
    own_status = _re.compile(rf"/proc/{pid}/(status|task|task/\d+/status)\Z")
    trusted_files = frozenset({"<string>", "finlab_compat.py"}) - {filename}
    machinery = ("<frozen importlib", realpath(os.path.dirname(collections.__file__) + "/../importlib") + "/")

    strategy_code = code
    namedtuple_code = collections.namedtuple.__code__
    create_fn_code = dataclasses._create_fn.__code__
    process_class_code = dataclasses._process_class.__code__
    dataclasses_file = dataclasses._create_fn.__code__.co_filename
    get_code_code = None
    compile_bytecode_code = None
    call_removed_code = None
    extension_calls = ()
    try:
        import _imp
        import importlib._bootstrap as bootstrap
        import importlib._bootstrap_external as external

        get_code_code = external.SourceLoader.get_code.__code__
        compile_bytecode_code = external._compile_bytecode.__code__
        call_removed_code = bootstrap._call_with_frames_removed.__code__
        extension_calls = (_imp.create_dynamic, _imp.exec_dynamic)
    except Exception:  # no exception for the import machinery then: fail closed
        pass
    FileIO = _io.FileIO

    def refuse(rule, what):
        message = f"finsandbox runtime policy {rule} ({RUNTIME_RULES[rule]}): {what} is refused"
        if len(refusals) < 20:
            refusals.append({"rule": rule, "what": what[:200]})
        # A plain PermissionError (errno None): code that handles refused
        # operations keeps working; the message names the rule.
        raise PermissionError(message)

    def under(path, prefixes):
        return any(path.startswith(p) for p in prefixes)

    def resolve(path, rule):
        """The real path of a path argument; None for file descriptors."""
        if isinstance(path, int):
            return None
        try:
            text = fsdecode(fspath(path))
        except Exception:
            refuse(rule, f"a path of type {type(path).__name__}")
        # Relative paths with `..` could be resolved against a directory
        # descriptor the check cannot see: only plain ones pass.
        if not isabs(text) and ".." in text.split("/"):
            refuse(rule, f"the relative path {text!r}")
        return realpath(text)

    def check_write(path, what="writing"):
        real = resolve(path, "R001")
        if real is None or real in write_files or (real + "/").startswith(tmp_root):
            return
        refuse("R001", f"{what} {real!r}")

    def check_read(path, what="reading"):
        real = resolve(path, "R002")
        if real is None or real in read_files or under(real, read_roots) or own_status.match(real):
            return
        refuse("R002", f"{what} {real!r}")

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def on_open(args):
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE_FLAGS
        )
        if writes:
            check_write(path, "opening for writing")
        else:
            check_read(path, "reading")

    def frame_is_trusted(f):
        name = f.f_code.co_filename
        return name in trusted_files or under(realpath(name) if isabs(name) else name, library_roots)

    def check_import(name, start):
        """The strategy may import the allow-list (and its submodules); library
        code may import what it needs. `start`: the frame that raised the event."""
        if name is not None and str(name).partition(".")[0] in allowed_imports:
            return
        f = start
        while f is not None and f.f_code.co_filename.startswith(machinery):
            f = f.f_back
        if f is not None and frame_is_trusted(f):
            return  # a library importing what it needs
        refuse("R003", f"importing {name!r}")

    def on_import(args):
        name = args[0]
        if len(args) > 1 and isinstance(args[1], str):  # an extension module being loaded
            if not under(realpath(args[1]), library_roots):
                refuse("R003", f"loading the extension {args[1]!r}")
        check_import(name, getframe(2))

    def module_being_loaded(f):
        """The import system runs a module's code from exec_module(module): its name.
        Catches every route into the import system (importlib.import_module,
        __import__, loaders called by hand), not only the `import` statement."""
        while f is not None and f.f_code.co_filename.startswith(machinery):
            module = f.f_locals.get("module")
            if isinstance(module, types.ModuleType):
                return module.__name__
            f = f.f_back
        return None

    def from_extension_init(f):
        """Compiling inside an extension module's initialisation (Cython does)."""
        return (
            f is not None
            and f.f_code is call_removed_code
            and f.f_locals.get("f") in extension_calls
        )

    def dataclass_fields_are_names(f):
        """dataclasses writes its methods as source text with the field names in
        it: allowed only when called by dataclasses itself for a class whose
        field names are all plain identifiers (nothing to inject)."""
        if f is None or f.f_code is not create_fn_code:
            return False
        f = f.f_back
        while f is not None and f.f_code.co_filename == dataclasses_file:
            if f.f_code is process_class_code:
                fields = f.f_locals.get("fields")
                return isinstance(fields, dict) and all(
                    type(k) is str and k.isidentifier() and not keyword.iskeyword(k) for k in fields
                )
            f = f.f_back
        return False

    def generated_by_stdlib(f):
        return (f is not None and f.f_code is namedtuple_code) or dataclass_fields_are_names(f) or from_extension_init(f)

    def on_compile(args):
        if generated_by_stdlib(getframe(2)):
            return
        refuse("R004", "compile()")

    def on_exec(args):
        code_obj = args[0] if args else None
        if code_obj is strategy_code:
            return
        raiser = getframe(2)
        name = getattr(code_obj, "co_filename", "")
        if raiser is not None and raiser.f_code is call_removed_code and isabs(name) and under(realpath(name), library_roots):
            # A module's code from Python's own directories, run by the import system.
            check_import(module_being_loaded(raiser), raiser)
            return
        if generated_by_stdlib(raiser):
            return
        refuse("R004", "exec()/eval() of code the strategy made")

    def verified_bytecode(args):
        """marshal.loads by the import system, of the exact bytes of a .pyc file
        in Python's own directories."""
        f = getframe(3)
        if f is None or f.f_code is not compile_bytecode_code:
            return False
        f = f.f_back
        if f is None or f.f_code is not get_code_code:
            return False
        path = f.f_locals.get("bytecode_path")
        if not isinstance(path, str) or not under(realpath(path), library_roots):
            return False
        with FileIO(path, "r") as fh:
            on_disk = fh.readall()
        return bytes(args[0]) == on_disk[16:]

    def on_marshal(args):
        if verified_bytecode(args):
            return
        refuse("R006", "marshal.loads()")

    def deny(rule, what):
        def handler(args):
            refuse(rule, what)

        return handler

    def write_args(*indexes, what="changing"):
        def handler(args):
            for i in indexes:
                if i < len(args) and args[i] is not None:
                    check_write(args[i], what)

        return handler

    def on_symlink(args):
        src, dst = args[0], args[1]
        if len(args) > 2 and args[2] not in (None, -1):
            refuse("R001", "a symlink relative to a directory descriptor")
        check_write(dst, "creating a link at")
        target = fsdecode(fspath(src))
        if not isabs(target):
            target = os.path.join(os.path.dirname(resolve(dst, "R001") or "/"), target)
        check_write(target, "linking to")

    def on_listdir(args):
        path = args[0] if args else "."
        check_read("." if path is None else path, "listing")

    handlers = {
        "open": on_open,
        "os.listdir": on_listdir,
        "os.scandir": on_listdir,
        "glob.glob": on_listdir,
        "os.remove": write_args(0, what="removing"),
        "os.rmdir": write_args(0, what="removing"),
        "os.rename": write_args(0, 1, what="renaming"),
        "os.mkdir": write_args(0, what="creating"),
        "os.chmod": write_args(0, what="changing the mode of"),
        "os.chown": write_args(0, what="changing the owner of"),
        "os.truncate": write_args(0, what="truncating"),
        "os.utime": write_args(0, what="changing the times of"),
        "os.setxattr": write_args(0, what="changing attributes of"),
        "os.removexattr": write_args(0, what="changing attributes of"),
        "os.link": write_args(0, 1, what="linking"),
        "os.symlink": on_symlink,
        "shutil.rmtree": write_args(0, what="removing"),
        "shutil.move": write_args(0, 1, what="moving"),
        "sqlite3.connect": deny("R001", "sqlite3.connect()"),
        "import": on_import,
        "compile": on_compile,
        "exec": on_exec,
        "code.__new__": deny("R004", "making a code object"),
        "marshal.loads": on_marshal,
        "marshal.load": deny("R006", "marshal.load()"),
        "pickle.find_class": lambda args: refuse("R006", f"pickle loading {args[0]}.{args[1]}"),
        "subprocess.Popen": deny("R007", "subprocess"),
        "os.system": deny("R007", "os.system()"),
        "os.exec": deny("R007", "os.exec*()"),
        "os.posix_spawn": deny("R007", "os.posix_spawn()"),
        "os.spawn": deny("R007", "os.spawn*()"),
        "os.fork": deny("R007", "os.fork()"),
        "os.forkpty": deny("R007", "os.forkpty()"),
        "pty.spawn": deny("R007", "pty.spawn()"),
        "os.kill": deny("R007", "os.kill()"),
        "os.killpg": deny("R007", "os.killpg()"),
        "signal.pthread_kill": deny("R007", "signal.pthread_kill()"),
        "gc.get_objects": deny("R009", "gc.get_objects()"),
        "gc.get_referrers": deny("R009", "gc.get_referrers()"),
        "gc.get_referents": deny("R009", "gc.get_referents()"),
        "sys._current_frames": deny("R009", "sys._current_frames()"),
    }
    get_handler = handlers.get

    def hook(event, args):
        handler = get_handler(event)
        if handler is not None:
            handler(args)
        elif event.startswith("ctypes."):
            refuse("R005", event)
        elif event.startswith("socket."):
            refuse("R008", event)

    sys.addaudithook(hook)
    return True


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
        index = pd.DatetimeIndex(pd.to_datetime(frame.index)).normalize()
    except Exception as err:
        raise InvalidOutput(f"the position's index must hold dates: {err}")
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
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            raise InvalidOutput(f"position column {name!r} is {col.dtype}, not numeric or boolean")
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        arrays.append(pa.array(values, type=pa.float64()))
    table = pa.Table.from_arrays(arrays, names=["date"] + columns)
    table = table.sort_by("date")
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="none", use_dictionary=False, write_statistics=False, store_schema=False)
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


def main():
    channel = Channel(os.dup(1))
    summary = {"protocol": PROTOCOL, "status": "ok", "warnings": []}
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        if request.get("protocol") != PROTOCOL:
            raise RuntimeError(f"host speaks protocol {request.get('protocol')}, harness speaks {PROTOCOL}")
        summary["versions"] = versions()
        # The finlab-compatible API, sent in with the request like this file.
        import types

        compat = types.ModuleType("finsandbox_finlab")
        exec(compile(request["compat"], "finlab_compat.py", "exec"), compat.__dict__)
        recorder = compat.Recorder()
        data = compat.install(request["data_path"], recorder)
        filename = request.get("filename") or "strategy.py"
        STRATEGY_FILENAME[0] = filename
        source = request["source"]
        # Tracebacks show the strategy's source lines: that is what lets an
        # LLM loop repair the code from the error alone.
        import linecache

        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    except BaseException as err:  # the harness itself failed: not the strategy's fault
        summary["status"] = "harness_error"
        summary["error"] = {"type": type(err).__name__, "message": str(err), "traceback": traceback.format_exc()}
        channel.send(b"R", json.dumps(summary).encode())
        os._exit(3)
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as err:
        summary["status"] = "strategy_error"
        summary["error"] = {
            "type": type(err).__name__,
            "message": str(err),
            "traceback": "".join(traceback.format_exception_only(type(err), err)),
        }
        channel.send(b"R", json.dumps(summary).encode())
        os._exit(1)

    try:
        lockdown()
    except BaseException as err:  # fail closed: no filter, no strategy
        summary["status"] = "harness_error"
        summary["error"] = {
            "type": "LockdownError",
            "message": f"the in-process seccomp lockdown could not be installed: {err}",
            "traceback": traceback.format_exc(),
        }
        channel.send(b"R", json.dumps(summary).encode())
        os._exit(3)

    pump = redirect_stdout(channel)
    refusals = []
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
    namespace = {"__name__": "__main__", "__file__": filename, "data": data}
    position = None
    try:
        exec(code, namespace)
        if callable(namespace.get("strategy")):
            position = namespace["strategy"](data)
        elif recorder.called:
            position = recorder.position
        elif "position" in namespace:
            position = namespace["position"]
        else:
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
    if refusals:
        summary["runtime_policy_refusals"] = refusals
    try:
        import resource

        summary["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception:
        pass
    channel.send(b"R", json.dumps(summary, default=str).encode())
    sys.stderr.flush()
    os._exit(0 if summary["status"] == "ok" else 1)


main()
