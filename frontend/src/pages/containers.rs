//! The Containers page: containers with their state, image, ports and
//! uptime, filtered, sorted and paged by the daemon (`/berth/containers`),
//! with start / stop / restart / kill / remove on each row. The daemon's
//! event stream patches only the rows it names: a page of hundreds of
//! containers is never reloaded for one change.

use crate::api;
use crate::time::ago;
use crate::listing::{ListQuery, PAGE};
use berth_types::ListPage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    #[serde(rename = "IP", default)]
    pub ip: Option<String>,
    pub private_port: u16,
    #[serde(default)]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    pub state: String,
    pub status: String,
    pub created: i64,
    #[serde(default)]
    pub ports: Vec<Port>,
}

pub fn ports_text(ports: &[Port]) -> String {
    ports
        .iter()
        .map(|p| match p.public_port {
            Some(h) if h > 0 => format!("{}:{h}→{}/{}", p.ip.clone().unwrap_or_default(), p.private_port, p.kind),
            _ => format!("{}/{}", p.private_port, p.kind),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Events gathered before rows are patched; more changes than this at once
/// reload the page instead.
const PATCH_LIMIT: usize = 20;

/// Runs a container action; errors go to `error`. The row changes when the
/// daemon's event for it arrives.
pub fn action(path: String, method: &'static str, error: WriteSignal<Option<String>>, done: impl Fn() + 'static) {
    spawn_local(async move {
        let r = if method == "DELETE" { api::delete(&path).await } else { api::post_empty(&path).await };
        match r {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e)),
        }
        done();
    });
}

/// A query, and with `id` the one row of that container if it matches.
fn list_path(q: &ListQuery, id: Option<&str>) -> String {
    let mut p = q.path("/berth/containers");
    if let Some(id) = id {
        p.push_str(&format!("&id={}", api::escape(id)));
    }
    p
}

/// The list's state: the rows, the counts, and how it was loaded (the
/// browser test reads `data-loads` and `data-render-ms`).
#[derive(Clone, Copy)]
struct ListState {
    query: RwSignal<ListQuery>,
    rows: RwSignal<Vec<Summary>>,
    total: RwSignal<usize>,
    matched: RwSignal<usize>,
    loaded: RwSignal<bool>,
    loads: RwSignal<u32>,
    render_ms: RwSignal<f64>,
    /// The latest load; older answers are dropped.
    generation: RwSignal<u64>,
    error: RwSignal<Option<String>>,
}

impl ListState {
    fn new() -> Self {
        Self {
            query: RwSignal::new(ListQuery::newest_first()),
            rows: RwSignal::new(Vec::new()),
            total: RwSignal::new(0),
            matched: RwSignal::new(0),
            loaded: RwSignal::new(false),
            loads: RwSignal::new(0),
            render_ms: RwSignal::new(0.0),
            generation: RwSignal::new(0),
            error: RwSignal::new(None),
        }
    }

    /// Loads the page the query asks for and measures until it is painted.
    fn load(self) {
        let path = list_path(&self.query.get_untracked(), None);
        let generation = self.generation.get_untracked() + 1;
        self.generation.set(generation);
        let started = js_sys::Date::now();
        spawn_local(async move {
            let answer = api::get::<ListPage<Summary>>(&path).await;
            if self.generation.get_untracked() != generation {
                return;
            }
            match answer {
                Ok(page) => {
                    self.total.set(page.total);
                    self.matched.set(page.matched);
                    self.rows.set(page.items);
                    self.loaded.set(true);
                    self.error.set(None);
                    self.loads.update(|n| *n += 1);
                    request_animation_frame(move || self.render_ms.set(js_sys::Date::now() - started));
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }

    /// Brings the rows of containers `ids` up to date: each is asked for
    /// again under the current query, then replaced, added or dropped.
    fn patch(self, ids: Vec<String>, destroyed: Vec<String>) {
        let query = self.query.get_untracked();
        let generation = self.generation.get_untracked();
        spawn_local(async move {
            if !destroyed.is_empty() {
                let before = self.rows.with_untracked(Vec::len);
                self.rows.update(|r| r.retain(|c| !destroyed.contains(&c.id)));
                let gone = before - self.rows.with_untracked(Vec::len);
                self.matched.update(|m| *m = m.saturating_sub(gone));
                self.total.update(|t| *t = t.saturating_sub(destroyed.len()));
            }
            for id in ids.into_iter().filter(|i| !destroyed.contains(i)) {
                let Ok(page) = api::get::<ListPage<Summary>>(&list_path(&query, Some(&id))).await else { continue };
                if self.generation.get_untracked() != generation {
                    return;
                }
                self.total.set(page.total);
                let fresh = page.items.into_iter().next();
                self.rows.update(|rows| match (rows.iter().position(|c| c.id == id), fresh) {
                    (Some(i), Some(c)) => rows[i] = c,
                    (Some(i), None) => {
                        rows.remove(i);
                        self.matched.update(|m| *m = m.saturating_sub(1));
                    }
                    (None, Some(c)) => {
                        rows.insert(0, c);
                        self.matched.update(|m| *m += 1);
                    }
                    (None, None) => {}
                });
            }
        });
    }

    /// Follows the daemon's container events until the page goes away,
    /// patching the rows they name.
    fn follow_events(self) {
        let abort = api::abort_on_cleanup();
        let pending: std::rc::Rc<std::cell::RefCell<(Vec<String>, Vec<String>, bool)>> = Default::default();
        spawn_local(async move {
            let since = (js_sys::Date::now() / 1000.0) as i64;
            let filters = api::escape(r#"{"type":["container"]}"#);
            let path = format!("/events?since={since}&filters={filters}");
            let mut buf = Vec::new();
            let _ = api::get_stream(&path, abort.as_ref(), |chunk| {
                buf.extend_from_slice(chunk);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    let Ok(ev) = serde_json::from_slice::<serde_json::Value>(&line) else { continue };
                    let id = ev["Actor"]["ID"].as_str().unwrap_or_default().to_string();
                    if id.is_empty() {
                        continue;
                    }
                    let mut p = pending.borrow_mut();
                    if ev["Action"] == "destroy" {
                        p.1.push(id);
                    } else if !p.0.contains(&id) {
                        p.0.push(id);
                    }
                    if !p.2 {
                        p.2 = true;
                        let pending = pending.clone();
                        spawn_local(async move {
                            api::sleep_ms(150).await;
                            let (ids, destroyed, _) = std::mem::take(&mut *pending.borrow_mut());
                            if ids.len() + destroyed.len() > PATCH_LIMIT {
                                self.load();
                            } else {
                                self.patch(ids, destroyed);
                            }
                        });
                    }
                }
            })
            .await;
        });
    }
}

/// A column title that sorts by `key`; a second click turns the order.
#[component]
fn SortHeader(title: &'static str, key: &'static str, list: ListState) -> impl IntoView {
    let mark = move || list.query.get().mark(key);
    let click = move |_| {
        list.query.update(|q| q.click_column(key));
        list.load();
    };
    view! { <th class=format!("sortable sort-{key}") on:click=click>{title}{mark}</th> }
}

#[component]
pub fn ContainersPage() -> impl IntoView {
    let list = ListState::new();
    list.load();
    list.follow_events();
    let (error, set_error) = signal(None::<String>);
    let on_filter = move |ev| {
        let text = event_target_value(&ev);
        list.query.update(|q| q.filter(text));
        list.load();
    };
    let more = move |_| {
        list.query.update(|q| q.limit += PAGE);
        list.load();
    };
    view! {
        <div class="page-head">
            <h1>"Containers"</h1>
            <input class="search containers-filter" type="search" placeholder="Filter by name, image or ID" on:input=on_filter/>
            {crate::layout::can_operate().then(|| view! { <a class="btn" href="/ui/containers/new">"Run a container"</a> })}
        </div>
        {move || error.get().or_else(|| list.error.get()).map(|e| view! { <p class="error">{e}</p> })}
        {move || (!list.loaded.get()).then(|| view! { <p class="muted">"Loading containers…"</p> })}
        <div class="panel" class:hidden=move || !list.loaded.get()>
            <table class="containers-table" data-loads=move || list.loads.get().to_string() data-render-ms=move || format!("{:.0}", list.render_ms.get())>
                <thead><tr>
                    <SortHeader title="Name" key="name" list=list/>
                    <SortHeader title="State" key="state" list=list/>
                    <SortHeader title="Image" key="image" list=list/>
                    <th>"Ports"</th>
                    <SortHeader title="Created" key="created" list=list/>
                    <th>"Actions"</th>
                </tr></thead>
                <tbody>
                    <For each=move || list.rows.get() key=|c| (c.id.clone(), c.state.clone(), c.status.clone()) let:c>
                        <ContainerRow c=c error=set_error/>
                    </For>
                    {move || (list.loaded.get() && list.rows.with(Vec::is_empty)).then(|| {
                        let msg = if list.total.get() == 0 { "No containers yet. Run one from an image." } else { "No container matches the filter." };
                        view! { <tr><td colspan="6" class="empty">{msg}</td></tr> }
                    })}
                </tbody>
            </table>
        </div>
        <p class="count">{move || {
            crate::listing::count_text(list.rows.with(Vec::len), list.matched.get(), list.total.get(), "container", "containers")
        }}</p>
        {move || (list.rows.with(Vec::len) < list.matched.get()).then(|| view! { <button class="btn-quiet btn show-more" on:click=more>"Show more"</button> })}
    }
}

#[component]
fn ContainerRow(c: Summary, error: WriteSignal<Option<String>>) -> impl IntoView {
    let name = c.names.first().map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default();
    let href = format!("/ui/containers/{}", api::escape(&c.id));
    let running = c.state == "running";
    let id = c.id.clone();
    let act = move |verb: &'static str| {
        let id = id.clone();
        move |_| {
            let (path, method) = match verb {
                "remove" => (format!("/containers/{id}?force=1"), "DELETE"),
                "stop" => (format!("/containers/{id}/stop?t=3"), "POST"),
                v => (format!("/containers/{id}/{v}"), "POST"),
            };
            action(path, method, error, || ());
        }
    };
    view! {
        <tr class="container-row" data-name=name.clone()>
            <td><a href=href>{name.clone()}</a></td>
            <td><span class=format!("state state-{}", c.state)>{c.state.clone()}</span><div class="muted small">{c.status.clone()}</div></td>
            <td>{c.image.clone()}</td>
            <td class="mono">{ports_text(&c.ports)}</td>
            <td>{ago(c.created)}</td>
            <td class="actions">
                {crate::layout::can_operate().then(|| view! {
                {if running {
                    view! {
                        <button class="btn-quiet btn act-stop" on:click=act("stop")>"Stop"</button>
                        <button class="btn-quiet btn act-restart" on:click=act("restart")>"Restart"</button>
                        <button class="btn-quiet btn act-kill" on:click=act("kill")>"Kill"</button>
                    }.into_any()
                } else {
                    view! { <button class="btn-quiet btn act-start" on:click=act("start")>"Start"</button> }.into_any()
                }}
                <button class="btn-quiet btn act-remove" on:click=act("remove")>"Remove"</button>
                })}
            </td>
        </tr>
    }
}
