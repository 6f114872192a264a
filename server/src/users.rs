//! The `users` table: accounts, their roles and password hashes.

use crate::store::WriteTx;
use anyhow::Context;
use sqlx::{AnyPool, FromRow};
use tether_shared::Role;
use tether_shared::api::UserView;

/// An account as stored.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub must_change_password: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Columns of [`UserRow`], for `SELECT`s (a macro so queries stay `&'static str`).
macro_rules! user_columns {
    () => {
        "id, username, display_name, role, password_hash, must_change_password, disabled_at, created_at, updated_at"
    };
}

impl UserRow {
    /// The stored role; an unknown one means the row was tampered with.
    pub fn role(&self) -> anyhow::Result<Role> {
        self.role.parse().with_context(|| format!("user {} has a corrupt role", self.id))
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }

    pub fn view(&self) -> anyhow::Result<UserView> {
        Ok(UserView {
            id: self.id.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role()?,
            disabled: self.is_disabled(),
            must_change_password: self.must_change_password(),
            created_at: self.created_at,
        })
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE username = $1 AND deleted_at IS NULL"))
        .bind(username)
        .fetch_optional(pool)
        .await
}

pub async fn by_id(tx: &mut WriteTx, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND deleted_at IS NULL"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await
}

pub async fn list(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE deleted_at IS NULL ORDER BY username"))
        .fetch_all(pool)
        .await
}

/// The account behind a live login session, if the session is live and the
/// account enabled.
pub async fn by_live_session(
    pool: &AnyPool,
    session_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1 AND disabled_at IS NULL AND EXISTS (SELECT 1 FROM login_sessions s \
          WHERE s.id = $2 AND s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $3)"
    ))
    .bind(user_id)
    .bind(session_id)
    .bind(now)
    .fetch_optional(pool)
    .await
}

pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await?;
    Ok(count)
}

/// Enabled administrators other than `except_id`.
pub async fn other_enabled_admins(tx: &mut WriteTx, except_id: &str) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1")
            .bind(except_id)
            .fetch_one(tx.conn())
            .await?;
    Ok(count)
}

/// Deletes an account for good: it is disabled and leaves every list and
/// lookup, while its row stays for the names in sessions and the audit log.
pub async fn delete(tx: &mut WriteTx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET deleted_at = $1, disabled_at = COALESCE(disabled_at, $1), updated_at = $1 \
         WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Inserts an account; fails with a unique violation if the name is taken.
pub async fn insert(tx: &mut WriteTx, user: &NewUser<'_>, now: i64) -> Result<UserRow, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, password_hash, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role.as_str())
    .bind(user.password_hash)
    .bind(i64::from(user.must_change_password))
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(UserRow {
        id,
        username: user.username.to_owned(),
        display_name: user.display_name.to_owned(),
        role: user.role.as_str().to_owned(),
        password_hash: user.password_hash.to_owned(),
        must_change_password: i64::from(user.must_change_password),
        disabled_at: None,
        created_at: now,
        updated_at: now,
    })
}

/// Writes the editable fields of `user` back.
pub async fn update(tx: &mut WriteTx, user: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET display_name = $1, role = $2, disabled_at = $3, updated_at = $4 WHERE id = $5")
        .bind(&user.display_name)
        .bind(&user.role)
        .bind(user.disabled_at)
        .bind(user.updated_at)
        .bind(&user.id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Replaces the password hash.
pub async fn set_password(
    tx: &mut WriteTx,
    id: &str,
    password_hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Whether `err` is a unique-constraint violation (a taken username).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_unique_violation())
}
