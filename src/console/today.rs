//! *Today*, the landing page (sessions today and in the next 7 days at my centers), and
//! *New session*.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use chrono::NaiveTime;
use serde::Deserialize;

use crate::db::{self, DbConn, DbPool};
use crate::domain::{CenterId, CourseId, Locale, SessionStatus};
use crate::error::ApiError;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::centers::{self, Center};
use crate::models::course_sessions::{self, CourseSession, SessionFilter};
use crate::models::courses::{self, Course};

use super::session::Staff;
use super::view::{here, html, Shell};
use super::words::{self, bangkok, from_bangkok};
use super::{ConsoleError, PageResult};

/// Most sessions Today lists (an admin looking at the whole network without a center).
const MAX_LISTED: i64 = 200;

/// A center as a picker shows it.
pub struct CenterChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

pub(super) fn center_label(locale: Locale, c: &Center) -> String {
    let name = match locale {
        Locale::Th => &c.name_th,
        Locale::En => &c.name_en,
    };
    format!("{name} ({})", c.code)
}

pub fn course_title(locale: Locale, c: &Course) -> &str {
    match locale {
        Locale::Th => &c.title_th,
        Locale::En => &c.title_en,
    }
}

/// The centers a page is about: staff their own (one of them if chosen); admins the one
/// chosen by ID or code, or every center.
pub(super) struct Scope {
    /// `None`: every center (admins only).
    pub(super) center_ids: Option<Vec<CenterId>>,
    pub(super) choices: Vec<CenterChoice>,
    pub(super) chosen: Option<Center>,
    /// What the admin typed, to show it again.
    pub(super) typed: String,
    /// An admin typed a code no center has.
    pub(super) unknown: bool,
}

pub(super) fn scope(
    conn: &mut DbConn,
    staff: &Staff,
    wanted: Option<&str>,
) -> Result<Scope, ApiError> {
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    if staff.is_admin() {
        let chosen = match wanted {
            None => None,
            Some(w) => match centers::find(conn, &CenterId::from_raw(w))? {
                Some(c) => Some(c),
                None => centers::find_by_code(conn, w)?,
            },
        };
        let unknown = wanted.is_some() && chosen.is_none();
        return Ok(Scope {
            center_ids: match (&chosen, unknown) {
                (Some(c), _) => Some(vec![c.id.clone()]),
                (None, true) => Some(Vec::new()),
                (None, false) => None,
            },
            choices: Vec::new(),
            typed: wanted.unwrap_or_default().to_string(),
            chosen,
            unknown,
        });
    }
    let ids = centers::centers_of_staff(conn, &staff.id)?;
    let mut mine = centers::find_many(conn, &ids)?;
    mine.sort_by(|a, b| a.code.cmp(&b.code));
    let chosen = wanted.and_then(|w| mine.iter().find(|c| *c.id == *w || c.code == w).cloned());
    let choices = mine
        .iter()
        .map(|c| CenterChoice {
            id: c.id.to_string(),
            label: center_label(staff.locale, c),
            selected: chosen.as_ref().is_some_and(|x| x.id == c.id),
        })
        .collect();
    let center_ids = match &chosen {
        Some(c) => vec![c.id.clone()],
        None => mine.iter().map(|c| c.id.clone()).collect(),
    };
    Ok(Scope {
        center_ids: Some(center_ids),
        choices,
        chosen: chosen.or_else(|| (mine.len() == 1).then(|| mine[0].clone())),
        typed: String::new(),
        unknown: false,
    })
}

/// One session in Today's list.
pub struct SessionRow {
    pub href: String,
    pub course: String,
    pub time: String,
    pub seats: String,
    pub waiting: Option<String>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub center: String,
}

/// The sessions of one Bangkok day.
pub struct DayGroup {
    pub heading: String,
    pub rows: Vec<SessionRow>,
}

#[derive(Template)]
#[template(path = "console/today.html")]
struct TodayPage {
    shell: Shell,
    days: Vec<DayGroup>,
    choices: Vec<CenterChoice>,
    typed: String,
    unknown_center: Option<String>,
    new_session_href: Option<String>,
    truncated: bool,
}

#[derive(Debug, Deserialize)]
pub struct TodayQuery {
    center: Option<String>,
    done: Option<String>,
}

fn status_class(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Scheduled => "status-open",
        SessionStatus::Cancelled => "status-cancelled",
        SessionStatus::Completed => "status-done",
    }
}

/// The courses and centers sessions name.
struct Names {
    courses: HashMap<CourseId, Course>,
    centers: HashMap<CenterId, Center>,
}

/// Names of the courses and centers of `sessions`.
fn names(conn: &mut DbConn, sessions: &[CourseSession]) -> Result<Names, ApiError> {
    let mut course_ids: Vec<CourseId> = sessions.iter().map(|s| s.course_id.clone()).collect();
    course_ids.sort();
    course_ids.dedup();
    let mut center_ids: Vec<CenterId> = sessions.iter().map(|s| s.center_id.clone()).collect();
    center_ids.sort();
    center_ids.dedup();
    let courses = courses::find_many(conn, &course_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let centers = centers::find_many(conn, &center_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(Names { courses, centers })
}

/// `GET /console/today`
pub async fn today(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<TodayQuery>,
) -> PageResult {
    let locale = staff.locale;
    let w = words::words(locale);
    let now = db::now();
    let midnight = bangkok(now).date().and_time(NaiveTime::MIN);
    let (from, to) = (
        from_bangkok(midnight),
        from_bangkok(midnight + chrono::Duration::days(8)),
    );
    let who = staff.clone();
    let wanted = query.center.clone();
    let (scope, sessions, Names { courses, centers }) = with_db(&pool, move |conn| {
        let scope = scope(conn, &who, wanted.as_deref())?;
        let sessions = course_sessions::list(
            conn,
            &SessionFilter {
                center_ids: scope.center_ids.clone(),
                from: Some(from),
                to: Some(to),
                limit: MAX_LISTED + 1,
                ..SessionFilter::default()
            },
        )?;
        let names = names(conn, &sessions)?;
        Ok((scope, sessions, names))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;

    let truncated = sessions.len() as i64 > MAX_LISTED;
    // Staff of one center need not read its name on every line.
    let show_center = staff.is_admin() || scope.choices.len() > 1;
    let today_date = bangkok(now).date();
    let mut days: Vec<DayGroup> = Vec::new();
    for s in sessions.iter().take(MAX_LISTED as usize) {
        let day = bangkok(s.starts_at).date();
        let heading = match (day - today_date).num_days() {
            0 => format!("{} · {}", w.today, words::date(locale, s.starts_at)),
            1 => format!("{} · {}", w.tomorrow, words::date(locale, s.starts_at)),
            _ => words::date(locale, s.starts_at),
        };
        if days.last().is_none_or(|d| d.heading != heading) {
            days.push(DayGroup {
                heading,
                rows: Vec::new(),
            });
        }
        let status = s.status_at(now);
        let row = SessionRow {
            href: format!("/console/sessions/{}", s.id),
            course: courses.get(&s.course_id).map_or_else(
                || s.course_id.to_string(),
                |c| course_title(locale, c).to_string(),
            ),
            time: words::time_range(locale, s.starts_at, s.ends_at),
            seats: format!("{}/{}", s.seats_taken, s.capacity),
            waiting: (s.waitlist_count > 0).then(|| words::waiting(locale, s.waitlist_count)),
            status: words::session_status(locale, status),
            status_class: status_class(status),
            center: centers
                .get(&s.center_id)
                .filter(|_| show_center)
                .map_or_else(String::new, |c| center_label(locale, c)),
        };
        if let Some(group) = days.last_mut() {
            group.rows.push(row);
        }
    }
    let mut shell = Shell::new(&staff, w.today_title, here(&req), "today");
    shell.notice = super::session_page::notice(w, query.done.as_deref());
    let page = TodayPage {
        shell,
        days,
        choices: scope.choices,
        unknown_center: scope
            .unknown
            .then(|| Code::NotFound.message(locale).to_string()),
        new_session_href: scope
            .chosen
            .as_ref()
            .map(|c| format!("/console/sessions/new?center={}", c.id))
            .or_else(|| (!staff.is_admin()).then(|| "/console/sessions/new".to_string())),
        typed: scope.typed,
        truncated,
    };
    Ok(html(StatusCode::OK, page.render()))
}
