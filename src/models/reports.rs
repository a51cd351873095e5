//! Aggregate counts for admin reports, computed by the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::EnrollmentStatus;
use crate::schema::{centers, course_sessions, courses, enrollments};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Province,
    Center,
    Course,
}

/// Enrollments of one status within one group.
#[derive(Debug)]
pub struct StatusCount {
    pub key: String,
    pub label: String,
    pub status: EnrollmentStatus,
    pub n: i64,
}

/// Counts enrollments by group and status for sessions starting in `[from, to)`.
pub fn enrollment_counts(
    conn: &mut DbConn,
    group_by: GroupBy,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<Vec<StatusCount>> {
    // Open ends become far-away bounds, which keeps the query unboxed (group-by on a
    // boxed query does not type-check). Four-digit years, so SQLite's text comparison of
    // timestamps still orders them.
    let far = |y| {
        chrono::NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
    };
    let from = from.unwrap_or_else(|| far(1970));
    let to = to.unwrap_or_else(|| far(9999));
    macro_rules! counts_by {
        ($($column:expr),+) => {
            enrollments::table
                .inner_join(course_sessions::table.inner_join(centers::table).inner_join(courses::table))
                .filter(course_sessions::starts_at.ge(from))
                .filter(course_sessions::starts_at.lt(to))
                .group_by(($($column,)+ enrollments::status))
                .select(($($column,)+ enrollments::status, diesel::dsl::count_star()))
        };
    }
    let rows: Vec<(String, String, EnrollmentStatus, i64)> = match group_by {
        GroupBy::Province => counts_by!(centers::province)
            .load::<(String, EnrollmentStatus, i64)>(conn)?
            .into_iter()
            .map(|(province, status, n)| (province.clone(), province, status, n))
            .collect(),
        GroupBy::Center => counts_by!(centers::id, centers::name_th).load(conn)?,
        GroupBy::Course => counts_by!(courses::id, courses::title_th).load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(key, label, status, n)| StatusCount {
            key,
            label,
            status,
            n,
        })
        .collect())
}
