//! Terminal recordings: a dashboard terminal (attach or shell) written as
//! asciicast v2 (`<data-root>/recordings/ID.cast`) — a JSON header line,
//! then `[seconds, "o"|"i"|"r", data]` events for output, input and resizes —
//! for admins to replay in the dashboard.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct Recorder {
    pub id: String,
    start: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    out: std::io::BufWriter<std::fs::File>,
    /// An incomplete UTF-8 sequence at the end of the last chunk, per stream.
    carry: [Vec<u8>; 2],
}

/// What an event is.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Output = 0,
    Input = 1,
}

impl Recorder {
    /// Starts a recording in `dir` with the terminal's size and a title.
    pub fn create(dir: &Path, cols: u16, rows: u16, title: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let id = crate::auth::secrets::random_hex(12);
        let f = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(dir.join(format!("{id}.cast")))?;
        let mut out = std::io::BufWriter::new(f);
        let header = serde_json::json!({
            "version": 2,
            "width": if cols > 0 { cols } else { 80 },
            "height": if rows > 0 { rows } else { 24 },
            "timestamp": crate::timefmt::unix_nanos_now() / 1_000_000_000,
            "title": title,
            "env": {"TERM": "xterm-256color"},
        });
        writeln!(out, "{header}")?;
        out.flush()?;
        Ok(Recorder {
            id,
            start: Instant::now(),
            inner: Mutex::new(Inner {
                out,
                carry: [Vec::new(), Vec::new()],
            }),
        })
    }

    fn event(&self, code: &str, data: &str) {
        let t = self.start.elapsed().as_secs_f64();
        let line = serde_json::json!([(t * 1e6).round() / 1e6, code, data]);
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(g.out, "{line}");
        let _ = g.out.flush();
    }

    /// Bytes that went to (`Output`) or came from (`Input`) the terminal.
    pub fn bytes(&self, stream: Stream, data: &[u8]) {
        let text = {
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let carry = &mut g.carry[stream as usize];
            carry.extend_from_slice(data);
            let valid = match std::str::from_utf8(carry) {
                Ok(_) => carry.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => carry.len(),
            };
            let text = String::from_utf8_lossy(&carry[..valid]).into_owned();
            carry.drain(..valid);
            text
        };
        if !text.is_empty() {
            self.event(
                match stream {
                    Stream::Output => "o",
                    Stream::Input => "i",
                },
                &text,
            );
        }
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.event("r", &format!("{cols}x{rows}"));
    }
}

/// Removes recordings older than `before` (unix nanoseconds); how many.
pub fn prune(dir: &Path, before: i64) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|d| (d.as_nanos() as i64) < before);
        if old && std::fs::remove_file(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_asciicast_v2_with_whole_characters() {
        let d = tempfile::tempdir().unwrap();
        let r = Recorder::create(d.path(), 100, 30, "shell").unwrap();
        r.bytes(Stream::Output, b"hi \xc3");
        r.bytes(Stream::Output, b"\xa9\r\n");
        r.bytes(Stream::Input, b"ls\r");
        r.resize(120, 40);
        let text = std::fs::read_to_string(d.path().join(format!("{}.cast", r.id))).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 100);
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "hi ");
        assert_eq!(lines[2][2], "é\r\n");
        assert_eq!(lines[3][1], "i");
        assert_eq!(lines[4][2], "120x40");
        assert_eq!(prune(d.path(), i64::MAX), 1);
    }
}
