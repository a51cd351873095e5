//! Concurrency, tested rather than assumed: no overbooking, no double enrollment, and a
//! waitlist that stays a proper queue while people cancel and enroll at the same time.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn two_hundred_people_racing_for_twenty_seats_never_overbook() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 20)
        .await;
    let people = app.many_residents(200).await;

    let answers =
        futures_util::future::join_all(people.iter().map(|p| app.enroll(&session, &p.access)))
            .await;
    let mut confirmed = 0;
    let mut positions = BTreeSet::new();
    for res in answers {
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        match body["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => {
                assert!(
                    positions.insert(body["waitlist_position"].as_i64().unwrap()),
                    "position given twice: {body}"
                );
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(confirmed, 20);
    assert_eq!(positions, (1..=180).collect::<BTreeSet<i64>>());
    let view: Value = app
        .get(&format!("/api/v1/sessions/{session}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (view["seats_left"].as_i64(), view["waitlist_count"].as_i64()),
        (Some(0), Some(180))
    );
    assert_eq!(app.seat_violations(&session).await, Vec::<String>::new());
}

#[tokio::test]
async fn one_person_tapping_enroll_many_times_at_once_is_enrolled_once() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let person = app.resident().await;
    let answers =
        futures_util::future::join_all((0..12).map(|_| app.enroll(&session, &person.access))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(app.seat_violations(&session).await, Vec::<String>::new());
}

#[tokio::test]
async fn cancels_and_enrolls_racing_keep_seats_and_queue_consistent() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let first_wave = app.many_residents(30).await;
    let mut enrollment_ids = Vec::new();
    for p in &first_wave {
        let body: Value = app.enroll(&session, &p.access).await.json().await.unwrap();
        enrollment_ids.push(body["id"].as_str().unwrap().to_string());
    }
    // Half of the seated and some of the waiting cancel while newcomers enroll.
    let second_wave = app.many_residents(30).await;
    let cancels = (0..30).step_by(2).map(|i| {
        let app = &app;
        let path = format!("/api/v1/me/enrollments/{}", enrollment_ids[i]);
        let token = first_wave[i].access.clone();
        async move { app.delete(&path, Some(&token)).await.status() }
    });
    let enrolls = second_wave.iter().map(|p| {
        let app = &app;
        let session = session.clone();
        async move { app.enroll(&session, &p.access).await.status() }
    });
    let (cancelled, enrolled) = tokio::join!(
        futures_util::future::join_all(cancels),
        futures_util::future::join_all(enrolls)
    );
    assert!(
        cancelled.iter().all(|s| *s == StatusCode::OK),
        "{cancelled:?}"
    );
    assert!(
        enrolled.iter().all(|s| *s == StatusCode::CREATED),
        "{enrolled:?}"
    );

    assert_eq!(app.seat_violations(&session).await, Vec::<String>::new());
    let view: Value = app
        .get(&format!("/api/v1/sessions/{session}"), None)
        .await
        .json()
        .await
        .unwrap();
    // 60 enrolled, 15 cancelled: 10 seated and 35 waiting.
    assert_eq!(
        (view["seats_left"].as_i64(), view["waitlist_count"].as_i64()),
        (Some(0), Some(35))
    );
    // The queue stayed first come, first served. The first wave enrolled one by one:
    // 0-9 seated, 10-29 waiting. Even ones cancelled, freeing five seats, which must have
    // gone to the earliest who still waited (11, 13, 15, 17, 19), ahead of every
    // newcomer; 21-29 wait at the front of the queue, in order.
    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{session}/enrollments?limit=100"),
            Some(&net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let lines = roster["items"].as_array().unwrap();
    let line_of = |i: usize| {
        lines
            .iter()
            .find(|l| l["user"]["id"] == first_wave[i].user_id.as_str())
            .cloned()
            .unwrap_or(Value::Null)
    };
    for i in [1, 3, 5, 7, 9, 11, 13, 15, 17, 19] {
        assert_eq!(line_of(i)["status"], "confirmed", "first-wave person {i}");
    }
    for (position, i) in [21, 23, 25, 27, 29].into_iter().enumerate() {
        assert_eq!(
            line_of(i)["waitlist_position"],
            position as i64 + 1,
            "first-wave person {i}"
        );
    }
    let positions: Vec<i64> = lines
        .iter()
        .filter_map(|l| l["waitlist_position"].as_i64())
        .collect();
    assert_eq!(positions, (1..=35).collect::<Vec<i64>>());
}

/// The control: the invariant check above does notice a broken session, so the tests
/// that rely on it could fail.
#[tokio::test]
async fn the_seat_check_catches_a_corrupted_session() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    for p in app.many_residents(3).await {
        app.enroll(&session, &p.access).await;
    }
    assert!(app.seat_violations(&session).await.is_empty());
    let pool = app.pool.clone();
    let id = session.clone();
    tokio::task::spawn_blocking(move || {
        // What a lost update would leave behind: a taken seat counted as free.
        pool.get()
            .unwrap()
            .batch_execute(&format!(
                "UPDATE course_sessions SET seats_taken = 1 WHERE id = '{id}'"
            ))
            .unwrap();
    })
    .await
    .unwrap();
    let problems = app.seat_violations(&session).await;
    assert_eq!(
        problems,
        vec!["seats_taken is 1 but 2 hold seats".to_string()]
    );

    // What a lost race would leave behind: the waiting person seated too (overbooking).
    let pool = app.pool.clone();
    let id = session.clone();
    tokio::task::spawn_blocking(move || {
        pool.get()
            .unwrap()
            .batch_execute(&format!(
                "UPDATE course_sessions SET seats_taken = 2 WHERE id = '{id}';
                 UPDATE enrollments SET status = 'confirmed' WHERE session_id = '{id}' AND status = 'waitlisted';"
            ))
            .unwrap();
    })
    .await
    .unwrap();
    let problems = app.seat_violations(&session).await;
    assert!(
        problems.contains(&"3 seated in 2 seats".to_string()),
        "{problems:?}"
    );
}
