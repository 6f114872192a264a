//! The group tables: technician groups (of accounts) and target groups (of
//! enrolled computers), their members, and the groups an enrollment token
//! puts its computers in. Both kinds share one shape; [`Tables`] names
//! each kind's tables (constants, never input).

use crate::store::WriteTx;
use sqlx::{Any, AnyPool, Executor};
use std::collections::HashMap;
use tether_shared::groups::{GroupKind, GroupView, Named};

/// The tables and member lookup of one kind of group.
struct Tables {
    groups: &'static str,
    members: &'static str,
    /// `(id, name)` of every live member candidate.
    member_names: &'static str,
}

fn tables(kind: GroupKind) -> Tables {
    match kind {
        GroupKind::Technician => Tables {
            groups: "technician_groups",
            members: "technician_group_members",
            member_names: "SELECT id, username AS name FROM users WHERE deleted_at IS NULL",
        },
        GroupKind::Target => Tables {
            groups: "target_groups",
            members: "target_group_members",
            member_names: "SELECT id, COALESCE(display_name, hostname) AS name FROM agents WHERE revoked_at IS NULL",
        },
    }
}

fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

/// Every group of `kind` with its live members, by name.
pub async fn list(pool: &AnyPool, kind: GroupKind) -> Result<Vec<GroupView>, sqlx::Error> {
    let t = tables(kind);
    let groups: Vec<(String, String)> =
        sqlx::query_as(sql(format!("SELECT id, name FROM {} ORDER BY name", t.groups))).fetch_all(pool).await?;
    let members: Vec<(String, String, String)> = sqlx::query_as(sql(format!(
        "SELECT m.group_id, c.id, c.name FROM {} m JOIN ({}) c ON c.id = m.member_id ORDER BY c.name",
        t.members, t.member_names
    )))
    .fetch_all(pool)
    .await?;
    let mut by_group: HashMap<String, Vec<Named>> = HashMap::new();
    for (group_id, id, name) in members {
        by_group.entry(group_id).or_default().push(Named { id, name });
    }
    Ok(groups
        .into_iter()
        .map(|(id, name)| GroupView { members: by_group.remove(&id).unwrap_or_default(), id, name })
        .collect())
}

/// The name of group `id`, if it exists.
pub async fn name_of(tx: &mut WriteTx, kind: GroupKind, id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(sql(format!("SELECT name FROM {} WHERE id = $1", tables(kind).groups)))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|(name,)| name))
}

/// Whether another group of `kind` than `except` is called `name` (in any
/// case).
pub async fn name_taken(tx: &mut WriteTx, kind: GroupKind, name: &str, except: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(sql(format!(
        "SELECT id FROM {} WHERE LOWER(name) = LOWER($1) AND id <> $2",
        tables(kind).groups
    )))
    .bind(name)
    .bind(except)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.is_some())
}

/// Stores a new group; its id.
pub async fn create(tx: &mut WriteTx, kind: GroupKind, name: &str, now: i64) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(sql(format!("INSERT INTO {} (id, name, created_at) VALUES ($1, $2, $3)", tables(kind).groups)))
        .bind(&id)
        .bind(name)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(id)
}

pub async fn rename(tx: &mut WriteTx, kind: GroupKind, id: &str, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql(format!("UPDATE {} SET name = $1 WHERE id = $2", tables(kind).groups)))
        .bind(name)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Deletes a group with its memberships, its policy assignments and its
/// place on enrollment tokens.
pub async fn delete(tx: &mut WriteTx, kind: GroupKind, id: &str) -> Result<(), sqlx::Error> {
    let t = tables(kind);
    let (assignment_column, token_table) = match kind {
        GroupKind::Technician => ("technician_group", None),
        GroupKind::Target => ("target_group", Some("enrollment_token_groups")),
    };
    let mut statements = vec![
        format!("DELETE FROM {} WHERE group_id = $1", t.members),
        format!("DELETE FROM policy_assignments WHERE {assignment_column} = $1"),
    ];
    if let Some(table) = token_table {
        statements.push(format!("DELETE FROM {table} WHERE group_id = $1"));
    }
    statements.push(format!("DELETE FROM {} WHERE id = $1", t.groups));
    for statement in statements {
        sqlx::query(sql(statement)).bind(id).execute(tx.conn()).await?;
    }
    Ok(())
}

/// The name of live member candidate `member_id` (an account not deleted,
/// a computer not revoked), if there is one.
pub async fn member_name(tx: &mut WriteTx, kind: GroupKind, member_id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as(sql(format!("SELECT c.name FROM ({}) c WHERE c.id = $1", tables(kind).member_names)))
            .bind(member_id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.map(|(name,)| name))
}

/// Puts `member_id` in group `group_id`; false if it was already there.
pub async fn add_member(
    tx: &mut WriteTx,
    kind: GroupKind,
    group_id: &str,
    member_id: &str,
) -> Result<bool, sqlx::Error> {
    let members = tables(kind).members;
    let present: Option<(String,)> =
        sqlx::query_as(sql(format!("SELECT group_id FROM {members} WHERE group_id = $1 AND member_id = $2")))
            .bind(group_id)
            .bind(member_id)
            .fetch_optional(tx.conn())
            .await?;
    if present.is_some() {
        return Ok(false);
    }
    sqlx::query(sql(format!("INSERT INTO {members} (group_id, member_id) VALUES ($1, $2)")))
        .bind(group_id)
        .bind(member_id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Takes `member_id` out of group `group_id`; false if it was not in it.
pub async fn remove_member(
    tx: &mut WriteTx,
    kind: GroupKind,
    group_id: &str,
    member_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sql(format!("DELETE FROM {} WHERE group_id = $1 AND member_id = $2", tables(kind).members)))
        .bind(group_id)
        .bind(member_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The ids of the groups `member_id` belongs to. Takes a pool or a
/// transaction.
pub async fn of_member<'e, E>(executor: E, kind: GroupKind, member_id: &str) -> Result<Vec<String>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let rows: Vec<(String,)> = sqlx::query_as(sql(format!(
        "SELECT group_id FROM {} WHERE member_id = $1 ORDER BY group_id",
        tables(kind).members
    )))
    .bind(member_id)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Every target group of every computer: computer id → its groups.
pub async fn of_every_target(pool: &AnyPool) -> Result<HashMap<String, Vec<Named>>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT m.member_id, g.id, g.name FROM target_group_members m JOIN target_groups g ON g.id = m.group_id \
         ORDER BY g.name",
    )
    .fetch_all(pool)
    .await?;
    let mut by_member: HashMap<String, Vec<Named>> = HashMap::new();
    for (member, id, name) in rows {
        by_member.entry(member).or_default().push(Named { id, name });
    }
    Ok(by_member)
}

/// Which of `ids` are not target groups (empty: all are).
pub async fn unknown_target_groups(tx: &mut WriteTx, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    let mut unknown = Vec::new();
    for id in ids {
        if name_of(tx, GroupKind::Target, id).await?.is_none() {
            unknown.push(id.clone());
        }
    }
    Ok(unknown)
}

/// Makes `groups` the target groups of computer `agent_id`.
pub async fn set_target_groups(tx: &mut WriteTx, agent_id: &str, groups: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM target_group_members WHERE member_id = $1").bind(agent_id).execute(tx.conn()).await?;
    for group in groups {
        add_member(tx, GroupKind::Target, group, agent_id).await?;
    }
    Ok(())
}

/// Records that computers enrolling with token `token_id` join `groups`.
pub async fn set_token_groups(tx: &mut WriteTx, token_id: &str, groups: &[String]) -> Result<(), sqlx::Error> {
    for group in groups {
        sqlx::query("INSERT INTO enrollment_token_groups (token_id, group_id) VALUES ($1, $2)")
            .bind(token_id)
            .bind(group)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The target groups of enrollment token `token_id`.
pub async fn of_token<'e, E>(executor: E, token_id: &str) -> Result<Vec<Named>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT g.id, g.name FROM enrollment_token_groups t JOIN target_groups g ON g.id = t.group_id \
         WHERE t.token_id = $1 ORDER BY g.name",
    )
    .bind(token_id)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|(id, name)| Named { id, name }).collect())
}
