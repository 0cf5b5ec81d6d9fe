//! The application frame: the sidebar with navigation and the content area.
//! New pages add their link to `NAV`.

use leptos::prelude::*;
use leptos_router::components::A;

/// (section, label, path) of every page in the sidebar.
const NAV: &[(&str, &str, &str)] = &[
    ("Local", "Containers", "/ui/containers"),
    ("Local", "Run a container", "/ui/containers/new"),
    ("Local", "Images", "/ui/images"),
    ("Local", "Build", "/ui/build"),
    ("Registries", "Search & pull", "/ui/search"),
    ("Registries", "Registries", "/ui/registries"),
    ("Team", "Activity", "/ui/activity"),
];

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <div class="shell">
            <aside class="sidebar">
                <div class="brand"><img src="/favicon.svg" alt=""/>"Berth"</div>
                <nav>
                    {NAV.iter().enumerate().map(|(i, (section, label, href))| {
                        let first = i == 0 || NAV[i - 1].0 != *section;
                        view! {
                            {first.then(|| view! { <div class="nav-section">{*section}</div> })}
                            <A href=*href>{*label}</A>
                        }
                    }).collect_view()}
                </nav>
            </aside>
            <main class="content">{children()}</main>
        </div>
    }
}
