//! Records the git commit the binary was built from, for `--version` and
//! provenance. Outside a git checkout (a source tarball) it says `unknown`.

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FINSANDBOX_COMMIT={commit}");
    // The reflog of HEAD moves with every commit and checkout. In a git
    // worktree `.git` is a file, so ask git where the directory is; a
    // missing path would make cargo rerun this script on every build.
    let git_dir = std::process::Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(dir) = git_dir.filter(|d| std::path::Path::new(d).join("logs/HEAD").exists()) {
        println!("cargo:rerun-if-changed={dir}/logs/HEAD");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
