//! The objects of a render, built by pure functions from [`Settings`] and
//! [`Options`]: the Kubernetes sibling of `engine::argv`. No I/O here, so
//! every hardening field is a unit test and the whole output a snapshot.
//!
//! One Pod (or one Indexed Job's pod template) holds two containers:
//!
//! * `strategy`, an init container, untrusted: the harness under our
//!   launcher (`launch.py`), writing its frames to the shared `work` volume;
//! * `score`, trusted: finsandbox reading those frames and the data, and
//!   writing the result (stdout and the termination message).
//!
//! Both get the same container hardening (non-root 1000:1000, read-only
//! root, no capabilities, no privilege escalation, the Localhost seccomp
//! profile, requests = limits): the invariant tests check every container of
//! every pod template, so a container added later cannot miss a field.

use super::gaps::{self, Gap};
use super::limits::{MAX_CONFIGMAP_BYTES, WORK_SLACK_BYTES};
use super::model::*;
use super::version::Version;
use super::Strategy;
use crate::config::Settings;
use crate::engine::{sandbox_env, DATA_TARGET, IN_CONTAINER_GRACE, NOFILE, NPROC, STARTUP_LIMIT_SECONDS};
use crate::harness;

/// uid and gid of both containers (the image's sandbox user).
pub const UID: u32 = 1000;
/// Where the ConfigMap (harness, launcher, requests) is mounted.
pub const CONFIG_MOUNT: &str = "/finsandbox";
/// The volume the strategy writes its frames to and the scorer reads.
pub const WORK_MOUNT: &str = "/work";
/// Seconds the scorer has after the strategy's backstop deadline.
pub const SCORE_SECONDS: u64 = 120;
/// The writable layer is read-only; this bounds logs and anything else the
/// runtime counts as the container's local storage.
pub const EPHEMERAL_STORAGE: &str = "64Mi";
/// Label keys.
pub const LABEL_RUN: &str = "finsandbox.dev/run";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_VERSION: &str = "finsandbox.dev/version";

/// What the command line adds to the settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub data_pvc: String,
    /// A file or directory inside the claim (`subPath`); `None`: its root.
    pub data_subpath: Option<String>,
    pub runtime_class: Option<String>,
    /// The RuntimeClass's handler, rendered with it (`runsc` for gVisor).
    pub runtime_handler: String,
    pub version: Version,
    pub namespace: Option<String>,
    /// The profile's path under the kubelet's seccomp root on every node.
    pub seccomp_localhost_profile: String,
    /// An image holding the finsandbox binary (the trusted scorer).
    pub scorer_image: String,
    /// Pods at a time for a batch (default: all).
    pub parallelism: Option<u32>,
}

/// What a render produced.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub version: Version,
    pub objects: Vec<Object>,
    pub gaps: Vec<Gap>,
    /// The seccomp profile's path under the kubelet's seccomp root.
    pub seccomp_localhost_profile: String,
}

/// Refusals that come from the input's size, not the config.
#[derive(Debug, Clone, PartialEq)]
pub enum TooBig {
    ConfigMap { bytes: usize },
    Completions { count: usize },
}

/// One strategy as a Pod, with its ConfigMap and deny-all NetworkPolicy
/// (and the RuntimeClass when one is named).
pub fn single(s: &Settings, o: &Options, st: &Strategy, gaps: &[Gap]) -> Result<Rendered, TooBig> {
    let name = run_name("finsandbox", std::slice::from_ref(st));
    let mut data = shared_files(s, std::slice::from_ref(st));
    data.insert("strategy.json".into(), strategy_line(st));
    let config = config_map(&name, o, data)?;
    let pod = Pod {
        api_version: "v1",
        kind: "Pod",
        metadata: ObjectMeta {
            name: name.clone(),
            namespace: o.namespace.clone(),
            labels: labels(&name),
            annotations: annotations(s, o, gaps),
        },
        spec: pod_spec(s, o, &name),
    };
    Ok(assemble(name, o, gaps, config, Object::Pod(pod)))
}

/// A batch as one Indexed Job: the completion index picks the strategy
/// (`strategy-<index>.json` in the ConfigMap); `backoffLimitPerIndex: 0`
/// and `maxFailedIndexes` = completions, so one bad strategy fails its
/// index and never the batch.
pub fn batch(s: &Settings, o: &Options, strategies: &[Strategy], gaps: &[Gap]) -> Result<Rendered, TooBig> {
    let count = strategies.len();
    // The API's limit for Jobs with backoffLimitPerIndex.
    if count == 0 || count > 100_000 {
        return Err(TooBig::Completions { count });
    }
    let name = run_name("finsandbox-batch", strategies);
    let mut data = shared_files(s, strategies);
    for (i, st) in strategies.iter().enumerate() {
        data.insert(format!("strategy-{i}.json"), strategy_line(st));
    }
    let config = config_map(&name, o, data)?;
    let n = count as u32;
    let job = Job {
        api_version: "batch/v1",
        kind: "Job",
        metadata: ObjectMeta {
            name: name.clone(),
            namespace: o.namespace.clone(),
            labels: labels(&name),
            annotations: annotations(s, o, gaps),
        },
        spec: JobSpec {
            completion_mode: "Indexed",
            completions: n,
            parallelism: o.parallelism.unwrap_or(n).clamp(1, n),
            backoff_limit_per_index: 0,
            max_failed_indexes: n,
            template: PodTemplateSpec {
                metadata: TemplateMeta { labels: labels(&name), annotations: annotations(s, o, gaps) },
                spec: pod_spec(s, o, &name),
            },
        },
    };
    Ok(assemble(name, o, gaps, config, Object::Job(job)))
}

fn assemble(name: String, o: &Options, gaps: &[Gap], config: ConfigMap, workload: Object) -> Rendered {
    let mut objects = Vec::new();
    if let Some(rc) = &o.runtime_class {
        objects.push(Object::RuntimeClass(RuntimeClass {
            api_version: "node.k8s.io/v1",
            kind: "RuntimeClass",
            metadata: ObjectMeta { name: rc.clone(), ..ObjectMeta::default() },
            handler: o.runtime_handler.clone(),
        }));
    }
    objects.push(Object::ConfigMap(config));
    objects.push(Object::NetworkPolicy(deny_all(&name, o)));
    objects.push(workload);
    Rendered {
        name,
        version: o.version,
        objects,
        gaps: gaps.to_vec(),
        seccomp_localhost_profile: o.seccomp_localhost_profile.clone(),
    }
}

/// `prefix-<12 hex>` from the sources: the same strategies render the
/// same names, and a name is a valid DNS label.
fn run_name(prefix: &str, strategies: &[Strategy]) -> String {
    let mut all = Vec::new();
    for st in strategies {
        all.extend_from_slice(st.filename.as_bytes());
        all.push(0);
        all.extend_from_slice(st.source.as_bytes());
        all.push(0);
    }
    let hex = crate::host::hex_sha256(&all);
    format!("{prefix}-{}", &hex[..12])
}

pub fn labels(name: &str) -> Map {
    Map::from([
        (LABEL_NAME.into(), "finsandbox".into()),
        (LABEL_MANAGED_BY.into(), "finsandbox".into()),
        (LABEL_RUN.into(), name.into()),
        (LABEL_VERSION.into(), env!("CARGO_PKG_VERSION").into()),
    ])
}

fn annotations(s: &Settings, o: &Options, gaps: &[Gap]) -> Map {
    let mut a = Map::from([
        (gaps::ANNOTATION.into(), gaps::ids(gaps)),
        ("finsandbox.dev/kubernetes-version".into(), o.version.to_string()),
        ("finsandbox.dev/timeout-seconds".into(), s.timeout_seconds.to_string()),
    ]);
    if let Some(json) = &s.seccomp_json {
        a.insert("finsandbox.dev/seccomp-sha256".into(), crate::host::hex_sha256(json.as_bytes()));
    }
    a
}

/// The harness, the launcher and the setup line every strategy shares, and
/// the settings the scorer needs (with each strategy's sha256).
fn shared_files(s: &Settings, strategies: &[Strategy]) -> Map {
    let run = harness::RunContext { start_date: None, end_date: None, fee_ratio: s.fee_ratio, tax_ratio: s.tax_ratio };
    let policy = harness::Policy { on: true, allowed_imports: &s.screening.allowed_imports };
    let parts =
        harness::request_parts_unpriced("", "strategy.py", DATA_TARGET, crate::run::MAX_POSITION_BYTES, &run, &policy);
    Map::from([
        ("harness.py".into(), harness::SOURCE.into()),
        ("launch.py".into(), super::LAUNCHER.into()),
        ("setup.json".into(), String::from_utf8_lossy(&parts.setup).into_owned()),
        (super::score::SETTINGS_FILE.into(), super::score::ScoreSettings::of(s, strategies).to_json()),
    ])
}

/// The harness's second request line: the strategy's source and name.
fn strategy_line(st: &Strategy) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        source: &'a str,
        filename: &'a str,
    }
    // Plain strings cannot fail to serialise.
    let mut l = serde_json::to_string(&Line { source: &st.source, filename: &st.filename }).unwrap_or_default();
    l.push('\n');
    l
}

fn config_map(name: &str, o: &Options, data: Map) -> Result<ConfigMap, TooBig> {
    let bytes: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_CONFIGMAP_BYTES {
        return Err(TooBig::ConfigMap { bytes });
    }
    Ok(ConfigMap {
        api_version: "v1",
        kind: "ConfigMap",
        metadata: ObjectMeta {
            name: name.into(),
            namespace: o.namespace.clone(),
            labels: labels(name),
            annotations: Map::new(),
        },
        immutable: true,
        data,
    })
}

/// Both policy types and no rules: nothing in, nothing out.
fn deny_all(name: &str, o: &Options) -> NetworkPolicy {
    NetworkPolicy {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: ObjectMeta {
            name: format!("{name}-deny-all"),
            namespace: o.namespace.clone(),
            labels: labels(name),
            annotations: Map::new(),
        },
        spec: NetworkPolicySpec {
            pod_selector: LabelSelector { match_labels: Map::from([(LABEL_RUN.into(), name.into())]) },
            policy_types: vec!["Ingress", "Egress"],
        },
    }
}

fn pod_spec(s: &Settings, o: &Options, name: &str) -> PodSpec {
    PodSpec {
        restart_policy: "Never",
        active_deadline_seconds: strategy_seconds(s) + IN_CONTAINER_GRACE + SCORE_SECONDS,
        termination_grace_period_seconds: 5,
        automount_service_account_token: false,
        enable_service_links: false,
        host_network: false,
        host_pid: false,
        host_ipc: false,
        share_process_namespace: false,
        hostname: "sandbox",
        // No cluster DNS: a nameserver that answers nothing.
        dns_policy: "None",
        dns_config: DnsConfig { nameservers: vec!["127.0.0.1"] },
        runtime_class_name: o.runtime_class.clone(),
        security_context: PodSecurityContext {
            run_as_non_root: true,
            run_as_user: UID,
            run_as_group: UID,
            seccomp_profile: seccomp(o),
        },
        init_containers: vec![strategy_container(s, o)],
        containers: vec![score_container(s, o)],
        volumes: volumes(s, o, name),
    }
}

/// The strategy's own backstop: its timeout plus the harness's trusted
/// start-up allowance, as in `docker run`'s in-container `timeout`.
fn strategy_seconds(s: &Settings) -> u64 {
    s.timeout_seconds + STARTUP_LIMIT_SECONDS
}

fn strategy_container(s: &Settings, o: &Options) -> Container {
    Container {
        name: "strategy",
        image: s.image.clone(),
        image_pull_policy: "IfNotPresent",
        command: [
            "python3".to_string(),
            "-I".into(),
            "-B".into(),
            format!("{CONFIG_MOUNT}/launch.py"),
            strategy_seconds(s).to_string(),
            s.tmpfs.size_bytes.to_string(),
            NOFILE.to_string(),
            NPROC.to_string(),
        ]
        .to_vec(),
        env: sandbox_env(s.cpus).into_iter().map(|(name, value)| EnvVar { name, value }).collect(),
        resources: resources(&cpu_quantity(s.cpus), s.memory_bytes),
        security_context: security_context(o),
        volume_mounts: vec![
            mount("finsandbox", CONFIG_MOUNT, true),
            mount("work", WORK_MOUNT, false),
            mount("tmp", &s.tmpfs.path, false),
            data_mount(o),
        ],
        termination_message_policy: "File",
    }
}

fn score_container(s: &Settings, o: &Options) -> Container {
    Container {
        name: "score",
        image: o.scorer_image.clone(),
        image_pull_policy: "IfNotPresent",
        command: vec![
            "finsandbox".into(),
            "k8s".into(),
            "score".into(),
            // The log is the result as `exec --json` prints it.
            "--json".into(),
            "--work".into(),
            WORK_MOUNT.into(),
            "--config-dir".into(),
            CONFIG_MOUNT.into(),
            "--data".into(),
            DATA_TARGET.into(),
        ],
        env: vec![EnvVar { name: "HOME", value: "/tmp".into() }, EnvVar { name: "LANG", value: "C.UTF-8".into() }],
        resources: resources("1", s.memory_bytes),
        security_context: security_context(o),
        volume_mounts: vec![
            mount("finsandbox", CONFIG_MOUNT, true),
            mount("work", WORK_MOUNT, true),
            mount("score-tmp", "/tmp", false),
            data_mount(o),
        ],
        termination_message_policy: "FallbackToLogsOnError",
    }
}

/// Requests equal limits for every resource: Guaranteed QoS, no swap under
/// LimitedSwap, no overcommit of the node by a strategy.
fn resources(cpu: &str, memory_bytes: u64) -> Resources {
    let m = Map::from([
        ("cpu".into(), cpu.into()),
        ("memory".into(), memory_bytes.to_string()),
        ("ephemeral-storage".into(), EPHEMERAL_STORAGE.into()),
    ]);
    Resources { requests: m.clone(), limits: m }
}

/// `0.5` → `500m`: a quantity without float noise.
pub fn cpu_quantity(cpus: f64) -> String {
    let milli = (cpus * 1000.0).round() as u64;
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

fn security_context(o: &Options) -> SecurityContext {
    SecurityContext {
        run_as_non_root: true,
        run_as_user: UID,
        run_as_group: UID,
        read_only_root_filesystem: true,
        allow_privilege_escalation: false,
        privileged: false,
        capabilities: Capabilities { drop: vec!["ALL"] },
        seccomp_profile: seccomp(o),
        proc_mount: "Default",
    }
}

fn seccomp(o: &Options) -> SeccompProfile {
    SeccompProfile { kind: "Localhost", localhost_profile: o.seccomp_localhost_profile.clone() }
}

fn mount(name: &'static str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount { name, mount_path: path.into(), read_only, sub_path: None }
}

fn data_mount(o: &Options) -> VolumeMount {
    VolumeMount { sub_path: o.data_subpath.clone(), ..mount("data", DATA_TARGET, true) }
}

fn volumes(s: &Settings, o: &Options, name: &str) -> Vec<Volume> {
    let empty = |name, size: u64| Volume {
        name,
        empty_dir: Some(EmptyDir { medium: "Memory", size_limit: size.to_string() }),
        config_map: None,
        persistent_volume_claim: None,
    };
    vec![
        Volume {
            name: "finsandbox",
            empty_dir: None,
            config_map: Some(ConfigMapVolume { name: name.into(), default_mode: 0o444 }),
            persistent_volume_claim: None,
        },
        empty("work", crate::run::MAX_POSITION_BYTES as u64 + WORK_SLACK_BYTES),
        empty("tmp", s.tmpfs.size_bytes),
        empty("score-tmp", s.tmpfs.size_bytes),
        Volume {
            name: "data",
            empty_dir: None,
            config_map: None,
            persistent_volume_claim: Some(PvcVolume { claim_name: o.data_pvc.clone(), read_only: true }),
        },
    ]
}
