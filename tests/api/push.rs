//! Devices, and what gets scheduled to be pushed when seats and sessions change.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, hours_from_now, problem_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn devices_register_idempotently_and_follow_the_last_user() {
    let app = spawn_app().await;
    let alice = app.resident().await;
    let bob = app.resident().await;
    let body =
        json!({ "token": "fcm-token:APA91b-alice_phone", "platform": "android", "locale": "th" });
    let first = app
        .post_json("/api/v1/me/devices", &body, Some(&alice.access))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = app
        .post_json("/api/v1/me/devices", &body, Some(&alice.access))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(app.count("devices").await, 1);

    // Bob logs in on Alice's old phone: the token is his now.
    let moved = app
        .post_json("/api/v1/me/devices", &body, Some(&bob.access))
        .await;
    assert_eq!(moved.status(), StatusCode::CREATED);
    assert_eq!(app.count("devices").await, 1);
    let path = "/api/v1/me/devices/fcm-token:APA91b-alice_phone";
    assert_eq!(
        problem_code(app.delete(path, Some(&alice.access)).await).await,
        "not_found"
    );
    assert_eq!(
        app.delete(path, Some(&bob.access)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count("devices").await, 0);

    for (bad, field) in [
        (json!({ "token": "", "platform": "android" }), "token"),
        (
            json!({ "token": "has spaces in it", "platform": "android" }),
            "token",
        ),
        (json!({ "token": "t", "platform": "symbian" }), "platform"),
        (
            json!({ "token": "t", "platform": "ios", "locale": "fr" }),
            "locale",
        ),
    ] {
        let res = app
            .post_json("/api/v1/me/devices", &bad, Some(&alice.access))
            .await;
        assert_eq!(field_errors(res).await[0].0, field, "{bad}");
    }
    assert_eq!(
        app.post_json("/api/v1/me/devices", &body, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_confirmed_seat_gets_reminders_at_each_offset_and_cancelling_stops_them() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let seated = app.resident().await;
    let waiting = app.resident().await;
    let enrolled: Value = app
        .enroll(&session, &seated.access)
        .await
        .json()
        .await
        .unwrap();
    app.enroll(&session, &waiting.access).await;

    let starts: Value = app
        .get(&format!("/api/v1/sessions/{session}"), None)
        .await
        .json()
        .await
        .unwrap();
    let starts_at = chrono::DateTime::parse_from_rfc3339(starts["starts_at"].as_str().unwrap())
        .unwrap()
        .naive_utc();
    let reminders = app.notifications_of(&seated.user_id).await;
    assert_eq!(
        reminders,
        vec![
            (
                "reminder".to_string(),
                "scheduled".to_string(),
                starts_at - chrono::Duration::hours(24)
            ),
            (
                "reminder".to_string(),
                "scheduled".to_string(),
                starts_at - chrono::Duration::hours(1)
            ),
        ]
    );
    assert!(
        app.notifications_of(&waiting.user_id).await.is_empty(),
        "no reminders while waitlisted"
    );

    // The seat is given up: its reminders are cancelled, and the next in line is told and
    // gets reminders of their own.
    app.delete(
        &format!(
            "/api/v1/me/enrollments/{}",
            enrolled["id"].as_str().unwrap()
        ),
        Some(&seated.access),
    )
    .await;
    assert!(app
        .notifications_of(&seated.user_id)
        .await
        .iter()
        .all(|(_, status, _)| status == "cancelled"));
    let kinds: Vec<String> = app.notification_kinds(&waiting.user_id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "waitlist_promoted").count(),
        1
    );
    assert_eq!(kinds.iter().filter(|k| *k == "reminder").count(), 2);
}

#[tokio::test]
async fn rescheduling_moves_reminders_and_cancelling_tells_everyone() {
    let app = spawn_app_with(&[("OCOD_REMINDER_OFFSETS", "2h")]).await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let seated = app.resident().await;
    let waiting = app.resident().await;
    app.enroll(&session, &seated.access).await;
    app.enroll(&session, &waiting.access).await;

    let new_start = hours_from_now(96);
    let res = app
        .patch_json(
            &format!("/api/v1/sessions/{session}"),
            &json!({ "starts_at": new_start, "ends_at": hours_from_now(98) }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_start = chrono::DateTime::parse_from_rfc3339(&new_start)
        .unwrap()
        .naive_utc();
    let seated_now = app.notifications_of(&seated.user_id).await;
    let live_reminders: Vec<_> = seated_now
        .iter()
        .filter(|(k, s, _)| k == "reminder" && s == "scheduled")
        .collect();
    assert_eq!(live_reminders.len(), 1);
    assert_eq!(live_reminders[0].2, new_start - chrono::Duration::hours(2));
    assert_eq!(
        seated_now
            .iter()
            .filter(|(k, s, _)| k == "reminder" && s == "cancelled")
            .count(),
        1
    );
    for person in [&seated, &waiting] {
        let kinds: Vec<String> = app.notification_kinds(&person.user_id).await;
        assert!(
            kinds.contains(&"session_rescheduled".to_string()),
            "{kinds:?}"
        );
    }

    app.post(
        &format!("/api/v1/sessions/{session}/cancel"),
        Some(&net.staff.access),
    )
    .await;
    let seated_now = app.notifications_of(&seated.user_id).await;
    assert_eq!(
        seated_now
            .iter()
            .filter(|(k, s, _)| k == "reminder" && s == "scheduled")
            .count(),
        0
    );
    for person in [&seated, &waiting] {
        let kinds: Vec<String> = app.notification_kinds(&person.user_id).await;
        assert!(
            kinds.contains(&"session_cancelled".to_string()),
            "{kinds:?}"
        );
    }
}

#[tokio::test]
async fn people_who_turned_reminders_off_get_none() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let quiet = app.resident().await;
    app.patch_json(
        "/api/v1/me",
        &json!({ "reminders_enabled": false }),
        Some(&quiet.access),
    )
    .await;
    app.enroll(&session, &quiet.access).await;
    assert!(app.notifications_of(&quiet.user_id).await.is_empty());
}
