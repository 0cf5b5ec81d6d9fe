//! Query strings as the Engine API uses them: repeated keys (`names=a&names=b`),
//! Go-style booleans (`1`, `true`, `True`), and the JSON `filters` parameter in
//! both its current (`{"k": {"v": true}}`) and legacy (`{"k": ["v"]}`) forms.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Self {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Go's `strconv.ParseBool` semantics; absent or empty is false.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key).unwrap_or("") {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            other => Err(ApiError::bad_request(format!(
                "invalid value for {key}: {other:?} is not a boolean"
            ))),
        }
    }

    pub fn filters(&self) -> Result<Filters, ApiError> {
        Filters::parse(self.get("filters").unwrap_or(""))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

/// Parsed `filters`: key → values.
#[derive(Debug, Default, Clone)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        let bad = |e: String| ApiError::bad_request(format!("invalid filters {raw:?}: {e}"));
        let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad("want a JSON object".into()))?;
        let mut out = BTreeMap::new();
        for (k, vals) in obj {
            let list: Vec<String> = match vals {
                serde_json::Value::Object(m) => m
                    .iter()
                    .filter(|(_, on)| on.as_bool() != Some(false))
                    .map(|(v, _)| v.clone())
                    .collect(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => return Err(bad(format!("values of {k:?} must be an object or a list"))),
            };
            out.insert(k.clone(), list);
        }
        Ok(Self(out))
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Fails naming the first key not in `allowed`, as Docker does.
    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.keys().find(|k| !allowed.contains(k)) {
            Some(k) => Err(ApiError::bad_request(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_flags() {
        let p = Params::parse("names=a&names=b%2Fc&force=1&noprune=False");
        assert_eq!(p.all("names"), vec!["a", "b/c"]);
        assert!(p.flag("force").unwrap());
        assert!(!p.flag("noprune").unwrap());
        assert!(Params::parse("force=maybe").flag("force").is_err());
    }

    #[test]
    fn both_filter_forms() {
        let f = Filters::parse(r#"{"dangling":{"true":true},"label":["a=b"]}"#).unwrap();
        assert_eq!(f.get("dangling"), ["true"]);
        assert_eq!(f.get("label"), ["a=b"]);
        assert!(f.allow_only(&["dangling"]).is_err());
    }
}
