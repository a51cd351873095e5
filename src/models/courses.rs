//! The course catalogue.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::CourseId;
use crate::schema::courses;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = courses)]
pub struct Course {
    pub id: CourseId,
    pub title_th: String,
    pub title_en: String,
    pub description_th: String,
    pub description_en: String,
    pub category: String,
    pub level: String,
    pub duration_minutes: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = courses)]
pub struct CourseChanges {
    pub title_th: Option<String>,
    pub title_en: Option<String>,
    pub description_th: Option<String>,
    pub description_en: Option<String>,
    pub category: Option<String>,
    pub level: Option<String>,
    pub duration_minutes: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert_many(conn: &mut DbConn, rows: &[Course]) -> QueryResult<usize> {
    db::write_transaction(conn, |conn| {
        crate::insert_batch!(conn, courses::table, rows)
    })
}

pub fn find(conn: &mut DbConn, id: &CourseId) -> QueryResult<Option<Course>> {
    courses::table
        .find(id)
        .select(Course::as_select())
        .first(conn)
        .optional()
}

pub fn find_many(conn: &mut DbConn, ids: &[CourseId]) -> QueryResult<Vec<Course>> {
    courses::table
        .filter(courses::id.eq_any(ids))
        .select(Course::as_select())
        .load(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: &CourseId,
    mut changes: CourseChanges,
) -> QueryResult<Option<Course>> {
    changes.updated_at = Some(db::now());
    let changed = diesel::update(courses::table.find(id))
        .set(&changes)
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    find(conn, id)
}

#[derive(Debug, Default)]
pub struct CourseFilter {
    pub category: Option<String>,
    pub level: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, filter: &CourseFilter) -> QueryResult<Vec<Course>> {
    let mut query = courses::table
        .select(Course::as_select())
        .order(courses::id.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(category) = &filter.category {
        query = query.filter(courses::category.eq(category));
    }
    if let Some(level) = &filter.level {
        query = query.filter(courses::level.eq(level));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(courses::id.gt(after));
    }
    query.load(conn)
}
