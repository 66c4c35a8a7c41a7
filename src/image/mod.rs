//! Building the sandbox image: `finsandbox image build`.
//!
//! Two methods, one result: Python 3.11 (Debian bookworm's minor version),
//! the wheels pinned with hashes in `image/requirements.lock`, a user
//! 1000:1000, modules byte-compiled (the root filesystem is read-only at run
//! time), and labels naming the recipe, harness protocol and library versions
//! so `exec` can tell a stale image from a current one.
//!
//! * `debootstrap`: no container registry needed. A Debian minbase rootfs with
//!   Debian's python3, the wheels downloaded by the host's pip (from PyPI, or
//!   a local cache) and unpacked into it, then `tar | docker import`.
//! * `dockerfile`: `image/Dockerfile`, from a digest-pinned python slim base.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::EnvMap;
use crate::engine::Engine;
use crate::error::EngineError;

mod check;
pub use check::{check_image, ImageInfo};

/// Bump when anything that goes into the image changes.
pub const RECIPE_VERSION: &str = "1";
pub const LABEL_RECIPE: &str = "finsandbox.image-recipe";
pub const LABEL_PROTOCOL: &str = "finsandbox.harness-protocol";
pub const LABEL_METHOD: &str = "finsandbox.image-method";
/// `finsandbox.version.numpy=1.26.4` and so on.
pub const LABEL_VERSION_PREFIX: &str = "finsandbox.version.";

pub const REQUIREMENTS: &str = include_str!("../../image/requirements.lock");
const DOCKERFILE: &str = include_str!("../../image/Dockerfile");
const SUITE: &str = "bookworm";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const SITE: &str = "usr/local/lib/python3.11/dist-packages";
const PASSWD_LINE: &str = "sandbox:x:1000:1000:finsandbox:/tmp:/usr/sbin/nologin\n";
const GROUP_LINE: &str = "sandbox:x:1000:\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Offline: debootstrap + pip wheels + `docker import` (no registry).
    Debootstrap,
    /// `docker build` from a digest-pinned python:3.11-slim base (needs a registry).
    Dockerfile,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Debootstrap => "debootstrap",
            Method::Dockerfile => "dockerfile",
        }
    }
}

pub struct BuildOptions {
    pub method: Method,
    pub tag: String,
    pub mirror: Option<String>,
    pub force: bool,
    pub show_progress: bool,
}

/// The pinned `name==version` pairs from the lock file.
pub fn pinned_versions() -> Vec<(String, String)> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let spec = l.split_whitespace().next()?;
            let (n, v) = spec.split_once("==")?;
            Some((n.to_string(), v.to_string()))
        })
        .collect()
}

/// The labels every image carries, whichever method built it.
pub fn image_labels(method: Method, python: &str) -> Vec<(String, String)> {
    let mut l = vec![
        (LABEL_RECIPE.to_string(), RECIPE_VERSION.to_string()),
        (LABEL_PROTOCOL.to_string(), crate::harness::PROTOCOL_STR.to_string()),
        (LABEL_METHOD.to_string(), method.as_str().to_string()),
        (format!("{LABEL_VERSION_PREFIX}python"), python.to_string()),
    ];
    for (n, v) in pinned_versions() {
        if ["numpy", "pandas", "pyarrow"].contains(&n.as_str()) {
            l.push((format!("{LABEL_VERSION_PREFIX}{n}"), v));
        }
    }
    l
}

/// Returns the method used, or `None` when a current image already existed.
pub fn build(engine: &Engine, opts: &BuildOptions, env: &EnvMap) -> Result<Option<Method>, EngineError> {
    if !opts.force && check_image(engine, &opts.tag).is_ok() {
        return Ok(None);
    }
    let progress = Progress::new(opts.show_progress);
    let result = match opts.method {
        Method::Debootstrap => build_debootstrap(engine, opts, env, &progress),
        Method::Dockerfile => build_dockerfile(engine, opts, &progress),
    };
    progress.finish(result.is_ok());
    result?;
    // The image must pass the same check `exec` applies.
    check_image(engine, &opts.tag)?;
    Ok(Some(opts.method))
}

fn build_debootstrap(engine: &Engine, opts: &BuildOptions, env: &EnvMap, p: &Progress) -> Result<(), EngineError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(EngineError::Build(
            "`--method debootstrap` needs root (debootstrap and chroot); run it with sudo".into(),
        ));
    }
    let debootstrap = which::which("debootstrap")
        .map_err(|_| EngineError::Build("`debootstrap` is not installed; `apt-get install debootstrap`".into()))?;
    let python = which::which("python3")
        .map_err(|_| EngineError::Build("the host needs `python3` with pip to fetch the pinned wheels".into()))?;

    let work = tempfile::Builder::new()
        .prefix("finsandbox-image-")
        .tempdir_in("/var/tmp")
        .map_err(|e| EngineError::Build(format!("cannot create a work directory in /var/tmp: {e}")))?;
    let rootfs = work.path().join("rootfs");
    let mirror = opts.mirror.clone().unwrap_or_else(|| DEFAULT_MIRROR.to_string());

    p.step("debootstrap: Debian bookworm minbase with python3 (about a minute)");
    run_step(
        "debootstrap",
        duct::cmd(
            &debootstrap,
            [
                OsString::from("--variant=minbase"),
                OsString::from("--include=python3,python3-seccomp"),
                OsString::from(SUITE),
                rootfs.clone().into_os_string(),
                OsString::from(&mirror),
            ],
        ),
    )?;

    install_wheels(&python, work.path(), &rootfs, env, p)?;
    let py_version = configure_rootfs(&rootfs, p)?;
    import_rootfs(engine, &rootfs, &opts.tag, &py_version, p)
}

/// The pinned wheels, fetched by the host's pip (hash-checked, cached) and
/// unpacked into the image's site-packages.
fn install_wheels(python: &Path, work: &Path, rootfs: &Path, env: &EnvMap, p: &Progress) -> Result<(), EngineError> {
    p.step("pip: fetching the pinned wheels (hash-checked)");
    let cache = wheel_cache(env);
    std::fs::create_dir_all(&cache)
        .map_err(|e| EngineError::Build(format!("cannot create `{}`: {e}", cache.display())))?;
    let lock = work.join("requirements.lock");
    std::fs::write(&lock, REQUIREMENTS).map_err(|e| EngineError::Build(e.to_string()))?;
    let platform = [
        "--only-binary=:all:",
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
    ];
    let mut download: Vec<OsString> =
        ["-m", "pip", "download", "--no-deps", "--require-hashes", "--disable-pip-version-check"]
            .iter()
            .map(OsString::from)
            .collect();
    download.extend(platform.iter().map(OsString::from));
    download.extend([
        OsString::from("-r"),
        lock.clone().into_os_string(),
        OsString::from("-d"),
        cache.clone().into_os_string(),
    ]);
    run_step("pip download", duct::cmd(python, download))?;

    p.step("pip: installing the wheels into the image");
    let mut install: Vec<OsString> = [
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--require-hashes",
        "--no-compile",
        "--disable-pip-version-check",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    install.extend(platform.iter().map(OsString::from));
    install.extend([
        OsString::from("--find-links"),
        cache.into_os_string(),
        OsString::from("--target"),
        rootfs.join(SITE).into_os_string(),
        OsString::from("-r"),
        lock.into_os_string(),
    ]);
    run_step("pip install", duct::cmd(python, install))
}

/// The sandbox user, byte-compiled modules (the root is read-only at run
/// time), no apt caches. Returns the image's Python version.
fn configure_rootfs(rootfs: &Path, p: &Progress) -> Result<String, EngineError> {
    p.step("configuring: user 1000:1000, byte-compiling modules");
    append(&rootfs.join("etc/passwd"), PASSWD_LINE)?;
    append(&rootfs.join("etc/group"), GROUP_LINE)?;
    run_step(
        "compileall",
        duct::cmd!(
            "chroot",
            rootfs,
            "python3",
            "-m",
            "compileall",
            "-q",
            "-j0",
            "/usr/local/lib/python3.11",
            "/usr/lib/python3"
        ),
    )?;
    let py_version = duct::cmd!("chroot", rootfs, "python3", "-c", "import platform; print(platform.python_version())")
        .read()
        .map_err(|e| EngineError::Build(format!("python3 in the new rootfs does not run: {e}")))?;
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        clear_dir(&rootfs.join(dir));
    }
    Ok(py_version.trim().to_string())
}

/// `tar | docker import` with the image's user, environment and labels.
fn import_rootfs(engine: &Engine, rootfs: &Path, tag: &str, py_version: &str, p: &Progress) -> Result<(), EngineError> {
    p.step("docker import: loading the root filesystem into the engine");
    let mut import: Vec<OsString> = vec!["import".into()];
    for change in [
        "USER 1000:1000",
        "WORKDIR /tmp",
        "ENV LANG=C.UTF-8",
        "ENV HOME=/tmp",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ] {
        import.push("--change".into());
        import.push(change.into());
    }
    for (k, v) in image_labels(Method::Debootstrap, py_version) {
        import.push("--change".into());
        import.push(format!("LABEL {k}={v}").into());
    }
    import.push("-".into());
    import.push(tag.into());
    let tar = duct::cmd!("tar", "--numeric-owner", "-C", rootfs, "-c", ".");
    run_step("tar | docker import", tar.pipe(engine.expression(import)))?;
    Ok(())
}

fn build_dockerfile(engine: &Engine, opts: &BuildOptions, p: &Progress) -> Result<(), EngineError> {
    let work = tempfile::tempdir().map_err(|e| EngineError::Build(e.to_string()))?;
    std::fs::write(work.path().join("Dockerfile"), DOCKERFILE).map_err(|e| EngineError::Build(e.to_string()))?;
    std::fs::write(work.path().join("requirements.lock"), REQUIREMENTS)
        .map_err(|e| EngineError::Build(e.to_string()))?;
    p.step("docker build: python:3.11-slim (pinned digest) + pinned wheels");
    let mut args: Vec<OsString> = vec!["build".into(), "--pull=false".into(), "--tag".into(), opts.tag.clone().into()];
    for (k, v) in image_labels(Method::Dockerfile, "3.11") {
        args.push("--label".into());
        args.push(format!("{k}={v}").into());
    }
    args.push(work.path().into());
    run_step("docker build", engine.expression(args))?;
    Ok(())
}

/// Where downloaded wheels are kept between builds.
fn wheel_cache(env: &EnvMap) -> PathBuf {
    let base = env
        .get("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    base.join("finsandbox/wheels")
}

fn run_step(what: &str, expr: duct::Expression) -> Result<(), EngineError> {
    let out = expr
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .and_then(|h| h.into_output())
        .map_err(|e| EngineError::Build(format!("{what}: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = stderr.lines().chain(stdout.lines()).filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(12)..].join("\n  ");
        return Err(EngineError::Build(format!("{what} failed ({}):\n  {tail}", out.status)));
    }
    Ok(())
}

fn append(path: &Path, line: &str) -> Result<(), EngineError> {
    use std::io::Write;
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    if existing.lines().any(|l| l.starts_with("sandbox:")) {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| EngineError::Build(format!("cannot open `{}`: {e}", path.display())))?;
    f.write_all(line.as_bytes()).map_err(|e| EngineError::Build(format!("cannot write `{}`: {e}", path.display())))
}

fn clear_dir(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// A spinner on a terminal, plain step lines elsewhere (CI logs).
struct Progress {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl Progress {
    fn new(show: bool) -> Self {
        let bar = show.then(|| {
            let b = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Progress { bar, started: std::time::Instant::now() }
    }

    fn step(&self, msg: &str) {
        match &self.bar {
            Some(b) => {
                b.println(format!("[{:>4}s] {msg}", self.started.elapsed().as_secs()));
                b.set_message(msg.to_string());
            }
            None => eprintln!("[{:>4}s] {msg}", self.started.elapsed().as_secs()),
        }
    }

    fn finish(&self, ok: bool) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        let secs = self.started.elapsed().as_secs();
        eprintln!("[{secs:>4}s] {}", if ok { "image built" } else { "image build failed" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_pins_numpy_pandas_pyarrow_with_hashes() {
        let pins = pinned_versions();
        for name in ["numpy", "pandas", "pyarrow"] {
            assert!(pins.iter().any(|(n, _)| n == name), "{name} not pinned");
        }
        for line in REQUIREMENTS.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            assert!(line.contains("--hash=sha256:"), "unhashed requirement: {line}");
        }
        assert!(pins.iter().any(|(n, v)| n == "pandas" && v.starts_with("2.2.")));
    }

    #[test]
    fn labels_carry_recipe_protocol_and_versions() {
        let labels = image_labels(Method::Debootstrap, "3.11.2");
        let get = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get(LABEL_RECIPE).as_deref(), Some(RECIPE_VERSION));
        assert_eq!(get(LABEL_PROTOCOL).as_deref(), Some(crate::harness::PROTOCOL_STR));
        assert_eq!(get("finsandbox.version.python").as_deref(), Some("3.11.2"));
        assert_eq!(get("finsandbox.version.numpy").as_deref(), Some("1.26.4"));
    }

    #[test]
    fn dockerfile_pins_its_base_by_digest_and_uses_the_same_lock() {
        let from = DOCKERFILE.lines().find(|l| l.starts_with("FROM ")).expect("FROM line");
        assert!(from.contains("python:3.11-slim-bookworm@sha256:"), "{from}");
        assert!(DOCKERFILE.contains("--require-hashes"));
        assert!(DOCKERFILE.contains("-r /tmp/requirements.lock"));
    }

    #[test]
    fn wheel_cache_follows_xdg_then_home() {
        let mut env = EnvMap::new();
        env.insert("HOME".into(), "/home/u".into());
        assert_eq!(wheel_cache(&env), PathBuf::from("/home/u/.cache/finsandbox/wheels"));
        env.insert("XDG_CACHE_HOME".into(), "/c".into());
        assert_eq!(wheel_cache(&env), PathBuf::from("/c/finsandbox/wheels"));
    }
}
