//! The caller's own profile.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app};

#[tokio::test]
async fn a_user_reads_their_own_profile() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let body: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], session.user_id.as_str());
    assert_eq!(body["role"], "resident");
    assert_eq!(body["quiet_hours"], Value::Null);
    assert_eq!(body["reminders_enabled"], true);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_user_changes_their_profile_and_null_clears_a_field() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({
                "display_name": "ยายมา", "locale": "en", "home_lat": 18.7883, "home_lon": 98.9853,
                "province": "เชียงใหม่", "quiet_hours": { "start": "20:30", "end": "06:00" }, "reminders_enabled": false
            }),
            Some(&session.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["display_name"], "ยายมา");
    assert_eq!(body["locale"], "en");
    assert_eq!(body["home_lat"], 18.7883);
    assert_eq!(body["province"], "เชียงใหม่");
    assert_eq!(
        body["quiet_hours"],
        json!({ "start": "20:30", "end": "06:00" })
    );
    assert_eq!(body["reminders_enabled"], false);

    // Only what is sent changes; null clears.
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "quiet_hours": null, "home_lat": null, "home_lon": null }),
            Some(&session.access),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["quiet_hours"], Value::Null);
    assert_eq!(body["home_lat"], Value::Null);
    assert_eq!(body["display_name"], "ยายมา");
    assert_eq!(body["province"], "เชียงใหม่");

    let stored: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored, body);
}

#[tokio::test]
async fn a_resident_cannot_make_themselves_admin() {
    let app = spawn_app().await;
    let session = app.resident().await;
    for body in [
        json!({ "role": "admin" }),
        json!({ "display_name": "X", "role": "admin" }),
        json!({ "id": "other" }),
    ] {
        let res = app
            .patch_json("/api/v1/me", &body, Some(&session.access))
            .await;
        let errors = field_errors(res).await;
        assert_eq!(errors[0].1, "unknown_field", "{body}");
    }
    let me: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "resident");
    assert_ne!(me["display_name"], "X");
}

#[tokio::test]
async fn out_of_range_and_malformed_profile_values_are_refused() {
    let app = spawn_app().await;
    let session = app.resident().await;
    let cases = [
        (
            json!({ "home_lat": 91.0, "home_lon": 100.0 }),
            "home_lat",
            "out_of_range",
        ),
        (
            json!({ "home_lat": 13.7, "home_lon": -180.5 }),
            "home_lon",
            "out_of_range",
        ),
        (json!({ "home_lat": 13.7 }), "home_lon", "required"),
        (
            json!({ "home_lat": "13.7", "home_lon": 100.5 }),
            "home_lat",
            "invalid_type",
        ),
        (
            json!({ "quiet_hours": { "start": "25:00", "end": "07:00" } }),
            "quiet_hours.start",
            "invalid_time",
        ),
        (
            json!({ "quiet_hours": { "start": "21:00" } }),
            "quiet_hours.end",
            "required",
        ),
        (json!({ "locale": "fr" }), "locale", "invalid_locale"),
        (json!({ "display_name": "" }), "display_name", "required"),
        (
            json!({ "display_name": "ก".repeat(101) }),
            "display_name",
            "invalid_display_name",
        ),
        (
            json!({ "province": "ก".repeat(101) }),
            "province",
            "too_long",
        ),
        (
            json!({ "reminders_enabled": "yes" }),
            "reminders_enabled",
            "invalid_type",
        ),
    ];
    for (body, field, code) in cases {
        let res = app
            .patch_json("/api/v1/me", &body, Some(&session.access))
            .await;
        assert_eq!(
            field_errors(res).await,
            vec![(field.to_string(), code.to_string())],
            "{body}"
        );
    }
    let me: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["home_lat"], Value::Null);
    assert_eq!(me["locale"], "th");
}

#[tokio::test]
async fn the_profile_needs_a_login() {
    let app = spawn_app().await;
    assert_eq!(
        problem_code(app.get("/api/v1/me", None).await).await,
        "missing_token"
    );
    let res = app
        .patch_json("/api/v1/me", &json!({ "display_name": "X" }), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
