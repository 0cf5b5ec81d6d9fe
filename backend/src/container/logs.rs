//! Reading a container's json-file log (`{"log":…,"stream":…,"time":…}` per
//! line) for `logs`: filters by stream and time, `--tail`, timestamps, and
//! the Engine API's multiplexed stream framing.

use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 1 for stdout, 2 for stderr (the multiplexed stream's ids).
    pub stream: u8,
    pub time: String,
    pub nanos: i64,
    pub text: Vec<u8>,
}

#[derive(Deserialize)]
struct Line {
    log: String,
    stream: String,
    time: String,
}

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub stdout: bool,
    pub stderr: bool,
    /// Unix nanoseconds.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub timestamps: bool,
}

impl LogFilter {
    pub fn accepts(&self, e: &Entry) -> bool {
        (if e.stream == 1 {
            self.stdout
        } else {
            self.stderr
        }) && self.since.is_none_or(|s| e.nanos >= s)
            && self.until.is_none_or(|u| e.nanos <= u)
    }

    /// The bytes of one entry on the wire: a multiplexed frame, or raw for a tty.
    pub fn encode(&self, e: &Entry, tty: bool) -> Vec<u8> {
        let mut payload = Vec::new();
        if self.timestamps {
            payload.extend_from_slice(e.time.as_bytes());
            payload.push(b' ');
        }
        payload.extend_from_slice(&e.text);
        if tty {
            return payload;
        }
        crate::runtime::stdio::frame(e.stream, &payload)
    }
}

fn parse(line: &str) -> Option<Entry> {
    let l: Line = serde_json::from_str(line).ok()?;
    Some(Entry {
        stream: if l.stream == "stderr" { 2 } else { 1 },
        nanos: crate::timefmt::parse_api_time(&l.time).unwrap_or(0),
        time: l.time,
        text: l.log.into_bytes(),
    })
}

/// Complete entries from byte `offset` on, and the offset after them.
pub fn read_from(path: &Path, offset: u64) -> (Vec<Entry>, u64) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return (Vec::new(), offset);
    };
    if f.seek(SeekFrom::Start(offset)).is_err() {
        return (Vec::new(), offset);
    }
    let mut buf = Vec::new();
    if f.read_to_end(&mut buf).is_err() {
        return (Vec::new(), offset);
    }
    let end = buf.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    let entries = String::from_utf8_lossy(&buf[..end])
        .lines()
        .filter_map(parse)
        .collect();
    (entries, offset + end as u64)
}

/// The last `n` of `entries` (all when `n` is `None`).
pub fn tail(mut entries: Vec<Entry>, n: Option<usize>) -> Vec<Entry> {
    if let Some(n) = n {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_frames() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x-json.log");
        std::fs::write(
            &p,
            "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00.5Z\"}\n{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"2026-01-01T00:00:01Z\"}\n{\"log\":\"partial",
        )
        .unwrap();
        let (e, off) = read_from(&p, 0);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].stream, 2);
        let (more, _) = read_from(&p, off);
        assert!(more.is_empty());
        assert_eq!(tail(e.clone(), Some(1)), vec![e[1].clone()]);
        let f = LogFilter {
            stdout: true,
            stderr: true,
            timestamps: true,
            ..Default::default()
        };
        let bytes = f.encode(&e[0], false);
        assert_eq!(&bytes[..8], &[1, 0, 0, 0, 0, 0, 0, 25]);
        assert!(bytes.ends_with(b"Z a\n"));
    }
}
