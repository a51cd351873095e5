//! Aggregate counts for admin reports, computed by the database.

use std::collections::BTreeMap;

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

impl GroupBy {
    pub const ALL: [GroupBy; 3] = [GroupBy::Province, GroupBy::Center, GroupBy::Course];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Province => "province",
            GroupBy::Center => "center",
            GroupBy::Course => "course",
        }
    }
}

/// One group's figures, as the report shows them.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReportRow {
    /// Province name, center ID or course ID.
    pub key: String,
    /// For people: the province, the center's Thai name, or the course's Thai title.
    pub label: String,
    /// Seats held: confirmed, attended and no-show together.
    pub enrolled: i64,
    pub attended: i64,
    pub no_show: i64,
    pub waitlisted: i64,
    pub cancelled: i64,
}

/// The report's rows for sessions starting in `[from, to)`, ordered by key.
pub fn enrollment_rows(
    conn: &mut DbConn,
    group_by: GroupBy,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<Vec<ReportRow>> {
    let mut rows: BTreeMap<String, ReportRow> = BTreeMap::new();
    for count in enrollment_counts(conn, group_by, from, to)? {
        let row = rows.entry(count.key.clone()).or_insert_with(|| ReportRow {
            key: count.key.clone(),
            label: count.label.clone(),
            ..ReportRow::default()
        });
        match count.status {
            EnrollmentStatus::Confirmed => row.enrolled += count.n,
            EnrollmentStatus::Attended => {
                row.enrolled += count.n;
                row.attended += count.n;
            }
            EnrollmentStatus::NoShow => {
                row.enrolled += count.n;
                row.no_show += count.n;
            }
            EnrollmentStatus::Waitlisted => row.waitlisted += count.n,
            EnrollmentStatus::Cancelled => row.cancelled += count.n,
        }
    }
    Ok(rows.into_values().collect())
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

/// The admin dashboard's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dashboard {
    pub centers: i64,
    pub active_centers: i64,
    /// Seats held (confirmed, attended, no-show) in sessions starting this month.
    pub enrolled: i64,
    pub attended: i64,
    pub no_show: i64,
    /// Pushes finished in the window: delivered, and given up on or sent to dead tokens.
    pub pushes_sent: i64,
    pub pushes_not_delivered: i64,
    /// Broadcasts scheduled and not yet started.
    pub broadcasts_waiting: i64,
}

impl Dashboard {
    /// Attended of those whose attendance was taken, in percent.
    pub fn attendance_percent(&self) -> Option<i64> {
        percent(self.attended, self.attended + self.no_show)
    }

    pub fn delivery_percent(&self) -> Option<i64> {
        percent(
            self.pushes_sent,
            self.pushes_sent + self.pushes_not_delivered,
        )
    }
}

fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

/// The dashboard: enrollments of sessions starting in `month`, pushes finished since
/// `pushes_since`.
pub fn dashboard(
    conn: &mut DbConn,
    month: (NaiveDateTime, NaiveDateTime),
    pushes_since: NaiveDateTime,
) -> QueryResult<Dashboard> {
    use crate::domain::{BroadcastStatus, CenterStatus, DeliveryStatus};
    use crate::schema::{broadcasts, push_deliveries};
    let mut figures = Dashboard::default();
    let by_status: Vec<(CenterStatus, i64)> = centers::table
        .group_by(centers::status)
        .select((centers::status, diesel::dsl::count_star()))
        .load(conn)?;
    for (status, n) in by_status {
        figures.centers += n;
        if status == CenterStatus::Active {
            figures.active_centers += n;
        }
    }
    for row in enrollment_rows(conn, GroupBy::Province, Some(month.0), Some(month.1))? {
        figures.enrolled += row.enrolled;
        figures.attended += row.attended;
        figures.no_show += row.no_show;
    }
    let pushes: Vec<(DeliveryStatus, i64)> = push_deliveries::table
        .filter(push_deliveries::updated_at.ge(pushes_since))
        .filter(push_deliveries::status.eq_any([
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
            DeliveryStatus::InvalidToken,
        ]))
        .group_by(push_deliveries::status)
        .select((push_deliveries::status, diesel::dsl::count_star()))
        .load(conn)?;
    for (status, n) in pushes {
        if status == DeliveryStatus::Sent {
            figures.pushes_sent += n;
        } else {
            figures.pushes_not_delivered += n;
        }
    }
    figures.broadcasts_waiting = broadcasts::table
        .filter(broadcasts::status.eq(BroadcastStatus::Scheduled))
        .count()
        .get_result(conn)?;
    Ok(figures)
}

/// Who a group's residents with a confirmed upcoming seat can be reached by, each person
/// once per group, by the best channel they have (the order the worker tries them).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, QueryableByName)]
pub struct ReachRow {
    /// The province, or the center's ID.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub group: String,
    /// The center's Thai name, or the province again (as the enrollment report's label).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub label: String,
    /// At least one registered device not known dead.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub push: i64,
    /// No live device, LINE linked.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub line_only: i64,
    /// Neither, but a mobile number: texts for cancellations, moves and freed seats.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub sms_only: i64,
    /// None of these: only the inbox, or a phone call from the center.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub unreachable: i64,
}

/// The reach report (`group_by` province or center; course is refused by the caller):
/// residents with a confirmed seat in a scheduled session starting after `now`.
pub fn reach_rows(
    conn: &mut DbConn,
    group_by: GroupBy,
    now: NaiveDateTime,
) -> QueryResult<Vec<ReachRow>> {
    let (key, label) = match group_by {
        GroupBy::Center => ("c.id", "c.name_th"),
        GroupBy::Province | GroupBy::Course => ("c.province", "c.province"),
    };
    let placeholder = match conn {
        DbConn::Sqlite(_) => "?",
        DbConn::Postgres(_) => "$1",
    };
    // A mobile number is +66 then 6, 8 or 9 (`Phone::is_mobile`).
    let sql = format!(
        "SELECT grp AS \"group\", label, \
           CAST(SUM(CASE WHEN reach = 1 THEN 1 ELSE 0 END) AS BIGINT) AS push, \
           CAST(SUM(CASE WHEN reach = 2 THEN 1 ELSE 0 END) AS BIGINT) AS line_only, \
           CAST(SUM(CASE WHEN reach = 3 THEN 1 ELSE 0 END) AS BIGINT) AS sms_only, \
           CAST(SUM(CASE WHEN reach = 4 THEN 1 ELSE 0 END) AS BIGINT) AS unreachable \
         FROM (SELECT g.grp, g.label, \
                 CASE WHEN EXISTS (SELECT 1 FROM devices d WHERE d.user_id = g.user_id) THEN 1 \
                      WHEN EXISTS (SELECT 1 FROM line_links l WHERE l.user_id = g.user_id) THEN 2 \
                      WHEN u.phone IS NOT NULL AND length(u.phone) = 12 \
                           AND substr(u.phone, 4, 1) IN ('6', '8', '9') THEN 3 \
                      ELSE 4 END AS reach \
               FROM (SELECT DISTINCT {key} AS grp, {label} AS label, e.user_id \
                     FROM enrollments e \
                     JOIN course_sessions s ON s.id = e.session_id \
                     JOIN centers c ON c.id = s.center_id \
                     WHERE e.status = 'confirmed' AND s.status = 'scheduled' \
                       AND s.starts_at > {placeholder}) g \
               JOIN users u ON u.id = g.user_id) t \
         GROUP BY grp, label ORDER BY grp"
    );
    let query = diesel::sql_query(sql).bind::<diesel::sql_types::Timestamp, _>(now);
    match conn {
        DbConn::Sqlite(c) => query.load(c),
        DbConn::Postgres(c) => query.load(c),
    }
}
