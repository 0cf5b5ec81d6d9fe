//! Search & pull: search registries and local images, pull a result, and watch
//! each layer's progress live, as `docker pull` shows it.

use crate::api;
use berth_types::{JsonMessage, SearchResult};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// One layer's progress in a running pull.
#[derive(Clone, Debug, PartialEq)]
struct Layer {
    id: String,
    status: String,
    percent: u32,
}

/// The pull shown under the results.
#[derive(Clone, Debug, Default, PartialEq)]
struct Pull {
    image: String,
    layers: Vec<Layer>,
    /// Lines without a layer: "Digest: …", "Status: …".
    lines: Vec<String>,
    done: bool,
    error: Option<String>,
}

impl Pull {
    fn apply(&mut self, m: JsonMessage) {
        let Some(status) = m.status else { return };
        let Some(id) = m.id.filter(|_| !status.starts_with("Pulling from")) else {
            self.lines.push(status);
            return;
        };
        let percent = match (status.as_str(), &m.progress_detail) {
            ("Downloading", Some(d)) => match (d.current, d.total) {
                (Some(c), Some(t)) if t > 0 => (c * 100 / t) as u32,
                _ => 0,
            },
            ("Pulling fs layer", _) => 0,
            _ => 100,
        };
        match self.layers.iter_mut().find(|l| l.id == id) {
            Some(l) => {
                l.status = status;
                l.percent = percent;
            }
            None => self.layers.push(Layer { id, status, percent }),
        }
    }
}

/// The tag to pull for a result: the first listed by the registry, else `latest`.
pub fn default_tag(r: &SearchResult) -> String {
    r.description
        .strip_prefix("tags: ")
        .and_then(|t| t.split(", ").next())
        .filter(|t| !t.is_empty())
        .unwrap_or("latest")
        .to_string()
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let (term, set_term) = signal(String::new());
    let results = RwSignal::new(None::<Result<Vec<SearchResult>, String>>);
    let pull = RwSignal::new(None::<Pull>);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = term.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        results.set(None);
        spawn_local(async move {
            let r = api::get::<Vec<SearchResult>>(&format!("/images/search?term={}", api::escape(t.trim()))).await;
            results.set(Some(r));
        });
    };
    let start_pull = move |name: String, tag: String| {
        let image = format!("{name}:{tag}");
        pull.set(Some(Pull { image: image.clone(), ..Pull::default() }));
        spawn_local(async move {
            let path = format!("/images/create?fromImage={}&tag={}", api::escape(&name), api::escape(&tag));
            let res = api::post_stream(&path, |m| pull.update(|p| if let Some(p) = p { p.apply(m) })).await;
            pull.update(|p| {
                if let Some(p) = p {
                    p.done = true;
                    p.error = res.err();
                }
            });
        });
    };
    view! {
        <div class="page-head">
            <h1>"Search & pull"</h1>
            <form class="search-form" on:submit=search>
                <input class="search" type="search" name="term" placeholder="busybox, or 127.0.0.1:5000/team/app"
                    prop:value=term on:input=move |ev| set_term.set(event_target_value(&ev))/>
                <button class="btn" type="submit">"Search"</button>
            </form>
        </div>
        <p class="muted">"Start with a registry (127.0.0.1:5000/…) to search only there; otherwise the registries you are logged in to and the local images are searched."</p>
        {move || match results.get() {
            None => view! { <span></span> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"Nothing found."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <div class="panel">
                    <table class="search-table">
                        <thead><tr><th>"Name"</th><th>"Description"</th><th>"Stars"</th><th>"Official"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|r| {
                                let (name, tag) = (r.name.clone(), default_tag(&r));
                                let label = format!("Pull {tag}");
                                view! {
                                    <tr class="search-row">
                                        <td class="mono">{r.name.clone()}</td>
                                        <td>{r.description.clone()}</td>
                                        <td>{r.star_count}</td>
                                        <td>{if r.is_official { "✓" } else { "" }}</td>
                                        <td><button class="btn pull-btn" on:click=move |_| start_pull(name.clone(), tag.clone())>{label}</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any(),
        }}
        {move || pull.get().map(|p| view! { <PullPanel pull=p/> })}
    }
}

#[component]
fn PullPanel(pull: Pull) -> impl IntoView {
    let title = if !pull.done {
        format!("Pulling {}…", pull.image)
    } else if pull.error.is_some() {
        format!("Pull of {} failed", pull.image)
    } else {
        format!("Pulled {}", pull.image)
    };
    view! {
        <div class="panel pull-panel">
            <h2>{title}</h2>
            <div class="layers">
                {pull.layers.into_iter().map(|l| view! {
                    <div class="layer">
                        <span class="mono">{l.id}</span>
                        <div class="bar"><div class="fill" style=format!("width: {}%", l.percent)></div></div>
                        <span class="status">{l.status}</span>
                    </div>
                }).collect_view()}
            </div>
            <div class="pull-lines mono">
                {pull.lines.into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}
            </div>
            {pull.error.map(|e| view! { <p class="error">{e}</p> })}
            {(pull.done).then(|| view! { <p><a href="/ui/images">"Go to images"</a></p> })}
        </div>
    }
}
