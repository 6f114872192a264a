//! Creating administrators outside the web app: at first start (when there
//! are no accounts at all) and with the `admin create` command. Both print a
//! one-time password that must be changed at first login; there is no web
//! set-up page.

use crate::audit::{self, Actor, Event};
use crate::auth::password;
use crate::store::{Store, now_ms};
use crate::users::{self, NewUser};
use anyhow::Context;
use serde_json::json;
use tether_shared::{Role, validate};

/// A created administrator and the one-time password to hand over.
#[derive(Debug)]
pub struct CreatedAdmin {
    pub username: String,
    pub one_time_password: String,
}

/// Creates the first administrator, `admin`, if there are no accounts.
pub async fn first_admin(store: &Store) -> anyhow::Result<Option<CreatedAdmin>> {
    if users::count(store.pool()).await? > 0 {
        return Ok(None);
    }
    match create_admin(store, "admin", "Administrator", "system.first_admin").await {
        Ok(created) => Ok(Some(created)),
        // Another server process created it first.
        Err(err) if err.downcast_ref::<sqlx::Error>().is_some_and(users::is_unique_violation) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Creates an administrator with a random one-time password.
pub async fn create_admin(
    store: &Store,
    username: &str,
    display_name: &str,
    action: &'static str,
) -> anyhow::Result<CreatedAdmin> {
    validate::username(username)?;
    validate::display_name(display_name)?;
    let one_time_password = password::random_password();
    let hash = password::hash(one_time_password.clone()).await?;
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let event = Event::new(Actor::system(), action)
        .target(username)
        .details(json!({ "role": Role::Admin, "display_name": display_name }));
    audit::record(&mut tx, &event, now).await?;
    let new_user =
        NewUser { username, display_name, role: Role::Admin, password_hash: &hash, must_change_password: true };
    users::insert(&mut tx, &new_user, now).await?;
    tx.commit().await.context("commit new administrator")?;
    Ok(CreatedAdmin { username: username.to_owned(), one_time_password })
}
