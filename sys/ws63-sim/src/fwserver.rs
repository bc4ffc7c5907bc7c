//! A firmware server on loopback (tiny_http): serves an update package with Range support,
//! and misbehaves on request (cuts, stalls, truncation, no Range, chunked coding, long
//! headers, wrong ranges) for tests. The demo uses it as the upgrade server.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server misbehaves.
#[derive(Debug, Clone, Default)]
pub struct ServerFaults {
    /// Close the connection once the body reaches each of these absolute offsets (each used
    /// once, in order).
    pub cut_at: Vec<u64>,
    /// Answer every request with 200 and the whole file (no Range support).
    pub ignore_range: bool,
    /// Send chunked transfer coding without Content-Length.
    pub chunked: bool,
    /// Stop sending at this offset and hold the connection open.
    pub stall_at: Option<u64>,
    /// Declare the full length but end every body at this absolute offset.
    pub truncate_at: Option<u64>,
    /// Add a header this long.
    pub long_header: Option<usize>,
    /// Answer a Range request with a 206 starting elsewhere.
    pub wrong_range: bool,
}

/// What the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Request path.
    pub path: String,
    /// The Range header, if any.
    pub range: Option<String>,
    /// The Authorization header, if any.
    pub auth: Option<String>,
}

/// A firmware server on 127.0.0.1.
pub struct FirmwareServer {
    /// Its port.
    pub port: u16,
    /// Requests so far.
    pub hits: Arc<Mutex<Vec<Hit>>>,
    server: Arc<tiny_http::Server>,
}

impl FirmwareServer {
    /// Serves `pkg` at `/pkg` and `/pkg/...` (redirect chains at `/r/N`, statuses at
    /// `/status/N`).
    pub fn start(pkg: Vec<u8>, faults: ServerFaults) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let pkg = Arc::new(pkg);
        let faults = Arc::new(Mutex::new(faults));
        let (s, h) = (server.clone(), hits.clone());
        std::thread::spawn(move || {
            for req in s.incoming_requests() {
                let (pkg, faults, hits) = (pkg.clone(), faults.clone(), h.clone());
                std::thread::spawn(move || serve(req, &pkg, &faults, &hits));
            }
        });
        Self { port, hits, server }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for FirmwareServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn header(req: &tiny_http::Request, name: &'static str) -> Option<String> {
    req.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str().to_string())
}

fn serve(
    req: tiny_http::Request,
    pkg: &[u8],
    faults: &Mutex<ServerFaults>,
    hits: &Mutex<Vec<Hit>>,
) {
    let path = req.url().to_string();
    let range = header(&req, "Range");
    hits.lock().unwrap().push(Hit {
        path: path.clone(),
        range: range.clone(),
        auth: header(&req, "Authorization"),
    });
    let f = faults.lock().unwrap().clone();
    let mut w = req.into_writer();
    if let Some(n) = path.strip_prefix("/r/") {
        let n: u32 = n.parse().unwrap();
        let next = if n == 0 { "/pkg".to_string() } else { format!("/r/{}", n - 1) };
        let _ = write!(w, "HTTP/1.1 302 Found\r\nLocation: {next}\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let _ = write!(w, "HTTP/1.1 {code} Error\r\nContent-Length: 5\r\n\r\nerror");
        return;
    }
    if path != "/pkg" && !path.starts_with("/pkg/") {
        let _ = write!(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let total = pkg.len() as u64;
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|_| !f.ignore_range)
        .unwrap_or(0);
    let mut head = if start > 0 {
        let from = if f.wrong_range { start + 1 } else { start };
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{total}\r\n",
            total - 1
        )
    } else {
        "HTTP/1.1 200 OK\r\n".to_string()
    };
    if f.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n", total - start));
    }
    if let Some(n) = f.long_header {
        head.push_str(&format!("X-Padding: {}\r\n", "p".repeat(n)));
    }
    head.push_str("\r\n");
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    // Where this response's body ends.
    let mut end = total;
    {
        let mut fl = faults.lock().unwrap();
        if let Some(i) = fl.cut_at.iter().position(|c| *c > start) {
            end = fl.cut_at.remove(i);
            fl.cut_at.retain(|c| *c > end);
        }
    }
    if let Some(t) = f.truncate_at {
        end = end.min(t.max(start));
    }
    let stall = f.stall_at.filter(|s| *s >= start && *s < end);
    if let Some(s) = stall {
        end = s;
    }
    for piece in pkg[start as usize..end as usize].chunks(8192) {
        let sent = if f.chunked {
            write!(w, "{:x}\r\n", piece.len())
                .and_then(|()| w.write_all(piece))
                .and_then(|()| w.write_all(b"\r\n"))
        } else {
            w.write_all(piece)
        };
        if sent.is_err() {
            return;
        }
    }
    if f.chunked && end == total {
        let _ = w.write_all(b"0\r\n\r\n");
    }
    let _ = w.flush();
    if stall.is_some() {
        std::thread::sleep(Duration::from_secs(3));
    }
}
