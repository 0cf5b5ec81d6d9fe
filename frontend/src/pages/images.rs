//! The Images page: every local image with repository, tag, id, age and size,
//! filterable as you type; a row opens the image's page.

use crate::api;
use crate::time::{ago, local};
use berth_types::{short_id, units::human_size, ImageSummary};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// One table row: an image under one of its tags.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    repository: String,
    tag: String,
    id: String,
    created: i64,
    size: i64,
}

fn rows(list: &[ImageSummary]) -> Vec<Row> {
    let mut out = Vec::new();
    for i in list {
        let tags: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags.iter().map(|t| split_tag(t)).collect()
        };
        for (repository, tag) in tags {
            out.push(Row { repository, tag, id: i.id.clone(), created: i.created, size: i.size });
        }
    }
    out
}

fn split_tag(t: &str) -> (String, String) {
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => (t[..slash + i].to_string(), t[slash + i + 1..].to_string()),
        None => (t.to_string(), "<none>".into()),
    }
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let images = LocalResource::new(|| api::get::<Vec<ImageSummary>>("/images/json"));
    let (query, set_query) = signal(String::new());
    view! {
        <div class="page-head">
            <h1>"Images"</h1>
            <input class="search" type="search" placeholder="Filter by repository, tag or ID"
                prop:value=query on:input=move |ev| set_query.set(event_target_value(&ev))/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading images…"</p> }>
            {move || Suspend::new(async move {
                match images.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(list) => {
                        let all = rows(&list);
                        view! { <ImageTable rows=all query=query/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImageTable(rows: Vec<Row>, query: ReadSignal<String>) -> impl IntoView {
    let total = rows.len();
    let navigate = use_navigate();
    let visible = move || {
        let q = query.get().to_lowercase();
        rows.iter()
            .filter(|r| q.is_empty() || r.repository.contains(&q) || r.tag.contains(&q) || r.id.contains(&q))
            .cloned()
            .collect::<Vec<_>>()
    };
    view! {
        <div class="panel">
            <table class="images-table">
                <thead><tr><th>"Repository"</th><th>"Tag"</th><th>"Image ID"</th><th>"Created"</th><th>"Size"</th></tr></thead>
                <tbody>
                    {move || {
                        let shown = visible();
                        if shown.is_empty() {
                            let msg = if total == 0 { "No images yet. Import one with: berth import rootfs.tar NAME:TAG" } else { "No image matches the filter." };
                            return view! { <tr><td colspan="5" class="empty">{msg}</td></tr> }.into_any();
                        }
                        let navigate = navigate.clone();
                        shown.into_iter().map(move |r| {
                            let href = format!("/ui/images/{}", api::escape(&r.id));
                            let nav = navigate.clone();
                            let target = href.clone();
                            view! {
                                <tr class="clickable image-row" on:click=move |_| nav(&target, Default::default())>
                                    <td><a href=href.clone()>{r.repository.clone()}</a></td>
                                    <td>{r.tag.clone()}</td>
                                    <td class="mono">{short_id(&r.id).to_string()}</td>
                                    <td title=local(r.created)>{ago(r.created)}</td>
                                    <td>{human_size(r.size)}</td>
                                </tr>
                            }
                        }).collect_view().into_any()
                    }}
                </tbody>
            </table>
        </div>
        <p class="count">{format!("{total} {}", if total == 1 { "image" } else { "images" })}</p>
    }
}
