//! `doctor --backend slurm`: the escape self-test submitted as a job, and the cluster refused unless it passes.

use super::*;

/// How long the canary job may take, queueing included.
pub(super) const DOCTOR_WAIT: Duration = Duration::from_secs(900);

#[derive(Debug, Serialize)]
pub struct SlurmDoctor {
    pub backend: &'static str,
    pub job_id: String,
    pub healthy: bool,
    /// The node's own `doctor --json` report.
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl Render for SlurmDoctor {
    fn render_text(&self, _color: bool) -> String {
        let verdict =
            if self.healthy { "healthy" } else { "UNHEALTHY: do not run untrusted strategies on this cluster" };
        let mut s = format!("slurm job {}: {verdict}\n", self.job_id);
        let runtimes = self.report.as_ref().and_then(|r| r["runtimes"].as_array().cloned()).unwrap_or_default();
        for t in runtimes {
            let ok = if t["healthy"] == true { "healthy" } else { "UNHEALTHY" };
            s.push_str(&format!(
                "  runtime {}: {ok}\n",
                crate::printer::terminal_safe(t["runtime"].as_str().unwrap_or("?"))
            ));
            for c in t["checks"].as_array().into_iter().flatten().filter(|c| c["escaped"] == true) {
                s.push_str(&format!(
                    "    ESCAPED {}\n",
                    crate::printer::terminal_safe(c["name"].as_str().unwrap_or("?"))
                ));
            }
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("  error: {}\n", crate::printer::terminal_safe(e)));
        }
        s
    }
}

impl CommandOutput for SlurmDoctor {
    fn exit_code(&self) -> i32 {
        if self.healthy {
            code::OK
        } else {
            code::ENGINE
        }
    }
}

/// `doctor --backend slurm`: the escape self-test (every check `doctor`
/// makes) as a Slurm job, judged here from the node's JSON report. The job's
/// output goes to a private directory under the working directory, which
/// the nodes must share.
pub fn doctor(ctx: &Context, args: &crate::cli::DoctorArgs) -> Result<SlurmDoctor> {
    let slurm = Slurm::locate(ctx.env.get("PATH").map(String::as_str))?;
    let cwd = crate::commands::current_dir()?;
    let file = crate::config::load_file(args.config.as_deref(), ctx.env, &cwd)?;
    let file = file.as_ref().map(|(p, f)| (p.as_path(), f));
    let settings = crate::config::resolve(file, ctx.env, &crate::config::Overrides::default(), &cwd)?;
    let dir = tempfile::Builder::new()
        .prefix(".finsandbox-doctor-")
        .tempdir_in(&cwd)
        .map_err(|e| internal("creating the canary job's directory", e))?;
    let out = dir.path().join("report.json");
    let err = dir.path().join("stderr.txt");
    let mut doctor_args = Vec::new();
    if let Some(c) = &args.config {
        doctor_args.extend(["--config".to_string(), cwd.join(c).display().to_string()]);
    }
    for r in &args.runtime {
        doctor_args.extend(["--runtime".to_string(), r.clone()]);
    }
    let exe = std::env::current_exe().map_err(|e| internal("locating this binary", e))?;
    let path_env = ctx.env.get("PATH").cloned().unwrap_or_else(|| DEFAULT_PATH.into());
    let wrap = slurm::doctor_wrap(&exe, ctx.cli.engine.as_deref(), &path_env, &doctor_args);
    let mut sbatch = vec![
        "--job-name=finsandbox-doctor".to_string(),
        "--ntasks=1".to_string(),
        format!("--cpus-per-task={}", slurm::cpus_per_task(settings.cpus, 1)),
        format!("--mem={}M", slurm::mem_mib(settings.memory_bytes, 1)),
        format!("--chdir={}", cwd.display()),
        format!("--output={}", out.display()),
        format!("--error={}", err.display()),
    ];
    sbatch.extend(args.sbatch_args.iter().cloned());
    sbatch.push(format!("--wrap={wrap}"));
    ctx.printer.note("submitting the self-test as a Slurm job and waiting for it");
    let job_id = slurm.submit_and_wait(&sbatch, DOCTOR_WAIT)?;
    let report =
        std::fs::read_to_string(&out).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(t.trim()).ok());
    let stderr_tail = || {
        let t = std::fs::read_to_string(&err).unwrap_or_default();
        t.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ")
    };
    let (healthy, error) = match &report {
        Some(r) if r["healthy"] == true => (true, None),
        Some(r) => (false, r["error"]["message"].as_str().map(str::to_string).or_else(|| Some(stderr_tail()))),
        None => (false, Some(format!("the job printed no report: {}", stderr_tail()))),
    };
    Ok(SlurmDoctor { backend: "slurm", job_id, healthy, report, error })
}
