//! Users and teams (admins): accounts with their role and teams, a form for
//! a new account, role changes and removal; teams with their members.

use crate::api;
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct User {
    name: String,
    role: String,
    #[serde(default)]
    teams: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Team {
    name: String,
    members: Vec<String>,
}

const ROLES: [&str; 3] = ["admin", "operator", "viewer"];

type Run = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>;

/// A "Remove" button that DELETEs `path` through `run`.
fn remove_button(class: &'static str, path: String, run: impl Fn(Run) + Copy + 'static) -> impl IntoView {
    view! {
        <button class=format!("btn btn-quiet {class}") on:click=move |_| {
            let p = path.clone();
            run(Box::pin(async move { api::delete(&p).await }));
        }>"Remove"</button>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let (version, set_version) = signal(0u32);
    let reload = move || set_version.update(|v| *v += 1);
    let data = LocalResource::new(move || {
        version.get();
        async move {
            let users = api::get::<Vec<User>>("/berth/users").await?;
            let teams = api::get::<Vec<Team>>("/berth/teams").await?;
            Ok::<_, String>((users, teams))
        }
    });
    let error = RwSignal::new(None::<String>);
    let run = move |f: Run| {
        leptos::task::spawn_local(async move {
            match f.await {
                Ok(()) => {
                    error.set(None);
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(String::from("operator"));
    let teams = RwSignal::new(String::new());
    let add_user = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({
            "Name": name.get_untracked().trim(),
            "Password": password.get_untracked(),
            "Role": role.get_untracked(),
            "Teams": teams.get_untracked().split(',').map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>(),
        });
        name.set(String::new());
        password.set(String::new());
        run(Box::pin(async move { api::post_json::<_, serde_json::Value>("/berth/users", &body).await.map(|_| ()) }));
    };
    let team_name = RwSignal::new(String::new());
    let add_team = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"Name": team_name.get_untracked().trim()});
        team_name.set(String::new());
        run(Box::pin(async move { api::post_json::<_, serde_json::Value>("/berth/teams", &body).await.map(|_| ()) }));
    };

    view! {
        <div class="page-head"><h1>"Users & teams"</h1></div>
        {move || error.get().map(|e| view! { <p class="error users-error">{e}</p> })}
        <div class="panel">
            <h2>"New user"</h2>
            <form class="login-form user-form" on:submit=add_user>
                <label>"Name"<input name="new-user" prop:value=name on:input=move |e| name.set(event_target_value(&e))/></label>
                <label>"Password"<input name="new-password" type="password" prop:value=password on:input=move |e| password.set(event_target_value(&e))/></label>
                <label>"Role"
                    <select name="new-role" on:change=move |e| role.set(event_target_value(&e))>
                        {ROLES.iter().map(|r| view! { <option value=*r selected=*r == "operator">{*r}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Teams (comma-separated)"<input name="new-teams" prop:value=teams on:input=move |e| teams.set(event_target_value(&e))/></label>
                <button class="btn add-user" type="submit">"Add user"</button>
            </form>
        </div>
        <div class="panel">
            <h2>"New team"</h2>
            <form class="login-form team-form" on:submit=add_team>
                <label>"Name"<input name="new-team" prop:value=team_name on:input=move |e| team_name.set(event_target_value(&e))/></label>
                <button class="btn add-team" type="submit">"Add team"</button>
            </form>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok((users, team_list)) => {
                        let team_names: Vec<String> = team_list.iter().map(|t| t.name.clone()).collect();
                        view! {
                            <div class="panel">
                                <h2>"Users"</h2>
                                <table class="users-table">
                                    <thead><tr><th>"Name"</th><th>"Role"</th><th>"Teams"</th><th></th></tr></thead>
                                    <tbody>
                                        {users.into_iter().map(|u| {
                                            let n1 = u.name.clone();
                                            let n2 = u.name.clone();
                                            let n3 = u.name.clone();
                                            let current = u.role.clone();
                                            let others: Vec<String> = team_names.iter().filter(|t| !u.teams.contains(t)).cloned().collect();
                                            view! {
                                                <tr class="user-row">
                                                    <td class="user-name">{u.name.clone()}</td>
                                                    <td>
                                                        <select class="user-role" on:change=move |e| {
                                                            let n = n1.clone();
                                                            let body = serde_json::json!({"Role": event_target_value(&e)});
                                                            run(Box::pin(async move { api::send_json("PATCH", &format!("/berth/users/{}", api::escape(&n)), &body).await }));
                                                        }>
                                                            {ROLES.iter().map(|r| view! { <option value=*r selected=*r == current>{*r}</option> }).collect_view()}
                                                        </select>
                                                    </td>
                                                    <td>
                                                        {u.teams.iter().map(|t| {
                                                            let (t2, n) = (t.clone(), n2.clone());
                                                            view! { <span class="tag">{t.clone()}" "
                                                                <a href="#" class="remove-member" on:click=move |ev| {
                                                                    ev.prevent_default();
                                                                    let path = format!("/berth/teams/{}/members/{}", api::escape(&t2), api::escape(&n));
                                                                    run(Box::pin(async move { api::delete(&path).await }));
                                                                }>"×"</a></span> }
                                                        }).collect_view()}
                                                        {(!others.is_empty()).then(|| {
                                                            let n = n2.clone();
                                                            view! {
                                                                <select class="add-member" on:change=move |e| {
                                                                    let t = event_target_value(&e);
                                                                    if t.is_empty() { return; }
                                                                    let path = format!("/berth/teams/{}/members/{}", api::escape(&t), api::escape(&n));
                                                                    run(Box::pin(async move { api::put_empty(&path).await }));
                                                                }>
                                                                    <option value="">"+ team"</option>
                                                                    {others.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                                                                </select>
                                                            }
                                                        })}
                                                    </td>
                                                    <td>{remove_button("remove-user", format!("/berth/users/{}", api::escape(&n3)), run)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <div class="panel">
                                <h2>"Teams"</h2>
                                <table class="teams-table">
                                    <thead><tr><th>"Team"</th><th>"Members"</th><th></th></tr></thead>
                                    <tbody>
                                        {team_list.into_iter().map(|t| {
                                            let path = format!("/berth/teams/{}", api::escape(&t.name));
                                            view! {
                                                <tr class="team-row">
                                                    <td>{t.name.clone()}</td>
                                                    <td>{t.members.join(", ")}</td>
                                                    <td>{remove_button("remove-team", path, run)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
