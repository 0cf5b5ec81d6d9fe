//! A terminal in the page: xterm.js (loaded by index.html) connected to a
//! WebSocket that carries a container's or an exec's streams as raw bytes.
//! A dashboard shell lives on in the daemon: the page keeps its session id
//! for the tab's life and connects to it again after navigating away, a
//! reload or a dropped connection; the daemon replays the screen.

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, MessageEvent, WebSocket};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Terminal)]
    #[derive(Clone)]
    pub type XTerm;
    #[wasm_bindgen(constructor, js_class = "Terminal")]
    fn new(opts: &JsValue) -> XTerm;
    #[wasm_bindgen(method)]
    fn open(this: &XTerm, el: &web_sys::HtmlElement);
    #[wasm_bindgen(method, js_name = write)]
    fn write_bytes(this: &XTerm, data: &js_sys::Uint8Array);
    #[wasm_bindgen(method, js_name = write)]
    fn write_str(this: &XTerm, data: &str);
    #[wasm_bindgen(method, js_name = onData)]
    fn on_data(this: &XTerm, f: &Closure<dyn FnMut(String)>);
    #[wasm_bindgen(method)]
    fn resize(this: &XTerm, cols: u32, rows: u32);
    #[wasm_bindgen(method)]
    fn focus(this: &XTerm);
    #[wasm_bindgen(method)]
    fn dispose(this: &XTerm);
}

/// A connected terminal; closing it (or dropping it) closes the socket.
pub struct Session {
    term: XTerm,
    ws: WebSocket,
    /// Set when the page closes the socket itself (no reconnecting then).
    closing: Rc<Cell<bool>>,
    _on_msg: Closure<dyn FnMut(MessageEvent)>,
    _on_data: Closure<dyn FnMut(String)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
    _on_open: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.closing.set(true);
        let _ = self.ws.close();
        self.term.dispose();
    }
}

/// Where a page keeps the id of the shell it may come back to (for the
/// browser tab's life).
fn session_store() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The shell session kept under `key`, if any.
pub fn kept_session(key: &str) -> Option<String> {
    session_store()?.get_item(key).ok()?
}

fn keep_session(key: &str, id: Option<&str>) {
    if let Some(st) = session_store() {
        let _ = match id {
            Some(id) => st.set_item(key, id),
            None => st.remove_item(key),
        };
    }
}

/// What a page asks of a terminal beyond showing it: where to keep the
/// daemon's session id (a shell that survives navigation), and what to do
/// when the connection drops while the shell still runs.
pub struct Keep {
    pub key: String,
    pub on_lost: Rc<dyn Fn()>,
}

/// The WebSocket URL for an API path on this daemon.
fn ws_url(path: &str) -> String {
    let loc = web_sys::window().expect("window").location();
    let scheme = if loc.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{}{path}", loc.host().unwrap_or_default())
}

/// Opens a terminal of `cols`×`rows` in `el`, connected to `path`. With
/// `keep`, the daemon's control messages (`{"session": id}`,
/// `{"ended": bool}`) keep or forget the session, and a dropped connection
/// calls `on_lost`.
pub fn open(el: &web_sys::HtmlElement, path: &str, cols: u32, rows: u32, keep: Option<Keep>) -> Result<Session, String> {
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"cols".into(), &cols.into());
    let _ = js_sys::Reflect::set(&opts, &"rows".into(), &rows.into());
    let _ = js_sys::Reflect::set(&opts, &"convertEol".into(), &false.into());
    let _ = js_sys::Reflect::set(&opts, &"fontFamily".into(), &"DejaVu Sans Mono, monospace".into());
    let term = XTerm::new(&opts);
    term.open(el);
    // The size goes in the URL too: a new shell's terminal has it before the
    // first command runs (the resize message below is for an attach).
    let sep = if path.contains('?') { '&' } else { '?' };
    let ws = WebSocket::new(&ws_url(&format!("{path}{sep}h={rows}&w={cols}"))).map_err(|e| format!("{e:?}"))?;
    ws.set_binary_type(BinaryType::Arraybuffer);
    let t = term.clone();
    let keep = keep.map(Rc::new);
    let ended = Rc::new(Cell::new(false));
    let (k, e2) = (keep.clone(), ended.clone());
    let on_msg = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let data = e.data();
        if let Some(s) = data.as_string() {
            let control = serde_json::from_str::<serde_json::Value>(&s).ok().filter(|v| v.is_object());
            match (control, &k) {
                (Some(v), Some(k)) => {
                    if let Some(id) = v["session"].as_str() {
                        keep_session(&k.key, Some(id));
                    }
                    if v["ended"] == true {
                        keep_session(&k.key, None);
                    }
                    if v.get("ended").is_some() {
                        e2.set(true);
                    }
                }
                (Some(_), None) => {}
                (None, _) => t.write_str(&s),
            }
        } else {
            t.write_bytes(&js_sys::Uint8Array::new(&data));
        }
    });
    ws.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    let w = ws.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |d: String| {
        // Input goes as binary; text messages are resizes.
        let _ = w.send_with_u8_array(d.as_bytes());
    });
    term.on_data(&on_data);
    let t = term.clone();
    let closing = Rc::new(Cell::new(false));
    let c2 = closing.clone();
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if c2.get() {
            return;
        }
        match &keep {
            // The shell runs on in the daemon: connect to it again.
            Some(k) if !ended.get() => {
                t.write_str("\r\n[connection lost: reconnecting]\r\n");
                let again = k.on_lost.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    crate::api::sleep_ms(1000).await;
                    again();
                });
            }
            _ => t.write_str("\r\n[session ended]\r\n"),
        }
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let w = ws.clone();
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        let _ = w.send_with_str(&format!(r#"{{"resize":[{rows},{cols}]}}"#));
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    term.focus();
    Ok(Session { term, ws, closing, _on_msg: on_msg, _on_data: on_data, _on_close: on_close, _on_open: on_open })
}

/// Columns that fit `el` (DejaVu Sans Mono at xterm's default size: about 9 px a column).
pub fn columns_for(el: &web_sys::HtmlElement) -> u32 {
    ((el.client_width().max(200) - 20) / 9).clamp(20, 300) as u32
}

impl Session {
    /// Resizes the terminal here and the process's terminal there.
    pub fn resize(&self, cols: u32, rows: u32) {
        self.term.resize(cols, rows);
        let _ = self.ws.send_with_str(&format!(r#"{{"resize":[{rows},{cols}]}}"#));
    }
}

/// A terminal without a connection, for replaying a recording.
pub struct Player {
    term: XTerm,
}

impl Drop for Player {
    fn drop(&mut self) {
        self.term.dispose();
    }
}

impl Player {
    pub fn open(el: &web_sys::HtmlElement, cols: u32, rows: u32) -> Player {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"cols".into(), &cols.into());
        let _ = js_sys::Reflect::set(&opts, &"rows".into(), &rows.into());
        let _ = js_sys::Reflect::set(&opts, &"fontFamily".into(), &"DejaVu Sans Mono, monospace".into());
        let term = XTerm::new(&opts);
        term.open(el);
        Player { term }
    }

    pub fn write(&self, s: &str) {
        self.term.write_str(s);
    }

    pub fn resize(&self, cols: u32, rows: u32) {
        self.term.resize(cols, rows);
    }
}
