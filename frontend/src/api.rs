//! Calls to the daemon's Engine API, decoding Docker's error JSON into messages.
//! The session cookie goes with every call by itself; state changes carry the
//! session's CSRF token; an answer of 401 sends the browser to the login page.

use berth_types::{ErrorResponse, JsonMessage};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use wasm_bindgen::JsCast;

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
    static TEAM: RefCell<String> = const { RefCell::new(String::new()) };
}

const TEAM_KEY: &str = "berth-team";

/// The team new containers, images and volumes go to, for a user in
/// several teams (sent as `X-Berth-Team`; kept in the browser).
pub fn chosen_team() -> Option<String> {
    web_sys::window()?.local_storage().ok()??.get_item(TEAM_KEY).ok()?
}

pub fn choose_team(team: &str) {
    if let Some(Ok(Some(st))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = st.set_item(TEAM_KEY, team);
    }
    TEAM.with(|t| *t.borrow_mut() = team.to_string());
}

/// Every request names the chosen team, if there is one.
fn base(b: RequestBuilder) -> RequestBuilder {
    let team = TEAM.with(|t| t.borrow().clone());
    if team.is_empty() {
        b
    } else {
        b.header("X-Berth-Team", &team)
    }
}

/// Starts with the team chosen before, if the user is still in it.
pub fn restore_team(teams: &[String]) {
    if let Some(t) = chosen_team().filter(|t| teams.contains(t)) {
        TEAM.with(|c| *c.borrow_mut() = t);
    }
}

/// Keeps the session's CSRF token (from the login or `/berth/session`).
pub fn set_csrf(token: &str) {
    CSRF.with(|c| *c.borrow_mut() = token.to_string());
}

/// A state-changing request with the CSRF token.
fn changing(b: RequestBuilder) -> RequestBuilder {
    let token = CSRF.with(|c| c.borrow().clone());
    base(b).header("X-CSRF-Token", &token)
}

fn post(path: &str) -> RequestBuilder {
    changing(Request::post(path))
}

/// The login page, coming back to where the user was.
pub fn to_login() {
    let Some(w) = web_sys::window() else { return };
    let loc = w.location();
    let here = format!("{}{}", loc.pathname().unwrap_or_default(), loc.search().unwrap_or_default());
    if !here.starts_with("/ui/login") {
        let _ = loc.set_href(&format!("/ui/login?next={}", escape(&here)));
    }
}

/// Sends a request; a non-2xx answer becomes the daemon's message.
async fn send(req: Request) -> Result<Response, String> {
    let res = req.send().await.map_err(|e| format!("cannot reach the Berth daemon: {e}"))?;
    if res.status() == 401 {
        to_login();
    }
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
    let res = send(base(Request::get(path)).build().map_err(|e| e.to_string())?).await?;
    res.json::<T>().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// GETs `path` as text.
pub async fn get_text(path: &str) -> Result<String, String> {
    let res = send(base(Request::get(path)).build().map_err(|e| e.to_string())?).await?;
    res.text().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// The logged-in account, from `/berth/session` or the login.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    pub username: String,
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub csrf_token: Option<String>,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// POSTs a JSON body and decodes the JSON answer.
pub async fn post_json<B: serde::Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, String> {
    let req = post(path).json(body).map_err(|e| e.to_string())?;
    let res = send(req).await?;
    res.json::<T>().await.map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// PUTs or PATCHes a JSON body; the answer's body is not read.
pub async fn send_json<B: serde::Serialize>(method: &str, path: &str, body: &B) -> Result<(), String> {
    let b = match method {
        "PATCH" => Request::patch(path),
        _ => Request::put(path),
    };
    send(changing(b).json(body).map_err(|e| e.to_string())?).await.map(|_| ())
}

pub async fn delete(path: &str) -> Result<(), String> {
    send(changing(Request::delete(path)).build().map_err(|e| e.to_string())?).await.map(|_| ())
}

/// PUTs with no body (team membership).
pub async fn put_empty(path: &str) -> Result<(), String> {
    send(changing(Request::put(path)).build().map_err(|e| e.to_string())?).await.map(|_| ())
}

/// POSTs to a streaming endpoint (pull, push) and calls `on_message` with each
/// NDJSON progress message as it arrives. A message with an error ends it.
pub async fn post_stream(path: &str, on_message: impl FnMut(JsonMessage)) -> Result<(), String> {
    stream_messages(post(path).build().map_err(|e| e.to_string())?, on_message).await
}

/// `post_stream` with a body (a build context).
pub async fn post_stream_body(
    path: &str,
    content_type: &str,
    body: &[u8],
    on_message: impl FnMut(JsonMessage),
) -> Result<(), String> {
    let req = post(path)
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
    send(post(path).build().map_err(|e| e.to_string())?).await.map(|_| ())
}

/// GETs a streaming endpoint (events, logs) and calls `on_chunk` with each
/// piece of the body as it arrives, until the body ends.
/// An abort signal that fires when the current view goes away, so the
/// streams it opened end with it (a browser keeps only a few connections
/// per host open).
pub fn abort_on_cleanup() -> Option<web_sys::AbortSignal> {
    let controller = web_sys::AbortController::new().ok()?;
    let signal = controller.signal();
    let controller = send_wrapper::SendWrapper::new(controller);
    leptos::prelude::on_cleanup(move || controller.abort());
    Some(signal)
}

/// GETs a streamed answer, handing over each chunk as it arrives, until it
/// ends or `abort` fires.
pub async fn get_stream(path: &str, abort: Option<&web_sys::AbortSignal>, mut on_chunk: impl FnMut(&[u8])) -> Result<(), String> {
    let res = send(base(Request::get(path)).abort_signal(abort).build().map_err(|e| e.to_string())?).await?;
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

/// Resolves after `ms` milliseconds (a browser timer).
pub async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
