//! `docker stats`: the stream, and its output parsed in two steps: a serde struct of strings,
//! then pure converters with table tests.
//!
//! The format asks for one JSON record per sample with just the fields used:
//! docker's `{{json .}}` and podman's differ (podman prints an indented array
//! with other key names), but both engines fill the same named placeholders.
//!
//! The stream carries terminal control sequences even when stdout is not a
//! terminal (`ESC[H`, `ESC[K`, `ESC[J`, `ESC[2J`); they are stripped first.
//! While a container starts or stops the engine reports `--` for values it
//! does not have: those become `None`, never zero.

use serde::Deserialize;

use super::command::Engine;

/// The `--format` template: a one-line JSON record in both docker and podman.
pub const FORMAT: &str = r#"{"CPUPerc":"{{.CPUPerc}}","MemPerc":"{{.MemPerc}}","MemUsage":"{{.MemUsage}}","PIDs":"{{.PIDs}}","ID":"{{.ID}}"}"#;

/// A `docker stats` stream of one container, one [`FORMAT`] record per
/// sample. The caller reads it line by line and kills it when done.
pub fn stream(engine: &Engine, name: &str) -> std::io::Result<duct::ReaderHandle> {
    duct::cmd(&engine.program, ["stats", "--format", FORMAT, name]).stdin_null().stderr_null().unchecked().reader()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RawStats {
    #[serde(rename = "CPUPerc", default)]
    pub cpu_perc: String,
    #[serde(rename = "MemPerc", default)]
    pub mem_perc: String,
    #[serde(rename = "MemUsage", default)]
    pub mem_usage: String,
    #[serde(rename = "PIDs", default)]
    pub pids: String,
    #[serde(rename = "ID", default)]
    pub id: String,
}

/// One sample, converted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// Percent of one CPU, as docker reports it (200% = two cores busy).
    pub cpu_percent: Option<f64>,
    /// Percent of the memory limit.
    pub memory_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub pids: Option<u64>,
}

/// Remove ANSI/VT100 control sequences: CSI (`ESC [ ... final`, or the
/// one-character C1 form), OSC (`ESC ] ... BEL` or `ESC ] ... ESC \\`, e.g.
/// a window title), and other two-character escapes.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let csi = match c {
            '\u{9b}' => true,
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                true
            }
            '\x1b' if chars.peek() == Some(&']') => {
                // Operating system command: up to BEL or the string terminator.
                chars.next();
                while let Some(f) = chars.next() {
                    if f == '\x07' || (f == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
                continue;
            }
            '\x1b' => {
                chars.next();
                continue;
            }
            _ => {
                out.push(c);
                continue;
            }
        };
        if csi {
            // Parameters and intermediates, then one final byte in @..~.
            for f in chars.by_ref() {
                if ('@'..='~').contains(&f) {
                    break;
                }
            }
        }
    }
    out
}

/// A stats record is about 150 bytes; a longer line is not one of ours and
/// is skipped whole rather than scanned.
pub const MAX_LINE: usize = 64 << 10;

/// Every JSON object in one chunk of the stream (a line may hold none, one,
/// or pieces separated by control sequences).
pub fn parse_line(line: &str) -> Vec<RawStats> {
    if line.len() > MAX_LINE {
        return Vec::new();
    }
    let clean = strip_ansi(line);
    let mut out = Vec::new();
    let mut rest = clean.as_str();
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else { break };
        if let Ok(raw) = serde_json::from_str::<RawStats>(&rest[start..start + end + 1]) {
            out.push(raw);
        }
        rest = &rest[start + end + 1..];
    }
    out
}

pub fn convert(raw: &RawStats) -> Sample {
    Sample {
        cpu_percent: parse_percent(&raw.cpu_perc),
        memory_percent: parse_percent(&raw.mem_perc),
        memory_bytes: raw.mem_usage.split('/').next().and_then(parse_size),
        pids: parse_count(&raw.pids),
    }
}

/// `"0.41%"` → 0.41; `"--"`, negative and garbage → None.
pub fn parse_percent(s: &str) -> Option<f64> {
    let v: f64 = s.trim().strip_suffix('%')?.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// `"12"` → 12; `"--"` → None.
pub fn parse_count(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

/// `"707.3MiB"` (binary units, memory) and `"1.2kB"`/`"3MB"` (decimal, I/O).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0f64.powi(4),
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_control_sequences() {
        assert_eq!(strip_ansi("\x1b[H{\"a\":1} \x1b[K"), "{\"a\":1} ");
        assert_eq!(strip_ansi("\x1b[2J\x1b[Hx\x1b[J"), "x");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn parses_a_real_stream_line() {
        let line = "\x1b[J\x1b[H{\"BlockIO\":\"0B / 0B\",\"CPUPerc\":\"48.73%\",\"Container\":\"c\",\"ID\":\"169ae87a9a08\",\"MemPerc\":\"12.50%\",\"MemUsage\":\"256MiB / 2GiB\",\"Name\":\"c\",\"NetIO\":\"0B / 0B\",\"PIDs\":\"12\"} \x1b[K";
        let raws = parse_line(line);
        assert_eq!(raws.len(), 1);
        let s = convert(&raws[0]);
        assert_eq!(s.cpu_percent, Some(48.73));
        assert_eq!(s.memory_percent, Some(12.5));
        assert_eq!(s.memory_bytes, Some(256 << 20));
        assert_eq!(s.pids, Some(12));
        assert_eq!(raws[0].id, "169ae87a9a08");
    }

    #[test]
    fn dashes_while_starting_or_stopping_are_none() {
        let raw = RawStats {
            cpu_perc: "--".into(),
            mem_perc: "--".into(),
            mem_usage: "-- / --".into(),
            pids: "--".into(),
            id: "x".into(),
        };
        assert_eq!(convert(&raw), Sample::default());
    }

    #[test]
    fn percent_table() {
        for (input, want) in [
            ("0.41%", Some(0.41)),
            ("100%", Some(100.0)),
            (" 7.5 %", Some(7.5)),
            ("--", None),
            ("", None),
            ("NaN%", None),
            ("12", None),
        ] {
            assert_eq!(parse_percent(input), want, "{input:?}");
        }
    }

    #[test]
    fn size_table() {
        for (input, want) in [
            ("707.3MiB", Some((707.3 * 1048576.0) as u64)),
            ("2GiB", Some(2 << 30)),
            ("0B", Some(0)),
            ("1.5KiB", Some(1536)),
            ("1.2kB", Some(1200)),
            ("3MB", Some(3_000_000)),
            ("--", None),
            ("12 parsecs", None),
        ] {
            assert_eq!(parse_size(input), want, "{input:?}");
        }
    }

    #[test]
    fn window_titles_and_c1_sequences_are_stripped() {
        assert_eq!(strip_ansi("\x1b]0;title\x07{\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_ansi("\x1b]2;t\x1b\\x"), "x");
        assert_eq!(strip_ansi("\u{9b}2Jx"), "x");
        assert_eq!(strip_ansi("\x1b]unterminated"), "");
        let raws = parse_line("\x1b]0;{\"CPUPerc\":\"99%\"}\x07{\"CPUPerc\":\"1%\"}");
        assert_eq!(raws.len(), 1);
        assert_eq!(parse_percent(&raws[0].cpu_perc), Some(1.0));
    }

    #[test]
    fn negative_percentages_and_overlong_lines_are_none() {
        assert_eq!(parse_percent("-5%"), None);
        let long = format!("{}{{\"CPUPerc\":\"1%\"}}", " ".repeat(MAX_LINE));
        assert!(parse_line(&long).is_empty());
    }

    /// The fuzz target's regression corpus, replayed on stable.
    #[test]
    fn the_stats_fuzz_corpus_replays_without_panics() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/stats");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("corpus") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            let line = String::from_utf8_lossy(&bytes);
            for raw in parse_line(&line) {
                let s = convert(&raw);
                assert!(s.cpu_percent.is_none_or(|v| v.is_finite() && v >= 0.0));
            }
            let _ = (parse_size(&line), parse_percent(&line), parse_count(&line));
            n += 1;
        }
        assert!(n > 0, "empty corpus");
    }

    #[test]
    fn garbage_lines_yield_nothing() {
        assert!(parse_line("Error response from daemon: No such container").is_empty());
        assert!(parse_line("{not json}").is_empty());
        assert!(parse_line("").is_empty());
    }
}
