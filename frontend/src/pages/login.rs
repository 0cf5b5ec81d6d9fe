//! The login page: user name and password; on success the browser goes to
//! the page it came from (`?next=`), with the session cookie set.

use crate::api;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let query = use_query_map();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let next = query
            .get_untracked()
            .get("next")
            .filter(|n| n.starts_with("/ui/") && !n.starts_with("/ui/login"))
            .unwrap_or_else(|| "/ui/containers".to_string());
        let body = serde_json::json!({"Username": user.get_untracked(), "Password": password.get_untracked()});
        leptos::task::spawn_local(async move {
            match api::post_json::<_, api::Session>("/berth/login", &body).await {
                Ok(_) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_href(&next);
                    }
                }
                Err(e) => {
                    error.set(Some(e));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <div class="login-page">
            <form class="panel login-box" on:submit=submit>
                <div class="brand login-brand"><img src="/favicon.svg" alt=""/>"Berth"</div>
                <label>"User"<input name="username" autocomplete="username" prop:value=user on:input=move |e| user.set(event_target_value(&e))/></label>
                <label>"Password"<input name="password" type="password" autocomplete="current-password" prop:value=password on:input=move |e| password.set(event_target_value(&e))/></label>
                <button class="btn login-submit" type="submit" disabled=move || busy.get()>"Log in"</button>
                {move || error.get().map(|e| view! { <p class="error login-error">{e}</p> })}
            </form>
        </div>
    }
}
