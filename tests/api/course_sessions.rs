//! Scheduling sessions: validation, rescheduling, resizing, cancelling, browsing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, hours_from_now, problem_code, spawn_app};

#[tokio::test]
async fn staff_schedule_sessions_that_residents_can_browse() {
    let app = spawn_app().await;
    let net = app.network().await;
    let res = app
        .post_json(
            &format!("/api/v1/centers/{}/sessions", net.center_id),
            &json!({ "course_id": net.course_id, "starts_at": "2030-01-15T09:00:00+07:00", "ends_at": "2030-01-15T12:00:00+07:00",
                     "capacity": 20, "instructor": "ครูสมใจ", "room": "ห้อง 1" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["starts_at"], "2030-01-15T02:00:00Z");
    assert_eq!(session["seats_left"], 20);
    assert_eq!(session["waitlist_count"], 0);
    assert_eq!(session["status"], "scheduled");
    assert_eq!(session["course"]["title_en"], "Online safety");
    assert_eq!(session["center"]["id"], net.center_id.as_str());
    let id = session["id"].as_str().unwrap();
    let got: Value = app
        .get(&format!("/api/v1/sessions/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, session);

    let other = app
        .session(
            &net.other_staff.access,
            &net.other_center_id,
            &net.course_id,
            5,
        )
        .await;
    let list = |q: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/sessions?{q}"), None)
                .await
                .json::<Value>()
                .await
                .unwrap()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(list(String::new()).await, 2);
    assert_eq!(list(format!("center_id={}", net.center_id)).await, 1);
    assert_eq!(list(format!("course_id={}", net.course_id)).await, 2);
    assert_eq!(
        list("to=2029-01-01T00:00:00Z".into()).await,
        1,
        "only the one in two days"
    );
    assert_eq!(list("from=2029-01-01T00:00:00%2B07:00".into()).await, 1);
    assert_eq!(
        list("from=2029-01-01T00:00:00+07:00".into()).await,
        1,
        "an unencoded + still works"
    );
    assert_eq!(list("lat=18.8053&lon=98.9503&radius_km=1".into()).await, 1);
    assert_eq!(list("lat=13.75&lon=100.5&radius_km=50".into()).await, 0);
    assert_eq!(
        list(format!(
            "center_id={}&lat=18.8053&lon=98.9503&radius_km=1",
            net.center_id
        ))
        .await,
        0
    );
    let _ = other;
}

#[tokio::test]
async fn session_times_and_sizes_are_validated() {
    let app = spawn_app().await;
    let net = app.network().await;
    let path = format!("/api/v1/centers/{}/sessions", net.center_id);
    let cases = [
        (
            json!({ "course_id": net.course_id, "starts_at": hours_from_now(-1), "ends_at": hours_from_now(1), "capacity": 5 }),
            "starts_at",
            "must_be_in_future",
        ),
        (
            json!({ "course_id": net.course_id, "starts_at": hours_from_now(5), "ends_at": hours_from_now(4), "capacity": 5 }),
            "ends_at",
            "ends_before_start",
        ),
        (
            json!({ "course_id": net.course_id, "starts_at": "2030-01-15 09:00", "ends_at": hours_from_now(4), "capacity": 5 }),
            "starts_at",
            "invalid_timestamp",
        ),
        (
            json!({ "course_id": net.course_id, "starts_at": "2030-01-15T09:00:00", "ends_at": hours_from_now(4), "capacity": 5 }),
            "starts_at",
            "invalid_timestamp",
        ),
        (
            json!({ "course_id": net.course_id, "starts_at": hours_from_now(4), "ends_at": hours_from_now(5), "capacity": 0 }),
            "capacity",
            "out_of_range",
        ),
        (
            json!({ "course_id": net.course_id, "starts_at": hours_from_now(4), "ends_at": hours_from_now(5), "capacity": 100000 }),
            "capacity",
            "out_of_range",
        ),
        (
            json!({ "course_id": "nope", "starts_at": hours_from_now(4), "ends_at": hours_from_now(5), "capacity": 5 }),
            "course_id",
            "unknown_course",
        ),
    ];
    for (body, field, code) in cases {
        let res = app.post_json(&path, &body, Some(&net.staff.access)).await;
        assert_eq!(
            field_errors(res).await,
            vec![(field.to_string(), code.to_string())],
            "{body}"
        );
    }
    let res = app
        .post_json("/api/v1/centers/nope/sessions", &json!({ "course_id": net.course_id, "starts_at": hours_from_now(4), "ends_at": hours_from_now(5), "capacity": 5 }), Some(&net.admin.access))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Centers still being built host nothing yet.
    app.patch_json(
        &format!("/api/v1/centers/{}", net.center_id),
        &json!({ "status": "under_construction" }),
        Some(&net.admin.access),
    )
    .await;
    let res = app
        .post_json(&path, &json!({ "course_id": net.course_id, "starts_at": hours_from_now(4), "ends_at": hours_from_now(5), "capacity": 5 }), Some(&net.staff.access))
        .await;
    assert_eq!(problem_code(res).await, "center_not_active");
    for query in [
        "from=yesterday",
        "to=2030-01-01",
        "from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z",
        "status=done",
        "limit=500",
        "cursor=abc",
    ] {
        let res = app.get(&format!("/api/v1/sessions?{query}"), None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[tokio::test]
async fn rescheduling_and_resizing_keep_the_seats_straight() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let people = app.many_residents(4).await;
    for p in &people {
        assert_eq!(
            app.enroll(&session, &p.access).await.status(),
            StatusCode::CREATED
        );
    }
    let path = format!("/api/v1/sessions/{session}");
    let res = app
        .patch_json(&path, &json!({ "capacity": 1 }), Some(&net.staff.access))
        .await;
    assert_eq!(problem_code(res).await, "capacity_below_seats_taken");

    // Three seats: the first on the waitlist is promoted at once.
    let res = app.patch_json(&path, &json!({ "capacity": 3, "room": "ห้องใหญ่", "starts_at": hours_from_now(72), "ends_at": hours_from_now(75) }), Some(&net.staff.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["capacity"].as_i64(),
            body["seats_left"].as_i64(),
            body["waitlist_count"].as_i64()
        ),
        (Some(3), Some(0), Some(1))
    );
    assert_eq!(body["room"], "ห้องใหญ่");
    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&people[2].access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["status"], "confirmed");
    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&people[3].access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["waitlist_position"], 1);
    assert!(app.seat_violations(&session).await.is_empty());

    let res = app
        .patch_json(
            &path,
            &json!({ "ends_at": hours_from_now(71) }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("ends_at".into(), "ends_before_start".into())]
    );
    let res = app
        .patch_json(&path, &json!({ "room": null }), Some(&net.staff.access))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["room"], Value::Null);
}

#[tokio::test]
async fn a_cancelled_session_takes_no_enrollments_and_no_changes() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(
        problem_code(app.enroll(&session, &resident.access).await).await,
        "session_not_open"
    );
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "session_not_scheduled");
    let res = app
        .patch_json(
            &format!("/api/v1/sessions/{session}"),
            &json!({ "capacity": 9 }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "session_not_scheduled");
}

#[tokio::test]
async fn a_session_that_has_ended_shows_as_completed() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let net = app.network().await;
    let past = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let future = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let pool = app.pool.clone();
    let id = past.clone();
    tokio::task::spawn_blocking(move || {
        pool.get()
            .unwrap()
            .batch_execute(&format!("UPDATE course_sessions SET starts_at = '2020-01-01 02:00:00', ends_at = '2020-01-01 04:00:00' WHERE id = '{id}'"))
            .unwrap();
    })
    .await
    .unwrap();
    let got: Value = app
        .get(&format!("/api/v1/sessions/{past}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "completed");
    let ids = |q: &'static str| {
        let app = &app;
        async move {
            let page: Value = app
                .get(
                    &format!("/api/v1/sessions?from=2000-01-01T00:00:00Z&{q}"),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("status=completed").await, vec![past.clone()]);
    assert_eq!(ids("status=scheduled").await, vec![future.clone()]);
    let resident = app.resident().await;
    assert_eq!(
        problem_code(app.enroll(&past, &resident.access).await).await,
        "session_started"
    );
}
