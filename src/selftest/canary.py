"""finsandbox canary: tries each escape and reports which succeeded.

Run by `finsandbox doctor` and `exec --self-test` through the normal harness,
with screening skipped (the point is to test the container and the lockdown).
Prints one JSON line: {"checks": {name: {"escaped": bool, "detail": str}}}.
Every attempt targets only this container or loopback (127.0.0.1).
"""

import ctypes
import errno
import json
import os

checks = {}


def record(name, escaped, detail):
    checks[name] = {"escaped": bool(escaped), "detail": str(detail)}


def attempt(name, action):
    """`action` returns a detail string when the escape worked; raising means it was refused."""
    try:
        record(name, True, action())
    except PermissionError as e:
        record(name, False, e.strerror if e.errno == errno.EPERM and e.strerror and "," in e.strerror else errno.errorcode.get(e.errno, e.errno))
    except OSError as e:
        record(name, False, errno.errorcode.get(e.errno, e.errno))
    except Exception as e:  # refused in some other way
        record(name, False, type(e).__name__)


libc = ctypes.CDLL(None, use_errno=True)


def c_call(fn, *args):
    ret = fn(*args)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return f"returned {ret}"


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


attempt("network_tcp_loopback", tcp_loopback)
attempt("network_udp", udp_socket)
attempt("write_root_filesystem", write_root)
attempt("write_data_mount", write_data)
attempt("fork", fork)
attempt("execve", execute)
attempt("exec_from_tmp", exec_from_tmp)
attempt("tmp_mount_options", tmp_mount_options)
attempt("memfd_create", lambda: c_call(libc.memfd_create, b"canary", 0))
attempt("ptrace", lambda: c_call(libc.ptrace, 16, 1, 0, 0))  # PTRACE_ATTACH to PID 1
attempt("unshare_user_namespace", lambda: c_call(libc.unshare, 0x10000000))
attempt("mount", lambda: c_call(libc.mount, b"none", b"/tmp", b"tmpfs", 0, None))

status = {}
with open("/proc/self/status") as f:
    for line in f:
        key, _, value = line.partition(":")
        status[key] = value.strip()
record("root_user", os.getuid() == 0 or os.geteuid() == 0, f"uid {os.getuid()}")
record("capabilities", status.get("CapEff", "0").strip("0") != "", f"CapEff {status.get('CapEff')}")
record("no_seccomp", status.get("Seccomp") != "2", f"Seccomp {status.get('Seccomp')}")
nnp = libc.prctl(39, 0, 0, 0, 0)  # PR_GET_NO_NEW_PRIVS: asked of the kernel, not read from /proc
record("new_privileges", nnp != 1, f"PR_GET_NO_NEW_PRIVS {nnp}")
allowed_env = {"HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE", "HOSTNAME", "LC_CTYPE"}
extra = sorted(set(os.environ) - allowed_env)
record("host_environment", bool(extra), ",".join(extra) or "none")
interfaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
record("network_interfaces", any(i != "lo" for i in interfaces), ",".join(interfaces) or "none")

print(json.dumps({"checks": checks}))


def strategy(data):
    return data.get("close") > 0
