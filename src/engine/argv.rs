//! The `docker run` argument vector, built by a pure function.
//!
//! No I/O and no environment here: everything the vector depends on is in
//! [`Settings`] and [`RunSpec`], so each security flag is a unit test and the
//! whole vector is a snapshot. One small helper per concern, in the order the
//! flags appear.
//!
//! Flags that are not configurable away: `--user 1000:1000`, `--cap-drop ALL`,
//! `no-new-privileges`, a seccomp profile, `--log-driver none`, ulimits, our
//! labels and name, the data mount read-only, and no host environment (only
//! the few `--env` values set here, none copied from the host).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use super::command::Flavor;
use crate::config::Settings;

/// The uid:gid strategies run as; the image creates this user.
pub const SANDBOX_USER: &str = "1000:1000";
/// Where the data file or directory appears inside the container.
pub const DATA_TARGET: &str = "/data/market";
/// Label keys. `managed` is what `cleanup` selects on.
pub mod label {
    pub const MANAGED: &str = "finsandbox.managed";
    pub const RUN_ID: &str = "finsandbox.run-id";
    pub const OWNER_PID: &str = "finsandbox.owner-pid";
    /// The owner's start time (clock ticks since boot): pids are reused.
    pub const OWNER_START: &str = "finsandbox.owner-start";
    pub const BOOT_ID: &str = "finsandbox.boot-id";
    pub const CREATED_AT: &str = "finsandbox.created-at";
    pub const TIMEOUT: &str = "finsandbox.timeout-seconds";
    pub const VERSION: &str = "finsandbox.version";
    /// Set with `--keep-container`: only `cleanup --all` removes it.
    pub const KEEP: &str = "finsandbox.keep";
    /// The run id of the scheduled batch (`batch submit`) the container
    /// belongs to: what `batch cancel` reaps by.
    pub const BATCH_RUN: &str = "finsandbox.batch-run";
}
/// Open files per process: enough for pandas/pyarrow, small enough to stop fd floods.
pub const NOFILE: u64 = 1024;
/// Per-uid processes+threads. The pids cgroup is the real per-container limit;
/// this is a second wall that still lets a few sandboxes run side by side as
/// uid 1000 (RLIMIT_NPROC counts across all of them).
pub const NPROC: u64 = 2048;
/// Seconds the in-container `timeout` waits past the host's own deadline: it
/// only matters when the host CLI died and cannot enforce the deadline itself.
pub const IN_CONTAINER_GRACE: u64 = 30;
/// How long the harness's trusted phase (interpreter, imports, lockdown)
/// may take before the run is given up: the strategy's own clock starts
/// only when it is sent.
pub const STARTUP_LIMIT_SECONDS: u64 = 120;

/// What is specific to one run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub run_id: String,
    pub owner_pid: u32,
    pub owner_start: Option<u64>,
    pub boot_id: String,
    pub created_at: u64,
    /// Absolute path of the data file on the host.
    pub data_path: PathBuf,
    /// The in-container harness program, passed with `python3 -c`.
    pub harness: String,
    /// The engine's CLI dialect.
    pub flavor: Flavor,
    /// The seccomp profile file the engine CLI reads; `None`: unconfined
    /// (only ever with `--allow-insecure`).
    pub seccomp_file: Option<PathBuf>,
    /// The CPU limit of the trusted phase, when it differs from the run's:
    /// the host tightens it to `cpu_limit` before any strategy byte is sent.
    pub startup_cpus: Option<f64>,
    /// How long a warmed-up container may be held at READY before its
    /// strategy is sent (a batch slot's next container waits for the current
    /// strategy); added to the in-container backstop. 0 for a single run.
    pub hold_seconds: u64,
    /// The scheduled batch this run is part of (a `batch worker`), if any.
    pub batch_run: Option<String>,
    /// Where the engine CLI writes the container's full id once created
    /// (`--cidfile`): the host learns the id without asking the engine
    /// again. A path that must not exist yet (the CLI refuses otherwise).
    pub cidfile: Option<PathBuf>,
}

impl RunSpec {
    pub fn container_name(&self) -> String {
        format!("finsandbox-{}", self.run_id)
    }
}

/// `run ...` (without the engine binary itself).
pub fn run_args(s: &Settings, spec: &RunSpec) -> Vec<OsString> {
    let mut a = Args::default();
    a.push("run");
    // Attached with stdin open: the harness input arrives on stdin, frames
    // leave on stdout. No TTY (it would mangle binary frames) and no signal
    // proxying: the CLI decides when the container dies.
    a.push("--interactive");
    a.push("--sig-proxy=false");
    identity(&mut a, s, spec);
    isolation(&mut a, s, spec);
    resources(&mut a, s, spec);
    filesystem(&mut a, s, spec);
    environment(&mut a, s, spec.flavor);
    if let Some(rt) = &s.runtime {
        a.pair("--runtime", rt);
    }
    a.push(&s.image);
    command(&mut a, s, spec);
    a.0
}

fn identity(a: &mut Args, s: &Settings, spec: &RunSpec) {
    a.pair("--name", spec.container_name());
    if let Some(path) = &spec.cidfile {
        a.pair("--cidfile", path);
    }
    a.pair("--hostname", "sandbox");
    for (k, v) in labels(s, spec) {
        a.pair("--label", format!("{k}={v}"));
    }
}

/// Labels that identify the container as ours and let `cleanup` decide whether
/// its owner is gone.
pub fn labels(s: &Settings, spec: &RunSpec) -> BTreeMap<&'static str, String> {
    let mut l = BTreeMap::from([
        (label::MANAGED, "true".to_string()),
        (label::RUN_ID, spec.run_id.clone()),
        (label::OWNER_PID, spec.owner_pid.to_string()),
        (label::OWNER_START, spec.owner_start.map(|s| s.to_string()).unwrap_or_default()),
        (label::BOOT_ID, spec.boot_id.clone()),
        (label::CREATED_AT, spec.created_at.to_string()),
        (label::TIMEOUT, s.timeout_seconds.to_string()),
        (label::VERSION, env!("CARGO_PKG_VERSION").to_string()),
    ]);
    if !s.cleanup_on_exit {
        l.insert(label::KEEP, "true".to_string());
    }
    if let Some(b) = &spec.batch_run {
        l.insert(label::BATCH_RUN, b.clone());
    }
    l
}

fn isolation(a: &mut Args, s: &Settings, spec: &RunSpec) {
    a.pair("--user", SANDBOX_USER);
    a.pair("--network", &s.network_mode);
    a.pair("--cap-drop", "ALL");
    a.pair("--security-opt", "no-new-privileges");
    let profile = match &spec.seccomp_file {
        None => OsString::from("seccomp=unconfined"),
        Some(path) => {
            let mut o = OsString::from("seccomp=");
            o.push(path);
            o
        }
    };
    a.pair("--security-opt", profile);
    a.pair("--ipc", "private");
    a.pair("--log-driver", "none");
}

fn resources(a: &mut Args, s: &Settings, spec: &RunSpec) {
    a.pair("--memory", s.memory_bytes.to_string());
    a.pair("--memory-swap", s.memory_swap_bytes.to_string());
    a.pair("--cpus", format_cpus(spec.startup_cpus.unwrap_or(s.cpus)));
    a.pair("--pids-limit", s.pids_limit.to_string());
    a.pair("--ulimit", format!("nofile={NOFILE}:{NOFILE}"));
    a.pair("--ulimit", format!("nproc={NPROC}:{NPROC}"));
    a.pair("--ulimit", format!("fsize={0}:{0}", s.tmpfs.size_bytes));
    a.pair("--ulimit", "core=0:0");
}

fn filesystem(a: &mut Args, s: &Settings, spec: &RunSpec) {
    if s.read_only {
        a.push("--read-only");
    }
    a.pair("--tmpfs", format!("{}:{},size={}", s.tmpfs.path, s.tmpfs.options, s.tmpfs.size_bytes));
    a.pair("--workdir", &s.tmpfs.path);
    let mut mount = OsString::from("type=bind,");
    mount.push(csv_field("source=", &spec.data_path));
    mount.push(format!(",target={DATA_TARGET},readonly"));
    a.pair("--mount", mount);
}

/// `--mount` is parsed as one CSV record: a field holding `,` or `"` must be
/// quoted, with inner quotes doubled.
fn csv_field(prefix: &str, path: &std::path::Path) -> OsString {
    let raw = path.as_os_str();
    let text = raw.to_string_lossy();
    if text.contains([',', '"']) {
        let mut o = OsString::from("\"");
        o.push(prefix);
        o.push(text.replace('"', "\"\""));
        o.push("\"");
        o
    } else {
        let mut o = OsString::from(prefix);
        o.push(raw);
        o
    }
}

/// How many native worker threads numerical libraries may start: the whole
/// CPUs the strategy gets, at least one. OpenBLAS (numpy's BLAS) otherwise
/// starts a worker per host CPU at `import numpy`, each one's start-up and
/// idle spinning paid in every container (measured: `import pandas` costs
/// 0.25 CPU-s with one BLAS thread and 0.37 with the host's two) for a
/// strategy that runs at half a CPU; Arrow sizes its pool by
/// `OMP_NUM_THREADS` too. Fewer threads also means fewer pids.
pub fn native_threads(cpus: f64) -> u64 {
    if cpus.is_finite() && cpus >= 1.0 {
        cpus.floor() as u64
    } else {
        1
    }
}

/// The environment of the sandbox: fixed values and the thread counts of
/// [`native_threads`]; nothing from the host. Shared with the Kubernetes
/// renderer.
pub fn sandbox_env(cpus: f64) -> Vec<(&'static str, String)> {
    let threads = native_threads(cpus).to_string();
    vec![
        ("HOME", "/tmp".into()),
        ("LANG", "C.UTF-8".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("OPENBLAS_NUM_THREADS", threads.clone()),
        ("OMP_NUM_THREADS", threads),
    ]
}

fn environment(a: &mut Args, s: &Settings, flavor: Flavor) {
    // The image's environment plus these; nothing from the host. The thread
    // counts follow the strategy's limit, not the warm-up's boost.
    for (k, v) in sandbox_env(s.cpus) {
        a.pair("--env", format!("{k}={v}"));
    }
    if flavor == Flavor::Podman {
        // Podman adds these of its own accord; the strategy sees only ours.
        a.pair("--unsetenv", "TERM");
        a.pair("--unsetenv", "container");
    }
}

fn command(a: &mut Args, s: &Settings, spec: &RunSpec) {
    // `timeout` is a last line of defence: should the CLI be SIGKILLed, the
    // container still ends on its own instead of running forever.
    a.push("timeout");
    a.push("--signal=KILL");
    a.push(format!("{}s", s.timeout_seconds + STARTUP_LIMIT_SECONDS + spec.hold_seconds + IN_CONTAINER_GRACE));
    a.push("python3");
    a.push("-I"); // isolated: no PYTHON* variables, no user site, no cwd on sys.path
    a.push("-B");
    a.push("-c");
    a.push(&spec.harness);
}

/// `0.5`, `2`, `1.25`: what `--cpus` accepts, without float noise.
fn format_cpus(cpus: f64) -> String {
    let s = format!("{cpus:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn push(&mut self, v: impl Into<OsString>) {
        self.0.push(v.into());
    }
    fn pair(&mut self, flag: &str, v: impl Into<OsString>) {
        self.0.push(flag.into());
        self.0.push(v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn spec() -> RunSpec {
        RunSpec {
            run_id: "0123456789abcdef".into(),
            owner_pid: 4242,
            owner_start: Some(777),
            boot_id: "boot-1".into(),
            created_at: 1_700_000_000,
            data_path: PathBuf::from("/home/u/market.parquet"),
            harness: "print('harness')".into(),
            flavor: Flavor::Docker,
            seccomp_file: Some(PathBuf::from("/proj/seccomp/finsandbox.json")),
            startup_cpus: None,
            hold_seconds: 0,
            batch_run: None,
            cidfile: None,
        }
    }

    fn settings() -> Settings {
        Settings { seccomp_profile: PathBuf::from("/proj/seccomp/finsandbox.json"), ..Settings::default() }
    }

    fn args(s: &Settings) -> Vec<String> {
        run_args(s, &spec()).into_iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    /// The value after `flag`, for every occurrence.
    fn values(a: &[String], flag: &str) -> Vec<String> {
        a.windows(2).filter(|w| w[0] == flag).map(|w| w[1].clone()).collect()
    }

    fn image_index(a: &[String]) -> usize {
        a.iter().position(|x| x == "finsandbox-runtime:1").expect("image in argv")
    }

    #[test]
    fn runs_as_uid_1000() {
        assert_eq!(values(&args(&settings()), "--user"), ["1000:1000"]);
    }

    #[test]
    fn network_none() {
        assert_eq!(values(&args(&settings()), "--network"), ["none"]);
    }

    #[test]
    fn drops_all_capabilities() {
        assert_eq!(values(&args(&settings()), "--cap-drop"), ["ALL"]);
        assert!(values(&args(&settings()), "--cap-add").is_empty());
    }

    #[test]
    fn no_new_privileges_and_seccomp_profile() {
        let opts = values(&args(&settings()), "--security-opt");
        assert!(opts.contains(&"no-new-privileges".to_string()));
        assert!(opts.contains(&"seccomp=/proj/seccomp/finsandbox.json".to_string()));
    }

    #[test]
    fn read_only_root_and_noexec_tmpfs() {
        let a = args(&settings());
        assert!(a.contains(&"--read-only".to_string()));
        assert_eq!(values(&a, "--tmpfs"), ["/tmp:rw,noexec,nosuid,nodev,size=1073741824"]);
    }

    #[test]
    fn memory_without_swap() {
        let s = Settings { memory_bytes: 256 << 20, memory_swap_bytes: 256 << 20, ..settings() };
        let a = args(&s);
        assert_eq!(values(&a, "--memory"), ["268435456"]);
        assert_eq!(values(&a, "--memory-swap"), ["268435456"]);
    }

    #[test]
    fn the_trusted_phase_may_start_with_more_cpu_and_nothing_else() {
        let mut sp = spec();
        sp.startup_cpus = Some(2.0);
        let a = run_args(&settings(), &sp);
        let a: Vec<String> = a.iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert_eq!(values(&a, "--cpus"), ["2"], "the boost, tightened later by the host");
        assert_eq!(values(&a, "--memory"), values(&args(&settings()), "--memory"), "memory from the start");
        assert_eq!(values(&a, "--pids-limit"), ["100"], "pids from the start");
    }

    #[test]
    fn cpu_and_pids_limits() {
        let a = args(&settings());
        assert_eq!(values(&a, "--cpus"), ["0.5"]);
        assert_eq!(values(&a, "--pids-limit"), ["100"]);
        assert_eq!(format_cpus(2.0), "2");
        assert_eq!(format_cpus(1.25), "1.25");
    }

    #[test]
    fn ulimits_for_files_processes_file_size_and_core() {
        let u = values(&args(&settings()), "--ulimit");
        assert_eq!(u, ["nofile=1024:1024", "nproc=2048:2048", "fsize=1073741824:1073741824", "core=0:0"]);
    }

    #[test]
    fn no_logs_kept_by_the_engine() {
        assert_eq!(values(&args(&settings()), "--log-driver"), ["none"]);
    }

    #[test]
    fn labels_identify_the_run_and_owner() {
        let l = values(&args(&settings()), "--label");
        for want in [
            "finsandbox.managed=true",
            "finsandbox.run-id=0123456789abcdef",
            "finsandbox.owner-pid=4242",
            "finsandbox.owner-start=777",
            "finsandbox.boot-id=boot-1",
            "finsandbox.created-at=1700000000",
            "finsandbox.timeout-seconds=600",
        ] {
            assert!(l.contains(&want.to_string()), "missing label {want}: {l:?}");
        }
        assert_eq!(values(&args(&settings()), "--name"), ["finsandbox-0123456789abcdef"]);
    }

    #[test]
    fn data_is_the_only_mount_and_read_only() {
        let a = args(&settings());
        assert_eq!(values(&a, "--mount"), ["type=bind,source=/home/u/market.parquet,target=/data/market,readonly"]);
        assert!(values(&a, "--volume").is_empty() && values(&a, "-v").is_empty());
        assert!(!a.iter().any(|x| x.starts_with("--volumes-from") || x == "--privileged"));
    }

    #[test]
    fn mount_source_with_comma_is_csv_quoted() {
        let mut sp = spec();
        sp.data_path = PathBuf::from("/d/a,b\"c.parquet");
        let a: Vec<String> = run_args(&settings(), &sp).into_iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert_eq!(values(&a, "--mount"), ["type=bind,\"source=/d/a,b\"\"c.parquet\",target=/data/market,readonly"]);
    }

    #[test]
    fn no_host_environment_only_fixed_values() {
        let a = args(&settings());
        assert_eq!(
            values(&a, "--env"),
            ["HOME=/tmp", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"]
        );
        assert!(!a.iter().any(|x| x == "--env-file" || x == "-e"));
    }

    #[test]
    fn native_threads_follow_the_strategys_cpus_not_the_boost() {
        let mut s = settings();
        s.cpus = 2.5;
        let sp = RunSpec { startup_cpus: Some(8.0), ..spec() };
        let a: Vec<String> = run_args(&s, &sp).into_iter().map(|x| x.to_string_lossy().into_owned()).collect();
        let env = values(&a, "--env");
        assert!(env.contains(&"OPENBLAS_NUM_THREADS=2".to_string()), "{env:?}");
        assert!(env.contains(&"OMP_NUM_THREADS=2".to_string()), "{env:?}");
        assert_eq!(super::native_threads(0.5), 1);
        assert_eq!(super::native_threads(0.0), 1);
        assert_eq!(super::native_threads(1.0), 1);
        assert_eq!(super::native_threads(1.99), 1);
        assert_eq!(super::native_threads(4.0), 4);
        assert_eq!(super::native_threads(f64::NAN), 1);
        assert_eq!(super::native_threads(f64::INFINITY), 1);
    }

    #[test]
    fn cidfile_only_when_given_and_before_the_image() {
        assert!(values(&args(&settings()), "--cidfile").is_empty());
        let sp = RunSpec { cidfile: Some(PathBuf::from("/tmp/finsandbox-stage-0/r1/container.id")), ..spec() };
        let a: Vec<String> = run_args(&settings(), &sp).into_iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert_eq!(values(&a, "--cidfile"), ["/tmp/finsandbox-stage-0/r1/container.id"]);
        let at = a.iter().position(|x| x == "--cidfile").unwrap_or(usize::MAX);
        assert!(at < image_index(&a), "an engine flag, not an argument of the command");
    }

    #[test]
    fn podman_drops_the_variables_it_adds() {
        let sp = RunSpec { flavor: Flavor::Podman, ..spec() };
        let a: Vec<String> = run_args(&settings(), &sp).into_iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert_eq!(values(&a, "--unsetenv"), ["TERM", "container"]);
        assert!(values(&args(&settings()), "--unsetenv").is_empty(), "docker has no --unsetenv");
    }

    #[test]
    fn stdin_attached_without_tty_or_signal_proxy() {
        let a = args(&settings());
        assert!(a.contains(&"--interactive".to_string()));
        assert!(a.contains(&"--sig-proxy=false".to_string()));
        assert!(!a.iter().any(|x| x == "--tty" || x == "-t" || x == "--detach" || x == "--rm"));
    }

    #[test]
    fn command_is_isolated_python_under_a_backstop_timeout() {
        let a = args(&settings());
        let cmd = &a[image_index(&a) + 1..];
        // 600 s of strategy + the 120 s startup allowance + 30 s of grace.
        assert_eq!(cmd[..7], ["timeout", "--signal=KILL", "750s", "python3", "-I", "-B", "-c"]);
        assert_eq!(cmd[7], "print('harness')");
        assert_eq!(cmd.len(), 8);
    }

    #[test]
    fn a_container_held_warm_gets_the_hold_added_to_its_backstop() {
        let mut sp = spec();
        sp.hold_seconds = 780;
        let a: Vec<String> = run_args(&settings(), &sp).iter().map(|x| x.to_string_lossy().into_owned()).collect();
        let cmd = &a[image_index(&a) + 1..];
        assert_eq!(cmd[..3], ["timeout", "--signal=KILL", "1530s"]);
    }

    #[test]
    fn kept_containers_are_labelled_so() {
        assert!(!values(&args(&settings()), "--label").iter().any(|l| l.starts_with("finsandbox.keep")));
        let s = Settings { cleanup_on_exit: false, ..settings() };
        assert!(values(&args(&s), "--label").contains(&"finsandbox.keep=true".to_string()));
    }

    #[test]
    fn a_scheduled_batch_labels_its_containers_with_its_run_id() {
        assert!(!values(&args(&settings()), "--label").iter().any(|l| l.starts_with("finsandbox.batch-run")));
        let sp = RunSpec { batch_run: Some("r1".into()), ..spec() };
        let a: Vec<String> = run_args(&settings(), &sp).iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert!(values(&a, "--label").contains(&"finsandbox.batch-run=r1".to_string()));
    }

    #[test]
    fn runtime_only_when_configured() {
        assert!(values(&args(&settings()), "--runtime").is_empty());
        let s = Settings { runtime: Some("runsc".into()), ..settings() };
        assert_eq!(values(&args(&s), "--runtime"), ["runsc"]);
    }

    #[test]
    fn flags_come_before_the_image() {
        let a = args(&settings());
        let img = image_index(&a);
        assert!(a[..img].iter().all(|x| x != "timeout"));
        assert_eq!(a[0], "run");
    }

    #[test]
    fn snapshot_of_the_whole_vector() {
        insta::assert_debug_snapshot!(args(&settings()));
    }
}
