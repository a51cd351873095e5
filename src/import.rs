//! `ocod import-centers FILE.csv`: loads a real center list. Every row is checked first;
//! if any is wrong, each problem is reported with its line number and nothing is stored.
//!
//! Columns (header row required, any order): `code, name_th, name_en, province,
//! district, subdistrict, lat, lon` and optionally `status, phone, opening_hours`.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::Locale;
use crate::handlers::center_fields::{validate_new_center, CreateCenterRequest};
use crate::models::centers::{self, Center};
use crate::schema::centers as centers_t;

const REQUIRED: [&str; 8] = [
    "code",
    "name_th",
    "name_en",
    "province",
    "district",
    "subdistrict",
    "lat",
    "lon",
];
const OPTIONAL: [&str; 3] = ["status", "phone", "opening_hours"];

/// Imports the file, or returns every problem found (and imports nothing).
pub fn import_centers(
    conn: &mut DbConn,
    bytes: &[u8],
) -> anyhow::Result<Result<usize, Vec<String>>> {
    // Spreadsheets often save UTF-8 with a byte-order mark.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.to_lowercase()).collect(),
        Err(e) => {
            return Ok(Err(vec![format!(
                "line 1: cannot read the header row: {e}"
            )]))
        }
    };
    let mut problems = Vec::new();
    for column in REQUIRED {
        if !headers.iter().any(|h| h == column) {
            problems.push(format!("line 1: missing column `{column}`"));
        }
    }
    for h in &headers {
        if !REQUIRED.contains(&h.as_str()) && !OPTIONAL.contains(&h.as_str()) {
            problems.push(format!("line 1: unknown column `{h}`"));
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let column = |name: &str| headers.iter().position(|h| h == name);

    let mut rows: Vec<(u64, Center)> = Vec::new();
    let mut seen_codes: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let optional = |name: &str| Some(get(name)).filter(|v| !v.is_empty());
        let number = |name: &str| get(name).parse::<f64>().unwrap_or(f64::NAN);
        let request = CreateCenterRequest {
            code: get("code"),
            name_th: get("name_th"),
            name_en: get("name_en"),
            province: get("province"),
            district: get("district"),
            subdistrict: get("subdistrict"),
            lat: number("lat"),
            lon: number("lon"),
            status: optional("status"),
            phone: optional("phone"),
            opening_hours: optional("opening_hours"),
        };
        match validate_new_center(request) {
            Ok(center) => {
                if let Some(first) = seen_codes.insert(center.code.clone(), line) {
                    problems.push(format!(
                        "line {line}: code {} repeats line {first}",
                        center.code
                    ));
                }
                rows.push((line, center));
            }
            Err(fields) => {
                for f in fields {
                    problems.push(format!(
                        "line {line}: {}: {}",
                        f.field,
                        f.code.message(Locale::En)
                    ));
                }
            }
        }
    }
    let codes: Vec<String> = rows.iter().map(|(_, c)| c.code.clone()).collect();
    for chunk in codes.chunks(500) {
        let existing: Vec<String> = centers_t::table
            .filter(centers_t::code.eq_any(chunk))
            .select(centers_t::code)
            .load(conn)?;
        for (line, center) in rows.iter().filter(|(_, c)| existing.contains(&c.code)) {
            problems.push(format!("line {line}: code {} already exists", center.code));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| {
            p.split(':')
                .next()
                .and_then(|l| l.trim_start_matches("line ").parse::<u64>().ok())
                .unwrap_or(0)
        });
        return Ok(Err(problems));
    }
    let centers_list: Vec<Center> = rows.into_iter().map(|(_, c)| c).collect();
    Ok(Ok(centers::insert_many(conn, &centers_list)?))
}
