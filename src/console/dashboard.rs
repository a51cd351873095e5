//! The admin *Dashboard*: the network's figures at a glance.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::db::{self, DbPool};
use crate::domain::Locale;
use crate::handlers::with_db;
use crate::models::reports::{self, Dashboard};

use super::admin_words::{self as aw, admin_words};
use super::session::Staff;
use super::view::{here, html, Shell};
use super::words::{bangkok, from_bangkok};
use super::{ConsoleError, PageResult};

/// One figure: what it counts, the number, and what it is made of.
pub struct Figure {
    pub label: &'static str,
    pub value: String,
    pub detail: String,
    pub href: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    shell: Shell,
    figures: Vec<Figure>,
}

/// The Bangkok calendar month that `now` falls in, as UTC bounds.
pub fn bangkok_month(now: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let today = bangkok(now).date();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let next = if today.month() == 12 {
        NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
    }
    .unwrap_or(today);
    (
        from_bangkok(first.and_time(NaiveTime::MIN)),
        from_bangkok(next.and_time(NaiveTime::MIN)),
    )
}

fn figures(locale: Locale, d: &Dashboard) -> Vec<Figure> {
    let a = admin_words(locale);
    let rate = |p: Option<i64>| p.map_or_else(|| "–".to_string(), |p| format!("{p}%"));
    vec![
        Figure {
            label: a.active_centers,
            value: aw::grouped(d.active_centers),
            detail: aw::of_total(locale, d.centers),
            href: Some("/console/centers"),
        },
        Figure {
            label: a.enrollments_this_month,
            value: aw::grouped(d.enrolled),
            detail: String::new(),
            href: Some("/console/reports"),
        },
        Figure {
            label: a.attendance_this_month,
            value: rate(d.attendance_percent()),
            detail: match d.attendance_percent() {
                Some(_) => aw::attendance_detail(locale, d.attended, d.no_show),
                None => a.not_yet.to_string(),
            },
            href: Some("/console/reports"),
        },
        Figure {
            label: a.push_delivery_7_days,
            value: rate(d.delivery_percent()),
            detail: match d.delivery_percent() {
                Some(_) => aw::delivery_detail(
                    locale,
                    d.pushes_sent,
                    d.pushes_sent + d.pushes_not_delivered,
                ),
                None => a.not_yet.to_string(),
            },
            href: Some("/console/push-failures"),
        },
        Figure {
            label: a.broadcasts_waiting,
            value: aw::grouped(d.broadcasts_waiting),
            detail: String::new(),
            href: Some("/console/broadcasts"),
        },
    ]
}

/// `GET /console/dashboard`: this Bangkok month's enrollments and attendance (of sessions
/// starting in it), pushes finished in the last 7 days, broadcasts not yet sent.
pub async fn dashboard(req: HttpRequest, staff: Staff, pool: web::Data<DbPool>) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let now = db::now();
    let d = with_db(&pool, move |conn| {
        Ok(reports::dashboard(
            conn,
            bangkok_month(now),
            now - Duration::days(7),
        )?)
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let page = DashboardPage {
        shell: Shell::new(
            &staff,
            admin_words(locale).dashboard,
            here(&req),
            "dashboard",
        ),
        figures: figures(locale, &d),
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_is_bangkoks() {
        // 18:00 UTC on 30 November is 01:00 on 1 December in Bangkok.
        let t = NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(18, 0, 0))
            .expect("time");
        let (from, to) = bangkok_month(t);
        assert_eq!(from.to_string(), "2026-11-30 17:00:00");
        assert_eq!(to.to_string(), "2026-12-31 17:00:00");
    }
}
