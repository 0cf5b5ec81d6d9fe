//! Replay of a recorded terminal session (asciicast v2, admins): the output
//! events written into a terminal at their recorded pace, with idle gaps
//! shortened to a second.

use crate::api;
use crate::terminal::Player;
use leptos::html::Div;
use leptos::prelude::*;
use std::time::Duration;

/// A parsed recording: the terminal's size and the events in order.
struct Cast {
    cols: u32,
    rows: u32,
    /// (seconds, code, data)
    events: Vec<(f64, String, String)>,
}

fn parse(text: &str) -> Result<Cast, String> {
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap_or("")).map_err(|e| format!("not an asciicast recording: {e}"))?;
    let mut events = Vec::new();
    for l in lines.filter(|l| !l.trim().is_empty()) {
        if let Ok((t, code, data)) = serde_json::from_str::<(f64, String, String)>(l) {
            events.push((t, code, data));
        }
    }
    Ok(Cast {
        cols: header["width"].as_u64().unwrap_or(80) as u32,
        rows: header["height"].as_u64().unwrap_or(24) as u32,
        events,
    })
}

#[component]
pub fn Replay(id: String) -> impl IntoView {
    let el = NodeRef::<Div>::new();
    let status = RwSignal::new(String::from("Loading the recording…"));
    let player = StoredValue::new_local(None::<Player>);
    let path = format!("/berth/recordings/{id}");
    Effect::new(move |_| {
        let Some(div) = el.get() else { return };
        let path = path.clone();
        leptos::task::spawn_local(async move {
            let cast = match api::get_text(&path).await.and_then(|t| parse(&t)) {
                Ok(c) => c,
                Err(e) => {
                    status.set(e);
                    return;
                }
            };
            let p = Player::open(&div, cast.cols, cast.rows);
            player.set_value(Some(p));
            let n = cast.events.iter().filter(|e| e.1 == "o").count();
            status.set(format!("Playing {n} output events…"));
            let (mut last, mut at) = (0.0f64, 0.0f64);
            for (t, code, data) in cast.events {
                at += (t - last).clamp(0.0, 1.0);
                last = t;
                let delay = Duration::from_millis((at * 1000.0) as u64);
                set_timeout(
                    move || {
                        player.with_value(|p| {
                            if let Some(p) = p {
                                match code.as_str() {
                                    "o" => p.write(&data),
                                    "r" => {
                                        if let Some((c, r)) = data.split_once('x') {
                                            p.resize(c.parse().unwrap_or(80), r.parse().unwrap_or(24));
                                        }
                                    }
                                    _ => {}
                                }
                            }
                        })
                    },
                    delay,
                );
            }
            set_timeout(move || status.set("Replay finished.".into()), Duration::from_millis((at * 1000.0) as u64 + 50));
        });
    });
    view! {
        <div class="replay">
            <p class="muted replay-status">{move || status.get()}</p>
            <div class="term replay-term" node_ref=el></div>
        </div>
    }
}
