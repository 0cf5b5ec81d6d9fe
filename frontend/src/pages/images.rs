//! The Images page: local images (a row per tag) with repository, tag, id,
//! age and size, filtered as you type, sorted and paged by the daemon
//! (`/berth/images`); a row opens the image's page.

use crate::api;
use crate::time::{ago, local};
use berth_types::{short_id, units::human_size, ImageRow, ListPage};
use leptos::prelude::*;
use crate::listing::{ListQuery, PAGE};
use leptos_router::hooks::use_navigate;

#[component]
pub fn ImagesPage() -> impl IntoView {
    let query = RwSignal::new(ListQuery::newest_first());
    // Each change of the query asks the daemon again; the latest answer wins.
    let page = LocalResource::new(move || {
        let path = query.get().path("/berth/images");
        async move { api::get::<ListPage<ImageRow>>(&path).await }
    });
    let header = move |title: &'static str, key: &'static str| {
        let mark = move || query.get().mark(key);
        let click = move |_| query.update(|q| q.click_column(key));
        view! { <th class=format!("sortable sort-{key}") on:click=click>{title}{mark}</th> }
    };
    view! {
        <div class="page-head">
            <h1>"Images"</h1>
            <input class="search" type="search" placeholder="Filter by repository, tag or ID"
                on:input=move |ev| { let t = event_target_value(&ev); query.update(|q| q.filter(t)) }/>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading images…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(p) => view! {
                        <div class="panel">
                            <table class="images-table">
                                <thead><tr>
                                    {header("Repository", "repository")}
                                    {header("Tag", "tag")}
                                    <th>"Image ID"</th>
                                    {header("Created", "created")}
                                    {header("Size", "size")}
                                </tr></thead>
                                <tbody>{image_rows(&p)}</tbody>
                            </table>
                        </div>
                        <p class="count">{count_text(&p)}</p>
                        {(p.items.len() < p.matched).then(|| view! {
                            <button class="btn-quiet btn show-more" on:click=move |_| query.update(|q| q.limit += PAGE)>"Show more"</button>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn count_text(p: &ListPage<ImageRow>) -> String {
    crate::listing::count_text(p.items.len(), p.matched, p.total, "image", "images")
}

fn image_rows(p: &ListPage<ImageRow>) -> AnyView {
    if p.items.is_empty() {
        let msg = if p.total == 0 { "No images yet. Import one with: berth import rootfs.tar NAME:TAG" } else { "No image matches the filter." };
        return view! { <tr><td colspan="5" class="empty">{msg}</td></tr> }.into_any();
    }
    let navigate = use_navigate();
    p.items
        .iter()
        .map(|r| {
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
        })
        .collect_view()
        .into_any()
}
