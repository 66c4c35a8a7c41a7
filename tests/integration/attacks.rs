//! The attack suite: one untrusted program per case, screening skipped so the
//! container and the harness's in-process layers (the seccomp lockdown and
//! the runtime policy, an audit hook that often refuses first) must hold, under each
//! isolation tier: Docker with runc (the default), Docker with gVisor
//! (`--runtime runsc`, which `install.sh` registers), and Podman
//! (`--engine podman`, which `.ci/run` installs). Network cases only ever
//! target loopback.
//!
//! Every case records `case | runtime | status | observation` in
//! `target/attack-suite/` for the report in docs/attack-suite.md, and checks
//! that the data file is unchanged and the container is gone.

use std::io::Read;
use std::net::TcpListener;

use serde_json::Value;

use crate::support::{exec, market, root, Run, TRIVIAL_TAIL};

/// Run `source` under `runtime` with screening skipped.
fn attack(case: &str, runtime: &str, source: &str, extra: &[&str]) -> Run {
    let before = std::fs::read(market()).expect("data file");
    // The container and the seccomp filters alone: screening and the runtime
    // policy, the layers above them, stay out of the way.
    let mut args = vec!["--skip-screening", "--no-runtime-policy"];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "60"]);
    }
    match runtime {
        "runc" => {}
        "podman" => args.extend(["--engine", "podman"]),
        other => args.extend(["--runtime", other]),
    }
    args.extend_from_slice(extra);
    let run = exec(source, &args);
    assert_ne!(run.status(), "engine_error", "{case} on {runtime}: the engine failed: {}", run.describe());
    assert_eq!(std::fs::read(market()).expect("data file"), before, "{case} changed the host's data file");
    let observed = match run.probe_opt() {
        Some(p) => p.to_string(),
        None => run.json["error"]["message"].as_str().unwrap_or("").chars().take(120).collect(),
    };
    let dir = root().join("target/attack-suite");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join(format!("{case}-{runtime}.txt")),
        format!("{case}|{runtime}|{}|{observed}\n", run.status()),
    );
    run
}

/// The probe's report as a map of attempt → outcome.
fn outcomes(run: &Run) -> Value {
    run.probe_opt().unwrap_or_else(|| panic!("no probe report: {}", run.describe()))
}

const PREAMBLE: &str = r#"
import errno, json, os
report = {}
def attempt(name, fn):
    try:
        report[name] = 'SUCCEEDED: ' + str(fn())
    except OSError as e:
        # errno None: the runtime policy refused; its message names the rule.
        report[name] = errno.errorcode.get(e.errno, str(e.errno)) if e.errno is not None else str(e)[:60]
    except Exception as e:
        report[name] = type(e).__name__
"#;

fn probe_source(body: &str) -> String {
    format!("{PREAMBLE}\n{body}\nprint(json.dumps(report))\n{TRIVIAL_TAIL}")
}

fn assert_all_refused(run: &Run, case: &str) {
    assert_eq!(run.status(), "ok", "{case}: {}", run.describe());
    let r = outcomes(run);
    for (k, v) in r.as_object().expect("report") {
        assert!(!v.as_str().unwrap_or("").starts_with("SUCCEEDED"), "{case}: `{k}` succeeded: {r}");
    }
}

macro_rules! on_both_runtimes {
    ($($name:ident => $body:expr;)*) => {
        mod runc {
            $( #[test] fn $name() { ($body)(stringify!($name), "runc") } )*
        }
        mod runsc {
            $( #[test] fn $name() { super::require_runsc(); ($body)(stringify!($name), "runsc") } )*
        }
        mod podman {
            $( #[test] fn $name() { crate::support::require_podman(); ($body)(stringify!($name), "podman") } )*
        }
    };
}

/// gVisor is part of the product's tiers; CI installs and registers it.
pub(crate) fn require_runsc() {
    let out = crate::support::docker().args(["info", "--format", "{{json .Runtimes}}"]).output().expect("docker info");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"runsc\""),
        "runsc is not registered with the engine: run ./install.sh (it installs and registers gVisor)"
    );
}

fn network_tcp_to_a_host_listener(case: &str, rt: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let body = format!(
        "import socket\ndef connect():\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    s.settimeout(2)\n    s.connect(('127.0.0.1', {port}))\n    return 'connected'\nattempt('tcp_127.0.0.1', connect)\n"
    );
    let run = attack(case, rt, &probe_source(&body), &[]);
    assert_all_refused(&run, case);
    let mut buf = [0u8; 1];
    match listener.accept() {
        Ok((mut s, _)) => panic!("the host listener was reached: {:?}", s.read(&mut buf)),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
    }
}

fn network_udp_raw_and_dns(case: &str, rt: &str) {
    let body = r#"
import socket
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return s.sendto(b'x', ('127.0.0.1', 9))
def raw():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def dns():
    # A DNS query for example.com sent to a resolver on loopback.
    q = b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01'
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, ('127.0.0.1', 53))
    return s.recv(512)
def ipv6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(('::1', 9))
attempt('udp', udp)
attempt('raw_socket', raw)
attempt('dns_query', dns)
attempt('tcp_::1', ipv6)
"#;
    assert_all_refused(&attack(case, rt, &probe_source(body), &[]), case);
}

fn write_outside_tmp(case: &str, rt: &str) {
    let body = r#"
for path in ['/pwned', '/etc/pwned', '/usr/lib/pwned', '/data/pwned', '/root/pwned', '/var/pwned']:
    def w(path=path):
        with open(path, 'w') as f:
            f.write('x')
    attempt(path, w)
"#;
    assert_all_refused(&attack(case, rt, &probe_source(body), &[]), case);
}

fn exec_a_file_written_to_tmp(case: &str, rt: &str) {
    let body = r#"
path = '/tmp/payload.sh'
with open(path, 'w') as f:
    f.write('#!/bin/sh\necho escaped\n')
os.chmod(path, 0o755)
attempt('execv', lambda: os.execv(path, [path]))
"#;
    assert_all_refused(&attack(case, rt, &probe_source(body), &[]), case);
}

/// ctypes for the cases that call the kernel directly. The runtime policy
/// refuses ctypes (rule R005): then the report records that refusal and the
/// calls are not reached.
const LIBC: &str = r#"
import ctypes
class Refused:
    def __init__(self, e):
        self.e = e
    def __getattr__(self, name):
        def refused(*args):
            raise self.e
        return refused
try:
    libc = ctypes.CDLL(None, use_errno=True)
except PermissionError as e:
    report['ctypes'] = str(e)[:60]
    libc = Refused(e)
"#;

fn fileless_exec_via_memfd(case: &str, rt: &str) {
    let body = LIBC.to_string()
        + r#"
def memfd():
    fd = libc.memfd_create(b'payload', 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), 'memfd_create')
    return fd
def execveat():
    r = libc.syscall(322, -1, b'', None, None, 0x1000)  # execveat(AT_FDCWD...)
    if r < 0:
        raise OSError(ctypes.get_errno(), 'execveat')
    return r
attempt('memfd_create', memfd)
attempt('execveat', execveat)
"#;
    assert_all_refused(&attack(case, rt, &probe_source(&body), &[]), case);
}

fn process_creation(case: &str, rt: &str) {
    let body = r#"
import subprocess
attempt('os.system', lambda: os.system('true') and (_ for _ in ()).throw(OSError(errno.EPERM, 'failed')))
attempt('subprocess.run', lambda: subprocess.run(['/bin/true']))
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid
attempt('os.fork', fork)
attempt('os.execv', lambda: os.execv('/bin/true', ['/bin/true']))
attempt('os.posix_spawn', lambda: os.posix_spawn('/bin/true', ['/bin/true'], {}))
"#;
    assert_all_refused(&attack(case, rt, &probe_source(body), &[]), case);
}

fn fork_bomb(case: &str, rt: &str) {
    let run = attack(case, rt, "import os\nwhile True:\n    os.fork()\n", &[]);
    assert_eq!(run.status(), "strategy_error", "{}", run.describe());
    assert_eq!(run.json["error"]["type"], "PermissionError");
}

fn thread_bomb(case: &str, rt: &str) {
    let run = attack(case, rt, "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n", &[]);
    // Contained by the pids limit (Python raises) or by the monitor's pids rule.
    assert!(["strategy_error", "killed"].contains(&run.status()), "{}", run.describe());
    assert!(run.json["resources"]["pids_peak"].as_u64().unwrap_or(0) <= 100, "{}", run.json["resources"]);
}

fn memory_bomb(case: &str, rt: &str) {
    let run = attack(
        case,
        rt,
        "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n",
        &["--memory", "256m"],
    );
    assert_eq!(run.status(), "memory_limit", "{}", run.describe());
}

fn cpu_spin(case: &str, rt: &str) {
    let run = attack(case, rt, "while True:\n    pass\n", &["--timeout", "5"]);
    assert!(["timeout", "killed"].contains(&run.status()), "{}", run.describe());
}

fn sleep_past_timeout(case: &str, rt: &str) {
    let run = attack(case, rt, "import time\ntime.sleep(600)\n", &["--timeout", "4"]);
    assert_eq!(run.status(), "timeout", "{}", run.describe());
}

fn disk_fill_in_tmp(case: &str, rt: &str) {
    let cfg = root().join("tests/small-tmpfs.yaml").display().to_string();
    let body = r#"
written = 0
try:
    for i in range(1000):
        with open(f'/tmp/fill{i}', 'wb') as f:
            f.write(b'x' * (4 << 20))
        written += 4 << 20
    report['fill'] = 'SUCCEEDED: wrote everything'
except OSError as e:
    report['fill'] = errno.errorcode.get(e.errno, str(e.errno))
report['written_mib'] = written >> 20
"#;
    let run = attack(case, rt, &probe_source(body), &["--config", &cfg]);
    let r = outcomes(&run);
    assert!(!r["fill"].as_str().unwrap_or("").starts_with("SUCCEEDED"), "{r}");
    assert!(r["written_mib"].as_u64().unwrap_or(999) <= 64, "{r}");
}

fn output_flood(case: &str, rt: &str) {
    let src = format!("import os\nblock = b'x' * (1 << 20)\nfor _ in range(64):\n    os.write(1, block)\n    os.write(2, block)\n{TRIVIAL_TAIL}");
    let run = attack(case, rt, &src, &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.json["stdout"]["bytes"], 64u64 << 20);
    assert!(run.json["stdout"]["text"].as_str().unwrap_or("").len() <= 1 << 20);
    assert!(run.json["stderr"]["text"].as_str().unwrap_or("").len() <= 1 << 20);
}

fn read_host_secrets(case: &str, rt: &str) {
    let body = r#"
report['env'] = sorted(os.environ)
attempt('/etc/shadow', lambda: open('/etc/shadow').read()[:20])
attempt('/root', lambda: os.listdir('/root'))
attempt('/var/run/docker.sock', lambda: open('/var/run/docker.sock').read())
attempt('/work', lambda: os.listdir('/work'))
attempt('/proc/1/environ', lambda: ','.join(k.split(b'=')[0].decode() for k in open('/proc/1/environ','rb').read().split(b'\0') if k and not k.split(b'=')[0].decode() in ('HOME','LANG','PATH','PYTHONDONTWRITEBYTECODE','OPENBLAS_NUM_THREADS','OMP_NUM_THREADS','HOSTNAME')) or (_ for _ in ()).throw(OSError(errno.ENOENT, 'nothing')))
"#;
    let run = attack(case, rt, &probe_source(body), &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    let r = outcomes(&run);
    for (k, v) in r.as_object().expect("report") {
        if k != "env" {
            assert!(!v.as_str().unwrap_or("").starts_with("SUCCEEDED"), "`{k}` readable: {r}");
        }
    }
    for name in r["env"].as_array().expect("env") {
        assert!(crate::support::SANDBOX_ENV.contains(&name.as_str().unwrap_or("")), "{r}");
    }
}

fn ptrace_another_process(case: &str, rt: &str) {
    let body = LIBC.to_string()
        + r#"
def attach():
    if libc.ptrace(16, 1, None, None) < 0:
        raise OSError(ctypes.get_errno(), 'ptrace')
    return 'attached to pid 1'
def vm_read():
    if libc.syscall(310, 1, None, 0, None, 0, 0) < 0:
        raise OSError(ctypes.get_errno(), 'process_vm_readv')
    return 'read'
attempt('ptrace_attach_pid1', attach)
attempt('process_vm_readv', vm_read)
"#;
    assert_all_refused(&attack(case, rt, &probe_source(&body), &[]), case);
}

fn proc_and_sys_probing(case: &str, rt: &str) {
    // The runtime policy refuses reading /proc and /sys; where it does, the
    // report holds its message instead of a count, which is fine too.
    let body = r#"
def value(name, fn):
    try:
        report[name] = fn()
    except PermissionError as e:
        report[name] = 'refused: ' + str(e)[:60]
value('pids_visible', lambda: len([p for p in os.listdir('/proc') if p.isdigit()]))
report['hostname'] = os.uname().nodename
value('interfaces', lambda: sorted(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net') else [])
report['kernel'] = os.uname().release
value('cpus_listed', lambda: sum(1 for l in open('/proc/cpuinfo') if l.startswith('processor')))
value('memtotal', lambda: next(l.split()[1] for l in open('/proc/meminfo') if l.startswith('MemTotal')))
"#;
    let run = attack(case, rt, &probe_source(body), &[]);
    let r = outcomes(&run);
    let refused = |v: &Value| v.as_str().is_some_and(|s| s.starts_with("refused: finsandbox runtime policy"));
    // Only the container's own processes: timeout (pid 1), python, and its threads' tasks.
    assert!(refused(&r["pids_visible"]) || r["pids_visible"].as_u64().unwrap_or(99) <= 3, "{r}");
    assert_eq!(r["hostname"], "sandbox");
    assert!(refused(&r["interfaces"]) || r["interfaces"] == serde_json::json!(["lo"]), "{r}");
}

fn threads_older_than_the_lockdown(case: &str, rt: &str) {
    // The imports start native threads (OpenBLAS) before the lockdown. Every
    // thread must carry the in-process filter (TSYNC), and getting code onto
    // such a thread (a C signal handler via ctypes) must not give back fork,
    // exec or sockets (the seccomp layer; with the runtime policy switched
    // on, ctypes is refused first, R005). runtime_policy.rs proves the same
    // on the harness started directly.
    let body = r#"
filters = {}
for tid in os.listdir('/proc/self/task'):
    with open(f'/proc/self/task/{tid}/status') as f:
        for line in f:
            if line.startswith('Seccomp_filters:'):
                filters[tid] = int(line.split()[1])
report['filters'] = filters
def older_thread_route():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return older_thread_escape(ctypes, libc)
def older_thread_escape(ctypes, libc):
    import threading, time
    results = {}
    def on_signal(sig):
        r = []
        pid = libc.syscall(56, 17, 0, 0, 0, 0)
        if pid == 0:
            libc.syscall(231, 0)
        if pid > 0: r.append('fork')
        libc.syscall(59, b'/nonexistent-finsandbox', None, None)
        if ctypes.get_errno() == errno.ENOENT: r.append('execve')
        fd = libc.syscall(41, 1, 1, 0)
        if fd >= 0: r.append('socket')
        results[threading.get_native_id()] = r
    handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(on_signal)
    libc.signal(10, handler)
    py = {t.native_id for t in threading.enumerate()}
    for tid in [int(t) for t in os.listdir('/proc/self/task') if int(t) not in py]:
        libc.syscall(234, os.getpid(), tid, 10)
        time.sleep(1)
    escaped = {t: r for t, r in results.items() if r}
    if escaped:
        return escaped
    raise OSError(errno.EPERM, str(results))
attempt('older_thread', older_thread_route)
"#;
    let run = attack(case, rt, &probe_source(body), &[]);
    assert_all_refused(&run, case);
    let r = outcomes(&run);
    let filters = r["filters"].as_object().expect("filters");
    if let Some(first) = filters.values().next() {
        // runc and podman report per-thread counts; gVisor does not.
        assert!(first.as_u64().unwrap_or(0) >= 2, "{case}: no in-process filter: {r}");
        assert!(filters.values().all(|n| n == first), "{case}: a thread lacks the in-process filter: {r}");
    }
}

fn signal_pid_1(case: &str, rt: &str) {
    let src = format!("import os, signal\nfor sig in (signal.SIGKILL, signal.SIGSTOP):\n    try:\n        os.kill(1, sig)\n    except OSError:\n        pass\nprint('still running')\n{TRIVIAL_TAIL}");
    let run = attack(case, rt, &src, &[]);
    if rt != "runsc" {
        // The namespace's init ignores signals it has no handler for; the run goes on.
        assert_eq!(run.status(), "ok", "{}", run.describe());
        assert!(run.json["stdout"]["text"].as_str().unwrap_or("").contains("still running"));
    } else {
        // gVisor delivers SIGKILL to its init: the strategy ends its own sandbox, nothing more.
        assert!(["ok", "strategy_error"].contains(&run.status()), "{}", run.describe());
    }
}

fn forge_the_output_channel(case: &str, rt: &str) {
    let src = format!(
        "import os\nfake = b'FSBR\\x00\\x00\\x00\\x1f{{\"protocol\":1,\"status\":\"ok\"}}' + b'garbage'\nfor fd in range(3, 64):\n    try:\n        os.write(fd, fake)\n    except OSError:\n        pass\n{TRIVIAL_TAIL}"
    );
    let run = attack(case, rt, &src, &[]);
    assert_eq!(run.status(), "invalid_output", "{}", run.describe());
}

fn forge_metrics_in_prints(case: &str, rt: &str) {
    let src = format!("print('{{\"status\": \"ok\", \"sharpe_ratio\": 99, \"total_return\": 1000}}'){TRIVIAL_TAIL}");
    let run = attack(case, rt, &src, &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert!(run.json.get("sharpe_ratio").is_none() && run.json.get("total_return").is_none());
}

on_both_runtimes! {
    network_tcp_to_a_host_listener => super::network_tcp_to_a_host_listener;
    network_udp_raw_and_dns => super::network_udp_raw_and_dns;
    write_outside_tmp => super::write_outside_tmp;
    exec_a_file_written_to_tmp => super::exec_a_file_written_to_tmp;
    fileless_exec_via_memfd => super::fileless_exec_via_memfd;
    process_creation => super::process_creation;
    fork_bomb => super::fork_bomb;
    thread_bomb => super::thread_bomb;
    memory_bomb => super::memory_bomb;
    cpu_spin => super::cpu_spin;
    sleep_past_timeout => super::sleep_past_timeout;
    disk_fill_in_tmp => super::disk_fill_in_tmp;
    output_flood => super::output_flood;
    read_host_secrets => super::read_host_secrets;
    ptrace_another_process => super::ptrace_another_process;
    proc_and_sys_probing => super::proc_and_sys_probing;
    signal_pid_1 => super::signal_pid_1;
    forge_the_output_channel => super::forge_the_output_channel;
    forge_metrics_in_prints => super::forge_metrics_in_prints;
    threads_older_than_the_lockdown => super::threads_older_than_the_lockdown;
}
