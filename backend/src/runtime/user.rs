//! `USER` / `-u` resolution against the image's /etc/passwd and /etc/group:
//! `name`, `uid`, `name:group`, `uid:gid`, as Docker resolves them.

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

/// Resolves `spec` given the contents of the container's /etc/passwd and
/// /etc/group (empty when the image has none).
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<ResolvedUser, String> {
    if spec.is_empty() {
        return Ok(ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: supplementary(group, "root", 0),
        });
    }
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 {
            return None;
        }
        let uid: u32 = f[2].parse().ok()?;
        let gid: u32 = f[3].parse().ok()?;
        (f[0] == user || user.parse::<u32>().ok() == Some(uid))
            .then(|| (f[0].to_string(), uid, gid))
    });
    let (name, uid, mut gid) = match (entry, user.parse::<u32>()) {
        (Some(e), _) => e,
        (None, Ok(uid)) => (String::new(), uid, 0),
        (None, Err(_)) => {
            return Err(format!(
                "unable to find user {user}: no matching entries in passwd file"
            ))
        }
    };
    if let Some(g) = grp {
        gid = match group.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && f[0] == g)
                .then(|| f[2].parse::<u32>().ok())
                .flatten()
        }) {
            Some(id) => id,
            None => g.parse().map_err(|_| {
                format!("unable to find group {g}: no matching entries in group file")
            })?,
        };
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids: if grp.is_some() {
            Vec::new()
        } else {
            supplementary(group, &name, gid)
        },
    })
}

/// The home directory of `uid` in /etc/passwd (Docker's `HOME` default: `/root`).
pub fn home_of(passwd: &str, uid: u32) -> String {
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 5 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_string())
        })
        .unwrap_or_else(|| "/root".into())
}

fn supplementary(group: &str, name: &str, primary: u32) -> Vec<u32> {
    if name.is_empty() {
        return Vec::new();
    }
    group
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            let gid: u32 = f[2].parse().ok()?;
            (gid != primary && f[3].split(',').any(|m| m == name)).then_some(gid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nnogroup:x:65534:\nalice:x:1000:\nwheel:x:10:alice\n";

    #[test]
    fn users_and_groups() {
        assert_eq!(resolve("", PASSWD, GROUP).unwrap().uid, 0);
        let a = resolve("alice", PASSWD, GROUP).unwrap();
        assert_eq!((a.uid, a.gid, a.additional_gids), (1000, 1000, vec![10]));
        let n = resolve("nobody:wheel", PASSWD, GROUP).unwrap();
        assert_eq!((n.uid, n.gid), (65534, 10));
        let r = resolve("4242:4343", PASSWD, GROUP).unwrap();
        assert_eq!((r.uid, r.gid), (4242, 4343));
        assert_eq!(
            resolve("bob", PASSWD, GROUP).unwrap_err(),
            "unable to find user bob: no matching entries in passwd file"
        );
        assert!(resolve("alice:staff", PASSWD, GROUP)
            .unwrap_err()
            .contains("staff"));
    }
}
