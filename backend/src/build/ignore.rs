//! `.dockerignore`: which files of a build context are left out, with
//! Docker's rules: one pattern per line, `#` comments, patterns cleaned of
//! leading and trailing slashes, `*` `?` `[…]` within a path segment, `**`
//! across any number of segments, `!` to take an exception, the last
//! matching line deciding. A pattern that matches a directory leaves out
//! everything below it.

/// The patterns of a `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<(bool, Vec<String>)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (exception, pat) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let segments: Vec<String> = pat
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_string)
                .collect();
            if !segments.is_empty() {
                rules.push((exception, segments));
            }
        }
        Self { rules }
    }

    /// Whether `path` (relative, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for (exception, pat) in &self.rules {
            // The path itself or one of its parent directories.
            let hit = (1..=parts.len()).any(|n| match_segments(pat, &parts[..n]));
            if hit {
                excluded = !exception;
            }
        }
        excluded
    }
}

fn match_segments(pat: &[String], path: &[&str]) -> bool {
    match pat.first() {
        None => path.is_empty(),
        Some(p) if p == "**" => {
            (0..=path.len()).any(|skip| match_segments(&pat[1..], &path[skip..]))
        }
        Some(p) => {
            !path.is_empty()
                && glob(p.as_bytes(), path[0].as_bytes())
                && match_segments(&pat[1..], &path[1..])
        }
    }
}

/// Whether the name `name` matches one segment's `pattern` (`*`, `?`, `[…]`).
pub fn segment_matches(pattern: &str, name: &str) -> bool {
    glob(pattern.as_bytes(), name.as_bytes())
}

/// Go's `filepath.Match` within one segment.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| glob(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && glob(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = p.iter().skip(1).position(|c| *c == b']').map(|e| e + 1) else {
                return !s.is_empty() && s[0] == b'[' && glob(&p[1..], &s[1..]);
            };
            let Some(&c) = s.first() else {
                return false;
            };
            let class = &p[1..end];
            let (negate, class) = match class.first() {
                Some(b'^') | Some(b'!') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut i = 0;
            let mut found = false;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    found |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    found |= class[i] == c;
                    i += 1;
                }
            }
            found != negate && glob(&p[end + 1..], &s[1..])
        }
        Some(b'\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && glob(&p[2..], &s[1..]),
        Some(c) => !s.is_empty() && s[0] == *c && glob(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::Ignore;

    #[test]
    fn dockers_rules() {
        let i = Ignore::parse(
            "# comment\n*.log\n!keep.log\nbuild/\n**/secret*\n/tmp/?.txt\ndocs\n!docs/README.md\n",
        );
        assert!(i.excludes("a.log"));
        assert!(!i.excludes("keep.log"));
        assert!(!i.excludes("sub/a.log"), "* stays within one segment");
        assert!(i.excludes("build"));
        assert!(i.excludes("build/out/x.o"), "below an excluded directory");
        assert!(i.excludes("secret.txt"));
        assert!(i.excludes("deep/down/secrets.json"));
        assert!(i.excludes("tmp/a.txt"));
        assert!(!i.excludes("tmp/ab.txt"));
        assert!(i.excludes("docs/guide.md"));
        assert!(
            !i.excludes("docs/README.md"),
            "the exception wins, being last"
        );
        assert!(!i.excludes("src/main.rs"));
        let classes = Ignore::parse("f[0-9].c\n");
        assert!(classes.excludes("f7.c") && !classes.excludes("fx.c"));
    }
}
