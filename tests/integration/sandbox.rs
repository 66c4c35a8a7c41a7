//! Security properties, asserted from inside a real container.
//!
//! Each test runs a probe strategy that tries something and prints what
//! happened as one JSON line; the test asserts on that report. Screening is
//! skipped (`--skip-screening`): these are properties of the container alone.
//! Network probes only ever target loopback addresses (127.0.0.1, ::1).

use crate::support::{exec, TRIVIAL_TAIL};

fn probe(body: &str, extra: &[&str]) -> serde_json::Value {
    let source = format!("import json, os, errno\nreport = {{}}\n{body}\nprint(json.dumps(report))\n{TRIVIAL_TAIL}");
    // The container's own properties: the layers above it stay out of the way.
    let mut args = vec!["--skip-screening", "--no-runtime-policy"];
    args.extend_from_slice(extra);
    let run = exec(&source, &args);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    run.probe()
}

#[test]
fn runs_as_uid_and_gid_1000() {
    let r = probe("report['uid'] = os.getuid(); report['gid'] = os.getgid(); report['groups'] = os.getgroups()", &[]);
    assert_eq!(r["uid"], 1000);
    assert_eq!(r["gid"], 1000);
    assert!(!r["groups"].as_array().expect("groups").iter().any(|g| g == 0), "in group 0: {r}");
}

#[test]
fn root_filesystem_and_etc_are_not_writable() {
    let r = probe(
        r#"
for path in ['/pwned', '/etc/pwned', '/usr/pwned', '/data/pwned']:
    try:
        with open(path, 'w') as f:
            f.write('x')
        report[path] = 'written'
    except OSError as e:
        report[path] = errno.errorcode.get(e.errno, str(e.errno))
"#,
        &[],
    );
    for path in ["/pwned", "/etc/pwned", "/usr/pwned", "/data/pwned"] {
        let got = r[path].as_str().unwrap_or("");
        assert!(got == "EROFS" || got == "EACCES", "{path}: {got}");
    }
}

#[test]
fn data_mount_is_read_only() {
    let r = probe(
        r#"
try:
    with open('/data/market', 'r+b') as f:
        f.write(b'x')
    report['write'] = 'written'
except OSError as e:
    report['write'] = errno.errorcode.get(e.errno, str(e.errno))
report['readable'] = os.path.getsize('/data/market') > 0
"#,
        &[],
    );
    assert!(r["write"] == "EROFS" || r["write"] == "EACCES", "{r}");
    assert_eq!(r["readable"], true);
}

#[test]
fn tmp_is_writable_but_not_executable() {
    let r = probe(
        r#"
import subprocess
path = '/tmp/run_me.sh'
with open(path, 'w') as f:
    f.write('#!/bin/sh\necho escaped\n')
os.chmod(path, 0o755)
report['written'] = os.path.exists(path)
try:
    out = subprocess.run([path], capture_output=True, text=True)
    report['exec'] = 'ran: ' + out.stdout
except OSError as e:
    report['exec'] = errno.errorcode.get(e.errno, str(e.errno))
# The lockdown refuses execve before noexec is even consulted, so check noexec
# on its own: the kernel refuses executable mappings of files on noexec mounts.
import mmap
with open(path, 'rb') as f:
    try:
        mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        report['mmap_exec'] = 'mapped'
    except OSError as e:
        report['mmap_exec'] = errno.errorcode.get(e.errno, str(e.errno))
mounts = open('/proc/self/mounts').read().splitlines()
report['tmp_mount'] = [m for m in mounts if m.split()[1] == '/tmp']
"#,
        &[],
    );
    assert_eq!(r["written"], true);
    assert!(r["exec"] == "EACCES" || r["exec"] == "EPERM", "{r}");
    assert_eq!(r["mmap_exec"], "EPERM", "{r}");
    let mount = r["tmp_mount"][0].as_str().expect("tmp mount line");
    for opt in ["noexec", "nosuid", "nodev"] {
        assert!(mount.contains(opt), "{mount}");
    }
}

#[test]
fn only_loopback_interface_and_tcp_connect_fails() {
    let r = probe(
        r#"
import socket
report['interfaces'] = sorted(os.listdir('/sys/class/net'))
for family, addr in [(socket.AF_INET, ('127.0.0.1', 9)), (socket.AF_INET6, ('::1', 9))]:
    key = 'tcp_' + addr[0]
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(addr)
        report[key] = 'connected'
    except OSError as e:
        report[key] = errno.errorcode.get(e.errno, str(e.errno))
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'x', ('127.0.0.1', 9))
    report['udp'] = 'sent'
except OSError as e:
    report['udp'] = errno.errorcode.get(e.errno, str(e.errno))
"#,
        &[],
    );
    assert_eq!(r["interfaces"], serde_json::json!(["lo"]), "{r}");
    for key in ["tcp_127.0.0.1", "tcp_::1", "udp"] {
        let got = r[key].as_str().unwrap_or("");
        assert!(got != "connected" && got != "sent" && !got.is_empty(), "{key}: {got}");
    }
}

#[test]
fn seccomp_filter_no_new_privs_and_no_capabilities() {
    let r = probe(
        r#"
for line in open('/proc/self/status'):
    k, _, v = line.partition(':')
    if k in ('Seccomp', 'NoNewPrivs', 'CapEff', 'CapPrm', 'CapBnd', 'CapAmb'):
        report[k] = v.strip()
"#,
        &[],
    );
    assert_eq!(r["Seccomp"], "2", "{r}");
    assert_eq!(r["NoNewPrivs"], "1", "{r}");
    for cap in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] {
        assert_eq!(r[cap], "0000000000000000", "{cap}: {r}");
    }
}

#[test]
fn denied_system_calls_fail_with_eperm() {
    // memfd_create (fileless exec) and personality are not in the allow-list.
    let r = probe(
        r#"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, call in [('memfd_create', lambda: libc.memfd_create(b'x', 0)),
                   ('personality', lambda: libc.personality(0x0040000)),
                   ('unshare', lambda: libc.unshare(0x10000000))]:
    ret = call()
    report[name] = 'ok' if ret >= 0 else errno.errorcode.get(ctypes.get_errno(), '?')
"#,
        &[],
    );
    for call in ["memfd_create", "personality", "unshare"] {
        assert_eq!(r[call], "EPERM", "{call}: {r}");
    }
}

#[test]
fn pids_limit_is_in_force() {
    let r = probe(
        r#"
import threading, time
stop = threading.Event()
threads = []
try:
    while len(threads) < 500:
        t = threading.Thread(target=stop.wait)
        t.start()
        threads.append(t)
    report['error'] = None
except RuntimeError as e:
    report['error'] = str(e)
report['started'] = len(threads)
stop.set()
for t in threads:
    t.join()
"#,
        &["--pids-limit", "40"],
    );
    let started = r["started"].as_u64().expect("started");
    assert!(started < 40, "started {started} threads under a pids limit of 40: {r}");
    assert!(r["error"].as_str().unwrap_or("").contains("can't start new thread"), "{r}");
}

#[test]
fn memory_limit_is_set_in_the_cgroup() {
    let r = probe(
        r#"
for path in ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max',
             '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '/sys/fs/cgroup/memory.swap.max']:
    try:
        report[path] = open(path).read().strip()
    except OSError:
        pass
"#,
        &["--memory", "300m"],
    );
    let limit = r
        .get("/sys/fs/cgroup/memory/memory.limit_in_bytes")
        .or_else(|| r.get("/sys/fs/cgroup/memory.max"))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no memory limit file visible: {r}"));
    assert_eq!(limit, (300u64 << 20).to_string());
    if let Some(swap) = r.get("/sys/fs/cgroup/memory.swap.max").and_then(|v| v.as_str()) {
        assert_eq!(swap, "0", "swap must be off: {r}");
    }
    if let Some(memsw) = r.get("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").and_then(|v| v.as_str()) {
        assert_eq!(memsw, (300u64 << 20).to_string(), "memory+swap must equal memory: {r}");
    }
}

#[test]
fn no_host_environment_variable_is_visible() {
    let secret = "finsandbox-test-secret-7f3a";
    let source = format!(
        "import json, os\nprint(json.dumps({{'env': dict(os.environ), 'pid1': open('/proc/1/cmdline','rb').read().decode(errors='replace')}}))\n{TRIVIAL_TAIL}"
    );
    let s = crate::support::strategy(&source);
    let out = crate::support::bin()
        .env("FINSANDBOX_TEST_SECRET", secret)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .args(["--json", "exec", "--skip-screening", "--no-runtime-policy"])
        .arg(&s.path)
        .arg("--data")
        .arg(crate::support::market())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains(secret), "a host secret leaked into the container: {text}");
    let json: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    let report: serde_json::Value =
        serde_json::from_str(json["stdout"]["text"].as_str().expect("stdout").lines().next().expect("a line"))
            .expect("probe json");
    let keys: Vec<&String> = report["env"].as_object().expect("env").keys().collect();
    for k in &keys {
        assert!(
            crate::support::SANDBOX_ENV.contains(&k.as_str()),
            "unexpected variable {k} in the container: {keys:?}"
        );
    }
}

#[test]
fn host_files_are_not_visible() {
    let r = probe(
        r#"
report['data_dir'] = sorted(os.listdir('/data'))
report['home'] = os.path.exists('/root') and os.listdir('/root') if os.access('/root', os.R_OK) else 'unreadable'
report['work_visible'] = os.path.exists('/work')
report['docker_sock'] = os.path.exists('/var/run/docker.sock') or os.path.exists('/run/docker.sock')
"#,
        &[],
    );
    assert_eq!(r["data_dir"], serde_json::json!(["market"]));
    assert_eq!(r["work_visible"], false);
    assert_eq!(r["docker_sock"], false);
}

/// A data directory can hold anything: only its Parquet tables reach the
/// container, and no host path shows in the mount table.
#[test]
fn a_data_directory_exposes_only_its_tables_and_no_host_path() {
    let dir = tempfile::Builder::new().prefix("client-alpha-research-").tempdir().expect("tmp");
    std::fs::copy(crate::support::market(), dir.path().join("price.parquet")).expect("copy table");
    std::fs::write(dir.path().join("secret.txt"), "API_KEY=do-not-leak").expect("secret");
    std::fs::write(dir.path().join(".env"), "TOKEN=do-not-leak").expect("dotenv");
    std::fs::create_dir(dir.path().join("private")).expect("subdir");
    std::fs::write(dir.path().join("private/notes.parquet"), "not a table of the run").expect("nested");
    let data = dir.path().display().to_string();
    let r = probe(
        r#"
report['listing'] = sorted(os.listdir('/data/market'))
report['mountinfo'] = open('/proc/self/mountinfo').read()
report['mounts'] = open('/proc/self/mounts').read()
"#,
        &["--data", &data],
    );
    assert_eq!(r["listing"], serde_json::json!(["price.parquet"]), "{r}");
    for table in ["mountinfo", "mounts"] {
        let text = r[table].as_str().unwrap_or("");
        assert!(!text.contains("client-alpha-research"), "{table} shows the host path: {text}");
        assert!(!text.contains(&data), "{table} shows the host path: {text}");
    }
}

/// The same for a single file: mounted under a neutral name, its host path
/// (which may name a client or a fund) invisible.
#[test]
fn a_data_file_is_mounted_under_a_neutral_path() {
    let dir = tempfile::Builder::new().prefix("fund-x-").tempdir().expect("tmp");
    let file = dir.path().join("confidential-universe.parquet");
    std::fs::copy(crate::support::market(), &file).expect("copy");
    let data = file.display().to_string();
    let r = probe("report['mountinfo'] = open('/proc/self/mountinfo').read()", &["--data", &data]);
    let text = r["mountinfo"].as_str().unwrap_or("");
    assert!(!text.contains("confidential-universe") && !text.contains("fund-x-"), "{text}");
}
