//! One printer for every command (imitating uv's `Printer`): a command's
//! result goes to stdout, as one JSON document under `--json` or as text for
//! people; notes, warnings and errors go to stderr. Commands return typed
//! values and never print results themselves.

use std::io::Write;

use serde::Serialize;

/// The version of every JSON document finsandbox prints. Bumped when a
/// field changes meaning or disappears; adding fields does not.
pub const SCHEMA_VERSION: u32 = 1;

/// How a command's output reads for a person.
pub trait Render {
    fn render_text(&self, color: bool) -> String;
}

/// A command's typed output and the exit code it stands for.
pub trait CommandOutput: Serialize + Render {
    fn exit_code(&self) -> i32;
}

/// Where output goes: data on stdout, everything else on stderr.
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    pub color: bool,
}

/// The JSON document of an error that stopped a command.
#[derive(Serialize)]
struct ErrorDocument<'a> {
    schema_version: u32,
    status: &'static str,
    success: bool,
    error: ErrorBody<'a>,
    exit_code: i32,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

impl Printer {
    /// A command's result on stdout.
    pub fn output<T: CommandOutput + ?Sized>(&self, value: &T) {
        let mut out = std::io::stdout().lock();
        if self.json {
            // Outputs are plain data; serialisation cannot fail.
            let _ = serde_json::to_writer(&mut out, value);
            let _ = writeln!(out);
        } else {
            let _ = out.write_all(value.render_text(self.color).as_bytes());
        }
        let _ = out.flush();
    }

    /// A message for the user on stderr (suppressed by `--quiet`).
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    pub fn warn(&self, msg: &str) {
        let tag = if self.color { "\x1b[33mwarning\x1b[0m" } else { "warning" };
        eprintln!("{tag}: {msg}");
    }

    /// An error that stopped the command. With `--json` the error is also one
    /// JSON object on stdout, so loops that parse stdout always get JSON.
    pub fn error(&self, kind: &str, message: &str, hint: Option<&str>, exit_code: i32) {
        let tag = if self.color { "\x1b[31merror\x1b[0m" } else { "error" };
        eprintln!("{tag}: {message}");
        if let Some(h) = hint {
            eprintln!("  hint: {h}");
        }
        if self.json {
            let doc = ErrorDocument {
                schema_version: SCHEMA_VERSION,
                status: "error",
                success: false,
                error: ErrorBody { kind, message, hint },
                exit_code,
            };
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, &doc);
            let _ = writeln!(out);
        }
    }
}

/// Text that came from inside the sandbox, made safe for a terminal:
/// control characters (ANSI/OSC escapes, carriage returns, backspaces) are
/// shown as `\u{..}` escapes so they cannot rewrite what the host printed.
/// Newlines and tabs stay. JSON output is never escaped this way: it is
/// exact, and JSON encoding already escapes control characters.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode bidirectional overrides and isolates reorder what a terminal
/// shows (the "Trojan Source" trick).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_carriage_returns_cannot_reach_the_terminal() {
        let hostile = "ok\x1b[2J\x1b]0;title\x07\rtotal 999%\x08\u{202e}";
        let safe = terminal_safe(hostile);
        assert!(!safe.chars().any(|c| c.is_control() || is_bidi_control(c)), "{safe:?}");
        assert!(safe.contains("\\u{1b}[2J"), "{safe}");
        assert_eq!(terminal_safe("line one\n\tline two"), "line one\n\tline two");
        assert_eq!(terminal_safe("收盤價 2330"), "收盤價 2330");
    }
}
