//! `--change` instructions (`docker import -c`, later `docker commit -c`): the
//! Dockerfile instructions that only edit an image's config.

use super::error::{ImageError, Result};
use super::oci::ContainerConfig;
use serde_json::Value;

const ALLOWED: &str =
    "CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";

/// Applies each change, in order, to `cfg`. Errors name the change.
pub fn apply_changes(cfg: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    for change in changes {
        apply_one(cfg, change.trim())?;
    }
    Ok(())
}

fn apply_one(cfg: &mut ContainerConfig, change: &str) -> Result<()> {
    let bad = |why: &str| ImageError::Invalid(format!("invalid change {change:?}: {why}"));
    let (instr, args) = change
        .split_once(char::is_whitespace)
        .unwrap_or((change, ""));
    let args = args.trim();
    match instr.to_ascii_uppercase().as_str() {
        "CMD" => cfg.cmd = Some(command_form(args)),
        "ENTRYPOINT" => cfg.entrypoint = Some(command_form(args)),
        "WORKDIR" => cfg.working_dir = args.to_string(),
        "USER" => cfg.user = args.to_string(),
        "STOPSIGNAL" => cfg.stop_signal = args.to_string(),
        "ONBUILD" => cfg
            .on_build
            .get_or_insert_with(Vec::new)
            .push(args.to_string()),
        "ENV" => {
            let env = cfg.env.get_or_insert_with(Vec::new);
            for (k, v) in key_values(args).map_err(|e| bad(&e))? {
                env.retain(|e| e.split_once('=').map_or(e.as_str(), |(ek, _)| ek) != k);
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            let labels = cfg.labels.get_or_insert_with(Default::default);
            for (k, v) in key_values(args).map_err(|e| bad(&e))? {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(Default::default);
            for p in args.split_whitespace() {
                let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
                if num.parse::<u16>().is_err() || !matches!(proto, "tcp" | "udp" | "sctp") {
                    return Err(bad(&format!("invalid port {p:?}")));
                }
                ports.insert(format!("{num}/{proto}"), Value::Object(Default::default()));
            }
        }
        "VOLUME" => {
            let vols = cfg.volumes.get_or_insert_with(Default::default);
            let list = json_array(args)
                .unwrap_or_else(|| args.split_whitespace().map(str::to_string).collect());
            for v in list {
                vols.insert(v, Value::Object(Default::default()));
            }
        }
        "HEALTHCHECK" => {
            let (flags, rest) = split_flags(args);
            cfg.healthcheck = Some(healthcheck(&flags, rest).map_err(|e| bad(&e))?);
        }
        "" => return Err(bad("empty instruction")),
        other => {
            return Err(bad(&format!(
                "{other} cannot be used here; allowed: {ALLOWED}"
            )))
        }
    }
    Ok(())
}

/// `HEALTHCHECK [--interval=… --timeout=… --start-period=… --retries=…] CMD …`
/// or `HEALTHCHECK NONE`, as the config's `Healthcheck`.
pub fn healthcheck(flags: &[(String, String)], rest: &str) -> Result<Value, String> {
    let rest = rest.trim();
    if rest.eq_ignore_ascii_case("NONE") {
        return Ok(serde_json::json!({"Test": ["NONE"]}));
    }
    let cmd = rest
        .strip_prefix("CMD")
        .or_else(|| rest.strip_prefix("cmd"))
        .ok_or("HEALTHCHECK takes NONE or CMD …")?
        .trim();
    let test: Vec<String> = match serde_json::from_str::<Vec<String>>(cmd) {
        Ok(j) => std::iter::once("CMD".to_string()).chain(j).collect(),
        Err(_) => vec!["CMD-SHELL".into(), cmd.to_string()],
    };
    let mut h = serde_json::json!({"Test": test});
    for (k, v) in flags {
        let field = match k.as_str() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                h["Retries"] = serde_json::json!(v
                    .parse::<u64>()
                    .map_err(|_| format!("--retries={v}: not a number"))?);
                continue;
            }
            other => return Err(format!("unknown flag: --{other}")),
        };
        h[field] = serde_json::json!(
            duration_ns(v).ok_or_else(|| format!("--{k}={v}: not a duration (30s, 1m)"))?
        );
    }
    Ok(h)
}

/// `30s`, `1m30s`, `500ms` → nanoseconds.
fn duration_ns(s: &str) -> Option<u64> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(total as u64)
}

/// The leading `--name=value` flags of an instruction's arguments (a bare
/// `--name` is `true`), and the rest.
pub fn split_flags(args: &str) -> (Vec<(String, String)>, &str) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while let Some(f) = rest.strip_prefix("--") {
        let (flag, after) = f
            .split_once(char::is_whitespace)
            .map_or((f, ""), |(a, b)| (a, b.trim_start()));
        let (k, v) = flag.split_once('=').unwrap_or((flag, "true"));
        flags.push((k.to_string(), v.to_string()));
        rest = after;
    }
    (flags, rest)
}

/// Exec form (`["a","b"]`) or shell form (`/bin/sh -c "…"`).
fn command_form(args: &str) -> Vec<String> {
    json_array(args).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), args.to_string()])
}

fn json_array(args: &str) -> Option<Vec<String>> {
    if !args.starts_with('[') {
        return None;
    }
    serde_json::from_str(args).ok()
}

/// `K=V K2="v 2"` or the legacy single `K V` form.
fn key_values(args: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let words = split_words(args)?;
    if words.is_empty() {
        return Err("needs at least one key".into());
    }
    if !words[0].contains('=') {
        let (k, v) = args
            .split_once(char::is_whitespace)
            .ok_or("needs a value")?;
        return Ok(vec![(k.to_string(), unquote(v.trim()))]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), unquote(v))),
            _ => Err(format!("{w:?} is not KEY=VALUE")),
        })
        .collect()
}

/// Splits on spaces outside double quotes, keeping the quotes.
fn split_words(s: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> Result<ContainerConfig> {
        let mut c = ContainerConfig::default();
        apply_changes(
            &mut c,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(c)
    }

    #[test]
    fn healthcheck_as_docker_stores_it() {
        let c = applied(&["HEALTHCHECK --interval=1m30s --retries=2 CMD [\"true\"]"]).unwrap();
        let h = c.healthcheck.unwrap();
        assert_eq!(h["Test"], serde_json::json!(["CMD", "true"]));
        assert_eq!(h["Interval"], 90_000_000_000u64);
        assert_eq!(h["Retries"], 2);
        let none = applied(&["HEALTHCHECK NONE"]).unwrap();
        assert_eq!(
            none.healthcheck.unwrap()["Test"],
            serde_json::json!(["NONE"])
        );
        let mut cfg = ContainerConfig::default();
        let bad = apply_changes(&mut cfg, &["HEALTHCHECK --interval=soon CMD true".into()]);
        assert!(bad.unwrap_err().to_string().contains("--interval=soon"));
    }

    #[test]
    fn applies_common_changes() {
        let c = applied(&[
            r#"CMD ["sh"]"#,
            "ENV A=1 B=\"two words\"",
            "WORKDIR /app",
            "EXPOSE 80 53/udp",
            "LABEL x=y",
        ])
        .unwrap();
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(
            c.env,
            Some(vec!["A=1".to_string(), "B=two words".to_string()])
        );
        assert_eq!(c.working_dir, "/app");
        assert!(c.exposed_ports.unwrap().contains_key("53/udp"));
        assert_eq!(c.labels.unwrap()["x"], "y");
    }

    #[test]
    fn shell_form_wraps_in_sh() {
        let c = applied(&["ENTRYPOINT echo hi"]).unwrap();
        assert_eq!(c.entrypoint.unwrap(), vec!["/bin/sh", "-c", "echo hi"]);
    }

    #[test]
    fn rejects_other_instructions_naming_them() {
        let e = applied(&["RUN rm -rf /"]).unwrap_err().to_string();
        assert!(e.contains("RUN rm -rf /") && e.contains("allowed"), "{e}");
        assert!(applied(&["EXPOSE http"]).is_err());
    }
}
