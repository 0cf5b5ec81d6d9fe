//! What the dashboard's long lists ask the daemon for (`/berth/containers`,
//! `/berth/images`): the filter text, the sort column and direction, and how
//! many rows; and the line that says how many are shown.

use crate::api;

/// How many rows a list asks for at first, and how many more "Show more" adds.
pub const PAGE: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub text: String,
    pub sort: &'static str,
    pub desc: bool,
    pub limit: usize,
}

impl ListQuery {
    /// The newest first, one page.
    pub fn newest_first() -> Self {
        Self { text: String::new(), sort: "created", desc: true, limit: PAGE }
    }

    /// `base` with this query's parameters.
    pub fn path(&self, base: &str) -> String {
        format!(
            "{base}?q={}&sort={}&order={}&limit={}",
            api::escape(&self.text),
            self.sort,
            if self.desc { "desc" } else { "asc" },
            self.limit
        )
    }

    /// A click on column `key`: sort by it (times and sizes largest first),
    /// or turn the order when it already sorts.
    pub fn click_column(&mut self, key: &'static str) {
        if self.sort == key {
            self.desc = !self.desc;
        } else {
            self.sort = key;
            self.desc = matches!(key, "created" | "size");
        }
    }

    /// New filter text: back to one page.
    pub fn filter(&mut self, text: String) {
        self.text = text;
        self.limit = PAGE;
    }

    /// The arrow a column title shows.
    pub fn mark(&self, key: &str) -> &'static str {
        match (self.sort == key, self.desc) {
            (false, _) => "",
            (true, true) => " ▼",
            (true, false) => " ▲",
        }
    }
}

/// "500 containers", or "showing 100 of 120 matching, 500 containers in all".
pub fn count_text(shown: usize, matched: usize, total: usize, one: &str, many: &str) -> String {
    let noun = if total == 1 { one } else { many };
    if matched == total && shown == total {
        format!("{total} {noun}")
    } else {
        format!("showing {shown} of {matched} matching, {total} {noun} in all")
    }
}
