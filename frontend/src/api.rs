//! Calls to the daemon's Engine API, decoding Docker's error JSON into messages.

use berth_types::ErrorResponse;
use serde::de::DeserializeOwned;

/// GETs `path` and decodes JSON; errors are the daemon's message or the transport's.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let res = gloo_net::http::Request::get(path).send().await.map_err(|e| format!("cannot reach the Berth daemon: {e}"))?;
    if !res.ok() {
        let status = res.status();
        return Err(match res.json::<ErrorResponse>().await {
            Ok(e) => e.message,
            Err(_) => format!("the daemon answered {status}"),
        });
    }
    res.json::<T>().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// Escapes a value for use inside a URL path or query.
pub fn escape(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
