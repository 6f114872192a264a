//! The administrator's Groups: technician groups (of technicians) and
//! target groups (of computers), which policies are given to in pairs.

use crate::components::group_section::GroupSection;
use crate::components::page_header::PageHeader;
use leptos::prelude::*;
use tether_shared::groups::GroupKind;

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <PageHeader title="Groups" subtitle="Technicians and computers in groups; policies apply to pairs of them." />
        <GroupSection kind=GroupKind::Technician />
        <GroupSection kind=GroupKind::Target />
    }
}
