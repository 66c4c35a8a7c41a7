"""finsandbox canary: tries each escape and reports which succeeded.

Run by `finsandbox doctor` and `exec --self-test` through the normal harness,
with screening skipped (the point is to test the container and the lockdown).
Prints one JSON line: {"checks": {name: {"escaped": bool, "detail": str}}}.
Every attempt targets only this container or loopback (127.0.0.1).

When the harness's runtime policy (the audit hook) is on, it refuses most
attempts before they reach the kernel; the detail then names the policy rule
(e.g. "finsandbox runtime policy R005 ..."). The host runs the canary with the
policy off when it wants the container and the seccomp filters alone.
"""

import errno
import json
import os
import threading
import time

checks = {}


def record(name, escaped, detail):
    checks[name] = {"escaped": bool(escaped), "detail": str(detail)}


def attempt(name, action):
    """`action` returns a detail string when the escape worked; raising means it was refused."""
    try:
        record(name, True, action())
    except PermissionError as e:
        if e.errno is None:  # refused by the runtime policy: the message names the rule
            record(name, False, str(e)[:160])
        else:
            record(name, False, e.strerror if e.errno == errno.EPERM and e.strerror and "," in e.strerror else errno.errorcode.get(e.errno, e.errno))
    except OSError as e:
        record(name, False, errno.errorcode.get(e.errno, e.errno))
    except Exception as e:  # refused in some other way
        record(name, False, type(e).__name__)


def load_libc():
    """ctypes, unless the runtime policy refuses it (then every c_call attempt
    records that refusal)."""
    try:
        import ctypes

        return ctypes, ctypes.CDLL(None, use_errno=True)
    except PermissionError as e:
        return None, e


ctypes, libc = load_libc()


def c_call(name, *args):
    if ctypes is None:
        raise libc
    ret = getattr(libc, name)(*args)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return f"returned {ret}"


def thread_filters():
    """Seccomp_filters of every thread: all must carry the in-process filter on
    top of the container's (2 layers), or code that reaches a thread started
    before the lockdown (OpenBLAS, Arrow) is less confined than the rest."""
    counts = {}
    for tid in sorted(os.listdir("/proc/self/task"), key=int):
        with open(f"/proc/self/task/{tid}/status") as f:
            for line in f:
                if line.startswith("Seccomp_filters:"):
                    counts[tid] = int(line.split()[1])
    if not counts:
        raise PermissionError(errno.EPERM, "no per-thread filter counts here (gVisor), TSYNC is relied on")
    main = counts.get(str(os.getpid()))
    if main is None or main < 2 or any(n != main for n in counts.values()):
        return f"filters per thread: {counts}"
    raise PermissionError(errno.EPERM, f"all {len(counts)} threads, {main} filters each")


def escape_on_preexisting_thread():
    """Run fork, execve and socket on a thread that existed before the lockdown
    (a native worker of numpy's OpenBLAS), through a signal handler."""
    if ctypes is None:
        raise libc
    py_threads = {t.native_id for t in threading.enumerate()}
    targets = [int(t) for t in os.listdir("/proc/self/task") if int(t) not in py_threads]
    if not targets:
        raise PermissionError(errno.EPERM, "no thread older than the lockdown, nothing to try")
    results = {}

    def on_signal(_sig):
        outcome = {}
        pid = libc.syscall(56, 17, 0, 0, 0, 0)  # clone(SIGCHLD): fork
        if pid == 0:
            libc.syscall(231, 0)  # the child leaves at once (exit_group)
        outcome["fork"] = pid > 0 or errno.errorcode.get(ctypes.get_errno(), "?")
        libc.syscall(59, b"/nonexistent-finsandbox-canary", None, None)  # execve: ENOENT when allowed
        outcome["execve"] = ctypes.get_errno() != errno.EPERM or "EPERM"
        fd = libc.syscall(41, 1, 1, 0)  # socket(AF_UNIX, SOCK_STREAM)
        if fd >= 0:
            os.close(fd)
        outcome["socket"] = fd >= 0 or errno.errorcode.get(ctypes.get_errno(), "?")
        results[threading.get_native_id()] = outcome

    handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(on_signal)
    libc.signal(10, handler)  # SIGUSR1
    for tid in targets:
        libc.syscall(234, os.getpid(), tid, 10)  # tgkill
        deadline = time.monotonic() + 2
        while tid not in results and time.monotonic() < deadline:
            time.sleep(0.05)
    if not results:
        raise PermissionError(errno.EPERM, f"the signal reached no older thread, tried {targets}")
    escaped = {t: [k for k, v in r.items() if v is True] for t, r in results.items()}
    if any(escaped.values()):
        return f"succeeded on older threads: {escaped}"
    raise PermissionError(errno.EPERM, f"refused on threads {sorted(results)}, {results}")


def tcp_loopback():
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", 9))
    return "connected"


def udp_socket():
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("127.0.0.1", 9))
    return "sent"


def write_root():
    with open("/canary", "w") as f:
        f.write("x")
    return "wrote /canary"


def write_data():
    with open("/data/market", "r+b") as f:
        f.write(b"")
    return "opened the data file for writing"


def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return f"forked {pid}"


def execute():
    os.execv("/bin/true", ["/bin/true"])
    return "exec returned"


def exec_from_tmp():
    path = "/tmp/canary.sh"
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(path, 0o755)
    os.execv(path, [path])
    return "exec returned"


def tmp_mount_options():
    """noexec on /tmp is the escape check. nosuid and nodev are reported but not
    judged: with no-new-privileges, no CAP_MKNOD and execve denied they guard
    nothing more (gVisor, for one, does not list them)."""
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 3 and parts[1] == "/tmp":
                options = parts[3].split(",")
                if "noexec" not in options:
                    return "no noexec: " + parts[3]
                raise PermissionError(errno.EPERM, parts[3])
    return "no /tmp mount"


# First: after the other attempts (failed forks and execs) the signal did not
# reach the older thread in our runs.
attempt("escape_on_preexisting_thread", escape_on_preexisting_thread)
attempt("network_tcp_loopback", tcp_loopback)
attempt("network_udp", udp_socket)
attempt("write_root_filesystem", write_root)
attempt("write_data_mount", write_data)
attempt("fork", fork)
attempt("execve", execute)
attempt("exec_from_tmp", exec_from_tmp)
attempt("tmp_mount_options", tmp_mount_options)
attempt("memfd_create", lambda: c_call("memfd_create", b"canary", 0))
attempt("ptrace", lambda: c_call("ptrace", 16, 1, 0, 0))  # PTRACE_ATTACH to PID 1
attempt("unshare_user_namespace", lambda: c_call("unshare", 0x10000000))
attempt("mount", lambda: c_call("mount", b"none", b"/tmp", b"tmpfs", 0, None))
attempt("threads_without_filter", thread_filters)

status = {}
with open("/proc/self/status") as f:
    for line in f:
        key, _, value = line.partition(":")
        status[key] = value.strip()
record("root_user", os.getuid() == 0 or os.geteuid() == 0, f"uid {os.getuid()}")
record("capabilities", status.get("CapEff", "0").strip("0") != "", f"CapEff {status.get('CapEff')}")
record("no_seccomp", status.get("Seccomp") != "2", f"Seccomp {status.get('Seccomp')}")
if ctypes is not None:
    nnp = libc.prctl(39, 0, 0, 0, 0)  # PR_GET_NO_NEW_PRIVS: asked of the kernel
    record("new_privileges", nnp != 1, f"PR_GET_NO_NEW_PRIVS {nnp}")
elif "NoNewPrivs" in status:  # ctypes refused by the runtime policy: the kernel's own report
    record("new_privileges", status["NoNewPrivs"] != "1", f"NoNewPrivs {status['NoNewPrivs']}")
else:
    # gVisor has no NoNewPrivs line. The kernel loads a seccomp filter for a
    # process without CAP_SYS_ADMIN only once no_new_privs is set, and the
    # harness loaded its own filter (it refuses to run the strategy otherwise).
    implied = status.get("Seccomp") == "2" and status.get("CapEff", "1").strip("0") == ""
    record("new_privileges", not implied, "implied by a filter loaded without capabilities" if implied else "unknown")
allowed_env = {"HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "HOSTNAME", "LC_CTYPE"}
extra = sorted(set(os.environ) - allowed_env)
record("host_environment", bool(extra), ",".join(extra) or "none")
try:
    interfaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
    record("network_interfaces", any(i != "lo" for i in interfaces), ",".join(interfaces) or "none")
except PermissionError as e:  # the runtime policy refuses reading /sys; the network checks above still run
    record("network_interfaces", False, str(e)[:160])

print(json.dumps({"checks": checks}))


def strategy(data):
    return data.get("close") > 0
