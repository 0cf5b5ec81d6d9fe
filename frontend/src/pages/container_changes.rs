//! The Changes panel of a container's page: its `docker diff` as a tree
//! marked A/C/D, and a form to commit those changes as an image (author,
//! message, repository:tag).

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

/// One line of the tree: depth, name, and A/C/D.
fn tree_rows(changes: &Value) -> Vec<(usize, String, char)> {
    changes
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let path = c["Path"].as_str().unwrap_or_default();
            let depth = path.matches('/').count().saturating_sub(1);
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            let kind = match c["Kind"].as_u64() {
                Some(1) => 'A',
                Some(2) => 'D',
                _ => 'C',
            };
            (depth, name, kind)
        })
        .collect()
}

#[component]
pub fn Changes(id: String) -> impl IntoView {
    let (refresh, set_refresh) = signal(0u64);
    let diff_id = id.clone();
    let changes = LocalResource::new(move || {
        let id = diff_id.clone();
        let _ = refresh.get();
        async move { api::get::<Value>(&format!("/containers/{}/changes", api::escape(&id))).await }
    });
    let repo = RwSignal::new(String::new());
    let author = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let (made, set_made) = signal(None::<Result<String, String>>);
    let commit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut q = format!("/commit?container={}", api::escape(&id));
        for (k, v) in [("repo", repo.get()), ("author", author.get()), ("comment", message.get())] {
            if !v.trim().is_empty() {
                q.push_str(&format!("&{k}={}", api::escape(v.trim())));
            }
        }
        set_made.set(None);
        spawn_local(async move {
            let r = api::post_json::<_, Value>(&q, &serde_json::json!({})).await;
            set_made.set(Some(r.map(|v| v["Id"].as_str().unwrap_or_default().to_string())));
        });
    };
    view! {
        <div class="panel changes-panel">
            <div class="panel-head">
                <h2>"Changes"</h2>
                <button class="btn changes-refresh" on:click=move |_| set_refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Reading changes…"</p> }>
                {move || Suspend::new(async move {
                    match changes.await {
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                        Ok(v) => {
                            let rows = tree_rows(&v);
                            if rows.is_empty() {
                                view! { <p class="muted changes-empty">"No changes to the image's files."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="changes-tree mono">
                                        {rows.into_iter().map(|(depth, name, kind)| view! {
                                            <li class=format!("change change-{kind}") style=format!("padding-left: {}px", depth * 16)>
                                                <span class="change-kind">{kind.to_string()}</span>" "{name}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }
                        }
                    }
                })}
            </Suspense>
            {crate::layout::can_operate().then(|| view! {
            <form class="row commit-form" on:submit=commit>
                <input name="commit-repo" placeholder="repository:tag (optional)" prop:value=repo on:input=move |e| repo.set(event_target_value(&e))/>
                <input name="commit-author" placeholder="author" prop:value=author on:input=move |e| author.set(event_target_value(&e))/>
                <input name="commit-message" placeholder="message" prop:value=message on:input=move |e| message.set(event_target_value(&e))/>
                <button class="btn commit-btn" type="submit">"Commit as image"</button>
            </form>
            })}
            {move || made.get().map(|r| match r {
                Ok(id) => {
                    let short = id.trim_start_matches("sha256:").chars().take(12).collect::<String>();
                    view! { <p class="commit-done">"Committed: "<a href=format!("/ui/images/{id}")>{short}</a></p> }.into_any()
                }
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
            })}
        </div>
    }
}
