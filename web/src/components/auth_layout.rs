//! The centred card layout of the screens before the app shell: login and
//! the forced password change.

use leptos::prelude::*;

/// A centred card under the product name.
#[component]
pub fn AuthLayout(
    /// The card's heading.
    title: &'static str,
    /// A sentence under the heading.
    subtitle: &'static str,
    /// The card's content.
    children: Children,
) -> impl IntoView {
    crate::set_document_title(title);
    view! {
        <div class="auth-page">
            <div class="auth-column">
                <div class="brand brand-large">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Tether"
                </div>
                <section class="card auth-card">
                    <h1>{title}</h1>
                    <p class="muted">{subtitle}</p>
                    {children()}
                </section>
                <p class="auth-footer muted">"Tether remote assistance"</p>
            </div>
        </div>
    }
}
