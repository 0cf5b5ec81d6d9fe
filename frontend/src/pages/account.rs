//! My account: API tokens (made, shown once, listed, revoked), the password,
//! and logging out everywhere.

use crate::api;
use crate::layout::session;
use crate::time::{ago, local};
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Token {
    id: i64,
    name: String,
    created_nano: i64,
    expires_nano: Option<i64>,
    last_used_nano: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewToken {
    token: String,
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = session();
    let (version, set_version) = signal(0u32);
    let tokens = LocalResource::new(move || {
        version.get();
        async move { api::get::<Vec<Token>>("/berth/tokens").await }
    });
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::from("90"));
    let made = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"Name": name.get_untracked(), "ExpiresInDays": days.get_untracked().trim().parse::<u32>().unwrap_or(0)});
        leptos::task::spawn_local(async move {
            match api::post_json::<_, NewToken>("/berth/tokens", &body).await {
                Ok(t) => {
                    made.set(Some(t.token));
                    error.set(None);
                    name.set(String::new());
                    set_version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let revoke = move |id: i64| {
        leptos::task::spawn_local(async move {
            match api::delete(&format!("/berth/tokens/{id}")).await {
                Ok(()) => set_version.update(|v| *v += 1),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let current = RwSignal::new(String::new());
    let new_pw = RwSignal::new(String::new());
    let pw_msg = RwSignal::new(None::<Result<String, String>>);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"Current": current.get_untracked(), "New": new_pw.get_untracked()});
        leptos::task::spawn_local(async move {
            let r = api::send_json("PUT", "/berth/password", &body).await;
            pw_msg.set(Some(r.map(|_| "Password changed; your other sessions were ended.".to_string())));
            current.set(String::new());
            new_pw.set(String::new());
        });
    };
    let everywhere = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::post_empty("/berth/logout?everywhere=1").await;
            api::to_login();
        });
    };
    view! {
        <div class="page-head">
            <h1>"My account"</h1>
            <button class="btn btn-quiet logout-everywhere" on:click=everywhere>"Log out everywhere"</button>
        </div>
        <div class="panel">
            <div class="facts">
                <div>"User"</div><div class="account-user">{move || me.get().username}</div>
                <div>"Role"</div><div class="account-role">{move || me.get().role}</div>
                <div>"Teams"</div><div>{move || me.get().teams.join(", ")}</div>
            </div>
        </div>
        <div class="panel">
            <h2>"API tokens"</h2>
            <p class="muted">"For scripts and CLIs: "<span class="mono">"BERTH_TOKEN=… berth -H tcp://HOST:PORT ps"</span>", or the docker CLI with "<span class="mono">"{\"HttpHeaders\": {\"Authorization\": \"Bearer …\"}}"</span>" in its config.json."</p>
            <form class="login-form token-form" on:submit=create>
                <label>"Name"<input name="token-name" prop:value=name on:input=move |e| name.set(event_target_value(&e))/></label>
                <label>"Expires in days (0: never)"<input name="token-days" prop:value=days on:input=move |e| days.set(event_target_value(&e))/></label>
                <button class="btn make-token" type="submit">"Make token"</button>
            </form>
            {move || made.get().map(|t| view! {
                <p class="new-token">"Your new token, shown only now: "<span class="mono token-value">{t}</span></p>
            })}
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted empty">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="tokens-table">
                                <thead><tr><th>"Name"</th><th>"Made"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let id = t.id;
                                        let made_s = t.created_nano / 1_000_000_000;
                                        view! {
                                            <tr class="token-row">
                                                <td>{t.name}</td>
                                                <td title=local(made_s)>{ago(made_s)}</td>
                                                <td>{t.expires_nano.map(|e| local(e / 1_000_000_000)).unwrap_or_else(|| "never".into())}</td>
                                                <td>{t.last_used_nano.map(|u| ago(u / 1_000_000_000)).unwrap_or_else(|| "never".into())}</td>
                                                <td><button class="btn btn-quiet revoke" on:click=move |_| revoke(id)>"Revoke"</button></td>
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
            <h2>"Password"</h2>
            <form class="login-form" on:submit=change>
                <label>"Current password"<input type="password" name="current" prop:value=current on:input=move |e| current.set(event_target_value(&e))/></label>
                <label>"New password (8 or more characters)"<input type="password" name="new" prop:value=new_pw on:input=move |e| new_pw.set(event_target_value(&e))/></label>
                <button class="btn" type="submit">"Change password"</button>
            </form>
            {move || pw_msg.get().map(|r| match r {
                Ok(m) => view! { <p class="ok">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
            })}
        </div>
    }
}
