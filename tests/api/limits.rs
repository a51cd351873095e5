//! Per-person limits: seats held, waitlist places and broadcasts a day, each refused with
//! a clear problem and nothing stored.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{hours_from_now, problem_code, spawn_app_with, Network, TestApp};

const LIMITS: &[(&str, &str)] = &[
    ("OCOD_MAX_UPCOMING_ENROLLMENTS", "3"),
    ("OCOD_MAX_WAITLISTED", "2"),
    ("OCOD_MAX_BROADCASTS_PER_DAY", "2"),
];

async fn sessions(app: &TestApp, net: &Network, n: usize, capacity: i64) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            app.session(&net.staff.access, &net.center_id, &net.course_id, capacity)
                .await,
        );
    }
    ids
}

#[tokio::test]
async fn a_resident_holds_at_most_the_upcoming_seat_limit_and_a_cancel_frees_one() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    let open = sessions(&app, &net, 5, 10).await;
    let resident = app.resident().await;
    let mut seats = Vec::new();
    for id in &open[..3] {
        let res = app.enroll(id, &resident.access).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        seats.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let before = app.count("enrollments").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{}/enrollments", open[3])))
        .bearer_auth(&resident.access)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "enrollment_limit_reached");
    assert!(problem["detail"].as_str().unwrap().contains("cancel one"));
    assert_eq!(
        app.count("enrollments").await,
        before,
        "a refusal stores nothing"
    );
    let session: Value = app
        .get(&format!("/api/v1/sessions/{}", open[3]), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["seats_left"], 10);

    // Giving a seat back makes room for another.
    let res = app
        .delete(
            &format!("/api/v1/me/enrollments/{}", seats[0]),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.enroll(&open[3], &resident.access).await.status(),
        StatusCode::CREATED
    );
    // Another resident is not affected by this one's seats.
    let other = app.resident().await;
    assert_eq!(
        app.enroll(&open[4], &other.access).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_resident_waits_on_at_most_the_waitlist_limit() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    let full = sessions(&app, &net, 3, 1).await;
    let seated = app.resident().await;
    let waiting = app.resident().await;
    for id in &full {
        assert_eq!(
            app.enroll(id, &seated.access).await.status(),
            StatusCode::CREATED
        );
    }
    for id in &full[..2] {
        let res = app.enroll(id, &waiting.access).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
    }
    let res = app.enroll(&full[2], &waiting.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "waitlist_limit_reached");
    // Seats still count separately from waitlist places.
    let open = sessions(&app, &net, 1, 5).await;
    assert_eq!(
        app.enroll(&open[0], &waiting.access).await.status(),
        StatusCode::CREATED
    );
}

/// Eight enrollments of one resident at once, in eight sessions, with a limit of three:
/// the count and the insert happen under the person's lock, so exactly three get seats.
#[tokio::test]
async fn simultaneous_enrollments_cannot_slip_past_the_limit() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    let open = sessions(&app, &net, 8, 10).await;
    let resident = app.resident().await;
    let tries = open.iter().map(|id| {
        let (app, token) = (&app, resident.access.clone());
        async move { app.enroll(id, &token).await.status() }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, refused), (3, 5), "{statuses:?}");
    assert_eq!(app.count("enrollments").await, 3);
}

/// What a session's staff do to it is what its seats and places count: a cancelled
/// session's seat stops counting at once; a session moved later still counts.
#[tokio::test]
async fn a_cancelled_session_stops_counting_and_a_moved_one_still_counts() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    let open = sessions(&app, &net, 4, 10).await;
    let resident = app.resident().await;
    for id in &open[..3] {
        assert_eq!(
            app.enroll(id, &resident.access).await.status(),
            StatusCode::CREATED
        );
    }
    let moved = app
        .patch_json(
            &format!("/api/v1/sessions/{}", open[1]),
            &json!({ "starts_at": hours_from_now(96), "ends_at": hours_from_now(98) }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let res = app.enroll(&open[3], &resident.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_limit_reached");
    let cancelled = app
        .post(
            &format!("/api/v1/sessions/{}/cancel", open[0]),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        app.enroll(&open[3], &resident.access).await.status(),
        StatusCode::CREATED
    );
}

/// A seat counts until its session ends, a waitlist place until it starts, and a place
/// that became a seat counts as a seat: seen across a session's start, a few seconds
/// after it is made.
#[tokio::test]
async fn a_seat_counts_until_its_session_ends_and_a_place_until_it_starts() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    // Whole seconds, as the session is stored: it starts 5 to 6 s from now, time enough
    // for what comes before on a busy machine.
    let now = chrono::Utc::now();
    let soon = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()))
        + chrono::Duration::seconds(6);
    let later = now + chrono::Duration::hours(2);
    let starting = || {
        app.session_at(
            &net.staff.access,
            &net.center_id,
            &net.course_id,
            1,
            soon,
            later,
        )
    };
    let (first, second) = (starting().await, starting().await);
    let open = sessions(&app, &net, 3, 10).await;
    let full = sessions(&app, &net, 2, 1).await;
    let (seated, resident) = (app.resident().await, app.resident().await);
    let other = app.resident().await;
    for id in &full {
        assert_eq!(
            app.enroll(id, &seated.access).await.status(),
            StatusCode::CREATED
        );
    }
    // The resident waits on `first` and on one full session: the waitlist limit (2).
    app.enroll(&first, &other.access).await;
    let res = app.enroll(&first, &resident.access).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
    // A seat in `second` that was a waitlist place.
    app.give_up_seat_to(&second, &other, &resident).await;
    let res = app.enroll(&full[0], &resident.access).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
    // Two more seats: the seat limit (3).
    for id in &open[..2] {
        assert_eq!(
            app.enroll(id, &resident.access).await.status(),
            StatusCode::CREATED
        );
    }
    let res = app.enroll(&full[1], &resident.access).await;
    assert_eq!(problem_code(res).await, "waitlist_limit_reached");

    let wait = soon - chrono::Utc::now() + chrono::Duration::milliseconds(500);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    // `first` started: the place in it no longer counts, so another may be taken.
    let res = app.enroll(&full[1], &resident.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
    // `second` started but has not ended: its seat, once a place, still counts.
    let res = app.enroll(&open[2], &resident.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_limit_reached");
}

/// A session moved to start sooner takes its waitlist places' count with it: once it
/// has started at its new time, a place in it no longer counts.
#[tokio::test]
async fn a_place_in_a_session_moved_sooner_stops_counting_at_the_new_start() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    let full = sessions(&app, &net, 3, 1).await;
    let (seated, resident) = (app.resident().await, app.resident().await);
    for id in &full {
        assert_eq!(
            app.enroll(id, &seated.access).await.status(),
            StatusCode::CREATED
        );
    }
    for id in &full[..2] {
        let res = app.enroll(id, &resident.access).await;
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
    }
    // Whole seconds, as stored: the new start is 5 to 6 s from now.
    let now = chrono::Utc::now();
    let soon = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()))
        + chrono::Duration::seconds(6);
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let moved = app
        .patch_json(
            &format!("/api/v1/sessions/{}", full[0]),
            &json!({ "starts_at": at(soon), "ends_at": at(soon + chrono::Duration::hours(2)) }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let res = app.enroll(&full[2], &resident.access).await;
    assert_eq!(problem_code(res).await, "waitlist_limit_reached");
    let wait = soon - chrono::Utc::now() + chrono::Duration::milliseconds(500);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    let res = app.enroll(&full[2], &resident.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "waitlisted");
}

fn broadcast() -> Value {
    json!({
        "audience": { "kind": "all" },
        "title": { "th": "ประกาศ", "en": "Notice" },
        "body": { "th": "ศูนย์ปิดวันหยุด", "en": "The center is closed on the holiday." }
    })
}

#[tokio::test]
async fn a_sender_creates_at_most_the_daily_broadcast_limit() {
    let app = spawn_app_with(LIMITS).await;
    let net = app.network().await;
    for _ in 0..2 {
        let res = app
            .post_json(
                "/api/v1/admin/broadcasts",
                &broadcast(),
                Some(&net.admin.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &broadcast(),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = crate::helpers::retry_after(&res);
    assert!(
        (86_000..=86_400).contains(&retry_after),
        "the first broadcast leaves the 24-hour window in about a day, not {retry_after}s"
    );
    assert_eq!(problem_code(res).await, "broadcast_limit_reached");
    assert_eq!(app.count("broadcasts").await, 2, "a refusal stores nothing");

    // The limit is per sender: another admin may still broadcast.
    let other_admin = app.user_with_role("admin").await;
    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &broadcast(),
            Some(&other_admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn sign_up(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .json(&json!({
            "phone": crate::helpers::unique_phone(),
            "password": "password-123",
            "display_name": "ผู้สมัคร",
        }));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn one_address_creates_at_most_the_hourly_sign_up_limit_and_may_still_log_in() {
    let app = spawn_app_with(&[("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", "3")]).await;
    let mut created = Vec::new();
    for _ in 0..3 {
        let res = sign_up(&app, None).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        created.push(res);
    }
    let res = sign_up(&app, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = crate::helpers::retry_after(&res);
    assert!(
        (3500..=3600).contains(&wait),
        "until the first sign-up is an hour old: {wait}"
    );
    assert_eq!(problem_code(res).await, "too_many_signups");
    // Without trusted proxies, X-Forwarded-For is the client's own claim: not believed.
    let res = sign_up(&app, Some("203.0.113.99")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Logging in is not signing up.
    let staff = app.user_with_role("staff").await;
    assert!(!staff.access.is_empty());
    assert_eq!(app.count("users").await, 4);

    // 0 switches the limit off.
    let open = spawn_app_with(&[("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", "0")]).await;
    for _ in 0..5 {
        assert_eq!(sign_up(&open, None).await.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = spawn_app_with(&[
        ("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", "2"),
        ("OCOD_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(
            sign_up(&app, Some("203.0.113.5")).await.status(),
            StatusCode::CREATED
        );
    }
    assert_eq!(
        sign_up(&app, Some("203.0.113.5")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client prepending a made-up address is still counted as itself.
    assert_eq!(
        sign_up(&app, Some("198.51.100.1, 203.0.113.5"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Through two of our proxies, another client is another count.
    assert_eq!(
        sign_up(&app, Some("203.0.113.6, 10.1.2.3")).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn simultaneous_sign_ups_cannot_slip_past_the_limit() {
    let app = spawn_app_with(&[("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", "3")]).await;
    let attempts = (0..12).map(|_| sign_up(&app, None));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert!(
        created <= 3,
        "{created} accounts from one address: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(app.count("users").await as usize, created);
}

/// Password hashes are bounded: with one hasher and no queue, a storm of logins and
/// sign-ups gets 503 `server_busy` with `Retry-After` for what cannot start at once,
/// never a 500, and nothing is half-made; once the storm has passed all goes through.
#[tokio::test]
async fn a_storm_of_password_checks_beyond_the_hashers_is_turned_away_with_retry_after() {
    let app = spawn_app_with(&[("OCOD_PASSWORD_HASHERS", "1"), ("OCOD_PASSWORD_QUEUE", "0")]).await;
    let phone = crate::helpers::unique_phone();
    let res = app
        .register(json!({ "phone": phone, "password": "password-123", "display_name": "สมศรี" }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let users_before = app.count("users").await;
    // Unknown logins, each its own (none is locked out, each costs a hash), and three
    // wrong passwords for the account (5 failures lock it).
    let mut logins: Vec<String> = (0..12).map(|_| crate::helpers::unique_phone()).collect();
    logins.extend([phone.clone(), phone.clone(), phone.clone()]);
    let attempts = logins
        .iter()
        .map(|login| app.login(login, "wrong password, long enough"));
    let sign_ups = (0..12).map(|_| sign_up(&app, None));
    let (attempts, sign_ups) = futures_util::future::join(
        futures_util::future::join_all(attempts),
        futures_util::future::join_all(sign_ups),
    )
    .await;
    let (mut busy, mut created, mut own_failures) = (0, 0, 0);
    let answers = logins.iter().map(Some).chain(std::iter::repeat(None));
    for (res, login) in attempts.into_iter().chain(sign_ups).zip(answers) {
        let status = res.status();
        match status {
            StatusCode::UNAUTHORIZED => own_failures += usize::from(login == Some(&phone)),
            StatusCode::CREATED => created += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                let wait = crate::helpers::retry_after(&res);
                assert!((1..=60).contains(&wait), "{wait}");
                assert_eq!(res.headers()["content-type"], "application/problem+json");
                assert_eq!(problem_code(res).await, "server_busy");
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert!(busy > 0, "27 hashes at once on one hasher with no queue");
    assert_eq!(app.count("users").await, users_before + created);

    // One at a time, every one is served. A login turned away as busy was no attempt:
    // four failures and the right password make five attempts, under the lock-out.
    for _ in own_failures..4 {
        let res = app.login(&phone, "wrong password, long enough").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..3 {
        assert_eq!(sign_up(&app, None).await.status(), StatusCode::CREATED);
    }
    let res = app.login(&phone, "password-123").await;
    assert_eq!(res.status(), StatusCode::OK);
}
