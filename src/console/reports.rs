//! Admin *Reports*: enrollments, attendance, no-shows and the waitlist by province, center
//! or course over Bangkok dates, as a chart (SVG drawn here, no script) and a table, and
//! as CSV. The figures are the API's report (`models::reports::enrollment_rows`).

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde::Deserialize;

use crate::db::{self, DbPool};
use crate::domain::{find_province, CenterId, CourseId, Locale};
use crate::handlers::roster::csv_file;
use crate::handlers::with_db;
use crate::i18n::Code;
use crate::models::reports::{self, GroupBy, ReachRow, ReportRow};
use crate::models::{centers, courses};

use super::admin_words::{self as aw, admin_words};
use super::schedule::parse_local;
use super::session::Staff;
use super::today::{center_label, course_title};
use super::view::{here, html, Choice, FormErrors, Shell};
use super::words::{bangkok, from_bangkok};
use super::{ConsoleError, PageResult};

/// How many groups the chart draws (the biggest); the table and the CSV have them all.
const CHART_ROWS: usize = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// What the report is asked for, checked: the group and `[from, to)` in UTC, and the
/// Bangkok days as the form shows them.
struct Asked {
    group_by: GroupBy,
    from: NaiveDateTime,
    to: NaiveDateTime,
    from_day: String,
    to_day: String,
}

/// How far either side of today the report reaches unless days are given: what happened
/// lately and what is booked.
const DEFAULT_REACH_DAYS: i64 = 30;

/// 30 days either side of today unless days are given; `to` is the last day included.
fn ask(locale: Locale, q: &ReportQuery, errors: &mut FormErrors) -> Option<Asked> {
    let group_by = if q.group_by.is_empty() {
        Some(GroupBy::Province)
    } else {
        GroupBy::parse(&q.group_by)
    };
    if group_by.is_none() {
        errors.add(locale, "group_by", Code::InvalidValue);
    }
    let today = bangkok(db::now()).date().and_time(NaiveTime::MIN);
    let (default_from, default_to) = (
        from_bangkok(today - Duration::days(DEFAULT_REACH_DAYS)),
        from_bangkok(today + Duration::days(DEFAULT_REACH_DAYS)),
    );
    let day = |raw: &str, field: &str, default: NaiveDateTime, errors: &mut FormErrors| {
        if raw.trim().is_empty() {
            return Some(default);
        }
        match parse_local(raw, "00:00").0 {
            Ok(d) => Some(from_bangkok(d.and_time(NaiveTime::MIN))),
            Err(code) => {
                errors.add(locale, field, code);
                None
            }
        }
    };
    let from = day(&q.from, "from", default_from, errors);
    // The last day shown is included: the bound is the next midnight.
    let to = day(&q.to, "to", default_to, errors).map(|t| t + Duration::days(1));
    let (group_by, from, to) = (group_by?, from?, to?);
    if from >= to {
        errors.add(locale, "to", Code::EndsBeforeStart);
        return None;
    }
    let shown = |t: NaiveDateTime| bangkok(t).date().format("%Y-%m-%d").to_string();
    Some(Asked {
        group_by,
        from_day: shown(from),
        to_day: shown(to - Duration::days(1)),
        from,
        to,
    })
}

/// The rows, biggest first, each labelled in the page's language.
async fn labelled_rows(
    pool: &web::Data<DbPool>,
    locale: Locale,
    asked: &Asked,
) -> Result<Vec<(String, ReportRow)>, ConsoleError> {
    let (group_by, from, to) = (asked.group_by, asked.from, asked.to);
    let (rows, labels) = with_db(pool, move |conn| {
        let rows = reports::enrollment_rows(conn, group_by, Some(from), Some(to))?;
        let mut labels: HashMap<String, String> = HashMap::new();
        match group_by {
            GroupBy::Province => {
                for r in &rows {
                    let name = find_province(&r.key).map_or(r.label.clone(), |p| match locale {
                        Locale::Th => p.name_th.to_string(),
                        Locale::En => p.name_en.to_string(),
                    });
                    labels.insert(r.key.clone(), name);
                }
            }
            GroupBy::Center => {
                let ids: Vec<CenterId> = rows.iter().map(|r| CenterId::from_raw(&r.key)).collect();
                for c in centers::find_many(conn, &ids)? {
                    labels.insert(c.id.to_string(), center_label(locale, &c));
                }
            }
            GroupBy::Course => {
                let ids: Vec<CourseId> = rows.iter().map(|r| CourseId::from_raw(&r.key)).collect();
                for c in courses::find_many(conn, &ids)? {
                    labels.insert(c.id.to_string(), course_title(locale, &c).to_string());
                }
            }
        }
        Ok((rows, labels))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut labelled: Vec<(String, ReportRow)> = rows
        .into_iter()
        .map(|r| {
            (
                labels
                    .get(&r.key)
                    .cloned()
                    .unwrap_or_else(|| r.label.clone()),
                r,
            )
        })
        .collect();
    labelled.sort_by(|(la, a), (lb, b)| {
        (b.enrolled + b.waitlisted)
            .cmp(&(a.enrolled + a.waitlisted))
            .then_with(|| la.cmp(lb))
    });
    Ok(labelled)
}

/// One bar of the chart: its label, figures and the widths of its parts (of 1000).
pub struct Bar {
    pub label: String,
    pub summary: String,
    pub parts: Vec<(u32, u32, &'static str)>,
}

pub struct TableRow {
    pub label: String,
    pub enrolled: i64,
    pub attended: i64,
    pub no_show: i64,
    pub not_marked: i64,
    pub waitlisted: i64,
    pub cancelled: i64,
}

/// The chart's colours, each with a text label in the legend (colour is never the only
/// cue: the numbers are beside every bar and in the table).
pub const ATTENDED: &str = "#116a2f";
pub const NO_SHOW: &str = "#a4161a";
pub const NOT_MARKED: &str = "#0b5cad";
pub const WAITLISTED: &str = "#c77800";

fn bars(locale: Locale, rows: &[(String, ReportRow)]) -> Vec<Bar> {
    let a = admin_words(locale);
    let w = super::words::words(locale);
    let widest = rows
        .iter()
        .map(|(_, r)| r.enrolled + r.waitlisted)
        .max()
        .unwrap_or(0)
        .max(1);
    rows.iter()
        .take(CHART_ROWS)
        .map(|(label, r)| {
            let not_marked = r.enrolled - r.attended - r.no_show;
            let mut x = 0u32;
            let mut parts = Vec::new();
            for (n, colour) in [
                (r.attended, ATTENDED),
                (r.no_show, NO_SHOW),
                (not_marked, NOT_MARKED),
                (r.waitlisted, WAITLISTED),
            ] {
                let width = (n * 1000 / widest) as u32;
                if width > 0 {
                    parts.push((x, width, colour));
                    x += width;
                }
            }
            Bar {
                label: label.clone(),
                summary: format!(
                    "{} {} · {} {} · {} {} · {} {}",
                    a.enrolled,
                    r.enrolled,
                    w.attended,
                    r.attended,
                    w.no_show,
                    r.no_show,
                    a.waitlisted,
                    r.waitlisted
                ),
                parts,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    shell: Shell,
    groups: Vec<Choice>,
    group_by: String,
    group_label: &'static str,
    from: String,
    to: String,
    csv_href: String,
    bars: Vec<Bar>,
    legend: Vec<(&'static str, &'static str)>,
    table: Vec<TableRow>,
    more_than_chart: bool,
    /// Who the residents with upcoming seats can be reached by, per province or center.
    reach_label: &'static str,
    reach: Vec<(String, ReachRow)>,
    errors: FormErrors,
}

/// The reach report by `group` (province, or center when the page groups by center),
/// labelled in the page's language, those with the most people nobody reaches first.
async fn labelled_reach(
    pool: &web::Data<DbPool>,
    locale: Locale,
    group: GroupBy,
) -> Result<Vec<(String, ReachRow)>, ConsoleError> {
    let rows = with_db(pool, move |conn| {
        let rows = reports::reach_rows(conn, group, crate::db::now())?;
        let mut labels: HashMap<String, String> = HashMap::new();
        if group == GroupBy::Center {
            let ids: Vec<CenterId> = rows.iter().map(|r| CenterId::from_raw(&r.group)).collect();
            for c in centers::find_many(conn, &ids)? {
                labels.insert(c.id.to_string(), center_label(locale, &c));
            }
        } else {
            for r in &rows {
                if let Some(p) = find_province(&r.group) {
                    let name = match locale {
                        Locale::Th => p.name_th,
                        Locale::En => p.name_en,
                    };
                    labels.insert(r.group.clone(), name.to_string());
                }
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let label = labels.remove(&r.group).unwrap_or_else(|| r.label.clone());
                (label, r)
            })
            .collect::<Vec<_>>())
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let mut rows = rows;
    rows.sort_by(|(la, a), (lb, b)| b.unreachable.cmp(&a.unreachable).then_with(|| la.cmp(lb)));
    Ok(rows)
}

fn query_string(asked: &Asked) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("group_by", asked.group_by.as_str())
        .append_pair("from", &asked.from_day)
        .append_pair("to", &asked.to_day)
        .finish()
}

/// `GET /console/reports?group_by=&from=&to=` (Bangkok days, both included; 30 days either
/// side of today by default).
pub async fn reports_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<ReportQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let (a, w) = (admin_words(locale), super::words::words(locale));
    let mut errors = FormErrors::default();
    let asked = ask(locale, &query, &mut errors);
    let rows = match &asked {
        Some(asked) => labelled_rows(&pool, locale, asked).await?,
        None => Vec::new(),
    };
    let group = asked.as_ref().map_or(GroupBy::Province, |q| q.group_by);
    let reach_group = if group == GroupBy::Center {
        GroupBy::Center
    } else {
        GroupBy::Province
    };
    let reach = labelled_reach(&pool, locale, reach_group).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ReportsPage {
        shell: Shell::new(&staff, a.reports, here(&req), "reports"),
        groups: GroupBy::ALL
            .into_iter()
            .map(|g| Choice::new(g.as_str(), aw::group_by(locale, g)))
            .collect(),
        group_by: group.as_str().to_string(),
        group_label: aw::group_by(locale, group),
        from: asked
            .as_ref()
            .map_or_else(|| query.from.clone(), |q| q.from_day.clone()),
        to: asked
            .as_ref()
            .map_or_else(|| query.to.clone(), |q| q.to_day.clone()),
        csv_href: asked
            .as_ref()
            .map(|q| format!("/console/reports.csv?{}", query_string(q)))
            .unwrap_or_default(),
        bars: bars(locale, &rows),
        legend: vec![
            (w.attended, ATTENDED),
            (w.no_show, NO_SHOW),
            (a.seats_not_marked, NOT_MARKED),
            (a.waitlisted, WAITLISTED),
        ],
        more_than_chart: rows.len() > CHART_ROWS,
        reach_label: aw::group_by(locale, reach_group),
        reach,
        table: rows
            .into_iter()
            .map(|(label, r)| TableRow {
                label,
                not_marked: r.enrolled - r.attended - r.no_show,
                enrolled: r.enrolled,
                attended: r.attended,
                no_show: r.no_show,
                waitlisted: r.waitlisted,
                cancelled: r.cancelled,
            })
            .collect(),
        errors,
    };
    Ok(html(status, page.render()))
}

/// `GET /console/reports.csv?…`: the same rows as the page, with the API report's fields
/// and the label in the page's language.
pub async fn report_csv(
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<ReportQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let mut errors = FormErrors::default();
    let Some(asked) = ask(locale, &query, &mut errors) else {
        return Err(ConsoleError::BadForm(locale));
    };
    let rows = labelled_rows(&pool, locale, &asked).await?;
    let header = [
        asked.group_by.as_str(),
        "key",
        "enrolled",
        "attended",
        "no_show",
        "waitlisted",
        "cancelled",
    ];
    let csv = csv_file(
        &header,
        rows.into_iter().map(|(label, r)| {
            vec![
                label,
                r.key,
                r.enrolled.to_string(),
                r.attended.to_string(),
                r.no_show.to_string(),
                r.waitlisted.to_string(),
                r.cancelled.to_string(),
            ]
        }),
    )
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"report-{}-{}-{}.csv\"",
                asked.group_by.as_str(),
                asked.from_day,
                asked.to_day
            ),
        ))
        .body(csv))
}
