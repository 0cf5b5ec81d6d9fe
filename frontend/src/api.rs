//! Calls to the daemon's Engine API, decoding Docker's error JSON into messages.

use berth_types::{ErrorResponse, JsonMessage};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;

/// Sends a request; a non-2xx answer becomes the daemon's message.
async fn send(req: Request) -> Result<Response, String> {
    let res = req.send().await.map_err(|e| format!("cannot reach the Berth daemon: {e}"))?;
    if !res.ok() {
        let status = res.status();
        return Err(match res.json::<ErrorResponse>().await {
            Ok(e) => e.message,
            Err(_) => format!("the daemon answered {status}"),
        });
    }
    Ok(res)
}

/// GETs `path` and decodes JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let res = send(Request::get(path).build().map_err(|e| e.to_string())?).await?;
    res.json::<T>().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// POSTs a JSON body and decodes the JSON answer.
pub async fn post_json<B: serde::Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, String> {
    let req = Request::post(path).json(body).map_err(|e| e.to_string())?;
    let res = send(req).await?;
    res.json::<T>().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

pub async fn delete(path: &str) -> Result<(), String> {
    send(Request::delete(path).build().map_err(|e| e.to_string())?).await.map(|_| ())
}

/// POSTs to a streaming endpoint (pull, push) and calls `on_message` with each
/// NDJSON progress message as it arrives. A message with an error ends it.
pub async fn post_stream(path: &str, on_message: impl FnMut(JsonMessage)) -> Result<(), String> {
    stream_messages(Request::post(path).build().map_err(|e| e.to_string())?, on_message).await
}

/// `post_stream` with a body (a build context).
pub async fn post_stream_body(
    path: &str,
    content_type: &str,
    body: &[u8],
    on_message: impl FnMut(JsonMessage),
) -> Result<(), String> {
    let req = Request::post(path)
        .header("Content-Type", content_type)
        .body(js_sys::Uint8Array::from(body))
        .map_err(|e| e.to_string())?;
    stream_messages(req, on_message).await
}

async fn stream_messages(req: Request, mut on_message: impl FnMut(JsonMessage)) -> Result<(), String> {
    let res = send(req).await?;
    let body = res.body().ok_or("the daemon sent no progress")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(|e| format!("{e:?}"))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true);
        if done {
            break;
        }
        if let Ok(v) = js_sys::Reflect::get(&chunk, &"value".into()) {
            buf.extend(js_sys::Uint8Array::new(&v).to_vec());
        }
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            if let Ok(m) = serde_json::from_slice::<JsonMessage>(&line) {
                if let Some(e) = m.error {
                    return Err(e);
                }
                on_message(m);
            }
        }
    }
    Ok(())
}

/// POSTs with no body (start, stop, …).
pub async fn post_empty(path: &str) -> Result<(), String> {
    send(Request::post(path).build().map_err(|e| e.to_string())?).await.map(|_| ())
}

/// GETs a streaming endpoint (events, logs) and calls `on_chunk` with each
/// piece of the body as it arrives, until the body ends.
pub async fn get_stream(path: &str, mut on_chunk: impl FnMut(&[u8])) -> Result<(), String> {
    let res = send(Request::get(path).build().map_err(|e| e.to_string())?).await?;
    let body = res.body().ok_or("the daemon sent no body")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(|e| format!("{e:?}"))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true);
        if done {
            return Ok(());
        }
        if let Ok(v) = js_sys::Reflect::get(&chunk, &"value".into()) {
            on_chunk(&js_sys::Uint8Array::new(&v).to_vec());
        }
    }
}

/// Escapes a value for use inside a URL path or query.
pub fn escape(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
