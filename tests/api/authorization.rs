//! Who may do what, for every route of the network: anonymous, a resident, staff of the
//! center concerned, staff of another center, and an admin.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{hours_from_now, spawn_app, Network, SignedIn, TestApp};

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Resident,
    StaffHere,
    StaffElsewhere,
    Admin,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Resident,
    Who::StaffHere,
    Who::StaffElsewhere,
    Who::Admin,
];

fn token<'a>(who: Who, net: &'a Network, resident: &'a SignedIn) -> Option<&'a str> {
    match who {
        Who::Anonymous => None,
        Who::Resident => Some(&resident.access),
        Who::StaffHere => Some(&net.staff.access),
        Who::StaffElsewhere => Some(&net.other_staff.access),
        Who::Admin => Some(&net.admin.access),
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> StatusCode {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().status()
}

/// Expected status per caller: anonymous, resident, staff here, staff elsewhere, admin.
type Expect = [u16; 5];
const ADMIN_ONLY_OK: Expect = [401, 403, 403, 403, 200];
const CENTER_STAFF_OK: Expect = [401, 403, 200, 403, 200];
const PUBLIC: Expect = [200, 200, 200, 200, 200];

#[tokio::test]
async fn every_route_answers_each_role_as_it_should() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let enrollment: Value = app
        .enroll(&session, &resident.access)
        .await
        .json()
        .await
        .unwrap();
    let enrollment_id = enrollment["id"].as_str().unwrap().to_string();
    let e = &enrollment_id;
    let (c, s, k) = (&net.center_id, &session, &net.course_id);
    let new_session = || json!({ "course_id": net.course_id, "starts_at": hours_from_now(30), "ends_at": hours_from_now(31), "capacity": 5 });

    let reads: Vec<(Method, String, Option<Value>, Expect)> = vec![
        (Method::GET, "/api/v1/centers".into(), None, PUBLIC),
        (Method::GET, format!("/api/v1/centers/{c}"), None, PUBLIC),
        (Method::GET, "/api/v1/courses".into(), None, PUBLIC),
        (Method::GET, format!("/api/v1/courses/{k}"), None, PUBLIC),
        (Method::GET, "/api/v1/sessions".into(), None, PUBLIC),
        (Method::GET, format!("/api/v1/sessions/{s}"), None, PUBLIC),
        (
            Method::GET,
            format!("/api/v1/sessions/{s}/enrollments"),
            None,
            CENTER_STAFF_OK,
        ),
        (
            Method::GET,
            "/api/v1/me/enrollments".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        // A person's own seat: someone else's is not found, whoever asks.
        (
            Method::GET,
            format!("/api/v1/me/enrollments/{e}/ticket"),
            None,
            [401, 200, 404, 404, 404],
        ),
        (
            Method::GET,
            format!("/api/v1/me/enrollments/{e}/calendar.ics"),
            None,
            [401, 200, 404, 404, 404],
        ),
        (
            Method::POST,
            format!("/api/v1/me/enrollments/{e}/confirm"),
            None,
            [401, 200, 404, 404, 404],
        ),
        (
            Method::GET,
            "/api/v1/me/certificates".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/me/calendar-feed".into(),
            None,
            [401, 201, 201, 201, 201],
        ),
        (
            Method::GET,
            "/api/v1/admin/reports/enrollments".into(),
            None,
            ADMIN_ONLY_OK,
        ),
        (
            Method::GET,
            "/api/v1/admin/reports/reach?group_by=center".into(),
            None,
            ADMIN_ONLY_OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/centers/{c}"),
            Some(json!({ "opening_hours": "ทุกวัน" })),
            ADMIN_ONLY_OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/courses/{k}"),
            Some(json!({ "duration_minutes": 150 })),
            ADMIN_ONLY_OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/sessions/{s}"),
            Some(json!({ "room": "ห้อง 2" })),
            CENTER_STAFF_OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/enrollments/{enrollment_id}"),
            Some(json!({ "status": "attended" })),
            CENTER_STAFF_OK,
        ),
        (
            Method::POST,
            format!("/api/v1/centers/{c}/sessions"),
            Some(new_session()),
            [401, 403, 201, 403, 201],
        ),
        (
            Method::POST,
            "/api/v1/courses".into(),
            Some(json!({
                "title_th": "ก", "title_en": "A", "description_th": "ก", "description_en": "A", "category": "x", "level": "beginner", "duration_minutes": 60
            })),
            [401, 403, 403, 403, 201],
        ),
    ];
    for (method, path, body, expected) in reads {
        for (who, want) in EVERYONE.iter().zip(expected) {
            let got = call(
                &app,
                method.clone(),
                &path,
                body.clone(),
                token(*who, &net, &resident),
            )
            .await;
            assert_eq!(got.as_u16(), want, "{method} {path} as {who:?}");
        }
    }

    // Actions that change state once: each caller acts on a thing of their own.
    for who in EVERYONE {
        let t = token(who, &net, &resident);
        let session = app
            .session(&net.staff.access, &net.center_id, &net.course_id, 5)
            .await;
        let want = match who {
            Who::Anonymous => 401,
            Who::StaffHere | Who::Admin => 200,
            _ => 403,
        };
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/api/v1/sessions/{session}/cancel"),
                None,
                t
            )
            .await
            .as_u16(),
            want,
            "cancel as {who:?}"
        );

        let open = app
            .session(&net.staff.access, &net.center_id, &net.course_id, 5)
            .await;
        // Residents enroll themselves; staff of the center and admins enroll walk-ins.
        let (body, want) = match who {
            Who::Anonymous => (None, 401),
            Who::Resident => (None, 201),
            Who::StaffElsewhere => (Some(json!({ "user_id": resident.user_id })), 403),
            Who::StaffHere | Who::Admin => (Some(json!({ "user_id": resident.user_id })), 201),
        };
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/api/v1/sessions/{open}/enrollments"),
                body,
                t
            )
            .await
            .as_u16(),
            want,
            "enroll as {who:?}"
        );

        // Releasing a seat ("I cannot come"): only its holder (a resident of their own,
        // so the seats of this loop stay under the limit per person).
        let holder = app.resident().await;
        let open = app
            .session(&net.staff.access, &net.center_id, &net.course_id, 5)
            .await;
        let seat: Value = app
            .enroll(&open, &holder.access)
            .await
            .json()
            .await
            .unwrap();
        let want = match who {
            Who::Anonymous => 401,
            Who::Resident => 200,
            _ => 404,
        };
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!(
                    "/api/v1/me/enrollments/{}/release",
                    seat["id"].as_str().unwrap()
                ),
                None,
                match who {
                    Who::Resident => Some(holder.access.as_str()),
                    _ => t,
                }
            )
            .await
            .as_u16(),
            want,
            "release a seat as {who:?}"
        );

        // Checking in by ticket: staff of the session's center and admins.
        let soon = app
            .session_in(&net.staff.access, &net.center_id, &net.course_id, 5, 1)
            .await;
        let seat: Value = app
            .enroll(&soon, &holder.access)
            .await
            .json()
            .await
            .unwrap();
        let ticket: Value = app
            .get(
                &format!(
                    "/api/v1/me/enrollments/{}/ticket",
                    seat["id"].as_str().unwrap()
                ),
                Some(&holder.access),
            )
            .await
            .json()
            .await
            .unwrap();
        let want = match who {
            Who::Anonymous => 401,
            Who::StaffHere | Who::Admin => 200,
            _ => 403,
        };
        assert_eq!(
            call(
                &app,
                Method::POST,
                "/api/v1/checkins",
                Some(json!({ "code": ticket["code"] })),
                t
            )
            .await
            .as_u16(),
            want,
            "check in as {who:?}"
        );

        // Giving a seat up for someone: staff of the center and admins.
        let open = app
            .session(&net.staff.access, &net.center_id, &net.course_id, 5)
            .await;
        let seat: Value = app
            .enroll(&open, &resident.access)
            .await
            .json()
            .await
            .unwrap();
        let want = match who {
            Who::Anonymous => 401,
            Who::StaffHere | Who::Admin => 200,
            _ => 403,
        };
        assert_eq!(
            call(
                &app,
                Method::DELETE,
                &format!("/api/v1/enrollments/{}", seat["id"].as_str().unwrap()),
                None,
                t
            )
            .await
            .as_u16(),
            want,
            "give up a seat as {who:?}"
        );

        let code = format!("CDC-Z-{who:?}").to_uppercase();
        let body = json!({ "code": code, "name_th": "ก", "name_en": "A", "province": "Loei", "district": "d", "subdistrict": "s", "lat": 17.5, "lon": 101.7 });
        let want = match who {
            Who::Anonymous => 401,
            Who::Admin => 201,
            _ => 403,
        };
        assert_eq!(
            call(&app, Method::POST, "/api/v1/centers", Some(body), t)
                .await
                .as_u16(),
            want,
            "create center as {who:?}"
        );

        let spare = app
            .center(
                &net.admin,
                &format!("CDC-SPARE-{who:?}").to_uppercase(),
                17.0,
                100.0,
            )
            .await;
        let staff_path = format!("/api/v1/centers/{spare}/staff/{}", net.staff.user_id);
        let want = match who {
            Who::Anonymous => 401,
            Who::Admin => 201,
            _ => 403,
        };
        assert_eq!(
            call(&app, Method::PUT, &staff_path, None, t).await.as_u16(),
            want,
            "assign as {who:?}"
        );
        let want = if want == 201 { 204 } else { want };
        if want != 204 {
            app.put(&staff_path, Some(&net.admin.access)).await;
        }
        assert_eq!(
            call(&app, Method::DELETE, &staff_path, None, t)
                .await
                .as_u16(),
            want,
            "unassign as {who:?}"
        );
        assert_eq!(
            call(
                &app,
                Method::DELETE,
                &format!("/api/v1/centers/{spare}"),
                None,
                t
            )
            .await
            .as_u16(),
            want,
            "delete center as {who:?}"
        );
    }

    // Residents can only cancel their own enrollments.
    let other_resident = app.resident().await;
    let path = format!("/api/v1/me/enrollments/{enrollment_id}");
    assert_eq!(
        call(&app, Method::DELETE, &path, None, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &path,
            None,
            Some(&other_resident.access)
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, Method::DELETE, &path, None, Some(&net.admin.access)).await,
        StatusCode::NOT_FOUND
    );
}
