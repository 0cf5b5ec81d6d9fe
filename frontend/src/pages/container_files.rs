//! A container's files on its page: browse directories, read a file (text
//! shown, up to 16 MiB) and download it, through
//! `/berth/containers/{id}/files`. Paths resolve inside the container.

use crate::api;
use berth_types::units::human_size;
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    name: String,
    size: i64,
    link_target: String,
    is_dir: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    entries: Vec<Entry>,
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

fn parent(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

#[component]
pub fn Files(id: String) -> impl IntoView {
    let dir = RwSignal::new(String::from("/"));
    let shown = RwSignal::new(None::<(String, Result<String, String>)>);
    let cid = StoredValue::new(id);
    let listing = LocalResource::new(move || {
        let d = dir.get();
        let id = cid.get_value();
        async move {
            api::get::<Listing>(&format!("/berth/containers/{}/files?path={}", api::escape(&id), api::escape(&d))).await
        }
    });
    let content_url = move |path: &str| {
        format!("/berth/containers/{}/files/content?path={}", api::escape(&cid.get_value()), api::escape(path))
    };
    let open_file = move |path: String| {
        let url = content_url(&path);
        leptos::task::spawn_local(async move {
            let r = api::get_text(&url).await;
            shown.set(Some((path, r)));
        });
    };
    view! {
        <div class="panel files-panel">
            <div class="panel-head">
                <h2>"Files"</h2>
                <span class="mono files-path">{move || dir.get()}</span>
                <button class="btn btn-quiet files-up" on:click=move |_| { shown.set(None); dir.update(|d| *d = parent(d)); }>"Up"</button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Reading…"</p> }>
                {move || Suspend::new(async move {
                    match listing.await {
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                        Ok(l) => view! {
                            <table class="files-table">
                                <thead><tr><th>"Name"</th><th>"Size"</th><th></th></tr></thead>
                                <tbody>
                                    {l.entries.into_iter().map(|e| {
                                        let path = join(&dir.get_untracked(), &e.name);
                                        let label = if e.link_target.is_empty() { e.name.clone() } else { format!("{} → {}", e.name, e.link_target) };
                                        let (p1, p2) = (path.clone(), path.clone());
                                        view! {
                                            <tr class="file-row">
                                                <td>{if e.is_dir {
                                                    view! { <a href="#" class="file-dir" on:click=move |ev| { ev.prevent_default(); shown.set(None); dir.set(p1.clone()); }>{format!("{label}/")}</a> }.into_any()
                                                } else if e.link_target.is_empty() {
                                                    view! { <a href="#" class="file-name" on:click=move |ev| { ev.prevent_default(); open_file(p1.clone()); }>{label}</a> }.into_any()
                                                } else {
                                                    view! { <span class="mono">{label}</span> }.into_any()
                                                }}</td>
                                                <td>{if e.is_dir { String::new() } else { human_size(e.size) }}</td>
                                                <td>{(!e.is_dir && e.link_target.is_empty()).then(|| view! { <a class="file-download" href=content_url(&p2)>"Download"</a> })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
            {move || shown.get().map(|(path, r)| view! {
                <div class="file-view">
                    <div class="muted small mono">{path}</div>
                    {match r {
                        Ok(text) => view! { <pre class="logs file-text">{text}</pre> }.into_any(),
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    }}
                </div>
            })}
        </div>
    }
}
