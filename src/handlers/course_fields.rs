//! The fields of a course as admins send them (API JSON or console form), checked the
//! same way for a new course and for a change: every problem is collected.

use serde::Deserialize;

use crate::db;
use crate::domain::CourseId;
use crate::error::FieldError;
use crate::i18n::Code;
use crate::models::courses::{Course, CourseChanges};

use super::fields::{accept, required_text, Whole};

pub const LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];

pub fn parse_level(raw: &str) -> Result<String, Code> {
    LEVELS
        .iter()
        .find(|l| **l == raw.trim())
        .map(|l| l.to_string())
        .ok_or(Code::InvalidValue)
}

/// Categories are short snake_case words (`smartphone_basics`, `online_safety`, …).
pub fn parse_category(raw: &str) -> Result<String, Code> {
    let category = raw.trim();
    let valid = !category.is_empty()
        && category.len() <= 50
        && category
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(category.to_string())
    } else {
        Err(Code::InvalidValue)
    }
}

fn parse_duration_minutes(minutes: i32) -> Result<i32, Code> {
    if (1..=24 * 60).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(Code::OutOfRange)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCourseRequest {
    pub title_th: String,
    pub title_en: String,
    pub description_th: String,
    pub description_en: String,
    pub category: String,
    pub level: String,
    pub duration_minutes: Whole,
}

/// Checks a whole new course, collecting every problem.
pub fn validate_new_course(body: CreateCourseRequest) -> Result<Course, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title_th = accept(&mut errors, "title_th", required_text(&body.title_th, 200));
    let title_en = accept(&mut errors, "title_en", required_text(&body.title_en, 200));
    let description_th = accept(
        &mut errors,
        "description_th",
        required_text(&body.description_th, 4000),
    );
    let description_en = accept(
        &mut errors,
        "description_en",
        required_text(&body.description_en, 4000),
    );
    let category = accept(&mut errors, "category", parse_category(&body.category));
    let level = accept(&mut errors, "level", parse_level(&body.level));
    let duration_minutes = accept(
        &mut errors,
        "duration_minutes",
        parse_duration_minutes(body.duration_minutes.0),
    );
    let (
        Some(title_th),
        Some(title_en),
        Some(description_th),
        Some(description_en),
        Some(category),
        Some(level),
        Some(duration_minutes),
    ) = (
        title_th,
        title_en,
        description_th,
        description_en,
        category,
        level,
        duration_minutes,
    )
    else {
        return Err(errors);
    };
    let now = db::now();
    Ok(Course {
        id: CourseId::generate(),
        title_th,
        title_en,
        description_th,
        description_en,
        category,
        level,
        duration_minutes,
        created_at: now,
        updated_at: now,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourseRequest {
    #[serde(default, deserialize_with = "super::fields::present")]
    pub title_th: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub title_en: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub description_th: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub description_en: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub level: Option<String>,
    #[serde(default, deserialize_with = "super::fields::present")]
    pub duration_minutes: Option<Whole>,
}

/// Checks the fields a course update sets, collecting every problem.
pub fn parse_course_changes(body: UpdateCourseRequest) -> Result<CourseChanges, Vec<FieldError>> {
    let mut errors = Vec::new();
    let changes = CourseChanges {
        title_th: body
            .title_th
            .and_then(|t| accept(&mut errors, "title_th", required_text(&t, 200))),
        title_en: body
            .title_en
            .and_then(|t| accept(&mut errors, "title_en", required_text(&t, 200))),
        description_th: body
            .description_th
            .and_then(|t| accept(&mut errors, "description_th", required_text(&t, 4000))),
        description_en: body
            .description_en
            .and_then(|t| accept(&mut errors, "description_en", required_text(&t, 4000))),
        category: body
            .category
            .and_then(|c| accept(&mut errors, "category", parse_category(&c))),
        level: body
            .level
            .and_then(|l| accept(&mut errors, "level", parse_level(&l))),
        duration_minutes: body
            .duration_minutes
            .and_then(|m| accept(&mut errors, "duration_minutes", parse_duration_minutes(m.0))),
        updated_at: None,
    };
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}
