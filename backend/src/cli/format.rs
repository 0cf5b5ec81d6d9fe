//! Output the way the docker CLI prints it: tab-aligned tables (Go's tabwriter
//! with docker's settings: min width 10, padding 3), sizes in decimal units
//! with three significant digits, ages like "2 hours ago", and `…` truncation.

pub use berth_types::units::{human_duration, human_size};

/// Collects rows and prints them aligned like `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; cols];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in &self.rows {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                line.push_str(c);
                if i + 1 < r.len() {
                    let w = (widths[i] + 3).max(10);
                    line.push_str(&" ".repeat(w - c.chars().count()));
                }
            }
            // As docker's tabwriter: a row whose last cell is empty keeps the
            // padding of the cell before it.
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// JSON with docker's 4-space indent (`inspect`).
pub fn docker_json(v: &impl serde::Serialize) -> serde_json::Result<String> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    v.serialize(&mut ser)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// "2 hours ago" for a unix time; "N/A" when unknown (0).
pub fn ago(unix_secs: i64) -> String {
    if unix_secs <= 0 {
        return "N/A".into();
    }
    let now = chrono::Utc::now().timestamp();
    format!("{} ago", human_duration(now - unix_secs))
}

/// Docker's `Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_like_docker() {
        let mut t = Table::new(&["REPOSITORY", "TAG", "SIZE"]);
        t.row(vec!["busybox".into(), "latest".into(), "2MB".into()]);
        assert_eq!(
            t.render(),
            "REPOSITORY   TAG       SIZE\nbusybox      latest    2MB\n"
        );
    }

    #[test]
    fn ellipsis_cuts_with_marker() {
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
    }
}
