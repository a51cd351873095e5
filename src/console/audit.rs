//! Admin *Audit log*: who did what, newest first, filtered by actor (typed as a phone,
//! e-mail or ID), action and Bangkok days. Actions show in words, people and centers by
//! name, each linked to its page.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use chrono::{NaiveDateTime, NaiveTime};
use serde::Deserialize;

use crate::db::DbPool;
use crate::domain::{normalise_login, AudienceKind, CenterId, Locale};
use crate::handlers::with_db;
use crate::models::audit::{self, AuditEntry, AuditFilter};
use crate::models::{centers, users};

use super::admin_words::{self as aw, admin_words, ACTIONS};
use super::schedule::parse_local;
use super::session::Staff;
use super::today::center_label;
use super::view::{here, html, Choice, FormErrors, Shell};
use super::words::{self, from_bangkok};
use super::{ConsoleError, PageResult};

/// Most records a page lists.
const MAX_LISTED: i64 = 100;

/// Something a record names, as a link.
pub struct Named {
    pub label: String,
    pub href: String,
}

/// One line of the audit log as the page shows it.
pub struct AuditRow {
    pub when: String,
    pub actor: Named,
    pub action: String,
    pub target: Option<Named>,
    pub center: Option<Named>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    shell: Shell,
    actor: String,
    action: String,
    actions: Vec<Choice>,
    from: String,
    to: String,
    rows: Vec<AuditRow>,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A Bangkok day typed into a filter, as the UTC time its midnight is (`to` is the end of
/// the day).
fn day_bound(
    locale: Locale,
    raw: &str,
    end: bool,
    errors: &mut FormErrors,
    field: &str,
) -> Option<NaiveDateTime> {
    if raw.trim().is_empty() {
        return None;
    }
    match parse_local(raw, "00:00").0 {
        Ok(day) => {
            let day = if end {
                day + chrono::Duration::days(1)
            } else {
                day
            };
            Some(from_bangkok(day.and_time(NaiveTime::MIN)))
        }
        Err(code) => {
            errors.add(locale, field, code);
            None
        }
    }
}

/// What kind of thing an action's target is: the console page it has, if any.
fn target_page(action: &str) -> Option<&'static str> {
    let prefix = action.split('_').next().unwrap_or("");
    match prefix {
        "account" | "role" | "sign" | "staff" => Some("users"),
        "center" => Some("centers"),
        "course" => Some("courses"),
        "broadcast" => Some("broadcasts"),
        "session" => Some("sessions"),
        _ => None,
    }
}

/// The names the page shows for people and centers the records mention.
struct Names {
    people: HashMap<String, String>,
    centers: HashMap<String, String>,
}

fn rows(locale: Locale, entries: Vec<AuditEntry>, names: &Names) -> Vec<AuditRow> {
    let a = admin_words(locale);
    entries
        .into_iter()
        .map(|e| {
            let page = target_page(&e.action);
            let target = e.target_id.as_ref().and_then(|t| {
                let page = page?;
                let label = match page {
                    "users" => names.people.get(t).cloned(),
                    "centers" => names.centers.get(t).cloned(),
                    _ => None,
                }
                .unwrap_or_else(|| {
                    match page {
                        "courses" => a.courses,
                        "broadcasts" => a.broadcasts,
                        _ => aw::audience_kind(locale, AudienceKind::Session),
                    }
                    .to_string()
                });
                Some(Named {
                    label,
                    href: format!("/console/{page}/{t}"),
                })
            });
            let center = e
                .center_id
                .as_ref()
                .filter(|c| page != Some("centers") || e.target_id.as_ref() != Some(c))
                .map(|c| Named {
                    label: names.centers.get(c).cloned().unwrap_or_else(|| c.clone()),
                    href: format!("/console/centers/{c}"),
                });
            AuditRow {
                when: format!(
                    "{} {}",
                    words::date(locale, e.created_at),
                    words::clock(locale, e.created_at)
                ),
                actor: Named {
                    label: names
                        .people
                        .get(&e.actor_id)
                        .cloned()
                        .unwrap_or_else(|| e.actor_id.clone()),
                    href: format!("/console/users/{}", e.actor_id),
                },
                action: aw::action(locale, &e.action).map_or(e.action.clone(), str::to_string),
                target,
                center,
            }
        })
        .collect()
}

/// `GET /console/audit?actor=&action=&from=&to=`: newest first.
pub async fn audit_page(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    query: web::Query<AuditQuery>,
) -> PageResult {
    staff.require_admin()?;
    let locale = staff.locale;
    let mut errors = FormErrors::default();
    let from = day_bound(locale, &query.from, false, &mut errors, "from");
    let to = day_bound(locale, &query.to, true, &mut errors, "to");
    let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty() && t.len() <= 254);
    let actor = text(&query.actor);
    let mut filter = AuditFilter {
        action: text(&query.action),
        from,
        to,
        limit: MAX_LISTED,
        ..AuditFilter::default()
    };
    let (entries, names) = with_db(&pool, move |conn| {
        // The actor as typed: a phone or e-mail names an account; anything else is an ID.
        filter.actor_id = match actor {
            Some(typed) => Some(
                users::find_by_login(conn, &normalise_login(&typed))?
                    .map_or(typed, |u| u.id.to_string()),
            ),
            None => None,
        };
        let entries = audit::list(conn, &filter)?;
        let mut people: Vec<String> = entries.iter().map(|e| e.actor_id.clone()).collect();
        let mut center_ids: Vec<CenterId> = Vec::new();
        for e in &entries {
            if let Some(t) = &e.target_id {
                match target_page(&e.action) {
                    Some("users") => people.push(t.clone()),
                    Some("centers") => center_ids.push(CenterId::from_raw(t)),
                    _ => {}
                }
            }
            if let Some(c) = &e.center_id {
                center_ids.push(CenterId::from_raw(c));
            }
        }
        let people = users::names(conn, &people)?;
        let centers = centers::find_many(conn, &center_ids)?
            .into_iter()
            .map(|c| (c.id.to_string(), center_label(locale, &c)))
            .collect();
        Ok((entries, Names { people, centers }))
    })
    .await
    .map_err(|e| ConsoleError::from_api(locale, e))?;
    let w = words::words(locale);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut actions = vec![Choice::new("", admin_words(locale).all_actions)];
    actions.extend(ACTIONS.iter().map(|(action, th, en)| {
        Choice::new(
            *action,
            match locale {
                Locale::Th => *th,
                Locale::En => *en,
            },
        )
    }));
    let page = AuditPage {
        shell: Shell::new(&staff, w.audit_log, here(&req), "audit"),
        actor: query.actor.clone(),
        action: query.action.clone(),
        actions,
        from: query.from.clone(),
        to: query.to.clone(),
        rows: rows(locale, entries, &names),
        errors,
    };
    Ok(html(status, page.render()))
}
