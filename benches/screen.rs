//! Screening speed on a 1,000-line strategy (target: under 5 ms per file,
//! in process). `cargo bench --bench screen`; prints the figures and writes
//! the file to `target/bench/strategy_1000.py` for `benches/screen.sh`, which
//! compares the whole `finsandbox validate` process with bandit.

use std::path::Path;
use std::time::{Duration, Instant};

use finsandbox::screen::{screen, Policy};

/// The accepted corpus, repeated with renamed functions until 1,000 lines: a
/// realistic mix of imports, classes, pandas chains and string formatting.
fn strategy_1000_lines(root: &Path) -> String {
    let mut parts = Vec::new();
    let mut dir: Vec<_> = std::fs::read_dir(root.join("tests/screening/accepted"))
        .expect("accepted corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    dir.sort();
    for p in &dir {
        parts.push(std::fs::read_to_string(p).expect("read"));
    }
    let mut out = String::new();
    let mut round = 0;
    while out.lines().count() < 1000 {
        for part in &parts {
            out.push_str(
                &part
                    .replace("def strategy(", &format!("def strategy_{round}("))
                    .replace("class Book", &format!("class Book{round}")),
            );
            out.push('\n');
            round += 1;
        }
    }
    out.lines().take(1000).collect::<Vec<_>>().join("\n") + "\n"
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = strategy_1000_lines(root);
    let policy = Policy::default();
    let findings = screen(source.as_bytes(), &policy);
    assert!(findings.is_empty(), "the benchmark file must be clean: {findings:?}");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("strategy_1000.py"), &source).expect("write");

    for _ in 0..20 {
        screen(source.as_bytes(), &policy);
    }
    let mut times: Vec<Duration> = (0..300)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(screen(std::hint::black_box(source.as_bytes()), &policy));
            t.elapsed()
        })
        .collect();
    times.sort();
    let t = Instant::now();
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("lang");
    for _ in 0..100 {
        std::hint::black_box(parser.parse(&source, None));
    }
    println!("tree-sitter parse alone: {:.3} ms mean over 100 runs", t.elapsed().as_secs_f64() * 1e3 / 100.0);
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "screen 1000-line strategy ({} bytes): mean {:.3} ms, median {:.3} ms, p95 {:.3} ms, min {:.3} ms ({} runs)",
        source.len(),
        mean.as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times.len()
    );
}
