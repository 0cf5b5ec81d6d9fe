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

/// A value as a Go template prints it: strings bare, other scalars as
/// text, objects and arrays as JSON, a missing value as `<no value>`.
fn template_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "<no value>".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The value at a Go template field path (`.A.B`; `.` is the whole value).
fn template_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let path = path.trim();
    if !path.starts_with('.') {
        return None;
    }
    path[1..]
        .split('.')
        .filter(|k| !k.is_empty())
        .try_fold(v, |cur, k| cur.get(k))
}

/// Renders the subset of Go templates that `inspect -f` is used with:
/// text with `{{.Field.Path}}`, `{{json .Field}}`, `{{index .Field "key"}}`
/// and `{{range .Field}}…{{end}}` actions. Anything else is an error that names
/// the action.
pub fn go_template(tpl: &str, v: &serde_json::Value) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow::anyhow!("template: unclosed action in {tpl:?}"))?;
        let action = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let words: Vec<&str> = action.split_whitespace().collect();
        if let ["range", path] = words.as_slice() {
            // {{range .X}}BODY{{end}}: BODY once per element (or value) of .X.
            let body_and_rest = &after[end + 2..];
            let (body, after_end) = split_range_body(body_and_rest).ok_or_else(|| {
                anyhow::anyhow!("template: {{{{range}}}} without {{{{end}}}} in {tpl:?}")
            })?;
            match template_path(v, path) {
                Some(serde_json::Value::Array(items)) => {
                    for item in items {
                        out.push_str(&go_template(body, item)?);
                    }
                }
                Some(serde_json::Value::Object(m)) => {
                    for item in m.values() {
                        out.push_str(&go_template(body, item)?);
                    }
                }
                _ => {}
            }
            rest = after_end;
            continue;
        }
        let text = match words.as_slice() {
            [path] if path.starts_with('.') => template_text(template_path(v, path)),
            ["json", path] => serde_json::to_string(template_path(v, path).unwrap_or(&serde_json::Value::Null))?,
            ["index", path, key] => {
                let key = key.trim_matches('"');
                template_text(template_path(v, path).and_then(|m| m.get(key)))
            }
            _ => anyhow::bail!("template: {{{{{action}}}}} is not supported: use {{{{.Field}}}}, {{{{json .Field}}}} or {{{{index .Field \"key\"}}}}"),
        };
        out.push_str(&text);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `s` (what follows a `{{range}}`) at its matching `{{end}}`:
/// (the body, what follows the `{{end}}`).
fn split_range_body(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let mut pos = 0;
    while let Some(i) = s[pos..].find("{{") {
        let open = pos + i;
        let close = open + s[open..].find("}}")?;
        let action = s[open + 2..close].trim();
        if action.starts_with("range") || action.starts_with("if") || action.starts_with("with") {
            depth += 1;
        } else if action == "end" {
            if depth == 0 {
                return Some((&s[..open], &s[close + 2..]));
            }
            depth -= 1;
        }
        pos = close + 2;
    }
    None
}

/// `inspect` output: the JSON array, or each object through `--format`.
pub fn print_inspected(list: &[serde_json::Value], format: Option<&str>) -> anyhow::Result<()> {
    match format.filter(|f| !f.is_empty()) {
        None => println!("{}", docker_json(&list)?),
        Some("json") => {
            for v in list {
                println!("{v}");
            }
        }
        Some(tpl) => {
            for v in list {
                println!("{}", go_template(tpl, v)?);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn renders_inspect_formats() {
        let v = serde_json::json!({"Name": "/web", "State": {"Running": true, "Pid": 42},
            "NetworkSettings": {"Networks": {"app": {"IPAddress": "10.0.0.2"}}}, "Tags": ["a"]});
        assert_eq!(
            go_template("{{.Name}} {{.State.Running}} {{.State.Pid}}", &v).unwrap(),
            "/web true 42"
        );
        assert_eq!(go_template("{{json .Tags}}", &v).unwrap(), r#"["a"]"#);
        assert_eq!(go_template("{{ .Missing }}", &v).unwrap(), "<no value>");
        let nested = go_template(
            r#"{{(index .NetworkSettings.Networks "app").IPAddress}}"#,
            &v,
        );
        assert!(nested.unwrap_err().to_string().contains("not supported"));
        assert_eq!(
            go_template(r#"{{index .NetworkSettings.Networks "app"}}"#, &v).unwrap(),
            r#"{"IPAddress":"10.0.0.2"}"#
        );
        assert!(go_template("{{.Name", &v).is_err());
        assert_eq!(
            go_template(
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                &v
            )
            .unwrap(),
            "10.0.0.2 "
        );
        assert_eq!(
            go_template("{{range .Tags}}<{{.}}>{{end}}!", &v).unwrap(),
            "<a>!"
        );
    }
}
