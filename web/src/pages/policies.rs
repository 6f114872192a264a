//! The administrator's policies: the default policy (for every pair of
//! groups without one of its own), the policies assigned to pairs of a
//! technician group and a target group, and a preview of what one
//! technician may do on one computer. Each form is checked here with the
//! server's own rules; the server decides.

use crate::components::page_header::PageHeader;
use crate::components::policy_assignments::PolicyAssignments;
use crate::components::policy_form::{PolicyForm, PolicyTarget};
use crate::components::policy_preview::PolicyPreview;
use crate::session::Session;
use leptos::prelude::*;

/// The policies page.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let session = Session::use_context();
    let saved =
        LocalResource::new(move || async move { session.call(|api| async move { api.default_policy().await }).await });
    let content = move || match saved.get() {
        None => view! { <div class="loading" data-testid="policy-loading">"Loading the policy…"</div> }.into_any(),
        Some(Err(failure)) => view! {
            <div class="alert alert-error" role="alert" data-testid="policy-load-error">
                {failure.message()}
            </div>
        }
        .into_any(),
        Some(Ok(policy)) => {
            view! { <PolicyForm saved=policy target=PolicyTarget::Default prefix="policy" /> }.into_any()
        }
    };
    view! {
        <PageHeader title="Policies" subtitle="Who may do what: a default, and policies for pairs of groups." />
        <section class="card">
            <h2 class="card-title">"Default policy"</h2>
            <p class="muted card-intro">
                "Applies where no policy below pairs one of the technician's groups with one of the computer's. A default that allows no mode limits technicians to their assignments. A connection code and its session keep the policy in force when the code was issued."
            </p>
            {content}
        </section>
        <PolicyAssignments />
        <PolicyPreview />
    }
}
