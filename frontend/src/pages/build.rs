//! The Build page: a Dockerfile written in the browser or a context
//! uploaded as a tar, a tag and build args; the classic builder's output
//! live, and a link to the image made.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// A tar archive holding one file (`name`, `data`): the context of a
/// Dockerfile written on the page.
pub fn tar_of_one(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    let octal = |field: &mut [u8], value: u64| {
        let digits = field.len() - 1;
        let text = format!("{value:0digits$o}");
        field[..digits].copy_from_slice(text.as_bytes());
    };
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// The bytes of the file chosen in `<input type=file>` `id`, if any.
async fn chosen_file(id: &str) -> Result<Option<Vec<u8>>, String> {
    let input = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok());
    let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) else {
        return Ok(None);
    };
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("read {}: {e:?}", file.name()))?;
    Ok(Some(js_sys::Uint8Array::new(&buf).to_vec()))
}

#[component]
pub fn BuildPage() -> impl IntoView {
    let dockerfile = RwSignal::new("FROM busybox\nRUN echo built in the browser > /hello\nCMD [\"cat\", \"/hello\"]\n".to_string());
    let tag = RwSignal::new(String::new());
    let args = RwSignal::new(String::new());
    let no_cache = RwSignal::new(false);
    let log = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (result, set_result) = signal(None::<Result<String, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_busy.set(true);
        set_result.set(None);
        log.set(String::new());
        spawn_local(async move {
            let r: Result<String, String> = async {
                let context = match chosen_file("build-context").await? {
                    Some(tar) => tar,
                    None => tar_of_one("Dockerfile", dockerfile.get_untracked().as_bytes()),
                };
                let mut build_args = serde_json::Map::new();
                for line in args.get_untracked().lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let (k, v) = line.split_once('=').ok_or_else(|| format!("build arg {line:?}: want NAME=value"))?;
                    build_args.insert(k.trim().to_string(), serde_json::Value::String(v.to_string()));
                }
                let mut path = format!("/build?buildargs={}", api::escape(&serde_json::Value::Object(build_args).to_string()));
                let t = tag.get_untracked();
                if !t.trim().is_empty() {
                    path.push_str(&format!("&t={}", api::escape(t.trim())));
                }
                if no_cache.get_untracked() {
                    path.push_str("&nocache=1");
                }
                let mut id = String::new();
                api::post_stream_body(&path, "application/x-tar", &context, |m| {
                    if let Some(s) = m.stream {
                        log.update(|l| l.push_str(&s));
                    }
                    if let Some(i) = m.aux.as_ref().and_then(|a| a["ID"].as_str()) {
                        id = i.to_string();
                    }
                })
                .await?;
                Ok(id)
            }
            .await;
            set_busy.set(false);
            set_result.set(Some(r));
        });
    };
    view! {
        <div class="page-head"><h1>"Build an image"</h1></div>
        <form class="panel launch-form build-form" on:submit=submit>
            <label>"Dockerfile"
                <textarea name="dockerfile" class="mono" rows="10" prop:value=dockerfile on:input=move |e| dockerfile.set(event_target_value(&e))></textarea>
            </label>
            <label>"…or a build context (a tar with its Dockerfile)"
                <input id="build-context" name="context" type="file" accept=".tar,.tar.gz,.tgz,application/x-tar,application/gzip"/>
            </label>
            <label>"Tag" <input name="tag" placeholder="name:tag (optional)" prop:value=tag on:input=move |e| tag.set(event_target_value(&e))/></label>
            <label>"Build args (NAME=value per line)"
                <textarea name="buildargs" class="mono" rows="2" prop:value=args on:input=move |e| args.set(event_target_value(&e))></textarea>
            </label>
            <label class="check"><input name="nocache" type="checkbox" prop:checked=no_cache on:change=move |e| no_cache.set(event_target_checked(&e))/>"Do not use the cache"</label>
            <button class="btn launch build-btn" type="submit" disabled=busy>{move || if busy.get() { "Building…" } else { "Build" }}</button>
        </form>
        <div class="panel">
            <div class="panel-head"><h2>"Output"</h2></div>
            <pre class="logs mono build-log">{move || { let l = log.get(); if l.is_empty() { "Nothing built yet.".to_string() } else { l } }}</pre>
            {move || result.get().map(|r| match r {
                Ok(id) => {
                    let short = id.trim_start_matches("sha256:").chars().take(12).collect::<String>();
                    view! { <p class="build-done">"Built "<a href=format!("/ui/images/{id}")>{short}</a></p> }.into_any()
                }
                Err(e) => view! { <p class="error build-error">{e}</p> }.into_any(),
            })}
        </div>
    }
}
