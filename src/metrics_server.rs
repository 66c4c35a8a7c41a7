//! `batch --metrics-listen`: `/metrics` served live while a batch runs.
//!
//! A tiny HTTP/1.1 responder on `std::net::TcpListener` in one thread, no
//! HTTP crate: Prometheus sends `GET /metrics`, gets the current rendering
//! (`200`, `text/plain; version=0.0.4`), anything else gets `404`; every
//! connection is closed after one answer. Loopback addresses only: the
//! metrics name strategies' outcomes, and a batch host should not publish
//! them to the network by a typo. Put a reverse proxy in front to expose it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The text served; the batch replaces it after each strategy.
pub type Shared = Arc<Mutex<String>>;

/// Parse and check the address: `IP:PORT`, loopback only.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr =
        s.parse().map_err(|_| format!("`{s}` is not an address with a port, e.g. 127.0.0.1:9464 or [::1]:9464"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "`{s}` is not a loopback address: finsandbox serves metrics on 127.0.0.1 or ::1 only \
             (put a reverse proxy in front, or use --metrics-textfile with node_exporter)"
        ));
    }
    Ok(addr)
}

/// Bind and serve in a background thread for the rest of the process.
/// Returns the bound address (port 0 picks a free one).
pub fn serve(addr: SocketAddr, text: Shared) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    std::thread::Builder::new()
        .name("metrics-listen".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                // One slow client must not stop the others for long.
                let _ = answer(stream, &text);
            }
        })
        .map_err(|e| format!("cannot start the metrics server: {e}"))?;
    Ok(local)
}

/// The request line of a request head (`GET /metrics HTTP/1.1`), read up
/// to the blank line or 8 KiB.
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).lines().next().unwrap_or_default().to_string())
}

/// Status line, content type and body for a request line.
pub fn respond(request_line: &str, text: &str) -> (&'static str, &'static str, String) {
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next(), parts.next());
    // A query string (`/metrics?x=y`) is still the metrics.
    let path = target.map(|t| t.split('?').next().unwrap_or_default());
    match (method, path) {
        (Some("GET"), Some("/metrics")) => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", text.to_string()),
        _ => ("404 Not Found", "text/plain; charset=utf-8", "not found: try GET /metrics\n".to_string()),
    }
}

fn answer(mut stream: TcpStream, text: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let line = read_head(&mut stream)?;
    let body = text.lock().map(|t| t.clone()).unwrap_or_default();
    let (status, kind, body) = respond(&line, &body);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(request.as_bytes()).expect("send");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(parse_addr("127.0.0.1:9464").is_ok());
        assert!(parse_addr("[::1]:9464").is_ok());
        let e = parse_addr("0.0.0.0:9464").expect_err("refused");
        assert!(e.contains("not a loopback address"), "{e}");
        assert!(parse_addr("192.168.1.2:80").is_err());
        assert!(parse_addr("localhost").is_err());
    }

    #[test]
    fn serves_metrics_and_404_for_anything_else_over_a_real_socket() {
        let shared: Shared = Arc::new(Mutex::new("finsandbox_runs_total{status=\"ok\"} 1\n".into()));
        let addr = serve(parse_addr("127.0.0.1:0").expect("addr"), Arc::clone(&shared)).expect("serve");
        let r = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Type: text/plain; version=0.0.4"), "{r}");
        assert!(r.ends_with("finsandbox_runs_total{status=\"ok\"} 1\n"), "{r}");
        // The text is live: what the batch writes next is what the next scrape sees.
        *shared.lock().expect("lock") = "changed 2\n".into();
        assert!(get(addr, "GET /metrics?x=1 HTTP/1.1\r\n\r\n").ends_with("\r\n\r\nchanged 2\n"));
        for req in ["GET / HTTP/1.1\r\n\r\n", "POST /metrics HTTP/1.1\r\n\r\n", "GET /metricsx HTTP/1.1\r\n\r\n"] {
            assert!(get(addr, req).starts_with("HTTP/1.1 404 Not Found\r\n"), "{req}");
        }
    }
}
