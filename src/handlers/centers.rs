//! Centers: nearest-first and text search (from the in-memory directory), admin
//! management, and staff assignment.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AdminUser;
use crate::db::{self, DbPool};
use crate::directory::CenterDirectory;
use crate::domain::{find_province, CenterId, CenterStatus, Coordinates, Phone, UserId};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{decode_key, encode_key, page_limit};
use crate::i18n::Code;
use crate::models::centers::{self, Center, CenterChanges};
use crate::ops::{self, centers::Assigned};

use super::auth::accept;
use super::params::{optional_text, parse_near, required_text};
use super::views::CenterView;
use super::with_db;

#[derive(Debug, Deserialize)]
pub struct ListCentersQuery {
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
    q: Option<String>,
    province: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Where the previous page ended: (distance bits, id) when searching by location,
/// otherwise the center code.
enum CenterCursor {
    Near(f64, String),
    Code(String),
}

fn encode_cursor(cursor: &CenterCursor) -> String {
    match cursor {
        CenterCursor::Near(d, id) => encode_key("n", &[&format!("{:016x}", d.to_bits()), id]),
        CenterCursor::Code(code) => encode_key("c", &[code]),
    }
}

fn decode_cursor(raw: &str, near: bool) -> Result<CenterCursor, ApiError> {
    if near {
        let mut parts = decode_key(raw, "n", 2)?;
        let id = parts.pop().unwrap_or_default();
        let bits = u64::from_str_radix(&parts[0], 16)
            .map_err(|_| ApiError::field("cursor", Code::InvalidCursor))?;
        Ok(CenterCursor::Near(f64::from_bits(bits), id))
    } else {
        Ok(CenterCursor::Code(decode_key(raw, "c", 1)?.remove(0)))
    }
}

/// `GET /centers`: nearest first with `lat`/`lon`, or by code; filtered by `q`
/// (Thai or English name, district), `province` and `status`. Answered from memory.
pub async fn list_centers(
    directory: web::Data<Arc<CenterDirectory>>,
    QueryParams(query): QueryParams<ListCentersQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)? as usize;
    let near = parse_near(query.lat, query.lon, query.radius_km)?;
    let province = match query
        .province
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(
            find_province(p)
                .ok_or_else(|| ApiError::field("province", Code::UnknownProvince))?
                .name_th,
        ),
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            CenterStatus::parse(s).ok_or_else(|| ApiError::field("status", Code::InvalidValue))?,
        ),
    };
    let q = query
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field("q", Code::TooLong));
    }
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c, near.is_some()))
        .transpose()?;

    let snapshot = directory.snapshot();
    let matches = |c: &centers::Center| {
        province.is_none_or(|p| c.province == p)
            && status.is_none_or(|s| c.status == s)
            && q.as_deref().is_none_or(|q| c.search_text.contains(q))
    };
    // One more than a page, to know whether another page follows.
    let mut found: Vec<(usize, Option<f64>)> = Vec::with_capacity(limit + 1);
    match near {
        Some((origin, radius)) => {
            let after = match &cursor {
                Some(CenterCursor::Near(d, id)) => Some((*d, id.as_str())),
                _ => None,
            };
            found.extend(
                snapshot
                    .within(origin, radius)
                    .into_iter()
                    .filter(|&(i, d)| {
                        let c = snapshot.center(i);
                        after.is_none_or(|after| (d, c.id.as_str()) > after) && matches(c)
                    })
                    .take(limit + 1)
                    .map(|(i, d)| (i, Some(d))),
            );
        }
        None => {
            let all = snapshot.all();
            let start = match &cursor {
                Some(CenterCursor::Code(code)) => {
                    all.partition_point(|c| c.code.as_str() <= code.as_str())
                }
                _ => 0,
            };
            found.extend(
                (start..all.len())
                    .filter(|&i| matches(&all[i]))
                    .take(limit + 1)
                    .map(|i| (i, None)),
            );
        }
    }
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|&(i, d)| {
            let c = snapshot.center(i);
            match d {
                Some(d) => encode_cursor(&CenterCursor::Near(d, c.id.to_string())),
                None => encode_cursor(&CenterCursor::Code(c.code.clone())),
            }
        })
    } else {
        None
    };
    // The hottest route of the app: copy pre-rendered centers rather than serialise
    // twenty structs per request.
    let mut body = String::with_capacity(64 + found.len() * 512);
    body.push_str(r#"{"items":["#);
    for (n, &(i, distance)) in found.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(snapshot.fragment(i));
        body.push_str(r#","distance_km":"#);
        let rounded = distance.map(|d| (d * 100.0).round() / 100.0);
        body.push_str(&serde_json::to_string(&rounded).map_err(anyhow::Error::from)?);
        body.push('}');
    }
    body.push_str(r#"],"next_cursor":"#);
    body.push_str(&serde_json::to_string(&next_cursor).map_err(anyhow::Error::from)?);
    body.push('}');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /centers/{id}`: one center, read fresh from the database, with how many
/// sessions are coming up there.
pub async fn get_center(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CenterId::from_raw(path.into_inner());
    let (center, upcoming) = with_db(&pool, move |conn| {
        let center = centers::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let upcoming = centers::upcoming_sessions_count(conn, &id, db::now())?;
        Ok((center, upcoming))
    })
    .await?;
    let mut body =
        serde_json::to_value(CenterView::new(&center, None)).map_err(anyhow::Error::from)?;
    body["upcoming_sessions_count"] = json!(upcoming);
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCenterRequest {
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub province: String,
    pub district: String,
    pub subdistrict: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default, deserialize_with = "super::me::present")]
    pub status: Option<String>,
    pub phone: Option<String>,
    pub opening_hours: Option<String>,
}

/// Center codes: letters, digits and dashes, as printed on signs (`CDC-CMI-0001`).
pub fn parse_center_code(raw: &str) -> Result<String, Code> {
    let code = raw.trim().to_uppercase();
    let valid = !code.is_empty()
        && code.len() <= 32
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(code)
    } else {
        Err(Code::InvalidCenterCode)
    }
}

pub fn parse_center_status(raw: &str) -> Result<CenterStatus, Code> {
    CenterStatus::parse(raw.trim()).ok_or(Code::InvalidValue)
}

fn parse_province(raw: &str) -> Result<String, Code> {
    find_province(raw)
        .map(|p| p.name_th.to_string())
        .ok_or(Code::UnknownProvince)
}

fn parse_center_phone(raw: Option<&str>) -> Result<Option<String>, Code> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => Phone::parse(p).map(|p| Some(p.as_str().to_string())),
    }
}

/// Checks a whole new center, collecting every problem.
pub fn validate_new_center(body: CreateCenterRequest) -> Result<Center, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = accept(&mut errors, "code", parse_center_code(&body.code));
    let name_th = accept(&mut errors, "name_th", required_text(&body.name_th, 200));
    let name_en = accept(&mut errors, "name_en", required_text(&body.name_en, 200));
    let province = accept(&mut errors, "province", parse_province(&body.province));
    let district = accept(&mut errors, "district", required_text(&body.district, 100));
    let subdistrict = accept(
        &mut errors,
        "subdistrict",
        required_text(&body.subdistrict, 100),
    );
    let lat = accept(
        &mut errors,
        "lat",
        Coordinates::new(body.lat, 0.0)
            .map(|c| c.lat)
            .map_err(|(_, code)| code),
    );
    let lon = accept(
        &mut errors,
        "lon",
        Coordinates::new(0.0, body.lon)
            .map(|c| c.lon)
            .map_err(|(_, code)| code),
    );
    let status = accept(
        &mut errors,
        "status",
        body.status
            .as_deref()
            .map_or(Ok(CenterStatus::Active), parse_center_status),
    );
    let phone = accept(
        &mut errors,
        "phone",
        parse_center_phone(body.phone.as_deref()),
    );
    let opening_hours = accept(
        &mut errors,
        "opening_hours",
        optional_text(body.opening_hours.as_deref(), 200),
    );
    let (
        Some(code),
        Some(name_th),
        Some(name_en),
        Some(province),
        Some(district),
        Some(subdistrict),
        Some(lat),
        Some(lon),
        Some(status),
        Some(phone),
        Some(opening_hours),
    ) = (
        code,
        name_th,
        name_en,
        province,
        district,
        subdistrict,
        lat,
        lon,
        status,
        phone,
        opening_hours,
    )
    else {
        return Err(errors);
    };
    let now = db::now();
    Ok(Center {
        id: CenterId::generate(),
        search_text: centers::search_text(&code, &name_th, &name_en, &district, &subdistrict),
        code,
        name_th,
        name_en,
        province,
        district,
        subdistrict,
        lat,
        lon,
        status,
        phone,
        opening_hours,
        created_at: now,
        updated_at: now,
    })
}

/// `POST /centers`
pub async fn create_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    JsonBody(body): JsonBody<CreateCenterRequest>,
) -> ApiResult<HttpResponse> {
    let new_center = validate_new_center(body).map_err(ApiError::Validation)?;
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    let center = with_db(&pool, move |conn| {
        ops::centers::create(conn, &directory, &actor, new_center)
    })
    .await?;
    Ok(HttpResponse::Created().json(CenterView::new(&center, None)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCenterRequest {
    #[serde(default, deserialize_with = "super::me::present")]
    code: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    name_th: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    name_en: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    province: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    district: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    subdistrict: Option<String>,
    #[serde(default, deserialize_with = "super::me::present")]
    lat: Option<f64>,
    #[serde(default, deserialize_with = "super::me::present")]
    lon: Option<f64>,
    #[serde(default, deserialize_with = "super::me::present")]
    status: Option<String>,
    #[serde(default, deserialize_with = "super::me::nullable")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::me::nullable")]
    opening_hours: Option<Option<String>>,
}

/// `PATCH /centers/{id}`
pub async fn update_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateCenterRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let changes = CenterChanges {
        code: body
            .code
            .and_then(|c| accept(&mut errors, "code", parse_center_code(&c))),
        name_th: body
            .name_th
            .and_then(|n| accept(&mut errors, "name_th", required_text(&n, 200))),
        name_en: body
            .name_en
            .and_then(|n| accept(&mut errors, "name_en", required_text(&n, 200))),
        province: body
            .province
            .and_then(|p| accept(&mut errors, "province", parse_province(&p))),
        district: body
            .district
            .and_then(|d| accept(&mut errors, "district", required_text(&d, 100))),
        subdistrict: body
            .subdistrict
            .and_then(|d| accept(&mut errors, "subdistrict", required_text(&d, 100))),
        lat: body.lat.and_then(|v| {
            accept(
                &mut errors,
                "lat",
                Coordinates::new(v, 0.0).map(|c| c.lat).map_err(|e| e.1),
            )
        }),
        lon: body.lon.and_then(|v| {
            accept(
                &mut errors,
                "lon",
                Coordinates::new(0.0, v).map(|c| c.lon).map_err(|e| e.1),
            )
        }),
        status: body
            .status
            .and_then(|s| accept(&mut errors, "status", parse_center_status(&s))),
        phone: body
            .phone
            .and_then(|p| accept(&mut errors, "phone", parse_center_phone(p.as_deref()))),
        opening_hours: body.opening_hours.and_then(|h| {
            accept(
                &mut errors,
                "opening_hours",
                optional_text(h.as_deref(), 200),
            )
        }),
        search_text: None,
        updated_at: None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = CenterId::from_raw(path.into_inner());
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    let center = with_db(&pool, move |conn| {
        ops::centers::update(conn, &directory, &actor, &id, changes)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CenterView::new(&center, None)))
}

/// `DELETE /centers/{id}`: only centers that never held a session; others are closed
/// (`status: closed`) so their history stays.
pub async fn delete_center(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    directory: web::Data<Arc<CenterDirectory>>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = CenterId::from_raw(path.into_inner());
    let directory = Arc::clone(&directory);
    let actor = admin.actor();
    with_db(&pool, move |conn| {
        ops::centers::delete(conn, &directory, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /centers/{id}/staff/{user_id}`: idempotent.
pub async fn assign_staff(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (center_id, user_id) = path.into_inner();
    let (center_id, user_id) = (CenterId::from_raw(center_id), UserId::from_raw(user_id));
    let actor = admin.actor();
    let assigned = with_db(&pool, move |conn| {
        ops::centers::assign_staff(conn, &actor, &center_id, &user_id)
    })
    .await?;
    let body = json!({ "assigned": true });
    Ok(match assigned {
        Assigned::New => HttpResponse::Created().json(body),
        Assigned::Already => HttpResponse::Ok().json(body),
    })
}

/// `DELETE /centers/{id}/staff/{user_id}`
pub async fn unassign_staff(
    AdminUser(admin): AdminUser,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (center_id, user_id) = path.into_inner();
    let (center_id, user_id) = (CenterId::from_raw(center_id), UserId::from_raw(user_id));
    let actor = admin.actor();
    with_db(&pool, move |conn| {
        ops::centers::unassign_staff(conn, &actor, &center_id, &user_id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
