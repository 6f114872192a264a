//! The `policy_assignments` table: the policy given to each pair of a
//! technician group and a target group (at most one per pair), and the
//! whole set with the default as the pure model
//! ([`PolicyAssignments`]) takes it.

use crate::policies::{self, PolicyError};
use crate::store::WriteTx;
use serde_json::json;
use sqlx::{Any, AnyPool, Executor, FromRow};
use tether_shared::access_policy::Policy;
use tether_shared::groups::{AssignmentView, Named};
use tether_shared::policy_assignment::{Assignment, PolicyAssignments};

/// The `kind` named when a stored assignment is unusable.
const KIND: &str = "assignment";

#[derive(FromRow)]
struct Row {
    id: String,
    technician_group: String,
    technician_group_name: String,
    target_group: String,
    target_group_name: String,
    body: String,
}

impl Row {
    fn view(self) -> Result<AssignmentView, PolicyError> {
        let policy = policies::parse_policy(&self.body).map_err(|reason| {
            tracing::error!(assignment = %self.id, %reason, "stored policy assignment is unusable");
            PolicyError::Unusable { kind: KIND, reason }
        })?;
        Ok(AssignmentView {
            id: self.id,
            technician_group: Named { id: self.technician_group, name: self.technician_group_name },
            target_group: Named { id: self.target_group, name: self.target_group_name },
            policy,
        })
    }
}

const SELECT: &str = "SELECT a.id, a.technician_group, h.name AS technician_group_name, a.target_group, \
     t.name AS target_group_name, a.body FROM policy_assignments a \
     JOIN technician_groups h ON h.id = a.technician_group JOIN target_groups t ON t.id = a.target_group";

/// Every assignment with its groups' names, ordered by them.
pub async fn list<'e, E>(executor: E) -> Result<Vec<AssignmentView>, PolicyError>
where
    E: Executor<'e, Database = Any>,
{
    let rows: Vec<Row> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY h.name, t.name"))).fetch_all(executor).await?;
    rows.into_iter().map(Row::view).collect()
}

/// Assignment `id`, if it exists.
pub async fn get(tx: &mut WriteTx, id: &str) -> Result<Option<AssignmentView>, PolicyError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.map(Row::view).transpose()
}

/// Whether the pair has an assignment already.
pub async fn pair_taken(tx: &mut WriteTx, technician_group: &str, target_group: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM policy_assignments WHERE technician_group = $1 AND target_group = $2")
            .bind(technician_group)
            .bind(target_group)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.is_some())
}

/// Stores a new assignment; its id.
pub async fn insert(
    tx: &mut WriteTx,
    technician_group: &str,
    target_group: &str,
    policy: &Policy,
    by: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO policy_assignments (id, technician_group, target_group, body, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(technician_group)
    .bind(target_group)
    .bind(json!(policy).to_string())
    .bind(by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Replaces assignment `id`'s policy.
pub async fn update(tx: &mut WriteTx, id: &str, policy: &Policy, by: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE policy_assignments SET body = $1, updated_by = $2, updated_at = $3 WHERE id = $4")
        .bind(json!(policy).to_string())
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM policy_assignments WHERE id = $1").bind(id).execute(tx.conn()).await?;
    Ok(())
}

/// Every assignment and the default, as the pure model takes them, with
/// the listed assignments (to say which applied).
pub async fn load(pool: &AnyPool) -> Result<(PolicyAssignments, Vec<AssignmentView>), PolicyError> {
    let views = list(pool).await?;
    let default = policies::default_policy(pool).await?;
    let pairs = views
        .iter()
        .map(|view| Assignment {
            technician_group: view.technician_group.id.clone(),
            target_group: view.target_group.id.clone(),
            policy: view.policy,
        })
        .collect();
    Ok((PolicyAssignments { pairs, default: Some(default) }, views))
}
