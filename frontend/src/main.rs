//! Berth's dashboard: a Leptos client-side app. It talks only to the daemon's
//! Engine API (the same one the docker CLI uses) and routes under `/ui/…`.

mod api;
mod layout;
mod listing;
mod pages;
mod terminal;
mod time;

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <layout::Shell>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/ui/home"/> }/>
                    <Route path=path!("/ui") view=|| view! { <Redirect path="/ui/home"/> }/>
                    <Route path=path!("/ui/home") view=pages::home::HomePage/>
                    <Route path=path!("/ui/containers") view=pages::containers::ContainersPage/>
                    <Route path=path!("/ui/containers/new") view=pages::launch::LaunchPage/>
                    <Route path=path!("/ui/containers/:id") view=pages::container_detail::ContainerDetail/>
                    <Route path=path!("/ui/containers/:id/edit") view=pages::launch::LaunchPage/>
                    <Route path=path!("/ui/images") view=pages::images::ImagesPage/>
                    <Route path=path!("/ui/images/:id") view=pages::image_detail::ImageDetail/>
                    <Route path=path!("/ui/search") view=pages::search::SearchPage/>
                    <Route path=path!("/ui/build") view=pages::build::BuildPage/>
                    <Route path=path!("/ui/activity") view=pages::activity::ActivityPage/>
                    <Route path=path!("/ui/registries") view=pages::registries::RegistriesPage/>
                    <Route path=path!("/ui/login") view=pages::login::LoginPage/>
                    <Route path=path!("/ui/account") view=pages::account::AccountPage/>
                    <Route path=path!("/ui/users") view=pages::users::UsersPage/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
