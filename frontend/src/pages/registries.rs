//! Registries: the registries the daemon is logged in to (user names only, never
//! passwords), a form to add one, and removal.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Login {
    server_address: String,
    username: String,
}

#[component]
pub fn RegistriesPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let logins = LocalResource::new(move || {
        version.track();
        api::get::<Vec<Login>>("/berth/registries")
    });
    let (server, set_server) = signal(String::new());
    let (user, set_user) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({
            "serveraddress": server.get_untracked(),
            "username": user.get_untracked(),
            "password": password.get_untracked(),
        });
        message.set(None);
        spawn_local(async move {
            let res = api::post_json::<_, serde_json::Value>("/auth", &body).await;
            match res {
                Ok(_) => {
                    set_password.set(String::new());
                    message.set(Some(Ok("Login Succeeded".into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some(Err(e))),
            }
        });
    };
    let remove = move |server: String| {
        spawn_local(async move {
            match api::delete(&format!("/berth/auth/{}", api::escape(&server))).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => message.set(Some(Err(e))),
            }
        });
    };
    view! {
        <div class="page-head"><h1>"Registries"</h1></div>
        <div class="panel">
            <h2>"Logged in"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match logins.await {
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No registry logins yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="registries-table">
                                <thead><tr><th>"Registry"</th><th>"User"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|l| {
                                        let s = l.server_address.clone();
                                        view! {
                                            <tr class="registry-row">
                                                <td class="mono">{l.server_address}</td>
                                                <td>{l.username}</td>
                                                <td><button class="btn btn-quiet remove-btn" on:click=move |_| remove(s.clone())>"Remove"</button></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </div>
        <div class="panel">
            <h2>"Add a registry"</h2>
            <form class="login-form" on:submit=add>
                <label>"Registry"<input name="server" placeholder="127.0.0.1:5000" prop:value=server on:input=move |ev| set_server.set(event_target_value(&ev))/></label>
                <label>"User"<input name="username" prop:value=user on:input=move |ev| set_user.set(event_target_value(&ev))/></label>
                <label>"Password"<input name="password" type="password" prop:value=password on:input=move |ev| set_password.set(event_target_value(&ev))/></label>
                <button class="btn" type="submit">"Log in"</button>
            </form>
            {move || message.get().map(|m| match m {
                Ok(t) => view! { <p class="ok">{t}</p> }.into_any(),
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
            })}
        </div>
    }
}
