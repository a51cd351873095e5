//! A session's roster as staff read it: one line per person, and the CSV download.

use serde::Serialize;

use crate::db::DbConn;
use crate::domain::{CourseSessionId, EnrollmentId, EnrollmentStatus, UserId};
use crate::error::ApiError;
use crate::handlers::views::rfc3339;
use crate::models::course_sessions::CourseSession;
use crate::models::enrollments::{self, Enrollment};
use crate::ops::{self, Actor};

#[derive(Debug, Serialize)]
pub struct RosterUser {
    pub id: UserId,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RosterLine {
    pub id: EnrollmentId,
    pub user: RosterUser,
    pub status: EnrollmentStatus,
    pub waitlist_position: Option<i64>,
    pub created_at: String,
    /// When the person said they are still coming; null until they do.
    pub confirmed_at: Option<String>,
}

impl RosterLine {
    fn new(entry: enrollments::RosterEntry, waitlist_position: Option<i64>) -> Self {
        RosterLine {
            id: entry.enrollment.id,
            user: RosterUser {
                id: entry.enrollment.user_id,
                display_name: entry.display_name,
                phone: entry.phone,
                email: entry.email,
            },
            status: entry.enrollment.status,
            waitlist_position,
            created_at: rfc3339(entry.enrollment.created_at),
            confirmed_at: entry.enrollment.confirmed_at.map(rfc3339),
        }
    }
}

/// One person's line of a roster (a check-in answers it).
pub fn line_of(conn: &mut DbConn, enrollment: &Enrollment) -> Result<RosterLine, ApiError> {
    let entry = enrollments::roster_entry(conn, &enrollment.id)?.ok_or(ApiError::NotFound)?;
    let position = match entry.enrollment.waitlist_seq {
        Some(seq) if entry.enrollment.status == EnrollmentStatus::Waitlisted => Some(
            crate::models::seats::waitlist_position(conn, &entry.enrollment.session_id, seq)?,
        ),
        _ => None,
    };
    Ok(RosterLine::new(entry, position))
}

/// A session's roster, if `actor` may manage the session: seats in enrollment order, then
/// the waitlist with each person's place in it.
pub fn load(
    conn: &mut DbConn,
    actor: &Actor,
    session_id: &CourseSessionId,
) -> Result<(CourseSession, Vec<RosterLine>), ApiError> {
    let session = ops::course_sessions::find_managed(conn, actor, session_id)?;
    let mut position = 0;
    let lines = enrollments::roster(conn, &session.id)?
        .into_iter()
        .map(|entry| {
            let waitlisted = entry.enrollment.status == EnrollmentStatus::Waitlisted;
            position += i64::from(waitlisted);
            RosterLine::new(entry, waitlisted.then_some(position))
        })
        .collect();
    Ok((session, lines))
}

/// A cell a spreadsheet would run as a formula is defused with a leading `'` (OWASP CSV
/// injection); quoting is `csv::Writer`'s.
fn defuse_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// A CSV file that opens in Excel with Thai intact: a header, then the rows, every cell
/// quoted as needed and formulas defused.
pub fn csv_file(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<String, ApiError> {
    let internal = |e: csv::Error| ApiError::Internal(e.into());
    let mut csv = csv_writer();
    csv.write_record(header).map_err(internal)?;
    for cells in rows {
        csv.write_record(cells.iter().map(|c| defuse_formula(c).into_owned()))
            .map_err(internal)?;
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("CSV: {e}")))?;
    // The byte-order mark makes Excel read the file as UTF-8, so Thai names show.
    Ok(format!(
        "\u{feff}{}",
        String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))?
    ))
}

/// The roster as a CSV file.
pub fn roster_csv(lines: &[RosterLine]) -> Result<String, ApiError> {
    let header = [
        "no",
        "name",
        "phone",
        "email",
        "status",
        "waitlist_position",
        "enrolled_at",
        "enrollment_id",
        "confirmed_at",
    ];
    let rows = lines.iter().enumerate().map(|(i, line)| {
        vec![
            (i + 1).to_string(),
            line.user.display_name.clone(),
            line.user.phone.clone().unwrap_or_default(),
            line.user.email.clone().unwrap_or_default(),
            line.status.to_string(),
            line.waitlist_position
                .map(|p| p.to_string())
                .unwrap_or_default(),
            line.created_at.clone(),
            line.id.to_string(),
            line.confirmed_at.clone().unwrap_or_default(),
        ]
    });
    csv_file(&header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One cell as the roster writes it, without the line's end.
    fn csv_cell(value: &str) -> String {
        let mut csv = csv_writer();
        csv.write_record([defuse_formula(value).as_ref()]).unwrap();
        let line = String::from_utf8(csv.into_inner().unwrap()).unwrap();
        line.trim_end_matches("\r\n").to_string()
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("สมศรี"), "สมศรี");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+66812345678"), "'+66812345678");
    }
}
