//! The Kubernetes objects finsandbox emits, as typed serde structs: exactly
//! the kinds and fields the renderer sets, nothing more.
//!
//! Why not `k8s-openapi`: every field of its types is an `Option` and every
//! struct `Default`, so `..Default::default()` drops a hardening field
//! without a word. Here the fields we must always emit (`readOnlyRootFilesystem`,
//! `allowPrivilegeEscalation`, `capabilities`, `seccompProfile`, requests and
//! limits, ...) are plain fields: leaving one out does not compile. It also
//! builds every type of every API group for the chosen version (measured:
//! ~23 s for k8s-openapi 0.29 `v1_33` plus ~11 s for its `jiff` dependency,
//! release, on this loaded 2-core machine; README, "Dependencies and why")
//! for five kinds we emit. Field names follow the API's camelCase
//! (`rename_all`), optional ones are skipped when unset, and the schema check
//! is external: `scripts/k8s_validate.sh` runs `kubernetes-validate --strict`
//! (which rejects unknown fields) for every version we claim.

use std::collections::BTreeMap;

use serde::Serialize;

pub type Map = BTreeMap<String, String>;

/// Any object we emit; serialised without a tag (each carries its own
/// `apiVersion` and `kind`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Object {
    ConfigMap(ConfigMap),
    NetworkPolicy(NetworkPolicy),
    RuntimeClass(RuntimeClass),
    Pod(Pod),
    Job(Job),
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub annotations: Map,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub immutable: bool,
    pub data: Map,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: NetworkPolicySpec,
}

/// No `ingress` or `egress` rules with both policy types: deny all.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: Map,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeClass {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub handler: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: JobSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub completion_mode: &'static str,
    pub completions: u32,
    pub parallelism: u32,
    pub backoff_limit_per_index: u32,
    pub max_failed_indexes: u32,
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    pub metadata: TemplateMeta,
    pub spec: PodSpec,
}

/// A pod template's metadata has no name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    pub labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub annotations: Map,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub restart_policy: &'static str,
    pub active_deadline_seconds: u64,
    pub termination_grace_period_seconds: u64,
    pub automount_service_account_token: bool,
    pub enable_service_links: bool,
    pub host_network: bool,
    #[serde(rename = "hostPID")]
    pub host_pid: bool,
    #[serde(rename = "hostIPC")]
    pub host_ipc: bool,
    pub share_process_namespace: bool,
    pub hostname: &'static str,
    pub dns_policy: &'static str,
    pub dns_config: DnsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    pub security_context: PodSecurityContext,
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsConfig {
    pub nameservers: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    pub run_as_non_root: bool,
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub localhost_profile: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: &'static str,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub resources: Resources,
    pub security_context: SecurityContext,
    pub volume_mounts: Vec<VolumeMount>,
    pub termination_message_policy: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    pub requests: Map,
    pub limits: Map,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    pub run_as_non_root: bool,
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
    pub privileged: bool,
    pub capabilities: Capabilities,
    pub seccomp_profile: SeccompProfile,
    pub proc_mount: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: &'static str,
    pub mount_path: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<PvcVolume>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDir {
    pub medium: &'static str,
    pub size_limit: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapVolume {
    pub name: String,
    pub default_mode: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcVolume {
    pub claim_name: String,
    pub read_only: bool,
}
