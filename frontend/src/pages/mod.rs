//! One module per page.

pub mod account;
pub mod activity;
pub mod build;
pub mod container_changes;
pub mod container_detail;
pub mod container_files;
pub mod container_stats;
pub mod containers;
pub mod home;
pub mod image_detail;
pub mod launch;
pub mod login;
pub mod images;
pub mod registries;
pub mod replay;
pub mod search;
pub mod users;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="page-head"><h1>"Page not found"</h1></div>
        <p class="muted">"There is nothing here. "<a href="/ui/home">"Go home"</a></p>
    }
}
