//! The application frame: the sidebar with navigation, the logged-in account
//! and the content area. The login page goes without the frame. New pages
//! add their link to `NAV`.

use crate::api::{self, Session};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// (section, label, path, the least role that may use it) of every page in the sidebar.
const NAV: &[(&str, &str, &str, Role)] = &[
    ("Local", "Home", "/ui/home", Role::Viewer),
    ("Local", "Containers", "/ui/containers", Role::Viewer),
    ("Local", "Run a container", "/ui/containers/new", Role::Operator),
    ("Local", "Images", "/ui/images", Role::Viewer),
    ("Local", "Build", "/ui/build", Role::Operator),
    ("Registries", "Search & pull", "/ui/search", Role::Operator),
    ("Registries", "Registries", "/ui/registries", Role::Admin),
    ("Team", "Activity", "/ui/activity", Role::Viewer),
    ("Team", "Users & teams", "/ui/users", Role::Admin),
    ("Team", "My account", "/ui/account", Role::Viewer),
];

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Role {
    Viewer,
    Operator,
    Admin,
}

fn role_of(s: &str) -> Role {
    match s {
        "admin" => Role::Admin,
        "operator" => Role::Operator,
        _ => Role::Viewer,
    }
}

#[component]
pub fn Shell(children: ChildrenFn) -> impl IntoView {
    let location = use_location();
    let session = LocalResource::new(|| async {
        if let Ok(s) = api::get::<Session>("/berth/session").await {
            api::restore_team(&s.teams);
        }
        // Asked again with the team restored, so "Team" is the one in use.
        let s = api::get::<Session>("/berth/session").await;
        if let Ok(s) = &s {
            api::set_csrf(s.csrf_token.as_deref().unwrap_or(""));
        }
        s
    });
    let current = RwSignal::new(Session::default());
    provide_context(current);
    Effect::new(move |_| {
        if let Some(Ok(s)) = session.get() {
            current.set(s);
        }
    });
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::post_empty("/berth/logout").await;
            api::to_login();
        });
    };
    if location.pathname.get_untracked().starts_with("/ui/login") {
        return children().into_any();
    }
    let me = move || current.get();
    view! {
        <div class="shell">
            <aside class="sidebar">
                <div class="brand"><img src="/favicon.svg" alt=""/>"Berth"</div>
                <nav>
                    {move || {
                        let role = role_of(&me().role);
                        let shown: Vec<_> = NAV.iter().filter(|n| n.3 <= role).collect();
                        shown.iter().enumerate().map(|(i, (section, label, href, _))| {
                            let first = i == 0 || shown[i - 1].0 != *section;
                            view! {
                                {first.then(|| view! { <div class="nav-section">{*section}</div> })}
                                <A href=*href>{*label}</A>
                            }
                        }).collect_view()
                    }}
                </nav>
                <div class="whoami">
                    <span class="whoami-name">{move || me().username}</span>
                    <span class="whoami-role">{move || { let m = me(); format!("{}{}", m.role, m.team.map(|t| format!(" · {t}")).unwrap_or_default()) }}</span>
                    {move || {
                        let m = me();
                        (m.teams.len() > 1).then(|| {
                            let current = m.team.clone().unwrap_or_default();
                            view! {
                                <select class="team-switch" title="The team new containers, images and volumes belong to"
                                    on:change=move |e| {
                                        api::choose_team(&event_target_value(&e));
                                        if let Some(w) = web_sys::window() { let _ = w.location().reload(); }
                                    }>
                                    {m.teams.iter().map(|t| view! { <option value=t.clone() selected=*t == current>{t.clone()}</option> }).collect_view()}
                                </select>
                            }
                        })
                    }}
                    <button class="btn btn-quiet logout" on:click=logout>"Log out"</button>
                </div>
            </aside>
            <main class="content">
                <Show when=move || !me().username.is_empty()>{children()}</Show>
            </main>
        </div>
    }
    .into_any()
}

/// The logged-in account (empty until the session is known).
pub fn session() -> RwSignal<Session> {
    expect_context::<RwSignal<Session>>()
}

/// Whether the logged-in account may change things (operators and admins):
/// viewers are not offered buttons the daemon would refuse.
pub fn can_operate() -> bool {
    role_of(&session().get_untracked().role) >= Role::Operator
}
