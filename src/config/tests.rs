//! The precedence rules, each its own test; the file, the environment and
//! the flags as layers; the checks on the combined result.

use super::*;

fn env(pairs: &[(&str, &str)]) -> EnvMap {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn file(yaml: &str) -> FileConfig {
    parse_file(Path::new("test.yaml"), yaml).expect("valid yaml")
}

fn resolve_with(yaml: Option<&str>, e: &[(&str, &str)], flags: Overrides) -> Result<Settings, ConfigError> {
    let f = yaml.map(file);
    let path = Path::new("/proj/config/docker_config.yaml");
    resolve(f.as_ref().map(|f| (path, f)), &env(e), &flags, Path::new("/cwd"))
}

#[test]
fn defaults_are_the_documented_ones() {
    let s = resolve_with(None, &[], Overrides::default()).expect("defaults valid");
    assert_eq!(s.memory_bytes, 2 << 30);
    assert_eq!(s.memory_swap_bytes, s.memory_bytes);
    assert_eq!(s.cpus, 0.5);
    assert_eq!(s.timeout_seconds, 600);
    assert_eq!(s.network_mode, "none");
    assert!(s.read_only);
    assert_eq!(s.pids_limit, 100);
    assert_eq!(s.tmpfs.size_bytes, 1 << 30);
    assert_eq!(s.tmpfs.options, "rw,noexec,nosuid,nodev");
    assert_eq!(s.seccomp_profile, PathBuf::from("builtin"));
    assert_eq!(s.seccomp_json.as_deref(), Some(crate::seccomp::EMBEDDED));
    assert!(s.insecure_reasons.is_empty());
}

#[test]
fn memory_file_over_default() {
    let s = resolve_with(Some("docker:\n  memory_limit: 1g\n"), &[], Overrides::default()).expect("ok");
    assert_eq!(s.memory_bytes, 1 << 30);
}

#[test]
fn memory_env_over_file() {
    let s =
        resolve_with(Some("docker:\n  memory_limit: 1g\n"), &[("DOCKER_MEMORY_LIMIT", "512m")], Overrides::default())
            .expect("ok");
    assert_eq!(s.memory_bytes, 512 << 20);
}

#[test]
fn memory_flag_over_env() {
    let flags = Overrides { memory: Some("256m".into()), ..Default::default() };
    let s = resolve_with(None, &[("DOCKER_MEMORY_LIMIT", "512m")], flags).expect("ok");
    assert_eq!(s.memory_bytes, 256 << 20);
}

#[test]
fn finsandbox_env_name_over_docker_env_name() {
    let s = resolve_with(None, &[("DOCKER_CPU_LIMIT", "1.5"), ("FINSANDBOX_CPU_LIMIT", "0.25")], Overrides::default())
        .expect("ok");
    assert_eq!(s.cpus, 0.25);
}

#[test]
fn timeout_env_over_file_and_flag_over_env() {
    let yaml = Some("docker:\n  timeout_seconds: 100\n");
    let s = resolve_with(yaml, &[("DOCKER_TIMEOUT", "50")], Overrides::default()).expect("ok");
    assert_eq!(s.timeout_seconds, 50);
    let flags = Overrides { timeout_seconds: Some(7), ..Default::default() };
    let s = resolve_with(yaml, &[("DOCKER_TIMEOUT", "50")], flags).expect("ok");
    assert_eq!(s.timeout_seconds, 7);
}

#[test]
fn cpu_file_over_default() {
    let s = resolve_with(Some("docker:\n  cpu_limit: 1.5\n"), &[], Overrides::default()).expect("ok");
    assert_eq!(s.cpus, 1.5);
}

#[test]
fn swap_follows_memory_set_at_a_higher_layer() {
    let yaml = Some("docker:\n  memory_limit: 2g\n  memory_swap_limit: 2g\n");
    let flags = Overrides { memory: Some("256m".into()), ..Default::default() };
    let s = resolve_with(yaml, &[], flags).expect("ok");
    assert_eq!(s.memory_swap_bytes, 256 << 20, "swap must follow memory so no swap appears");
}

#[test]
fn swap_above_memory_is_insecure() {
    let yaml = Some("docker:\n  memory_limit: 1g\n  memory_swap_limit: 2g\n");
    let err = resolve_with(yaml, &[], Overrides::default()).expect_err("swap refused");
    assert!(matches!(err, ConfigError::Insecure { .. }), "{err}");
}

#[test]
fn swap_below_memory_is_an_error() {
    let yaml = Some("docker:\n  memory_limit: 1g\n  memory_swap_limit: 512m\n");
    let err = resolve_with(yaml, &[], Overrides::default()).expect_err("invalid");
    assert!(err.to_string().contains("memory_swap_limit"), "{err}");
}

#[test]
fn unknown_key_names_key_and_file() {
    let err = parse_file(Path::new("cfg.yaml"), "docker:\n  memory_limt: 1g\n").expect_err("unknown key");
    let msg = err.to_string();
    assert!(msg.contains("memory_limt"), "{msg}");
    assert!(msg.contains("cfg.yaml"), "{msg}");
}

#[test]
fn unknown_top_level_section_is_an_error() {
    let err = parse_file(Path::new("cfg.yaml"), "dockr:\n  enabled: true\n").expect_err("unknown section");
    assert!(err.to_string().contains("dockr"), "{err}");
}

#[test]
fn wrong_type_is_an_error() {
    let err = parse_file(Path::new("cfg.yaml"), "docker:\n  cpu_limit: lots\n").expect_err("type");
    assert!(err.to_string().contains("cfg.yaml"), "{err}");
}

#[test]
fn disabled_in_file_is_refused_not_run_on_host() {
    let err = resolve_with(Some("docker:\n  enabled: false\n"), &[], Overrides::default()).expect_err("refused");
    assert!(matches!(err, ConfigError::Disabled { .. }));
    assert!(err.to_string().contains("never runs strategies outside"), "{err}");
}

#[test]
fn disabled_by_env_is_refused() {
    let err = resolve_with(None, &[("DOCKER_SANDBOX_ENABLED", "false")], Overrides::default()).expect_err("refused");
    assert!(matches!(err, ConfigError::Disabled { .. }));
}

#[test]
fn env_enable_beats_file_disable() {
    let s = resolve_with(Some("docker:\n  enabled: false\n"), &[("FINSANDBOX_ENABLED", "1")], Overrides::default());
    assert!(s.is_ok());
}

#[test]
fn network_other_than_none_needs_allow_insecure() {
    let err = resolve_with(None, &[("DOCKER_NETWORK_MODE", "bridge")], Overrides::default()).expect_err("refused");
    assert!(matches!(err, ConfigError::Insecure { .. }));
    let flags = Overrides { allow_insecure: true, ..Default::default() };
    let s = resolve_with(None, &[("DOCKER_NETWORK_MODE", "bridge")], flags).expect("allowed");
    assert_eq!(s.insecure_reasons.len(), 1);
    assert!(s.insecure_reasons[0].contains("bridge"));
}

#[test]
fn writable_root_needs_allow_insecure() {
    let err = resolve_with(None, &[("DOCKER_READ_ONLY", "false")], Overrides::default()).expect_err("refused");
    assert!(err.to_string().contains("read_only"), "{err}");
}

#[test]
fn tmpfs_without_noexec_needs_allow_insecure() {
    let yaml = Some("docker:\n  tmpfs: { options: \"rw,nosuid,nodev\" }\n");
    let err = resolve_with(yaml, &[], Overrides::default()).expect_err("refused");
    assert!(err.to_string().contains("noexec"), "{err}");
}

#[test]
fn bad_env_values_name_the_variable() {
    let err = resolve_with(None, &[("DOCKER_TIMEOUT", "soon")], Overrides::default()).expect_err("bad");
    assert!(err.to_string().contains("DOCKER_TIMEOUT"), "{err}");
    let err = resolve_with(None, &[("DOCKER_READ_ONLY", "maybe")], Overrides::default()).expect_err("bad");
    assert!(err.to_string().contains("DOCKER_READ_ONLY"), "{err}");
}

#[test]
fn limits_out_of_range_are_errors() {
    for (yaml, key) in [
        ("docker:\n  cpu_limit: 0\n", "cpu_limit"),
        ("docker:\n  timeout_seconds: 0\n", "timeout_seconds"),
        ("docker:\n  pids_limit: 0\n", "pids_limit"),
        ("docker:\n  memory_limit: 1m\n", "memory_limit"),
    ] {
        let err = resolve_with(Some(yaml), &[], Overrides::default()).expect_err(yaml);
        assert!(err.to_string().contains(key), "{yaml}: {err}");
    }
}

#[test]
fn seccomp_path_relative_to_project_of_config_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let proj = dir.path().join("proj");
    std::fs::create_dir_all(proj.join("seccomp")).expect("mkdir");
    std::fs::write(proj.join("seccomp/x.json"), crate::seccomp::EMBEDDED).expect("write");
    let f = file("docker:\n  seccomp_profile: seccomp/x.json\n");
    let cfg = proj.join("config/docker_config.yaml");
    let s = resolve(Some((&cfg, &f)), &EnvMap::new(), &Overrides::default(), Path::new("/cwd")).expect("ok");
    assert_eq!(s.seccomp_profile, proj.join("seccomp/x.json"));
}

/// A profile file judged by what it does, not by its name.
fn profile_file(json: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("finsandbox.json");
    std::fs::write(&path, json).expect("write");
    (dir, path.display().to_string())
}

#[test]
fn a_profile_that_allows_by_default_needs_allow_insecure() {
    let (_d, path) = profile_file(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#);
    let flags = Overrides { seccomp_profile: Some(path.clone()), ..Default::default() };
    let err = resolve_with(None, &[], flags).expect_err("refused");
    assert!(matches!(err, ConfigError::Insecure { .. }), "{err}");
    let flags = Overrides { seccomp_profile: Some(path), allow_insecure: true, ..Default::default() };
    let s = resolve_with(None, &[], flags).expect("allowed");
    assert!(s.insecure_reasons.iter().any(|r| r.contains("SCMP_ACT_ALLOW")), "{:?}", s.insecure_reasons);
}

#[test]
fn a_profile_that_allows_a_dangerous_call_needs_allow_insecure() {
    let (_d, path) = profile_file(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let flags = Overrides { seccomp_profile: Some(path), ..Default::default() };
    let err = resolve_with(None, &[], flags).expect_err("refused");
    assert!(err.to_string().contains("ptrace"), "{err}");
}

#[test]
fn a_strict_profile_file_is_accepted() {
    let (_d, path) = profile_file(crate::seccomp::EMBEDDED);
    let flags = Overrides { seccomp_profile: Some(path), ..Default::default() };
    assert!(resolve_with(None, &[], flags).expect("ok").insecure_reasons.is_empty());
}

#[test]
fn a_profile_that_is_not_a_regular_file_fails_closed() {
    for path in ["/dev/zero", "/tmp"] {
        let flags = Overrides { seccomp_profile: Some(path.into()), ..Default::default() };
        let err = resolve_with(None, &[], flags).expect_err(path);
        assert!(matches!(err, ConfigError::Seccomp { .. }), "{path}: {err}");
    }
}

#[test]
fn a_later_exec_undoes_noexec() {
    for opts in ["rw,noexec,nosuid,nodev,exec", "noexec,nosuid,nodev,defaults", "rw,nosuid,nodev,noexec,exec"] {
        let yaml = format!("docker:\n  tmpfs: {{ options: \"{opts}\" }}\n");
        let err = resolve_with(Some(&yaml), &[], Overrides::default()).expect_err(opts);
        assert!(err.to_string().contains("noexec"), "{opts}: {err}");
    }
    let ok = "docker:\n  tmpfs: { options: \"rw,exec,noexec,nosuid,nodev\" }\n";
    assert!(resolve_with(Some(ok), &[], Overrides::default()).is_ok(), "the last word wins");
}

#[test]
fn monitoring_file_over_default() {
    let s =
        resolve_with(Some("monitoring:\n  max_cpu_percent: 50\n  cpu_window_seconds: 2\n"), &[], Overrides::default())
            .expect("ok");
    assert_eq!(s.monitoring.max_cpu_percent, 50.0);
    assert_eq!(s.monitoring.cpu_window_seconds, 2.0);
    assert_eq!(s.monitoring.max_pids, 90);
    assert!(resolve_with(Some("monitoring:\n  max_cpu_percent: -1\n"), &[], Overrides::default()).is_err());
}

#[test]
fn cleanup_file_over_default() {
    let s = resolve_with(
        Some("cleanup:\n  sweep_on_start: false\n  alert_on_orphaned_containers: 9\n"),
        &[],
        Overrides::default(),
    )
    .expect("ok");
    assert!(!s.sweep_on_start);
    assert_eq!(s.alert_on_orphaned_containers, 9);
    assert_eq!(s.cleanup_grace_seconds, 60);
}

#[test]
fn screening_file_over_default() {
    let s = resolve_with(
        Some("screening:\n  allowed_imports: [pandas, numpy]\n  max_nesting: 10\n"),
        &[],
        Overrides::default(),
    )
    .expect("ok");
    assert_eq!(s.screening.allowed_imports, ["pandas", "numpy"]);
    assert_eq!(s.screening.max_nesting, 10);
    assert_eq!(s.screening.max_source_bytes, 256 * 1024);
}

#[test]
fn allowing_a_dangerous_module_needs_allow_insecure() {
    let yaml = Some("screening:\n  allowed_imports: [pandas, os]\n");
    let err = resolve_with(yaml, &[], Overrides::default()).expect_err("refused");
    assert!(err.to_string().contains("`os`"), "{err}");
    let flags = Overrides { allow_insecure: true, ..Default::default() };
    assert!(resolve_with(yaml, &[], flags).is_ok());
}

#[test]
fn bad_screening_values_are_errors() {
    for yaml in ["screening:\n  allowed_imports: ['os system']\n", "screening:\n  max_nesting: 1\n"] {
        assert!(resolve_with(Some(yaml), &[], Overrides::default()).is_err(), "{yaml}");
    }
    assert!(parse_file(Path::new("c.yaml"), "screening:\n  typo: 1\n").is_err());
}

#[test]
fn seccomp_default_is_the_embedded_profile_whatever_the_directory() {
    let s = resolve_with(Some("cleanup:\n  sweep_on_start: false\n"), &[], Overrides::default()).expect("ok");
    assert_eq!(s.seccomp_profile, PathBuf::from("builtin"));
    assert_eq!(s.seccomp_json.as_deref(), Some(crate::seccomp::EMBEDDED));
}

#[test]
fn missing_seccomp_profile_fails_closed() {
    let flags = Overrides { seccomp_profile: Some("/nonexistent/profile.json".into()), ..Default::default() };
    let err = resolve_with(None, &[], flags).expect_err("missing");
    assert!(err.to_string().contains("cannot read"), "{err}");
}

#[test]
fn sizes_parse_like_docker() {
    assert_eq!(parse_size("k", "2g", "t").ok(), Some(2 << 30));
    assert_eq!(parse_size("k", "512m", "t").ok(), Some(512 << 20));
    assert_eq!(parse_size("k", "512MiB", "t").ok(), Some(512 << 20));
    assert_eq!(parse_size("k", "1.5g", "t").ok(), Some(3 << 29));
    assert_eq!(parse_size("k", "4096", "t").ok(), Some(4096));
    assert!(parse_size("k", "2x", "t").is_err());
    assert!(parse_size("k", "", "t").is_err());
    assert!(parse_size("k", "-1g", "t").is_err());
}

#[test]
fn the_shipped_config_file_parses_and_matches_defaults() {
    let text = include_str!("../../config/docker_config.yaml");
    let f = parse_file(Path::new("config/docker_config.yaml"), text).expect("shipped config parses");
    let s = resolve(
        Some((Path::new("/p/config/docker_config.yaml"), &f)),
        &EnvMap::new(),
        &Overrides::default(),
        Path::new("/p"),
    )
    .expect("shipped config valid");
    let d = resolve(None, &EnvMap::new(), &Overrides::default(), Path::new("/p")).expect("defaults");
    assert_eq!(s, d, "config/docker_config.yaml must restate the built-in defaults");
}

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, "cleanup:\n  sweep_on_start: false\n").expect("write");
}

#[test]
fn config_lookup_first_found_wins_in_the_documented_order() {
    let root = tempfile::tempdir().expect("tmp");
    let (cwd, home, xdg) = (root.path().join("proj"), root.path().join("home"), root.path().join("xdg"));
    let system = root.path().join("etc/finsandbox/config.yaml");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    let e = env(&[("HOME", home.to_str().expect("utf8"))]);
    let which = |e: &EnvMap| config_path_in(None, e, &cwd, &system).map(|f| (f.path, f.explicit));
    assert_eq!(which(&e), None, "nothing anywhere: no file, not an error");
    touch(&system);
    assert_eq!(which(&e), Some((system.clone(), false)));
    touch(&home.join(".config/finsandbox/config.yaml"));
    assert_eq!(which(&e), Some((home.join(".config/finsandbox/config.yaml"), false)));
    let e_xdg = env(&[("HOME", home.to_str().expect("utf8")), ("XDG_CONFIG_HOME", xdg.to_str().expect("utf8"))]);
    touch(&xdg.join("finsandbox/config.yaml"));
    assert_eq!(which(&e_xdg), Some((xdg.join("finsandbox/config.yaml"), false)), "XDG_CONFIG_HOME over ~/.config");
    touch(&cwd.join("config/docker_config.yaml"));
    assert_eq!(which(&e_xdg), Some((cwd.join("config/docker_config.yaml"), false)));
    touch(&cwd.join("finsandbox.yaml"));
    assert_eq!(which(&e_xdg), Some((cwd.join("finsandbox.yaml"), false)));
    let e_var = env(&[("FINSANDBOX_CONFIG", "/x/named.yaml")]);
    assert_eq!(which(&e_var), Some((PathBuf::from("/x/named.yaml"), true)), "the variable over every file");
    let flag = config_path_in(Some(Path::new("/y/flag.yaml")), &e_var, &cwd, &system).map(|f| f.how);
    assert_eq!(flag.as_deref(), Some("--config"), "the flag over the variable");
}

#[test]
fn a_config_that_is_not_a_regular_file_is_refused_at_once() {
    for path in ["/dev/zero", "/"] {
        let err = load_file(Some(Path::new(path)), &EnvMap::new(), Path::new("/")).expect_err(path);
        assert!(matches!(err, ConfigError::Read { .. }), "{path}: {err}");
    }
}

#[test]
fn explain_names_the_layer_of_each_value() {
    let f = file("docker:\n  timeout_seconds: 100\n");
    let flags = Overrides { cpus: Some(1.0), ..Default::default() };
    let e = explain(
        Some((Path::new("/p/c.yaml"), &f)),
        &env(&[("FINSANDBOX_MEMORY_LIMIT", "1g")]),
        &flags,
        Path::new("/p"),
    )
    .expect("explains");
    let get = |k: &str| e.iter().find(|x| x.key == k).map(|x| (x.value.clone(), x.origin.clone()));
    assert_eq!(get("timeout_seconds"), Some(("100".into(), "config file `/p/c.yaml`".into())));
    assert_eq!(get("memory_bytes"), Some(((1u64 << 30).to_string(), "environment `FINSANDBOX_MEMORY_LIMIT`".into())));
    assert_eq!(get("cpus"), Some(("1".into(), "command line".into())));
    assert_eq!(get("pids_limit").map(|x| x.1), Some("default".into()));
    assert!(get("memory_swap_bytes").map(|x| x.1).unwrap_or_default().starts_with("follows memory_bytes"));
}

fn k8s_with(yaml: Option<&str>, e: &[(&str, &str)]) -> Result<K8sSettings, ConfigError> {
    let f = yaml.map(file);
    let path = Path::new("/proj/config/docker_config.yaml");
    resolve_k8s(f.as_ref().map(|f| (path, f)), &env(e), Path::new("/cwd"))
}

#[test]
fn k8s_accept_gaps_default_is_none() {
    assert_eq!(k8s_with(None, &[]).expect("ok"), K8sSettings { accept_gaps: vec![], origin: "default".into() });
}

#[test]
fn k8s_accept_gaps_env_over_file() {
    let yaml = "k8s:\n  accept_gaps: [pids_limit]\n";
    let k = k8s_with(Some(yaml), &[]).expect("ok");
    assert_eq!(k.accept_gaps, ["pids_limit"]);
    assert!(k.origin.contains("config file"), "{}", k.origin);
    let k = k8s_with(Some(yaml), &[("FINSANDBOX_K8S_ACCEPT_GAPS", "log_size, tmpfs_noexec")]).expect("ok");
    assert_eq!(k.accept_gaps, ["log_size", "tmpfs_noexec"]);
    assert!(k.origin.contains("FINSANDBOX_K8S_ACCEPT_GAPS"), "{}", k.origin);
}

#[test]
fn k8s_accept_gaps_unknown_id_is_refused_naming_key_and_origin() {
    let e = k8s_with(Some("k8s:\n  accept_gaps: [pid_limit]\n"), &[]).expect_err("unknown id");
    let msg = e.to_string();
    assert!(
        msg.contains("k8s.accept_gaps") && msg.contains("pid_limit") && msg.contains("docker_config.yaml"),
        "{msg}"
    );
    let e = k8s_with(None, &[("FINSANDBOX_K8S_ACCEPT_GAPS", "everything")]).expect_err("unknown id");
    assert!(e.to_string().contains("everything"), "{e}");
}

#[test]
fn k8s_accept_gaps_do_not_change_the_run_settings() {
    let plain = resolve_with(None, &[], Overrides::default()).expect("ok");
    let with = resolve_with(Some("k8s:\n  accept_gaps: [pids_limit]\n"), &[], Overrides::default()).expect("ok");
    assert_eq!(plain, with, "the effective-config hash of local runs must not move");
}
