//! Docker's json-file log as the shim writes it: one JSON object per line
//! (`log`, `stream`, `time`), rotated by size when `max-size` is set
//! (`ID-json.log` → `.1` → `.2` …, keeping `max-file` files in all).

use crate::timefmt;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `--log-opt max-size=… max-file=…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogOptions {
    pub max_size: Option<u64>,
    pub max_file: u32,
}

impl LogOptions {
    /// Parses `LogConfig.Config` (`{"max-size": "10m", "max-file": "3"}`).
    pub fn parse(config: &serde_json::Value) -> Result<Self, String> {
        let mut o = LogOptions {
            max_size: None,
            max_file: 1,
        };
        if let Some(m) = config.as_object() {
            for (k, v) in m {
                let v = v.as_str().unwrap_or_default();
                match k.as_str() {
                    "max-size" => {
                        let n = parse_size(v).ok_or_else(|| format!("invalid max-size: {v:?}"))?;
                        o.max_size = (n > 0).then_some(n);
                    }
                    "max-file" => {
                        o.max_file = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                            format!("invalid max-file: {v:?}: it must be at least 1")
                        })?;
                    }
                    "compress" | "labels" | "env" | "tag" => {}
                    other => {
                        return Err(format!(
                            "unknown log opt '{other}' for json-file log driver"
                        ))
                    }
                }
            }
        }
        if o.max_file > 1 && o.max_size.is_none() {
            return Err("max-file cannot be set without max-size".into());
        }
        Ok(o)
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t.as_str(), 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

/// The files of a log, oldest first (rotated ones, then the live one).
pub fn files(path: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = (1..100)
        .map(|i| rotated(path, i))
        .take_while(|p| p.exists())
        .collect();
    out.reverse();
    out.push(path.to_path_buf());
    out
}

fn rotated(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

pub struct JsonLog {
    path: PathBuf,
    file: std::fs::File,
    size: u64,
    opts: LogOptions,
}

impl JsonLog {
    pub fn open(path: &Path, opts: LogOptions) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            size,
            opts,
        })
    }

    /// Appends one entry; `stream` is `stdout` or `stderr`.
    pub fn write(&mut self, stream: &str, bytes: &[u8]) {
        let entry = serde_json::json!({
            "log": String::from_utf8_lossy(bytes),
            "stream": stream,
            "time": timefmt::now_rfc3339(),
        });
        let mut line = entry.to_string();
        line.push('\n');
        if let Some(max) = self.opts.max_size {
            if self.size > 0 && self.size + line.len() as u64 > max {
                self.rotate();
            }
        }
        if self.file.write_all(line.as_bytes()).is_ok() {
            self.size += line.len() as u64;
        }
    }

    fn rotate(&mut self) {
        let keep = self.opts.max_file.max(1);
        if keep == 1 {
            let _ = self.file.set_len(0);
        } else {
            let _ = std::fs::remove_file(rotated(&self.path, keep - 1));
            for i in (1..keep - 1).rev() {
                let _ = std::fs::rename(rotated(&self.path, i), rotated(&self.path, i + 1));
            }
            let _ = std::fs::rename(&self.path, rotated(&self.path, 1));
        }
        if let Ok(f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            self.file = f;
        }
        self.size = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x-json.log");
        let opts =
            LogOptions::parse(&serde_json::json!({"max-size": "1k", "max-file": "3"})).unwrap();
        let mut log = JsonLog::open(&p, opts).unwrap();
        for i in 0..100 {
            log.write(
                "stdout",
                format!("line {i} {}\n", "x".repeat(40)).as_bytes(),
            );
        }
        let f = files(&p);
        assert_eq!(f.len(), 3, "{f:?}");
        for p in &f {
            assert!(std::fs::metadata(p).unwrap().len() <= 1024);
        }
        let last = std::fs::read_to_string(&p).unwrap();
        assert!(last.contains("line 99 "));
        assert!(LogOptions::parse(&serde_json::json!({"max-file": "2"})).is_err());
        assert!(LogOptions::parse(&serde_json::json!({"colour": "1"}))
            .unwrap_err()
            .contains("unknown log opt"));
    }
}
