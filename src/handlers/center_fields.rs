//! The fields of a center as admins send them (API JSON or console form), checked the
//! same way for a new center and for a change: every problem is collected.

use serde::Deserialize;

use crate::db;
use crate::domain::{find_province, CenterId, CenterStatus, Latitude, Longitude, Phone};
use crate::error::FieldError;
use crate::i18n::Code;
use crate::models::centers::{self, Center, CenterChanges};

use super::fields::{accept, optional_text, required_text};

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
    #[serde(default, deserialize_with = "super::fields::present")]
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
        Latitude::parse(body.lat).map(Latitude::degrees),
    );
    let lon = accept(
        &mut errors,
        "lon",
        Longitude::parse(body.lon).map(Longitude::degrees),
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCenterRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub name_th: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub name_en: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub province: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub district: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub subdistrict: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub lat: Option<f64>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub lon: Option<f64>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::fields::nullable")]
    pub opening_hours: Option<Option<String>>,
}

/// Checks the fields a center update sets, collecting every problem.
pub fn parse_center_changes(body: UpdateCenterRequest) -> Result<CenterChanges, Vec<FieldError>> {
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
                Latitude::parse(v).map(Latitude::degrees),
            )
        }),
        lon: body.lon.and_then(|v| {
            accept(
                &mut errors,
                "lon",
                Longitude::parse(v).map(Longitude::degrees),
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
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}
