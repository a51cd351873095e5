//! The audit log: what staff and admins did (and erasures), who, when, at which center.
//! Only IDs are kept, never personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::models::users::new_id;
use crate::schema::audit_log;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: String,
    pub action: String,
    pub target_id: Option<String>,
    pub center_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Records an action; call inside the transaction (or right after) of the change.
pub fn record(
    conn: &mut DbConn,
    actor_id: &str,
    action: &str,
    target_id: Option<&str>,
    center_id: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::actor_id.eq(actor_id),
            audit_log::action.eq(action),
            audit_log::target_id.eq(target_id),
            audit_log::center_id.eq(center_id),
            audit_log::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub center_id: Option<String>,
    /// Actions starting with this (`role_set` finds every role change).
    pub action: Option<String>,
    /// Recorded at or after / before these times.
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Newest first.
pub fn list(conn: &mut DbConn, filter: &AuditFilter) -> QueryResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .select(AuditEntry::as_select())
        .order(audit_log::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(center) = &filter.center_id {
        query = query.filter(audit_log::center_id.eq(center));
    }
    if let Some(action) = &filter.action {
        let pattern = format!("{}%", crate::models::users::escape_like(action));
        query = query.filter(audit_log::action.like(pattern).escape('\\'));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::created_at.lt(to));
    }
    if let Some(before) = &filter.before_id {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn)
}
