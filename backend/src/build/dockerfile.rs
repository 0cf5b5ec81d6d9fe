//! Dockerfile parsing as Docker's classic builder does it: parser
//! directives (`# escape=`), comments, line continuations with the escape
//! character, JSON (exec) and shell forms, `--flag=value` options, and
//! variable substitution (`$V`, `${V}`, `${V:-default}`, `${V:+alt}`).
//! Errors name the file and the line.

use std::collections::HashMap;

/// One instruction as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// Line of the instruction's first line (1-based).
    pub line: usize,
    /// Upper case: `RUN`, `COPY`, …
    pub cmd: String,
    /// `--from=…`, `--chown=…` and the like, in order.
    pub flags: Vec<(String, String)>,
    /// The rest of the line, continuations joined.
    pub rest: String,
    /// The JSON array of an exec form, when the rest is one.
    pub json: Option<Vec<String>>,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// How the step shows in `Step N/M : …` and in the history.
    pub fn original(&self) -> String {
        let mut s = self.cmd.clone();
        for (k, v) in &self.flags {
            s.push_str(&format!(" --{k}={v}"));
        }
        if !self.rest.is_empty() {
            s.push(' ');
            s.push_str(&self.rest);
        }
        s
    }
}

pub const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "MAINTAINER",
    "RUN",
    "CMD",
    "ENTRYPOINT",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ONBUILD",
    "ARG",
    "LABEL",
    "SHELL",
    "STOPSIGNAL",
    "HEALTHCHECK",
];

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// The escape character: a backslash, or a backtick by directive.
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

/// Parses the Dockerfile `text` (named `file` in errors).
pub fn parse(file: &str, text: &str) -> Result<Dockerfile, String> {
    let mut escape = '\\';
    let lines: Vec<&str> = text.lines().collect();
    // Parser directives: `# key=value` lines at the very top.
    let mut start = 0;
    for l in &lines {
        let Some(d) = l.trim().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = d.split_once('=') else {
            break;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "escape" => {
                escape = match v.trim() {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(format!(
                            "{file}:{}: invalid escape token {other:?}: must be ` or \\",
                            start + 1
                        ))
                    }
                }
            }
            "syntax" | "check" => {}
            _ => break,
        }
        start += 1;
    }
    let mut out = Vec::new();
    let mut i = start;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let first = i + 1;
        let mut logical = String::new();
        loop {
            let raw = lines[i];
            i += 1;
            let trimmed = raw.trim_start();
            if trimmed.starts_with('#') {
                // A comment, also inside a continued instruction.
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            let t = raw.trim_end();
            if let Some(body) = t.strip_suffix(escape) {
                logical.push_str(body);
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            logical.push_str(t);
            break;
        }
        let logical = logical.trim();
        if logical.is_empty() {
            continue;
        }
        out.push(instruction(file, first, logical)?);
    }
    Ok(Dockerfile {
        escape,
        instructions: out,
    })
}

fn instruction(file: &str, line: usize, text: &str) -> Result<Instruction, String> {
    let (word, mut rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(w, r)| (w, r.trim_start()));
    let cmd = word.to_ascii_uppercase();
    if !INSTRUCTIONS.contains(&cmd.as_str()) {
        return Err(format!("{file}:{line}: unknown instruction: {word}"));
    }
    let mut flags = Vec::new();
    // Flags come first on the instructions that take them.
    if matches!(
        cmd.as_str(),
        "FROM" | "COPY" | "ADD" | "RUN" | "HEALTHCHECK"
    ) {
        (flags, rest) = crate::image::changes::split_flags(rest);
    }
    let json = if rest.starts_with('[') {
        serde_json::from_str::<Vec<String>>(rest).ok()
    } else {
        None
    };
    let needs_args = !matches!(cmd.as_str(), "HEALTHCHECK");
    if needs_args && rest.is_empty() {
        return Err(format!(
            "{file}:{line}: {cmd} requires at least one argument"
        ));
    }
    Ok(Instruction {
        line,
        cmd,
        flags,
        rest: rest.to_string(),
        json,
    })
}

/// Replaces `$V`, `${V}`, `${V:-default}` and `${V:+alt}` from `vars`; the
/// escape character makes a `$` literal. Unknown variables are empty.
pub fn substitute(s: &str, vars: &HashMap<String, String>, escape: char) -> Result<String, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let end = chars[i + 2..]
                .iter()
                .position(|c| *c == '}')
                .ok_or_else(|| format!("missing '}}' in {s:?}"))?;
            let inner: String = chars[i + 2..i + 2 + end].iter().collect();
            i += end + 3;
            let (name, op) = match inner.find(':') {
                Some(p) => (&inner[..p], Some(&inner[p + 1..])),
                None => (inner.as_str(), None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad substitution: ${{{inner}}}"));
            }
            let value = vars.get(name).filter(|v| !v.is_empty());
            match op {
                None => out.push_str(vars.get(name).map_or("", String::as_str)),
                Some(o) if o.starts_with('-') => {
                    out.push_str(value.map_or(&o[1..], String::as_str));
                }
                Some(o) if o.starts_with('+') => {
                    if value.is_some() {
                        out.push_str(&o[1..]);
                    }
                }
                Some(o) => return Err(format!("unsupported modifier ({o}) in ${{{inner}}}")),
            }
            continue;
        }
        let name: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect();
        if name.is_empty() {
            out.push('$');
            i += 1;
            continue;
        }
        i += 1 + name.chars().count();
        out.push_str(vars.get(&name).map_or("", String::as_str));
    }
    Ok(out)
}

/// Splits `a b "c d"` into words (quotes removed), for ENV/LABEL/ARG pairs
/// and COPY sources.
pub fn words(s: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, e) if e == escape && quote != Some('\'') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `K=V K2="v 2"` or the old `K V…` form (ENV, LABEL).
pub fn pairs(rest: &str, escape: char, what: &str) -> Result<Vec<(String, String)>, String> {
    let w = words(rest, escape);
    if w.is_empty() {
        return Err(format!("{what} requires at least one argument"));
    }
    if !w[0].contains('=') {
        // ENV KEY value with spaces
        let (k, v) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{what} must have two arguments"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    w.into_iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("{what} names can not be blank: {p:?} has no '='"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_forms() {
        let text = "# escape=\\\nFROM busybox AS base\n# a comment\nRUN echo a \\\n  # inside\n  && echo b\nCMD [\"sh\", \"-c\", \"x\"]\nCOPY --chown=1:2 --from=base a b\n";
        let p = parse("Dockerfile", text).unwrap().instructions;
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].rest, "busybox AS base");
        assert_eq!(p[1].cmd, "RUN");
        assert_eq!(p[1].rest, "echo a   && echo b");
        assert_eq!(p[1].line, 4);
        assert_eq!(p[2].json.as_deref().unwrap(), ["sh", "-c", "x"]);
        assert_eq!(p[3].flag("chown"), Some("1:2"));
        assert_eq!(p[3].flag("from"), Some("base"));
        assert_eq!(p[3].rest, "a b");
    }

    #[test]
    fn the_escape_directive_changes_the_continuation() {
        let d = parse("D", "# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\n").unwrap();
        assert_eq!(d.escape, '`');
        let p = d.instructions;
        assert_eq!(p[1].rest, "dir c:\\   && echo");
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            parse("df", "FROM x\n\nBOGUS y\n").unwrap_err(),
            "df:3: unknown instruction: BOGUS"
        );
        assert_eq!(
            parse("df", "FROM x\nRUN\n").unwrap_err(),
            "df:2: RUN requires at least one argument"
        );
    }

    #[test]
    fn substitution() {
        let v: HashMap<String, String> = [
            ("A".to_string(), "1".to_string()),
            ("E".to_string(), String::new()),
        ]
        .into_iter()
        .collect();
        let s = |x: &str| substitute(x, &v, '\\').unwrap();
        assert_eq!(
            s("$A-${A}-${B:-d}-${A:+set}-${B:+x}-${E:-e}"),
            "1-1-d-set--e"
        );
        assert_eq!(s("\\$A $ x"), "$A $ x");
        assert!(substitute("${A", &v, '\\').is_err());
    }

    #[test]
    fn env_pairs_both_forms() {
        assert_eq!(
            pairs("A=1 B=\"two words\"", '\\', "ENV").unwrap(),
            [("A".into(), "1".into()), ("B".into(), "two words".into())]
        );
        assert_eq!(
            pairs("A one two", '\\', "ENV").unwrap(),
            [("A".into(), "one two".into())]
        );
    }
}
