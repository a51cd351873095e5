//! The attendance loop: tickets and check-in by code, "still coming?", calendars and
//! certificates, as residents and staff use them over HTTP.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app, Network, SignedIn, TestApp};

const TICKET: &str = r"^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{4}$";

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

/// Enrolls `who` and returns the enrollment.
async fn seat(app: &TestApp, session: &str, who: &SignedIn) -> Value {
    let res = app.enroll(session, &who.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json_of(res).await
}

async fn ticket(app: &TestApp, enrollment: &Value, who: &SignedIn) -> reqwest::Response {
    app.get(
        &format!(
            "/api/v1/me/enrollments/{}/ticket",
            enrollment["id"].as_str().unwrap()
        ),
        Some(&who.access),
    )
    .await
}

async fn ticket_code(app: &TestApp, enrollment: &Value, who: &SignedIn) -> String {
    let res = ticket(app, enrollment, who).await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await["code"].as_str().unwrap().to_string()
}

async fn check_in(app: &TestApp, code: &str, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/checkins", &json!({ "code": code }), Some(token))
        .await
}

/// Moves a session (by SQL, as time passing would) to start `hours` from now, for 2 hours.
async fn move_session(app: &TestApp, session: &str, hours: i64) {
    use ocod::schema::course_sessions::dsl as s;
    let (pool, session) = (app.pool.clone(), session.to_string());
    tokio::task::spawn_blocking(move || {
        let start = ocod::db::now() + chrono::Duration::hours(hours);
        diesel::update(s::course_sessions.find(session))
            .set((
                s::starts_at.eq(start),
                s::ends_at.eq(start + chrono::Duration::hours(2)),
            ))
            .execute(&mut pool.get().unwrap())
            .unwrap();
    })
    .await
    .unwrap();
}

async fn audit_count(app: &TestApp, action: &'static str) -> i64 {
    use ocod::schema::audit_log::dsl as a;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        a::audit_log
            .filter(a::action.eq(action))
            .count()
            .get_result(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap()
}

async fn soon_session(app: &TestApp, net: &Network, capacity: i64) -> String {
    app.session_in(
        &net.staff.access,
        &net.center_id,
        &net.course_id,
        capacity,
        1,
    )
    .await
}

#[tokio::test]
async fn tickets_are_short_unambiguous_unique_and_one_per_seat() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = soon_session(&app, &net, 40).await;
    let people = app.many_residents(41).await;
    let pattern = regex::Regex::new(TICKET).unwrap();
    let mut codes = HashSet::new();
    let mut seats = Vec::new();
    for person in &people[..40] {
        let enrollment = seat(&app, &session, person).await;
        let res = ticket(&app, &enrollment, person).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = json_of(res).await;
        let code = body["code"].as_str().unwrap().to_string();
        assert!(pattern.is_match(&code) && code.len() <= 10, "{code}");
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        let svg = body["qr_svg"].as_str().unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(codes.insert(code), "a code given twice");
        seats.push(enrollment);
    }
    // The same seat keeps its code.
    let again = ticket_code(&app, &seats[0], &people[0]).await;
    assert!(codes.contains(&again));
    assert_eq!(again, ticket_code(&app, &seats[0], &people[0]).await);
    // Someone else's seat is not found; a waitlist place has no ticket yet.
    assert_eq!(
        ticket(&app, &seats[0], &people[1]).await.status(),
        StatusCode::NOT_FOUND
    );
    let waiting = seat(&app, &session, &people[40]).await;
    assert_eq!(waiting["status"], "waitlisted");
    let res = ticket(&app, &waiting, &people[40]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_waitlisted");
}

#[tokio::test]
async fn staff_check_people_in_by_code_within_the_session_s_hours() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let session = soon_session(&app, &net, 5).await;
    let enrollment = seat(&app, &session, &resident).await;
    let code = ticket_code(&app, &enrollment, &resident).await;

    // Residents and another center's staff may not; a malformed code is a field error,
    // a well-formed unknown one is not found.
    for token in [&resident.access, &net.other_staff.access] {
        assert_eq!(
            check_in(&app, &code, token).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let res = check_in(&app, "ABC", &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        field_errors(res).await,
        vec![("code".to_string(), "invalid_value".to_string())]
    );
    let padded = format!("{code}{}", " ".repeat(40));
    let res = check_in(&app, &padded, &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "over 40 characters");
    let res = check_in(&app, "22222-2222", &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Typed in lower case without the hyphen, it checks the person in; the answer is
    // their roster line.
    let typed = code.replace('-', " ").to_lowercase();
    let res = check_in(&app, &typed, &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let line = json_of(res).await;
    assert_eq!(line["id"], enrollment["id"]);
    assert_eq!(line["status"], "attended");
    assert_eq!(line["user"]["id"], resident.user_id.as_str());
    assert!(line["user"]["display_name"].is_string());
    // Scanned again, by another desk or an admin: the same answer, nothing recorded twice.
    for token in [&net.staff.access, &net.admin.access] {
        let res = check_in(&app, &code, token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(json_of(res).await, line);
    }
    assert_eq!(audit_count(&app, "checked_in").await, 1);
    let roster = json_of(
        app.get(
            &format!("/api/v1/sessions/{session}/enrollments"),
            Some(&net.staff.access),
        )
        .await,
    )
    .await;
    assert_eq!(roster["items"][0]["status"], "attended");
    // After the session, a used code still answers; a new one cannot check in.
    move_session(&app, &session, -5).await;
    assert_eq!(
        check_in(&app, &code, &net.staff.access).await.status(),
        StatusCode::OK
    );

    // Too early: check-in opens two hours before the start.
    let later = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let early = seat(&app, &later, &resident).await;
    let early_code = ticket_code(&app, &early, &resident).await;
    let res = check_in(&app, &early_code, &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "checkin_not_open");
    move_session(&app, &later, 2).await;
    assert_eq!(
        check_in(&app, &early_code, &net.admin.access)
            .await
            .status(),
        StatusCode::OK
    );

    // Marked absent too early, a person who turns up after all is checked in.
    let late = app.resident().await;
    let marked = seat(&app, &soon_session(&app, &net, 5).await, &late).await;
    let res = app
        .patch_json(
            &format!("/api/v1/enrollments/{}", marked["id"].as_str().unwrap()),
            &json!({ "status": "no_show" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let late_code = ticket_code(&app, &marked, &late).await;
    let res = check_in(&app, &late_code, &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["status"], "attended");

    // Too late: once the session has ended, attendance is corrected in the roster.
    let other = app.resident().await;
    let closed = soon_session(&app, &net, 5).await;
    let missed = seat(&app, &closed, &other).await;
    let missed_code = ticket_code(&app, &missed, &other).await;
    move_session(&app, &closed, -3).await;
    let res = check_in(&app, &missed_code, &net.staff.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "checkin_closed");
    assert_eq!(audit_count(&app, "checked_in").await, 3);
}

#[tokio::test]
async fn two_desks_checking_in_the_same_ticket_at_once_record_one_attendance() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let session = soon_session(&app, &net, 5).await;
    let enrollment = seat(&app, &session, &resident).await;
    let code = ticket_code(&app, &enrollment, &resident).await;
    let tries = (0..12).map(|i| {
        let token = if i % 2 == 0 {
            net.staff.access.clone()
        } else {
            net.admin.access.clone()
        };
        let (app, code) = (&app, code.clone());
        async move {
            let res = check_in(app, &code, &token).await;
            (res.status(), json_of(res).await)
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "attended");
        assert_eq!(body, &answers[0].1);
    }
    assert_eq!(audit_count(&app, "checked_in").await, 1);
    assert_eq!(app.count("certificates").await, 1);
}

#[tokio::test]
async fn the_first_reminder_asks_and_the_person_confirms_or_releases() {
    let app = spawn_app().await;
    let net = app.network().await;
    let (coming, waiting) = (app.resident().await, app.resident().await);
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let held = seat(&app, &session, &coming).await;
    let queued = seat(&app, &session, &waiting).await;
    assert_eq!(queued["status"], "waitlisted");

    // Only the first reminder (the earliest to go out) carries the question.
    let datas = reminder_data(&app, &coming.user_id).await;
    assert!(datas.len() >= 2, "{datas:?}");
    assert_eq!(datas[0]["actions"], "confirm,release");
    assert!(
        datas[1..].iter().all(|d| d.get("actions").is_none()),
        "{datas:?}"
    );

    let confirm = |e: &Value| {
        format!(
            "/api/v1/me/enrollments/{}/confirm",
            e["id"].as_str().unwrap()
        )
    };
    let release = |e: &Value| {
        format!(
            "/api/v1/me/enrollments/{}/release",
            e["id"].as_str().unwrap()
        )
    };
    let res = app.post(&confirm(&held), Some(&coming.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let first = json_of(res).await;
    let confirmed_at = first["confirmed_at"].as_str().unwrap().to_string();
    let again = json_of(app.post(&confirm(&held), Some(&coming.access)).await).await;
    assert_eq!(again["confirmed_at"], confirmed_at.as_str());
    let res = app.post(&confirm(&queued), Some(&waiting.access)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_waitlisted");

    // The roster (JSON and CSV) shows who confirmed.
    let roster_path = format!("/api/v1/sessions/{session}/enrollments");
    let roster = json_of(app.get(&roster_path, Some(&net.staff.access)).await).await;
    assert_eq!(roster["items"][0]["confirmed_at"], confirmed_at.as_str());
    assert_eq!(roster["items"][1]["confirmed_at"], Value::Null);
    let csv = app
        .client
        .get(app.url(&roster_path))
        .bearer_auth(&net.staff.access)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.ends_with(",confirmed_at"), "{header}");
    assert!(csv.contains(&confirmed_at), "{csv}");

    // "I cannot come": the seat goes to the waitlist, as a cancellation does.
    let res = app.post(&release(&held), Some(&coming.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["status"], "cancelled");
    let roster = json_of(app.get(&roster_path, Some(&net.staff.access)).await).await;
    assert_eq!(roster["items"].as_array().unwrap().len(), 1);
    assert_eq!(roster["items"][0]["id"], queued["id"]);
    assert_eq!(roster["items"][0]["status"], "confirmed");
    let res = app.post(&release(&held), Some(&coming.access)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_cancelled");
    let res = app.post(&confirm(&held), Some(&coming.access)).await;
    assert_eq!(problem_code(res).await, "enrollment_cancelled");
}

/// The `data` of the person's reminders, earliest due first.
async fn reminder_data(app: &TestApp, user_id: &str) -> Vec<Value> {
    use ocod::schema::notifications::dsl as n;
    let (pool, user_id) = (app.pool.clone(), user_id.to_string());
    tokio::task::spawn_blocking(move || {
        n::notifications
            .filter(n::user_id.eq(user_id))
            .filter(n::kind.eq("reminder"))
            .order(n::due_at.asc())
            .select(n::data)
            .load::<String>(&mut pool.get().unwrap())
            .unwrap()
            .into_iter()
            .map(|d| serde_json::from_str(&d).unwrap())
            .collect()
    })
    .await
    .unwrap()
}

async fn certificates_of(app: &TestApp, who: &SignedIn) -> Value {
    json_of(app.get("/api/v1/me/certificates", Some(&who.access)).await).await
}

fn utc_of(start: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match start {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t,
        other => panic!("not a UTC time: {other:?}"),
    }
}

/// Parses a calendar with a real parser, after checking the lines are as RFC 5545 asks.
fn events(body: &str) -> Vec<icalendar::Event> {
    assert!(body.ends_with("\r\n"));
    for line in body.split_terminator("\r\n") {
        assert!(!line.contains('\n'), "a bare LF in {line:?}");
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let calendar: icalendar::Calendar = body.parse().expect("parses");
    calendar
        .components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

async fn get_text(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String, String) {
    let res = app.get(path, token).await;
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

fn rfc3339(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn calendars_carry_the_session_and_the_feed_follows_changes_until_revoked() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let first = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let second = app
        .session_in(&net.staff.access, &net.center_id, &net.course_id, 5, 72)
        .await;
    let enrollment = seat(&app, &first, &resident).await;
    seat(&app, &second, &resident).await;
    let session = json_of(app.get(&format!("/api/v1/sessions/{first}"), None).await).await;

    let (status, kind, body) = get_text(
        &app,
        &format!(
            "/api/v1/me/enrollments/{}/calendar.ics",
            enrollment["id"].as_str().unwrap()
        ),
        Some(&resident.access),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/calendar"), "{kind}");
    let found = events(&body);
    assert_eq!(found.len(), 1);
    let event = &found[0];
    assert_eq!(utc_of(event.get_start()), rfc3339(&session["starts_at"]));
    assert_eq!(utc_of(event.get_end()), rfc3339(&session["ends_at"]));
    assert!(event.get_uid().is_some() && event.get_timestamp().is_some());
    assert_eq!(event.get_summary(), Some("รู้ทันภัยออนไลน์"));
    let location = event.get_location().unwrap();
    for part in ["ศูนย์ดิจิทัลชุมชน CDC-T-0001", "เมืองเชียงใหม่", "เชียงใหม่"]
    {
        assert!(location.contains(part), "{location}");
    }
    assert_eq!(event.property_value("STATUS"), Some("CONFIRMED"));

    // The feed: both seats; a cancelled session stays, marked cancelled.
    let res = app
        .post("/api/v1/me/calendar-feed", Some(&resident.access))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let url = json_of(res).await["url"].as_str().unwrap().to_string();
    let path = url
        .split_once("/calendar/")
        .map(|(_, t)| format!("/calendar/{t}"))
        .unwrap();
    assert!(path.ends_with(".ics"), "{url}");
    let (status, _, body) = get_text(&app, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events(&body).len(), 2);
    assert_eq!(
        app.post(
            &format!("/api/v1/sessions/{second}/cancel"),
            Some(&net.staff.access)
        )
        .await
        .status(),
        StatusCode::OK
    );
    let (_, _, body) = get_text(&app, &path, None).await;
    let statuses: Vec<_> = events(&body)
        .iter()
        .map(|e| e.property_value("STATUS").unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["CONFIRMED", "CANCELLED"]);

    // In English for a person who reads English.
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "locale": "en" }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, _, body) = get_text(&app, &path, None).await;
    let english = events(&body);
    assert_eq!(english[0].get_summary(), Some("Online safety"));
    assert!(
        english[0].get_location().unwrap().contains("Chiang Mai"),
        "{body}"
    );

    // Seats that ended in the last 30 days stay (calendars keep recent history); older
    // ones leave the feed.
    move_session(&app, &first, -24 * 10).await;
    assert_eq!(events(&get_text(&app, &path, None).await.2).len(), 2);
    move_session(&app, &first, -24 * 40).await;
    assert_eq!(events(&get_text(&app, &path, None).await.2).len(), 1);

    // A new address revokes the old one; erasure stops the feed.
    let res = app
        .post("/api/v1/me/calendar-feed", Some(&resident.access))
        .await;
    let renewed = json_of(res).await["url"].as_str().unwrap().to_string();
    let renewed = renewed
        .split_once("/calendar/")
        .map(|(_, t)| format!("/calendar/{t}"))
        .unwrap();
    assert_ne!(renewed, path);
    assert_eq!(get_text(&app, &path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_text(&app, &renewed, None).await.0, StatusCode::OK);
    assert_eq!(
        app.delete("/api/v1/me", Some(&resident.access))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_text(&app, &renewed, None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn attendance_gives_a_certificate_with_public_pages_that_erasure_leaves_nameless() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let me = json_of(app.get("/api/v1/me", Some(&resident.access)).await).await;
    let name = me["display_name"].as_str().unwrap().to_string();
    let session = soon_session(&app, &net, 5).await;
    let enrollment = seat(&app, &session, &resident).await;
    assert_eq!(certificates_of(&app, &resident).await["items"], json!([]));
    let code = ticket_code(&app, &enrollment, &resident).await;
    assert_eq!(
        check_in(&app, &code, &net.staff.access).await.status(),
        StatusCode::OK
    );

    let items = certificates_of(&app, &resident).await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["course"], "รู้ทันภัยออนไลน์");
    assert_eq!(item["center"], "ศูนย์ดิจิทัลชุมชน CDC-T-0001");
    let session_body = json_of(app.get(&format!("/api/v1/sessions/{session}"), None).await).await;
    let bangkok = rfc3339(&session_body["starts_at"]) + chrono::Duration::hours(7);
    assert_eq!(item["attended_on"], bangkok.date_naive().to_string());
    let certificate = item["code"].as_str().unwrap().to_string();
    let verify_url = item["verify_url"].as_str().unwrap();
    assert!(
        verify_url.ends_with(&format!("/verify/{certificate}")),
        "{verify_url}"
    );

    // The public page: who, what, where, when, and nothing else about the person.
    let verify = format!("/verify/{certificate}");
    let (status, kind, page) = get_text(&app, &verify, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/html"));
    for fact in [
        name.as_str(),
        "รู้ทันภัยออนไลน์",
        "ศูนย์ดิจิทัลชุมชน CDC-T-0001",
        "ตรวจสอบใบรับรอง",
    ] {
        assert!(page.contains(fact), "{fact} missing");
    }
    assert!(!page.contains(resident.user_id.as_str()));
    let (_, _, english) = get_text(&app, &format!("{verify}?lang=en"), None).await;
    assert!(english.contains("Online safety") && english.contains("Certificate"));
    // However the code is typed.
    let lower = format!("/verify/{}", certificate.to_lowercase().replace('-', ""));
    assert_eq!(get_text(&app, &lower, None).await.0, StatusCode::OK);

    // The printable page: the Thai font OCOD serves, and a QR code of the public page.
    let (status, _, sheet) = get_text(&app, &format!("/certificates/{certificate}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sheet.contains(&name) && sheet.contains("<svg") && sheet.contains("size:A4"));
    assert!(
        sheet.contains(verify_url),
        "the QR's address is printed under it"
    );
    let font = regex::Regex::new(r"/fonts/kinnari\.woff\?v=[0-9a-f]+").unwrap();
    let font_path = font
        .find(&sheet)
        .expect("font address")
        .as_str()
        .to_string();
    let res = app.get(&font_path, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "font/woff");
    assert_eq!(&res.bytes().await.unwrap()[..4], b"wOFF");

    // Corrected to a no-show, the certificate is withdrawn; attended again, it is back.
    let fix = format!("/api/v1/enrollments/{}", enrollment["id"].as_str().unwrap());
    for (status, expected) in [
        ("no_show", StatusCode::NOT_FOUND),
        ("attended", StatusCode::OK),
    ] {
        let res = app
            .patch_json(&fix, &json!({ "status": status }), Some(&net.staff.access))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(get_text(&app, &verify, None).await.0, expected, "{status}");
    }
    let (status, _, _) = get_text(&app, "/verify/22222-22222-22", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Erasure: the certificate still verifies the course, without the name.
    assert_eq!(
        app.delete("/api/v1/me", Some(&resident.access))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (status, _, page) = get_text(&app, &verify, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&name), "the name stays after erasure");
    assert!(page.contains("ไม่แสดงชื่อ"));
    let (_, _, sheet) = get_text(&app, &format!("/certificates/{certificate}"), None).await;
    assert!(!sheet.contains(&name));
}
