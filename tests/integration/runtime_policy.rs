//! The harness's two in-process layers, on the real engine.
//!
//! 1. The seccomp lockdown must cover every thread of the process, also the
//!    ones the imports started before it (OpenBLAS workers, Arrow's pools):
//!    it is loaded with TSYNC. Proved by running fork, execve and socket from
//!    a signal handler on such a thread. These tests start the harness in the
//!    engine directly with `"runtime_policy": false` in its request, so the
//!    audit hook does not refuse the ctypes route first: the seccomp layer
//!    alone is under test (as it is through `finsandbox exec` while the host
//!    does not switch the policy on: `attacks::*::threads_older_than_the_lockdown`).
//! 2. The runtime policy (a PEP 578 audit hook, a second layer, not the
//!    boundary) refuses each class with an error that names its rule, and
//!    refuses nothing that an accepted strategy does: same position bytes
//!    with and without it, and `ok` with metrics through `finsandbox exec`.
//!
//! The policy is switched on per run by the host (`"runtime_policy": true` in
//! the request; off when absent): these tests start the harness in the engine
//! with the product's own request plus that switch. No screening runs there,
//! so the static screen does not stop these programs first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::{bin, exec_path, market, root, TRIVIAL_TAIL};

use finsandbox::harness::{request_for, RunContext, SOURCE as HARNESS};

/// What one direct harness run answered.
struct Direct {
    summary: Value,
    stdout: String,
    position: Option<Vec<u8>>,
    stderr: String,
}

/// Run the harness in `engine` (docker or podman) with the hardening that
/// matters for the in-process layers (the shipped seccomp profile, uid 1000,
/// no capabilities, no-new-privileges, no network, read-only root), the
/// data mounted read-only where `finsandbox exec` mounts it.
fn run_harness(engine: &str, runtime: Option<&str>, source: &str, data: &Path, policy: bool) -> Direct {
    // The product's own request (compat layer, alias table, price columns,
    // run context) in one line, plus the switch under test.
    let prices = finsandbox::score::price_spec(data).expect("price columns");
    let context = RunContext { start_date: None, end_date: None, fee_ratio: 0.001425, tax_ratio: 0.003 };
    let mut request: Value =
        serde_json::from_slice(&request_for(source, "strategy.py", "/data/market", 1 << 28, &prices, &context))
            .expect("request");
    request["runtime_policy"] = json!(policy);
    let profile = root().join("seccomp/finsandbox.json");
    let mut c = Command::new(engine);
    c.args(["run", "--rm", "-i", "--network", "none", "--read-only", "--user", "1000:1000", "--cap-drop", "ALL"])
        .args(["--security-opt", "no-new-privileges"])
        .arg("--security-opt")
        .arg(format!("seccomp={}", profile.display()))
        .args(["--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m", "--pids-limit", "100", "--memory", "2g"])
        // Podman on this kernel needs explicit limits (as `finsandbox exec` passes them).
        .args(["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=2048:2048", "--ulimit", "core=0:0"])
        .arg("--mount")
        .arg(format!("type=bind,source={},target=/data/market,readonly", data.display()));
    if let Some(rt) = runtime {
        c.args(["--runtime", rt]);
    }
    c.args(["finsandbox-runtime:1", "timeout", "-s", "KILL", "120", "python3", "-I", "-B", "-c", HARNESS]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{engine} run: {e}"));
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("request");
    let out = child.wait_with_output().expect("harness run");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let (mut summary, mut stdout, mut position) = (Value::Null, Vec::new(), None);
    let mut rest = &out.stdout[..];
    while rest.len() >= 8 {
        assert_eq!(&rest[..3], b"FSB", "not a frame: {}\nstderr: {stderr}", String::from_utf8_lossy(rest));
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let payload = &rest[8..8 + len];
        match rest[3] {
            b'Y' => {}
            b'O' => stdout.extend_from_slice(payload),
            b'P' => position = Some(payload.to_vec()),
            b'R' => summary = serde_json::from_slice(payload).expect("summary"),
            k => panic!("unknown frame kind {k}"),
        }
        rest = &rest[8 + len..];
    }
    assert!(summary.is_object(), "no summary frame; stderr: {stderr}");
    Direct { summary, stdout: String::from_utf8_lossy(&stdout).to_string(), position, stderr }
}

/// A probe that gets onto every native thread older than the lockdown (the
/// harness starts no Python thread before it; numpy's OpenBLAS starts
/// workers at import) through a C signal handler, and tries fork (raw
/// clone(SIGCHLD): the profile already refuses fork(2) itself), execve of a
/// missing file (ENOENT if allowed, EPERM if refused) and socket(AF_UNIX)
/// (the container profile allows AF_UNIX; only the lockdown refuses it).
/// It also reports Seccomp_filters of every thread.
pub const OLDER_THREAD_PROBE: &str = r#"
import ctypes, errno, json, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
report = {'filters': {}, 'on_threads': {}}
for tid in os.listdir('/proc/self/task'):
    with open(f'/proc/self/task/{tid}/status') as f:
        for line in f:
            if line.startswith('Seccomp_filters:'):
                report['filters'][tid] = int(line.split()[1])
python_threads = {t.native_id for t in threading.enumerate()}
targets = [int(t) for t in os.listdir('/proc/self/task') if int(t) not in python_threads]
report['targets'] = targets
def outcome(ret):
    return 'SUCCEEDED' if ret >= 0 else errno.errorcode.get(ctypes.get_errno(), '?')
def on_signal(sig):
    r = {}
    pid = libc.syscall(56, 17, 0, 0, 0, 0)
    if pid == 0:
        libc.syscall(231, 0)
    r['fork'] = outcome(pid)
    libc.syscall(59, b'/nonexistent-finsandbox', None, None)
    r['execve'] = 'SUCCEEDED' if ctypes.get_errno() == errno.ENOENT else errno.errorcode.get(ctypes.get_errno(), '?')
    fd = libc.syscall(41, 1, 1, 0)
    r['socket'] = outcome(fd)
    if fd >= 0:
        os.close(fd)
    report['on_threads'][str(threading.get_native_id())] = r
handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(on_signal)
libc.signal(10, handler)
for tid in targets:
    libc.syscall(234, os.getpid(), tid, 10)
    deadline = time.monotonic() + 5
    while str(tid) not in report['on_threads'] and time.monotonic() < deadline:
        time.sleep(0.05)
print(json.dumps(report))
"#;

fn probe_report(stdout: &str) -> Value {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok().filter(Value::is_object))
        .unwrap_or_else(|| panic!("no probe report in: {stdout}"))
}

/// Every thread carries the same number of filters (where the kernel says),
/// the probe reached at least one older thread, and nothing succeeded there.
fn assert_older_threads_confined(d: &Direct, what: &str) {
    assert_eq!(d.summary["status"], "ok", "{what}: {}\nstderr: {}", d.summary, d.stderr);
    assert_eq!(d.summary["runtime_policy"], "off", "{what}: the seccomp layer alone must be under test");
    let r = probe_report(&d.stdout);
    let filters = r["filters"].as_object().expect("filters");
    // gVisor reports no per-thread counts; runc and podman do.
    if let Some(first) = filters.values().next() {
        assert!(first.as_u64().unwrap_or(0) >= 2, "{what}: no in-process filter: {r}");
        assert!(filters.values().all(|n| n == first), "{what}: a thread lacks the in-process filter: {r}");
    }
    let reached = r["on_threads"].as_object().expect("on_threads");
    assert!(!reached.is_empty(), "{what}: the probe reached no thread older than the lockdown: {r}");
    for (tid, outcomes) in reached {
        for (call, v) in outcomes.as_object().expect("outcomes") {
            assert_eq!(v, "EPERM", "{what}: {call} on older thread {tid}: {r}");
        }
    }
}

fn older_threads(engine: &str, runtime: Option<&str>) {
    let src = format!("{OLDER_THREAD_PROBE}{TRIVIAL_TAIL}");
    let d = run_harness(engine, runtime, &src, &market(), false);
    assert_older_threads_confined(&d, &format!("{engine} {runtime:?}"));
}

#[test]
fn lockdown_covers_threads_started_before_it_runc() {
    older_threads("docker", None);
}

#[test]
fn lockdown_covers_threads_started_before_it_runsc() {
    crate::attacks::require_runsc();
    older_threads("docker", Some("runsc"));
}

#[test]
fn lockdown_covers_threads_started_before_it_podman() {
    crate::support::require_podman();
    older_threads("podman", None);
}

/// One refused action per class, each run on its own so the exception
/// reaches the summary: `strategy_error` whose message names the rule (the
/// host copies the summary's error into the result). Run in the engine with
/// the product's request and `"runtime_policy": true`; no screening.
fn refused(action: &str, rule: &str) {
    let src = format!("import os, sys\n{action}\n{TRIVIAL_TAIL}");
    let d = run_harness("docker", None, &src, &market(), true);
    assert_eq!(d.summary["status"], "strategy_error", "`{action}` was not refused: {}", d.summary);
    let message = d.summary["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("finsandbox runtime policy {rule}")),
        "`{action}` was not refused by {rule}: {}",
        d.summary["error"]
    );
    assert_eq!(d.summary["error"]["type"], "PermissionError", "{}", d.summary["error"]);
    assert_eq!(d.summary["runtime_policy_refusals"][0]["rule"], rule, "{}", d.summary);
}

macro_rules! refuses {
    ($($name:ident: $rule:literal => $action:literal;)*) => {
        $( #[test] fn $name() { refused($action, $rule) } )*
    };
}

refuses! {
    refuses_writing_outside_tmp: "R001" => "open('/usr/lib/finsandbox-pwned', 'w').write('x')";
    refuses_writing_through_a_symlink_in_tmp: "R001" => "os.symlink('/usr/lib', '/tmp/lib')\nopen('/tmp/lib/pwned', 'w')";
    refuses_writing_with_numpy: "R001" => "import numpy as np\nnp.arange(3).tofile('/usr/lib/pwned')";
    refuses_reading_etc_passwd: "R002" => "print(open('/etc/passwd').read())";
    refuses_reading_the_harness_source: "R002" => "print(open('/proc/self/cmdline', 'rb').read())";
    refuses_reading_through_os_open: "R002" => "os.read(os.open('/etc/hostname', os.O_RDONLY), 100)";
    refuses_listing_the_root: "R002" => "print(os.listdir('/'))";
    refuses_importing_outside_the_allow_list: "R003" => "import importlib\nimportlib.import_module('sqlite3')";
    refuses_dunder_import_outside_the_allow_list: "R003" => "__import__('email.parser')";
    refuses_compile: "R004" => "code = compile('print(1)', 'x', 'exec')";
    refuses_exec_of_a_string: "R004" => "exec('x = 1')";
    refuses_eval_of_a_string: "R004" => "eval('1 + 1')";
    refuses_making_code_objects: "R004" => "(lambda: 0).__code__.replace(co_name='y')";
    refuses_string_annotations_evaluated: "R004" => "import typing\ndef f(x: 'os.system'): pass\ntyping.get_type_hints(f)";
    refuses_dataclass_field_names_as_code: "R004" => "import dataclasses\ndataclasses.dataclass(type('E', (), {'__annotations__': {'a=os.system(\"true\")': int}}))";
    refuses_reading_after_patching_what_the_check_uses: "R002" => "import builtins, posixpath\nbuiltins.any = lambda it: True\nbuiltins.isinstance = lambda *a: False\nposixpath.realpath = lambda p, **k: '/tmp/x'\nopen('/etc/passwd').read()";
    refuses_a_path_object_that_lies: "R002" => "class P:\n    def __fspath__(self):\n        return '/etc/passwd'\nopen(P()).read()";
    refuses_dataclass_fields_renamed_after_the_check: "R004" => "import dataclasses\nF = dataclasses.Field\norig = F.__dict__['name']\nseen = []\ndef get(self):\n    seen.append(1)\n    return orig.__get__(self, F) if len(seen) < 3 else 'a=os.getpid()'\nF.name = property(get, lambda self, v: orig.__set__(self, v))\n@dataclasses.dataclass\nclass Z:\n    a: int";
    refuses_ctypes: "R005" => "import ctypes\nctypes.CDLL(None).getpid()";
    refuses_ctypes_pythonapi: "R005" => "import ctypes\nctypes.pythonapi.Py_GetVersion";
    refuses_pickle_loads_of_a_global: "R006" => "import pickle\npickle.loads(b\"cos\\nsystem\\n(S'true'\\ntR.\")";
    refuses_marshal_loads: "R006" => "import marshal\nmarshal.loads(marshal.dumps(1))";
    refuses_os_system: "R007" => "os.system('true')";
    refuses_subprocess: "R007" => "import subprocess\nsubprocess.run(['/bin/true'])";
    refuses_os_exec: "R007" => "os.execv('/bin/true', ['true'])";
    refuses_os_fork: "R007" => "os.fork()";
    refuses_signalling_pid_1: "R007" => "os.kill(1, 0)";
    refuses_sockets: "R008" => "import socket\nsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)";
    refuses_walking_all_objects: "R009" => "import gc\ngc.get_objects()";
}

#[test]
fn what_accepted_strategies_need_still_works() {
    // The everyday uses next to the refused ones: /tmp, the data, the
    // allowed imports and their lazy submodules, namedtuple and dataclass
    // (the standard library generates their methods from source), plain
    // pickles of data, tracebacks with library source lines.
    let src = r#"
import collections, dataclasses, json, os, pickle, statistics, typing
report = {}
with open('/tmp/scratch.txt', 'w') as f:
    f.write('ok')
report['tmp'] = open('/tmp/scratch.txt').read()
report['data'] = os.path.getsize('/data/market') > 0 and len(open('/data/market', 'rb').read(4))
report['statistics'] = statistics.mean([1, 2, 3])
P = collections.namedtuple('P', 'a b')
report['namedtuple'] = P(1, 2).b
@dataclasses.dataclass(frozen=True, order=True)
class D:
    a: int
    b: float = 0.5
report['dataclass'] = repr(D(1))
class N(typing.NamedTuple):
    x: int
report['typing_namedtuple'] = N(3).x
report['pickle_plain'] = pickle.loads(pickle.dumps({'a': [1, 2]}))
import pandas as pd
frame = pd.DataFrame({'a': [1.0, 2.0]}, index=pd.date_range('2024-01-01', periods=2))
report['to_string'] = len(frame.to_string())
report['resample'] = len(frame.resample('ME').last())
frame.to_csv('/tmp/frame.csv')
report['read_csv_tmp'] = len(pd.read_csv('/tmp/frame.csv'))
try:
    pd.Series([1]).iloc[5]
except IndexError as e:
    report['library_error'] = type(e).__name__
print(json.dumps(report))
"#;
    let d = run_harness("docker", None, &format!("{src}{TRIVIAL_TAIL}"), &market(), true);
    assert_eq!(d.summary["status"], "ok", "{}\n{}", d.summary, d.stderr);
    assert_eq!(d.summary["runtime_policy_refusals"], json!([]), "{}", d.summary);
    let r = probe_report(&d.stdout);
    assert_eq!(r["tmp"], "ok");
    assert_eq!(r["data"], 4);
    assert_eq!(r["namedtuple"], 2);
    assert_eq!(r["dataclass"], "D(a=1, b=0.5)");
    assert_eq!(r["typing_namedtuple"], 3);
    assert_eq!(r["pickle_plain"], json!({"a": [1, 2]}));
    assert_eq!(r["resample"], 1);
    assert_eq!(r["read_csv_tmp"], 2);
    assert_eq!(r["library_error"], "IndexError");
}

/// The accepted corpora: examples, tests/strategies, the screen's accepted
/// corpus (on `data sample`), and the finlab corpus (on `data sample --finlab`).
fn accepted_corpus(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<_> = dirs
        .iter()
        .map(|d| root().join(d))
        .filter(|d| d.is_dir())
        .flat_map(|d| std::fs::read_dir(d).expect("dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "py") && !p.ends_with("make_market.py"))
        .collect();
    files.sort();
    files
}

#[test]
fn accepted_strategies_run_unchanged_under_the_runtime_policy() {
    // Zero false positives: every accepted strategy gives the same position,
    // byte for byte, with the policy on and off, and the policy refused
    // nothing (not even something the strategy or a library caught). The
    // host computes every metric from the position, so the metrics are the
    // same; `finsandbox exec` must also end `ok` with metrics.
    let dir = tempfile::tempdir().expect("tmp");
    let mut runs = Vec::new();
    for (flavour, dirs) in [
        (None, &["examples", "tests/strategies", "tests/screening/accepted"][..]),
        (Some("--finlab"), &["tests/finlab"][..]),
    ] {
        let data = dir.path().join(flavour.unwrap_or("plain"));
        let mut c = bin();
        c.args(["data", "sample"]).args(flavour).arg(&data).args(["--symbols", "40", "--years", "3"]);
        assert!(c.output().expect("sample").status.success());
        runs.extend(accepted_corpus(dirs).into_iter().map(|f| (f, data.clone())));
    }
    assert!(runs.len() >= 40, "{runs:?}");
    for (f, data) in runs {
        let source = std::fs::read_to_string(&f).expect("read");
        let on = run_harness("docker", None, &source, &data, true);
        let off = run_harness("docker", None, &source, &data, false);
        let name = f.display();
        assert_eq!(on.summary["status"], "ok", "{name} with the policy: {}\n{}", on.summary, on.stderr);
        assert_eq!(on.summary["runtime_policy"], "on");
        assert_eq!(on.summary["runtime_policy_refusals"], json!([]), "{name}: refused something: {}", on.summary);
        assert_eq!(off.summary["status"], "ok", "{name} without the policy: {}", off.summary);
        assert!(on.position.is_some() && on.position == off.position, "{name}: the position differs with the policy");
        let run = exec_path(&f, &["--data", data.to_str().expect("utf8")]);
        assert_eq!(run.status(), "ok", "{name}: {}", run.describe());
        assert!(run.json["metrics"]["sharpe_ratio"].is_number() || run.json["metrics"]["total_return"].is_number());
    }
}

#[test]
fn a_failing_strategy_gets_its_traceback_and_nothing_is_refused() {
    // The harness formats the strategy's traceback after the strategy ran,
    // under the policy: traceback parses the source lines (ast.parse) for the
    // caret marks, and a wrong data key walks the compat layer's suggestions.
    // Neither may trip a rule.
    for source in ["close = data.get('close')\nx = close['NO_SUCH_SYMBOL'].iloc[0] + 1\n", "data.get('price:nope')\n"] {
        let d = run_harness("docker", None, source, &market(), true);
        assert_eq!(d.summary["status"], "strategy_error", "{}", d.summary);
        assert_eq!(d.summary["error"]["type"], "KeyError", "{}", d.summary);
        assert!(d.summary["error"]["traceback"].as_str().unwrap_or("").contains("strategy.py"), "{}", d.summary);
        assert_eq!(d.summary["runtime_policy_refusals"], json!([]), "{}", d.summary);
    }
}
