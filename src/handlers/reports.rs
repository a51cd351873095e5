//! Admin reports.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::AdminUser;
use crate::db::DbPool;
use crate::domain::EnrollmentStatus;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::i18n::Code;
use crate::models::reports::{self, GroupBy};

use super::fields::{accept, parse_time};
use super::with_db;

#[derive(Debug, Deserialize)]
pub struct EnrollmentReportQuery {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct ReportRow {
    /// Province name, center ID or course ID.
    key: String,
    /// For people: the province, the center's Thai name, or the course's Thai title.
    label: String,
    /// Seats held: confirmed, attended and no-show together.
    enrolled: i64,
    attended: i64,
    no_show: i64,
    waitlisted: i64,
    cancelled: i64,
}

/// `GET /admin/reports/enrollments?group_by=province|center|course&from&to`: counts for
/// sessions starting in `[from, to)`.
pub async fn enrollment_report(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<EnrollmentReportQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let group_by = match query.group_by.as_deref().unwrap_or("province") {
        "province" => Some(GroupBy::Province),
        "center" => Some(GroupBy::Center),
        "course" => Some(GroupBy::Course),
        _ => {
            errors.push(crate::error::FieldError::new(
                "group_by",
                Code::InvalidValue,
            ));
            None
        }
    };
    let from = query
        .from
        .as_deref()
        .map(|t| accept(&mut errors, "from", parse_time(t)));
    let to = query
        .to
        .as_deref()
        .map(|t| accept(&mut errors, "to", parse_time(t)));
    let (Some(group_by), true) = (group_by, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let (from, to) = (from.flatten(), to.flatten());
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(ApiError::field("to", Code::EndsBeforeStart));
        }
    }
    let counts = with_db(&pool, move |conn| {
        Ok(reports::enrollment_counts(conn, group_by, from, to)?)
    })
    .await?;
    let mut rows: BTreeMap<String, ReportRow> = BTreeMap::new();
    for count in counts {
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
    let items: Vec<ReportRow> = rows.into_values().collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "group_by": query.group_by.unwrap_or_else(|| "province".into()), "items": items })))
}
