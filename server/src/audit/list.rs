//! Reading the audit log: pages filtered by what a person types (parts of
//! names, any case, wildcards taken literally), and one session's timeline;
//! both with the names behind stored ids (computers, token labels) and the
//! session each entry concerns.

use super::Row;
use sqlx::{AnyPool, FromRow};
use tether_shared::api::{AuditEntryView, AuditPage, AuditQuery, MAX_AUDIT_FILTER_CHARS};

/// Largest page `list` returns.
pub const MAX_PAGE: u32 = 200;

/// Most entries one session's timeline returns (oldest first).
pub const MAX_TIMELINE: usize = 1000;

/// Why a query is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFilter(pub String);

/// Checks the text filters' lengths.
pub fn check(query: &AuditQuery) -> Result<(), BadFilter> {
    let filters = [("actor", &query.actor), ("action", &query.action), ("target", &query.target)];
    for (name, value) in filters {
        if value.as_deref().is_some_and(|text| text.chars().count() > MAX_AUDIT_FILTER_CHARS) {
            return Err(BadFilter(format!("the {name} filter is longer than {MAX_AUDIT_FILTER_CHARS} characters")));
        }
    }
    Ok(())
}

/// A `LIKE … ESCAPE '\'` pattern matching any text that contains `text`,
/// with `%`, `_` and `\` in it taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A bound value.
enum Param {
    Text(String),
    Number(i64),
}

/// Conditions on the `v` rows of [`named_entries`] and their values,
/// numbered `$1…` in the order added.
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    /// Adds `value` and returns its placeholder.
    fn bind(&mut self, value: Param) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// Any of `columns` contains `text`, ignoring case (`LOWER` on both
    /// sides, so each backend folds both the same way).
    fn contains(&mut self, columns: &[&str], text: Option<&str>) {
        let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
            return;
        };
        let placeholder = self.bind(Param::Text(contains_pattern(text)));
        let tests: Vec<String> =
            columns.iter().map(|column| format!("LOWER({column}) LIKE LOWER({placeholder}) ESCAPE '\\'")).collect();
        self.conditions.push(format!("({})", tests.join(" OR ")));
    }

    fn number(&mut self, condition: &str, value: Option<i64>) {
        if let Some(value) = value {
            let placeholder = self.bind(Param::Number(value));
            self.conditions.push(format!("{condition} {placeholder}"));
        }
    }

    fn clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) }
    }
}

/// A stored row with the names behind its ids.
#[derive(Debug, FromRow)]
struct NamedRow {
    #[sqlx(flatten)]
    row: Row,
    target_name: Option<String>,
    actor_name: Option<String>,
    session_id: Option<String>,
}

impl NamedRow {
    fn into_view(self) -> AuditEntryView {
        let mut view = self.row.into_view();
        // A request names its agent as the target and the session in details.
        let requested = (view.action == "session.request")
            .then(|| view.details.get("session_id").and_then(|id| id.as_str()).map(str::to_owned))
            .flatten();
        view.session_id = self.session_id.or(requested);
        view.target_name = self.target_name;
        view.actor_name = self.actor_name;
        view
    }
}

/// Every entry as `v`, with `target_name` (an agent's, a session's or a
/// broker session's computer; an enrollment token's label), `actor_name`
/// (an acting agent's computer: actors `agent:<agent id>` and
/// `agent:broker:<session id>`) and `session_id` (the session the target
/// is or led to).
const NAMED_ENTRIES: &str = "(SELECT \
         l.seq, l.at, l.actor_id, l.actor, l.action, l.target, l.source, l.details, l.prev_hash, l.hash, \
         COALESCE(ta.hostname, tsa.hostname, tsb.target_hostname, tb.target_hostname, te.label) AS target_name, \
         COALESCE(aa.hostname, ab.target_hostname) AS actor_name, \
         COALESCE(ts.id, tb.session_id) AS session_id \
         FROM audit_log l \
         LEFT JOIN agents ta ON ta.id = l.target \
         LEFT JOIN sessions ts ON ts.id = l.target \
         LEFT JOIN agents tsa ON tsa.id = ts.agent_id \
         LEFT JOIN broker_sessions tsb ON tsb.id = ts.broker_session_id \
         LEFT JOIN broker_sessions tb ON tb.id = l.target \
         LEFT JOIN enrollment_tokens te ON te.id = l.target \
         LEFT JOIN agents aa ON l.actor LIKE 'agent:%' AND aa.id = SUBSTR(l.actor, 7) \
         LEFT JOIN broker_sessions ab ON l.actor LIKE 'agent:broker:%' AND ab.session_id = SUBSTR(l.actor, 14)) v";

/// The columns of [`NamedRow`] from `v`.
const NAMED_COLUMNS: &str = "v.seq, v.at, v.actor_id, v.actor, v.action, v.target, v.source, v.details, \
                             v.prev_hash, v.hash, v.target_name, v.actor_name, v.session_id";

/// Runs `SELECT … FROM v {filter} {order}`.
async fn fetch(pool: &AnyPool, filter: &Filter, order: &str) -> Result<Vec<NamedRow>, sqlx::Error> {
    let sql = format!("SELECT {NAMED_COLUMNS} FROM {NAMED_ENTRIES} {} {order}", filter.clause());
    // Safe: only fixed SQL, numbered placeholders and integers are
    // interpolated; every value is bound.
    let mut statement = sqlx::query_as::<_, NamedRow>(sqlx::AssertSqlSafe(sql));
    for param in &filter.params {
        statement = match param {
            Param::Text(text) => statement.bind(text.clone()),
            Param::Number(number) => statement.bind(*number),
        };
    }
    statement.fetch_all(pool).await
}

/// A page of entries matching `query`, newest first. Text filters match
/// any part, in any case: `actor` the stored name or an agent's computer,
/// `target` the stored target or its readable name.
pub async fn list(pool: &AnyPool, query: &AuditQuery) -> Result<AuditPage, sqlx::Error> {
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let mut filter = Filter::default();
    filter.contains(&["v.actor", "v.actor_name"], query.actor.as_deref());
    filter.contains(&["v.action"], query.action.as_deref());
    filter.contains(&["v.target", "v.target_name"], query.target.as_deref());
    filter.number("v.at >=", query.since);
    filter.number("v.at <", query.until);
    filter.number("v.seq <", query.before_seq);
    let mut rows = fetch(pool, &filter, &format!("ORDER BY v.seq DESC LIMIT {}", limit + 1)).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_before_seq = if more { rows.last().map(|named| named.row.seq) } else { None };
    Ok(AuditPage { entries: rows.into_iter().map(NamedRow::into_view).collect(), next_before_seq })
}

/// Every entry about session `session_id`, oldest first, at most
/// [`MAX_TIMELINE`] (and whether there were more): its own steps (target
/// the session), the technician's request (`session.request`, the session
/// in details) and, for a session opened with a connection code, the whole
/// life of that code (target the broker session).
pub async fn of_session(pool: &AnyPool, session_id: &str) -> Result<(Vec<AuditEntryView>, bool), sqlx::Error> {
    let mut filter = Filter::default();
    let session = filter.bind(Param::Text(session_id.to_owned()));
    // As `record` stores it: compact JSON, the id as a JSON string.
    let in_details = format!("\"session_id\":{}", serde_json::Value::String(session_id.to_owned()));
    let request = filter.bind(Param::Text(contains_pattern(&in_details)));
    filter.conditions.push(format!(
        "(v.target = {session} OR v.target IN (SELECT id FROM broker_sessions WHERE session_id = {session}) \
         OR (v.action = 'session.request' AND v.details LIKE {request} ESCAPE '\\'))"
    ));
    let mut rows = fetch(pool, &filter, &format!("ORDER BY v.seq LIMIT {}", MAX_TIMELINE + 1)).await?;
    let truncated = rows.len() > MAX_TIMELINE;
    rows.truncate(MAX_TIMELINE);
    Ok((rows.into_iter().map(NamedRow::into_view).collect(), truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_taken_literally() {
        assert_eq!(contains_pattern("broker"), "%broker%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn long_filters_are_refused() {
        let long = "x".repeat(MAX_AUDIT_FILTER_CHARS + 1);
        assert!(check(&AuditQuery { target: Some(long), ..AuditQuery::default() }).is_err());
        let fine = "é".repeat(MAX_AUDIT_FILTER_CHARS);
        assert_eq!(check(&AuditQuery { actor: Some(fine), ..AuditQuery::default() }), Ok(()));
    }
}
