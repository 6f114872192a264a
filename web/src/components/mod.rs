//! Reusable UI pieces, one component per file.

pub mod alert;
pub mod audit_filters;
pub mod audit_table;
pub mod auth_layout;
pub mod chain_status_panel;
pub mod create_user_dialog;
pub mod edit_user_dialog;
pub mod empty_state;
pub mod modal;
pub mod one_time_password_field;
pub mod page_header;
pub mod password_change_form;
pub mod reset_password_dialog;
pub mod role_badge;
pub mod role_gate;
pub mod role_select;
pub mod sidebar;
pub mod splash;
pub mod status_badge;
pub mod text_field;
pub mod users_table;
