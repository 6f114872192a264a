//! A scrollable table with a header row; the caller renders the rows.

use leptos::prelude::*;

/// One header cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The visible heading (may be empty).
    pub label: &'static str,
    /// Extra class of the cell, e.g. `align-right`.
    pub class: Option<&'static str>,
    /// Accessible name when the heading is empty.
    pub aria_label: Option<&'static str>,
}

impl Column {
    /// A plain heading.
    pub const fn new(label: &'static str) -> Self {
        Self { label, class: None, aria_label: None }
    }

    /// The right-aligned "Actions" heading.
    pub const fn actions() -> Self {
        Self { label: "Actions", class: Some("align-right"), aria_label: None }
    }

    /// An empty heading named only for assistive technology.
    pub const fn unlabelled(aria_label: &'static str) -> Self {
        Self { label: "", class: None, aria_label: Some(aria_label) }
    }
}

/// `<div class="table-wrap"><table class="table">` with `columns` as the
/// header and the children as `<tbody>`.
#[component]
pub fn DataTable(
    /// The stable test id of the `<table>`.
    testid: &'static str,
    /// The header cells, in order.
    columns: &'static [Column],
    /// The rows (`<tr>` elements).
    children: Children,
) -> impl IntoView {
    let header = columns
        .iter()
        .map(|column| {
            view! {
                <th scope="col" class=column.class aria-label=column.aria_label>
                    {column.label}
                </th>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table" data-testid=testid>
                <thead>
                    <tr>{header}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
