//! Live progress on a terminal: one line per layer, redrawn in place (cursor
//! up, clear line) with a bar, as the docker CLI draws pulls and pushes.

use berth_types::units::human_size;
use berth_types::ProgressDetail;
use std::io::Write;

const BAR_WIDTH: usize = 50;

#[derive(Debug, Default)]
pub struct LiveLines {
    ids: Vec<String>,
}

/// `[=====>      ]  1.2MB/4.5MB`
pub fn bar(current: u64, total: u64) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((current.min(total) as u128 * BAR_WIDTH as u128) / total as u128) as usize
    };
    let mut s = String::with_capacity(BAR_WIDTH + 2);
    s.push('[');
    for i in 0..BAR_WIDTH {
        s.push(match i.cmp(&filled) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        });
    }
    s.push(']');
    format!(
        "{s}  {}/{}",
        human_size(current as i64),
        human_size(total as i64)
    )
}

impl LiveLines {
    /// Shows `status` (and a bar, if there are byte counts) on `id`'s line.
    pub fn update(&mut self, id: &str, status: &str, detail: Option<&ProgressDetail>) {
        let text = match detail.and_then(|d| d.current.zip(d.total)) {
            Some((c, t)) if t > 0 && c < t => format!("{id}: {status:<12} {}", bar(c, t)),
            _ => format!("{id}: {status}"),
        };
        let mut out = std::io::stdout().lock();
        match self.ids.iter().position(|i| i == id) {
            None => {
                self.ids.push(id.to_string());
                let _ = writeln!(out, "{text}");
            }
            Some(pos) => {
                let up = self.ids.len() - pos;
                // Up to the layer's line, clear it, write, and back down.
                let _ = write!(out, "\x1b[{up}A\r\x1b[2K{text}\x1b[{up}B\r");
            }
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_fill_in_proportion() {
        let b = bar(25, 100);
        assert!(b.starts_with("[============>"), "{b}");
        assert!(b.ends_with("25B/100B"), "{b}");
        assert_eq!(bar(0, 0).matches('=').count(), 0);
    }
}
