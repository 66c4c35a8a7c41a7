//! The seccomp profile: the measured allow-list embedded in the binary (so a
//! run needs no file from the checkout), and a judge that reads any profile
//! by what it does, not by its name. A profile whose default action lets
//! calls through, or that allows any call on the [`DANGEROUS`] list, weakens
//! the sandbox: it needs `--allow-insecure` and is recorded in the result.

use serde::Deserialize;

/// The name that selects the embedded profile (the default).
pub const BUILTIN: &str = "builtin";
/// The word that turns seccomp off (refused without `--allow-insecure`).
pub const UNCONFINED: &str = "unconfined";
/// `seccomp/finsandbox.json`, as measured by `seccomp/measure.sh`.
pub const EMBEDDED: &str = include_str!("../seccomp/finsandbox.json");
/// Profiles are small; anything larger is not a profile.
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// Calls a sandbox profile must refuse: the kernel surface container escapes
/// and sandbox bypasses go through (namespaces and mounts, tracing and other
/// processes' memory, kernel modules and keyrings, BPF, io_uring, file
/// handles, fileless execution).
pub const DANGEROUS: &[&str] = &[
    "add_key",
    "bpf",
    "chroot",
    "delete_module",
    "execveat",
    "finit_module",
    "fsmount",
    "fsopen",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "memfd_create",
    "mount",
    "move_mount",
    "name_to_handle_at",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "reboot",
    "request_key",
    "setns",
    "swapoff",
    "swapon",
    "umount2",
    "unshare",
    "userfaultfd",
];

/// Actions that refuse a call.
const REFUSING: &[&str] =
    &["SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"];

#[derive(Deserialize)]
struct Profile {
    #[serde(rename = "defaultAction")]
    default_action: String,
    #[serde(default)]
    syscalls: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(default)]
    names: Vec<String>,
    /// The older single-name form.
    #[serde(default)]
    name: Option<String>,
    action: String,
}

/// The embedded profile's sha256, as `--version` and provenance report it.
pub fn embedded_sha256() -> String {
    crate::host::hex_sha256(EMBEDDED.as_bytes())
}

/// Judge a profile's JSON. `Err`: not a usable profile (a run must not
/// happen with it). `Ok(reasons)`: how it weakens the sandbox; empty when
/// it refuses by default and allows none of the dangerous calls.
pub fn judge(json: &str) -> Result<Vec<String>, String> {
    let p: Profile = serde_json::from_str(json).map_err(|e| format!("not a seccomp profile: {e}"))?;
    let mut weak = Vec::new();
    if !REFUSING.contains(&p.default_action.as_str()) {
        weak.push(format!("the seccomp profile's defaultAction `{}` lets unlisted calls through", p.default_action));
    }
    let mut allowed: Vec<&str> = Vec::new();
    for r in p.syscalls.iter().filter(|r| !REFUSING.contains(&r.action.as_str())) {
        for n in r.names.iter().chain(r.name.iter()) {
            if DANGEROUS.contains(&n.as_str()) && !allowed.contains(&n.as_str()) {
                allowed.push(n);
            }
        }
    }
    if !allowed.is_empty() {
        weak.push(format!("the seccomp profile allows {}", allowed.join(", ")));
    }
    Ok(weak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_profile_is_strict() {
        assert_eq!(judge(EMBEDDED), Ok(Vec::new()));
    }

    #[test]
    fn a_permissive_default_is_weak_whatever_the_file_is_called() {
        let w = judge(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#).expect("parses");
        assert!(w[0].contains("SCMP_ACT_ALLOW"), "{w:?}");
        let w = judge(r#"{"defaultAction":"SCMP_ACT_LOG"}"#).expect("parses");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn allowing_a_dangerous_call_is_weak_in_either_rule_form() {
        let w = judge(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                {"names":["read","ptrace"],"action":"SCMP_ACT_ALLOW"},
                {"name":"unshare","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
                {"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )
        .expect("parses");
        assert_eq!(w, ["the seccomp profile allows ptrace, unshare"]);
    }

    #[test]
    fn docker_default_profile_is_weaker_than_ours() {
        // Docker's default allows e.g. ptrace on new kernels and personality.
        let docker = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}]}"#;
        assert!(!judge(docker).expect("parses").is_empty());
    }

    #[test]
    fn not_a_profile_is_an_error() {
        assert!(judge("[]").is_err());
        assert!(judge(r#"{"syscalls":[]}"#).is_err());
        assert!(judge("not json").is_err());
    }
}
