//! Centers and their staff. Every change bumps the `centers` data version in the same
//! transaction, so each server's in-memory directory knows when to reload.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{CenterId, CenterStatus, Role, SessionStatus, UserId};
use crate::schema::{center_staff, centers, course_sessions, data_versions, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = centers)]
pub struct Center {
    pub id: CenterId,
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub province: String,
    pub district: String,
    pub subdistrict: String,
    pub lat: f64,
    pub lon: f64,
    pub status: CenterStatus,
    pub phone: Option<String>,
    pub opening_hours: Option<String>,
    pub search_text: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a center; `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = centers)]
pub struct CenterChanges {
    pub code: Option<String>,
    pub name_th: Option<String>,
    pub name_en: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub subdistrict: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub status: Option<CenterStatus>,
    pub phone: Option<Option<String>>,
    pub opening_hours: Option<Option<String>>,
    pub search_text: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// The text searched by `?q=`: code, both names, district and subdistrict, lower-cased.
pub fn search_text(
    code: &str,
    name_th: &str,
    name_en: &str,
    district: &str,
    subdistrict: &str,
) -> String {
    format!("{code} {name_th} {name_en} {district} {subdistrict}").to_lowercase()
}

fn bump_version(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(data_versions::table.find("centers"))
        .set(data_versions::version.eq(data_versions::version + 1))
        .execute(conn)?;
    Ok(())
}

/// The current version of the center data (changes with every write).
pub fn version(conn: &mut DbConn) -> QueryResult<i64> {
    data_versions::table
        .find("centers")
        .select(data_versions::version)
        .first(conn)
}

/// Every center with the data version it belongs to, read consistently.
pub fn load_all(conn: &mut DbConn) -> QueryResult<(i64, Vec<Center>)> {
    conn.transaction(|conn| {
        let version = version(conn)?;
        let all = centers::table
            .select(Center::as_select())
            .order(centers::id.asc())
            .load(conn)?;
        Ok((version, all))
    })
}

pub fn find(conn: &mut DbConn, id: &CenterId) -> QueryResult<Option<Center>> {
    centers::table
        .find(id)
        .select(Center::as_select())
        .first(conn)
        .optional()
}

/// The center with this code (`CDC-35-0001`), as staff write it.
pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Center>> {
    centers::table
        .filter(centers::code.eq(code.trim().to_uppercase()))
        .select(Center::as_select())
        .first(conn)
        .optional()
}

pub fn find_many(conn: &mut DbConn, ids: &[CenterId]) -> QueryResult<Vec<Center>> {
    centers::table
        .filter(centers::id.eq_any(ids))
        .select(Center::as_select())
        .load(conn)
}

/// Inserts centers in one transaction (a unique violation rolls back all of them).
pub fn insert_many(conn: &mut DbConn, rows: &[Center]) -> QueryResult<usize> {
    db::write_transaction(conn, |conn| {
        let mut inserted = 0;
        for chunk in rows.chunks(500) {
            inserted += crate::insert_batch!(conn, centers::table, chunk)?;
        }
        bump_version(conn)?;
        Ok(inserted)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: &CenterId,
    mut changes: CenterChanges,
) -> QueryResult<Option<Center>> {
    changes.updated_at = Some(db::now());
    db::write_transaction(conn, |conn| {
        let Some(current) = find(conn, id)? else {
            return Ok(None);
        };
        // Keep the search text in step with whatever names changed.
        changes.search_text = Some(search_text(
            changes.code.as_deref().unwrap_or(&current.code),
            changes.name_th.as_deref().unwrap_or(&current.name_th),
            changes.name_en.as_deref().unwrap_or(&current.name_en),
            changes.district.as_deref().unwrap_or(&current.district),
            changes
                .subdistrict
                .as_deref()
                .unwrap_or(&current.subdistrict),
        ));
        diesel::update(centers::table.find(id))
            .set(&changes)
            .execute(conn)?;
        bump_version(conn)?;
        find(conn, id)
    })
}

/// Why a center could not be deleted.
#[derive(Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Sessions were held there; their history must stay. Close the center instead.
    HasSessions,
}

pub fn delete(conn: &mut DbConn, id: &CenterId) -> QueryResult<DeleteOutcome> {
    db::write_transaction(conn, |conn| {
        let sessions: i64 = course_sessions::table
            .filter(course_sessions::center_id.eq(id))
            .count()
            .get_result(conn)?;
        if sessions > 0 {
            return Ok(DeleteOutcome::HasSessions);
        }
        let deleted = diesel::delete(centers::table.find(id)).execute(conn)?;
        if deleted == 0 {
            return Ok(DeleteOutcome::NotFound);
        }
        bump_version(conn)?;
        Ok(DeleteOutcome::Deleted)
    })
}

pub fn upcoming_sessions_count(
    conn: &mut DbConn,
    center_id: &CenterId,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    course_sessions::table
        .filter(course_sessions::center_id.eq(center_id))
        .filter(course_sessions::status.eq(SessionStatus::Scheduled))
        .filter(course_sessions::starts_at.gt(now))
        .count()
        .get_result(conn)
}

/// What assigning staff to a center led to.
#[derive(Debug, PartialEq, Eq)]
pub enum AssignOutcome {
    Assigned,
    AlreadyAssigned,
    NoSuchCenter,
    NoSuchUser,
    /// Only users with the staff (or admin) role can be assigned.
    NotStaff,
}

pub fn assign_staff(
    conn: &mut DbConn,
    center_id: &CenterId,
    user_id: &UserId,
) -> QueryResult<AssignOutcome> {
    db::write_transaction(conn, |conn| {
        if find(conn, center_id)?.is_none() {
            return Ok(AssignOutcome::NoSuchCenter);
        }
        let role: Option<Role> = users::table
            .find(user_id)
            .select(users::role)
            .first(conn)
            .optional()?;
        match role {
            None => return Ok(AssignOutcome::NoSuchUser),
            Some(Role::Staff | Role::Admin) => {}
            Some(_) => return Ok(AssignOutcome::NotStaff),
        }
        if is_staff_of(conn, user_id, center_id)? {
            return Ok(AssignOutcome::AlreadyAssigned);
        }
        diesel::insert_into(center_staff::table)
            .values((
                center_staff::center_id.eq(center_id),
                center_staff::user_id.eq(user_id),
                center_staff::created_at.eq(db::now()),
            ))
            .execute(conn)?;
        Ok(AssignOutcome::Assigned)
    })
}

/// Returns whether an assignment existed.
pub fn unassign_staff(
    conn: &mut DbConn,
    center_id: &CenterId,
    user_id: &UserId,
) -> QueryResult<bool> {
    let removed = diesel::delete(center_staff::table.find((center_id, user_id))).execute(conn)?;
    Ok(removed > 0)
}

pub fn is_staff_of(conn: &mut DbConn, user_id: &UserId, center_id: &CenterId) -> QueryResult<bool> {
    let n: i64 = center_staff::table
        .filter(center_staff::center_id.eq(center_id))
        .filter(center_staff::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// IDs of the centers a staff member works at.
pub fn centers_of_staff(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Vec<CenterId>> {
    center_staff::table
        .filter(center_staff::user_id.eq(user_id))
        .select(center_staff::center_id)
        .load(conn)
}

/// The staff of a center, by name.
pub fn staff_of(
    conn: &mut DbConn,
    center_id: &CenterId,
) -> QueryResult<Vec<crate::models::users::User>> {
    center_staff::table
        .inner_join(users::table)
        .filter(center_staff::center_id.eq(center_id))
        .filter(users::deleted_at.is_null())
        .select(crate::models::users::User::as_select())
        .order(users::display_name.asc())
        .load(conn)
}
