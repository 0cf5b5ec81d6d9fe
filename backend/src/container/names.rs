//! Container names: Docker's rule for given names, and random
//! `adjective_surname` names when none is given.

const ADJECTIVES: [&str; 24] = [
    "admiring",
    "bold",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "elastic",
    "festive",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "tender",
    "upbeat",
    "vibrant",
    "zealous",
];
const SURNAMES: [&str; 24] = [
    "archimedes",
    "babbage",
    "curie",
    "darwin",
    "euclid",
    "fermi",
    "galileo",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "lamport",
    "lovelace",
    "meitner",
    "noether",
    "pascal",
    "ritchie",
    "shannon",
    "thompson",
    "turing",
    "volta",
    "wozniak",
    "yalow",
    "zuse",
];

/// Checks a name given with `--name`, without its optional leading `/`.
pub fn validate(name: &str) -> Result<String, String> {
    let n = name.strip_prefix('/').unwrap_or(name);
    if n.len() >= 2 && follows_name_rule(n) {
        Ok(n.to_string())
    } else {
        Err(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

/// Docker's rule for container, volume and network names:
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn follows_name_rule(name: &str) -> bool {
    name.as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A random name that `taken` says is free.
pub fn random(seed: &[u8], taken: impl Fn(&str) -> bool) -> String {
    let mut n = seed
        .iter()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(*b as u64));
    for attempt in 0.. {
        let a = ADJECTIVES[(n % 24) as usize];
        let s = SURNAMES[((n / 24) % 24) as usize];
        let name = if attempt < 8 {
            format!("{a}_{s}")
        } else {
            format!("{a}_{s}{attempt}")
        };
        if !taken(&name) {
            return name;
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
    }
    unreachable!("an unbounded loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(validate("/web-1").unwrap(), "web-1");
        assert!(validate("-x")
            .unwrap_err()
            .contains("Invalid container name (-x)"));
        assert!(validate("a b").is_err());
        let n = random(b"abc", |_| false);
        assert!(n.contains('_'));
        let m = random(b"abc", |x| x == n);
        assert_ne!(m, n);
    }
}
