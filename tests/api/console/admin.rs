//! The console's admin screens over real HTTP: who may open and post what, and that each
//! page shows and does what the API does (checked through the API).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{desk, Browser, Desk, PASSWORD};
use crate::helpers::{spawn_app, spawn_push_app, unique_phone, TestApp};

const NOT_ALLOWED: &str = "คุณไม่มีสิทธิ์ดูหน้านี้";

/// A staff member's console session and an admin's, on the desk's network.
async fn browsers<'a>(app: &'a TestApp, desk: &Desk) -> (Browser<'a>, Browser<'a>) {
    (
        Browser::signed_in(app, &desk.staff_login).await,
        Browser::signed_in(app, &desk.admin_login).await,
    )
}

/// A broadcast made through the API (to send later, so it can still be cancelled).
async fn scheduled_broadcast(app: &TestApp, admin: &str) -> String {
    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &json!({
                "audience": { "kind": "all" },
                "title": { "th": "แจ้งล่วงหน้า", "en": "Ahead" },
                "body": { "th": "ข้อความ", "en": "Text" },
                "send_at": crate::helpers::hours_from_now(24),
            }),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn api_json(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.get(path, Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn every_admin_page_and_form_is_for_admins_only() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let broadcast = scheduled_broadcast(&app, &desk.net.admin.access).await;
    let center = format!("/console/centers/{}", desk.net.center_id);
    let course = format!("/console/courses/{}", desk.net.course_id);
    let user = format!("/console/users/{}", desk.net.staff.user_id);
    let pages = [
        "/console/dashboard".to_string(),
        "/console/centers".into(),
        "/console/centers?q=CDC".into(),
        "/console/centers/new".into(),
        center.clone(),
        "/console/courses".into(),
        "/console/courses/new".into(),
        course.clone(),
        "/console/broadcasts".into(),
        "/console/broadcasts/new".into(),
        "/console/broadcasts/reach?kind=all".into(),
        format!("/console/broadcasts/{broadcast}"),
        "/console/push-failures".into(),
        "/console/reports".into(),
        "/console/reports.csv".into(),
        "/console/users".into(),
        user.clone(),
        "/console/audit".into(),
    ];
    let forms = [
        (
            "/console/centers/new".to_string(),
            vec![("code", "CDC-X-9")],
        ),
        (center.clone(), vec![("name_en", "Taken over")]),
        (
            format!("{center}/staff"),
            vec![("who", desk.staff_login.as_str())],
        ),
        (
            format!("{center}/staff/{}/remove", desk.net.staff.user_id),
            vec![],
        ),
        ("/console/courses/new".into(), vec![("title_en", "X")]),
        (course.clone(), vec![("title_en", "Renamed")]),
        (
            "/console/broadcasts/new".into(),
            vec![("intent", "send"), ("title_th", "x")],
        ),
        (format!("/console/broadcasts/{broadcast}/cancel"), vec![]),
        (format!("{user}/role"), vec![("role", "admin")]),
        (format!("{user}/end-sign-ins"), vec![]),
    ];

    // Nobody signed in: to the sign-in page, then back.
    let mut anonymous = Browser::new(&app);
    for path in &pages {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location.unwrap().starts_with("/console/login?next="));
    }
    for (path, fields) in &forms {
        let page = anonymous.post(path, fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
    }

    // Staff: the "not allowed" page, in their language, and nothing changes.
    let (mut staff, mut admin) = browsers(&app, &desk).await;
    for path in &pages {
        let page = staff.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains(NOT_ALLOWED), "{path}");
    }
    for (path, fields) in &forms {
        let page = staff.post(path, fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let today = staff.get("/console/today").await.body;
    for nav in [
        "/console/dashboard",
        "/console/centers",
        "/console/broadcasts",
    ] {
        assert!(!today.contains(nav), "staff see no {nav} in the menu");
    }
    let listed = api_json(&app, "/api/v1/admin/broadcasts", &desk.net.admin.access).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["status"], "scheduled");
    let course_now = api_json(
        &app,
        &format!("/api/v1/courses/{}", desk.net.course_id),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(course_now["title_en"], "Online safety");
    assert_eq!(app.count("centers").await, 2);

    // Admins open every page, with the whole menu.
    for path in &pages {
        let page = admin.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
    let dashboard = admin.get("/console/dashboard").await.body;
    for nav in [
        "วันนี้",
        "ภาพรวม",
        "ศูนย์",
        "หลักสูตร",
        "ผู้ใช้",
        "ประกาศ",
        "รายงาน",
        "บันทึกการใช้งาน",
    ] {
        assert!(dashboard.contains(&format!(">{nav}</a>")), "{nav}");
    }
    admin.language = Some("en-US,en;q=0.9");
    let dashboard = admin.get("/console/dashboard").await.body;
    for nav in [
        "Today",
        "Dashboard",
        "Centers",
        "Courses",
        "Users",
        "Broadcasts",
        "Reports",
        "Audit log",
    ] {
        assert!(dashboard.contains(&format!(">{nav}</a>")), "{nav}");
    }

    // A form without this session's token changes nothing, even for an admin.
    let origin = app.address.clone();
    let page = admin
        .post_raw(
            "/console/courses/new",
            &[
                ("title_th", "ไม่ควรเกิด"),
                ("title_en", "Should not exist"),
                ("description_th", "x"),
                ("description_en", "x"),
                ("category", "x"),
                ("level", "beginner"),
                ("duration_minutes", "60"),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("courses").await, 1);
}

#[tokio::test]
async fn admins_create_and_edit_a_center_and_assign_its_staff() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let (_, mut admin) = browsers(&app, &desk).await;
    let page = admin.get("/console/centers/new").await;
    for label in [
        "รหัส",
        "ชื่อ (ภาษาไทย)",
        "ชื่อ (ภาษาอังกฤษ)",
        "จังหวัด",
        "อำเภอ/เขต",
        "ตำบล/แขวง",
        "ละติจูด",
        "ลองจิจูด",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    // Every province is offered by name.
    for province in ocod::domain::PROVINCES {
        let option = format!(
            "<option value=\"{}\">{}</option>",
            province.name_th, province.name_th
        );
        assert!(page.body.contains(&option), "{option}");
    }

    // Refused: each error beside its field, in the page's language, nothing stored.
    let mut fields = vec![
        ("code", "CDC BAD!"),
        ("name_th", "ศูนย์ดิจิทัลชุมชนบ้านใหม่"),
        ("name_en", "Ban Mai Community Digital Center"),
        ("province", ""),
        ("district", "สารภี"),
        ("subdistrict", "ยางเนิ้ง"),
        ("lat", "north"),
        ("lon", "98.99"),
        ("status", "active"),
        ("phone", ""),
        ("opening_hours", ""),
    ];
    let page = admin.post("/console/centers/new", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["code", "province", "lat"] {
        assert!(
            page.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}: {}",
            page.body
        );
    }
    assert!(page.body.contains("value=\"ศูนย์ดิจิทัลชุมชนบ้านใหม่\""), "kept");
    assert_eq!(app.count("centers").await, 2);

    // Accepted: the API has it, with the code upper-cased as the API does.
    fields[0] = ("code", "cdc-50-0099");
    fields[3] = ("province", "เชียงใหม่");
    fields[6] = ("lat", "18.70");
    fields[9] = ("phone", "053-123-456");
    let page = admin.post("/console/centers/new", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.unwrap();
    let id = location
        .trim_start_matches("/console/centers/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let center = api_json(
        &app,
        &format!("/api/v1/centers/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(center["code"], "CDC-50-0099");
    assert_eq!(center["province"], "เชียงใหม่");
    assert_eq!(center["lat"], 18.7);
    assert_eq!(center["phone"], "+6653123456");
    let page = admin.get(&location).await;
    assert!(page.body.contains("เพิ่มศูนย์แล้ว"));

    // The same code again: the API's refusal, above the form.
    let page = admin.post("/console/centers/new", &fields).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page
        .body
        .contains(ocod::i18n::Code::CenterCodeTaken.message(ocod::domain::Locale::Th)));

    // Searching by code, name, district or province finds it.
    for q in ["CDC-50-0099", "บ้านใหม่", "สารภี", "เชียงใหม่", "Chiang Mai"]
    {
        let page = admin.get(&format!("/console/centers?q={q}")).await;
        assert!(page.body.contains(&format!("/console/centers/{id}")), "{q}");
    }
    let page = admin.get("/console/centers?q=nowhere-at-all").await;
    assert!(!page.body.contains(&format!("/console/centers/{id}")));

    // Edited: closed, with opening hours; the API shows both.
    let center_page = format!("/console/centers/{id}");
    fields[0] = ("code", "CDC-50-0099");
    fields[8] = ("status", "closed");
    fields[10] = ("opening_hours", "จ.–ศ. 08:30–16:30 น.");
    let page = admin.post(&center_page, &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let center = api_json(
        &app,
        &format!("/api/v1/centers/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(center["status"], "closed");
    assert_eq!(center["opening_hours"], "จ.–ศ. 08:30–16:30 น.");
    fields[8] = ("status", "active");
    fields[7] = ("lon", "999");
    let page = admin.post(&center_page, &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-lon-error\""));
    fields[7] = ("lon", "98.99");
    assert_eq!(
        admin.post(&center_page, &fields).await.status,
        StatusCode::SEE_OTHER
    );

    // Staff found by e-mail or phone; only people with the staff role.
    assert_eq!(schedule(&app, &id, &desk).await, StatusCode::FORBIDDEN);
    let page = admin
        .post(
            &format!("{center_page}/staff"),
            &[("who", &desk.staff_login)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(schedule(&app, &id, &desk).await, StatusCode::CREATED);
    let page = admin.get(&center_page).await;
    assert!(page
        .body
        .contains(&format!("/staff/{}/remove", desk.net.staff.user_id)));

    let phone = unique_phone();
    app.register(json!({ "phone": phone, "password": PASSWORD, "display_name": "นายสมชาย" }))
        .await;
    let page = admin
        .post(&format!("{center_page}/staff"), &[("who", &phone)])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page
        .body
        .contains(ocod::i18n::Code::UserNotStaff.message(ocod::domain::Locale::Th)));
    let page = admin
        .post(&format!("{center_page}/staff"), &[("who", "0899999999")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("ไม่พบบัญชีที่ใช้เบอร์โทรหรืออีเมลนี้"));
    assert!(page.body.contains("id=\"who-error\""));

    // Removed: the API refuses them at once.
    let page = admin
        .post(
            &format!("{center_page}/staff/{}/remove", desk.net.staff.user_id),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(schedule(&app, &id, &desk).await, StatusCode::FORBIDDEN);
}

/// Whether the desk's staff member may schedule a session at `center` (only its staff may).
async fn schedule(app: &TestApp, center: &str, desk: &Desk) -> StatusCode {
    app.post_json(
        &format!("/api/v1/centers/{center}/sessions"),
        &json!({
            "course_id": desk.net.course_id,
            "starts_at": crate::helpers::hours_from_now(30),
            "ends_at": crate::helpers::hours_from_now(32),
            "capacity": 5
        }),
        Some(&desk.net.staff.access),
    )
    .await
    .status()
}

#[tokio::test]
async fn admins_create_and_edit_courses_in_thai_and_english() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let (_, mut admin) = browsers(&app, &desk).await;
    let page = admin.get("/console/courses").await;
    assert!(page.body.contains("รู้ทันภัยออนไลน์"));

    let mut fields = vec![
        ("title_th", "ใช้ไลน์อย่างปลอดภัย"),
        ("title_en", "Using LINE safely"),
        (
            "description_th",
            "ตั้งค่าความเป็นส่วนตัว\r\nและสังเกตข้อความหลอกลวง",
        ),
        ("description_en", "Privacy settings\r\nand spotting scams"),
        ("category", "Online Safety"),
        ("level", "beginner"),
        ("duration_minutes", "two hours"),
    ];
    let page = admin.post("/console/courses/new", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["category", "duration_minutes"] {
        assert!(
            page.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}"
        );
    }
    assert_eq!(app.count("courses").await, 1);

    fields[4] = ("category", "online_safety");
    fields[6] = ("duration_minutes", "90");
    let page = admin.post("/console/courses/new", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.unwrap();
    let id = location
        .trim_start_matches("/console/courses/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let course = api_json(
        &app,
        &format!("/api/v1/courses/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(course["title_th"], "ใช้ไลน์อย่างปลอดภัย");
    // A textarea's line breaks arrive as the API stores them.
    assert_eq!(
        course["description_en"],
        "Privacy settings\nand spotting scams"
    );
    assert_eq!(course["duration_minutes"], 90);

    fields[1] = ("title_en", "LINE, safely");
    fields[5] = ("level", "expert");
    let page = admin.post(&format!("/console/courses/{id}"), &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-level-error\""));
    fields[5] = ("level", "intermediate");
    let page = admin.post(&format!("/console/courses/{id}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let course = api_json(
        &app,
        &format!("/api/v1/courses/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(course["title_en"], "LINE, safely");
    assert_eq!(course["level"], "intermediate");
}

/// The composer's fields for a broadcast to `province`.
fn composer_fields<'a>(once: &'a str, province: &'a str, when: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("once", once),
        ("intent", "send"),
        ("title_th", "เปิดรอบใหม่"),
        ("body_th", "คอร์สสมาร์ทโฟน\r\nเปิดรับสมัครแล้ว"),
        ("title_en", "New sessions"),
        ("body_en", "Smartphone basics is open."),
        ("kind", "province"),
        ("province", province),
        ("when", when),
    ]
}

#[tokio::test]
async fn the_composer_counts_the_audience_like_the_api_and_sends_once() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // The desk's resident is enrolled in Chiang Mai; give them a phone with the app.
    let roster = api_json(
        &app,
        &format!("/api/v1/sessions/{}/enrollments", desk.session),
        &desk.net.staff.access,
    )
    .await;
    assert_eq!(roster["items"].as_array().unwrap().len(), 1);
    let (_, mut admin) = browsers(&app, &desk).await;
    let page = admin.get("/console/broadcasts/new").await;
    for label in [
        "ชื่อเรื่อง (ภาษาไทย)",
        "ข้อความ (ภาษาอังกฤษ)",
        "ผู้รับ",
        "ตัวอย่างบนหน้าจอล็อก",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    admin.language = Some("en");
    let page = admin.get("/console/broadcasts/new").await;
    for words in [
        "Title (Thai)",
        "Body (English)",
        "Audience",
        "Everyone",
        "Province",
        "Center",
        "Course",
        "Session",
        ">Send<",
    ] {
        assert!(page.body.contains(words), "{words}");
    }
    let once = super::once_in(&page.body).expect("a one-time key");

    // The live count is the API's preview, as "N people, M devices".
    let preview: Value = app
        .post_json(
            "/api/v1/admin/broadcasts/preview",
            &json!({ "audience": { "kind": "province", "value": "เชียงใหม่" } }),
            Some(&desk.net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let counted = admin
        .get("/console/broadcasts/reach?kind=province&province=%E0%B9%80%E0%B8%8A%E0%B8%B5%E0%B8%A2%E0%B8%87%E0%B9%83%E0%B8%AB%E0%B8%A1%E0%B9%88")
        .await;
    let counted: Value = serde_json::from_str(&counted.body).unwrap();
    assert_eq!(counted["people"], preview["users"]);
    assert_eq!(counted["devices"], preview["devices"]);
    let people = preview["users"].as_i64().unwrap();
    assert!(people >= 1);
    let expected = format!(
        "{people} {}, {} device",
        if people == 1 { "person" } else { "people" },
        preview["devices"]
    );
    assert!(
        counted["text"].as_str().unwrap().starts_with(&expected),
        "{counted}"
    );
    let refused = admin
        .get("/console/broadcasts/reach?kind=center&center=NO-SUCH-CODE")
        .await;
    let refused: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(
        refused["error"],
        ocod::i18n::Code::NotFound.message(ocod::domain::Locale::En)
    );

    // Without JavaScript, Preview redraws the page with the count and the texts kept.
    let mut fields = composer_fields(&once, "เชียงใหม่", "now");
    fields[1] = ("intent", "preview");
    let page = admin.post("/console/broadcasts/new", &fields).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(counted["text"].as_str().unwrap()));
    assert!(page.body.contains("New sessions"));
    assert!(page.body.contains("12/65"), "the character count");
    assert_eq!(app.count("broadcasts").await, 0);
    // A preview of an unknown center says so beside the field.
    let mut unknown = composer_fields(&once, "", "now");
    unknown[1] = ("intent", "preview");
    unknown[6] = ("kind", "center");
    unknown.push(("center", "NO-SUCH-CODE"));
    let page = admin.post("/console/broadcasts/new", &unknown).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-center-error\""), "{}", page.body);

    // Refused: errors beside their fields; nothing sent.
    let mut bad = composer_fields(&once, "", "later");
    bad[2] = ("title_th", "");
    bad.push(("send_date", "2020-01-01"));
    bad.push(("send_time", "09:00"));
    let page = admin.post("/console/broadcasts/new", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title_th", "send_time"] {
        assert!(
            page.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field}"
        );
    }
    let mut no_province = composer_fields(&once, "", "now");
    no_province[1] = ("intent", "send");
    let page = admin.post("/console/broadcasts/new", &no_province).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"f-province-error\""),
        "{}",
        page.body
    );
    assert_eq!(app.count("broadcasts").await, 0);

    // Send, twice with the same form (a double tap, a retried post): one broadcast.
    let fields = composer_fields(&once, "เชียงใหม่", "now");
    let first = admin.post("/console/broadcasts/new", &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = admin.post("/console/broadcasts/new", &fields).await;
    assert_eq!(second.location, first.location);
    let listed = api_json(&app, "/api/v1/admin/broadcasts", &desk.net.admin.access).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["audience"],
        json!({ "kind": "province", "value": "เชียงใหม่" })
    );
    assert_eq!(items[0]["title"]["en"], "New sessions");
    assert_eq!(items[0]["body"]["th"], "คอร์สสมาร์ทโฟน\nเปิดรับสมัครแล้ว");
    let page = admin.get(first.location.as_deref().unwrap()).await;
    assert!(page.body.contains("Province: Chiang Mai"));
    assert!(page.body.contains("Smartphone basics is open."));

    // Later, at a Bangkok time: scheduled, listed, and cancelled before it goes.
    let page = admin.get("/console/broadcasts/new").await;
    let once = super::once_in(&page.body).unwrap();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(7 + 24))
        .format("%Y-%m-%d")
        .to_string();
    let mut later = composer_fields(&once, "เชียงใหม่", "later");
    later.push(("send_date", &tomorrow));
    later.push(("send_time", "09:30"));
    let page = admin.post("/console/broadcasts/new", &later).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let broadcast_page = page
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let id = broadcast_page.trim_start_matches("/console/broadcasts/");
    let stored = api_json(
        &app,
        &format!("/api/v1/admin/broadcasts/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(stored["status"], "scheduled");
    assert_eq!(
        stored["send_at"].as_str().unwrap(),
        format!("{tomorrow}T02:30:00Z"),
        "09:30 in Bangkok"
    );
    let list = admin.get("/console/broadcasts").await;
    assert!(list.body.contains(&broadcast_page));
    assert!(list.body.contains("Scheduled"));
    let page = admin.post(&format!("{broadcast_page}/cancel"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let stored = api_json(
        &app,
        &format!("/api/v1/admin/broadcasts/{id}"),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(stored["status"], "cancelled");
    let page = admin.post(&format!("{broadcast_page}/cancel"), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page
        .body
        .contains(ocod::i18n::Code::BroadcastAlreadySent.message(ocod::domain::Locale::En)));
}

#[tokio::test]
async fn a_broadcasts_figures_follow_its_delivery_and_failures_show_fcms_reason() {
    let rig = spawn_push_app(&[("OCOD_PUSH_MAX_ATTEMPTS", "1")]).await;
    let app = &rig.app;
    let desk = desk(app).await;
    let resident = app.resident().await;
    rig.device(&resident, "phone-that-works-111111").await;
    rig.device(&resident, "phone-that-fails-222222").await;
    let res = app.enroll(&desk.session, &resident.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, mut admin) = browsers(app, &desk).await;
    admin.language = Some("en");
    let page = admin.get("/console/broadcasts/new").await;
    let once = super::once_in(&page.body).unwrap();
    let fields = composer_fields(&once, "เชียงใหม่", "now");
    let page = admin.post("/console/broadcasts/new", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let broadcast_page = page
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let id = broadcast_page
        .trim_start_matches("/console/broadcasts/")
        .to_string();

    // The second device is refused for good (FCM's 400 on this message).
    rig.fake.state.control(ocod::push::fake::Control {
        fail_next: vec![ocod::push::fake::Fault::new(400, None)],
        ..Default::default()
    });
    let figures_path = format!("/api/v1/admin/broadcasts/{id}");
    let started = std::time::Instant::now();
    let mut stats = api_json(app, &figures_path, &desk.net.admin.access).await;
    while stats["sent"].as_i64().unwrap_or(0) + stats["failed"].as_i64().unwrap_or(0) < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{stats}"
        );
        if rig.step().await.is_idle() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        stats = api_json(app, &figures_path, &desk.net.admin.access).await;
    }
    assert_eq!(stats["sent"], 1, "{stats}");
    assert_eq!(stats["failed"], 1, "{stats}");

    // The page shows the API's figures.
    let page = admin.get(&broadcast_page).await;
    for (label, value) in [
        ("People", &stats["targeted"]),
        ("Devices", &stats["devices"]),
        ("Delivered", &stats["sent"]),
        ("Failed", &stats["failed"]),
    ] {
        let cell = format!("<dt class=\"label\">{label}</dt><dd class=\"value\">{value}</dd>");
        assert!(page.body.contains(&cell), "{cell}: {}", page.body);
    }
    // The failure, with its person, channel, device and FCM's reason.
    let failures = api_json(app, "/api/v1/admin/push/failures", &desk.net.admin.access).await;
    let failure = &failures["items"][0];
    let page = admin.get("/console/push-failures").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(failure["device"].as_str().unwrap()));
    assert!(page
        .body
        .contains(&format!("/console/users/{}", resident.user_id)));
    assert!(page.body.contains("Push (FCM)"));
    let reason = failure["reason"].as_str().unwrap();
    assert!(!reason.is_empty());
    assert!(
        page.body.contains(&html_escaped(reason)),
        "{reason}: {}",
        page.body
    );
}

/// Text as askama writes it into a page.
fn html_escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn reports_are_a_chart_a_table_and_a_csv_with_the_apis_figures() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // A second resident waits at the other center.
    let full = app
        .session(
            &desk.net.staff.access,
            &desk.net.center_id,
            &desk.net.course_id,
            1,
        )
        .await;
    for _ in 0..2 {
        let r = app.resident().await;
        app.enroll(&full, &r.access).await;
    }
    let (_, mut admin) = browsers(&app, &desk).await;
    let day = |hours: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(7 + hours))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (from, to) = (day(-1), day(72));
    let query = format!("group_by=center&from={from}&to={to}");
    let page = admin.get(&format!("/console/reports?{query}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg class=\"bar\""), "a chart");
    assert!(page.body.contains("<rect "), "bars drawn");
    assert!(page.body.contains("ศูนย์ดิจิทัลชุมชน CDC-T-0001 (CDC-T-0001)"));
    let csv_link = format!("/console/reports.csv?{}", query.replace('&', "&#38;"));
    assert!(page.body.contains(&csv_link), "{csv_link} in {}", page.body);

    // The CSV has the API report's rows.
    let bangkok_midnight = |d: &str| format!("{d}T00:00:00+07:00");
    let to_bound = day(73);
    let report = api_json(
        &app,
        &format!(
            "/api/v1/admin/reports/enrollments?group_by=center&from={}&to={}",
            urlencoding(&bangkok_midnight(&from)),
            urlencoding(&bangkok_midnight(&to_bound))
        ),
        &desk.net.admin.access,
    )
    .await;
    let csv = admin.get(&format!("/console/reports.csv?{query}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "center,key,enrolled,attended,no_show,waitlisted,cancelled"
    );
    let items = report["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1 + items.len());
    for item in items {
        let line = format!(
            "{},{},{},{},{},{}",
            item["key"].as_str().unwrap(),
            item["enrolled"],
            item["attended"],
            item["no_show"],
            item["waitlisted"],
            item["cancelled"]
        );
        assert!(
            lines.iter().any(|l| l.ends_with(&line)),
            "{line} in {lines:?}"
        );
    }
    let waiting: i64 = items
        .iter()
        .map(|i| i["waitlisted"].as_i64().unwrap())
        .sum();
    assert_eq!(waiting, 1);

    // Who can be reached: the API's reach report, row by row, with the people nobody
    // reaches picked out.
    assert!(page.body.contains("ติดต่อผู้เรียนได้ทางไหน"));
    let reach = api_json(
        &app,
        "/api/v1/admin/reports/reach?group_by=center",
        &desk.net.admin.access,
    )
    .await;
    let items = reach["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        let unreachable = match item["unreachable"].as_i64().unwrap() {
            0 => "0".to_string(),
            n => format!("<strong>{n}</strong>"),
        };
        let row = format!(
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{unreachable}</td>",
            item["push"], item["line_only"], item["sms_only"]
        );
        assert!(page.body.contains(&row), "{row} in the page");
    }

    // Bad days: the error beside the field; no chart.
    let page = admin
        .get(&format!(
            "/console/reports?group_by=course&from={to}&to={from}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"to-error\""));
    let page = admin.get("/console/reports?from=2026-02-31").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"from-error\""));
}

fn urlencoding(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

#[tokio::test]
async fn the_dashboard_counts_what_the_api_reports() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let (_, mut admin) = browsers(&app, &desk).await;
    admin.language = Some("en");
    let page = admin.get("/console/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    for label in [
        "Active centers",
        "Enrollments this month",
        "Attendance rate this month",
        "Push delivery rate, last 7 days",
        "Broadcasts waiting to be sent",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    let figure = |body: &str, label: &str| -> String {
        let at = body.find(&format!(">{label}</a>")).unwrap();
        let rest = &body[at..];
        let start =
            rest.find("<strong class=\"value\">").unwrap() + "<strong class=\"value\">".len();
        rest[start..start + rest[start..].find('<').unwrap()].to_string()
    };
    assert_eq!(figure(&page.body, "Active centers"), "2");
    assert_eq!(figure(&page.body, "Broadcasts waiting to be sent"), "0");
    assert_eq!(figure(&page.body, "Attendance rate this month"), "–");

    // The month's enrollments are the API report's for the same Bangkok month.
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    let first = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&now),
        chrono::Datelike::month(&now),
        1,
    )
    .unwrap();
    let next = first + chrono::Months::new(1);
    let report = api_json(
        &app,
        &format!(
            "/api/v1/admin/reports/enrollments?from={}&to={}",
            urlencoding(&format!("{first}T00:00:00+07:00")),
            urlencoding(&format!("{next}T00:00:00+07:00"))
        ),
        &desk.net.admin.access,
    )
    .await;
    let enrolled: i64 = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["enrolled"].as_i64().unwrap())
        .sum();
    assert_eq!(
        figure(&page.body, "Enrollments this month"),
        enrolled.to_string()
    );

    // A broadcast for later is waiting; a closed center is not active.
    scheduled_broadcast(&app, &desk.net.admin.access).await;
    let res = app
        .patch_json(
            &format!("/api/v1/centers/{}", desk.net.other_center_id),
            &json!({ "status": "closed" }),
            Some(&desk.net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = admin.get("/console/dashboard").await;
    assert_eq!(figure(&page.body, "Broadcasts waiting to be sent"), "1");
    assert_eq!(figure(&page.body, "Active centers"), "1");
    assert!(page.body.contains("of 2"));
}

#[tokio::test]
async fn admins_find_people_change_their_role_and_end_their_sign_ins_staff_may_not() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let phone = unique_phone();
    let person = TestApp::signed_in_from(
        app.register(json!({ "phone": phone, "password": PASSWORD, "display_name": "นางสาวมะลิ" }))
            .await,
    )
    .await;
    let person_page = format!("/console/users/{}", person.user_id);
    let (_, mut admin) = browsers(&app, &desk).await;

    // An admin finds the person by phone however written, and by name.
    let written = format!("{}-{}-{}", &phone[..3], &phone[3..6], &phone[6..]);
    for q in [written.as_str(), "มะลิ"] {
        let page = admin.get(&format!("/console/users?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&person_page), "{q}: {}", page.body);
    }
    let page = admin.get("/console/users?q=nobody-at-all").await;
    assert!(page.body.contains("ไม่พบผู้ใช้ที่ตรงกัน"));

    // Changing the role is the API's.
    let page = admin.get(&person_page).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = admin
        .post(&format!("{person_page}/role"), &[("role", "staff")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap().ends_with("done=role"));
    let listed = api_json(
        &app,
        &format!("/api/v1/admin/users?q={}", &phone[1..]),
        &desk.net.admin.access,
    )
    .await;
    assert_eq!(listed["items"][0]["role"], "staff");
    // Their own role, an admin may not change (the API's refusal, on the page).
    let me_page = format!("/console/users/{}", desk.net.admin.user_id);
    let page = admin.get(&me_page).await;
    assert!(!page.body.contains("/role\""), "no role form for oneself");
    let page = admin
        .post(&format!("{me_page}/role"), &[("role", "resident")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page
        .body
        .contains(ocod::i18n::Code::CannotChangeOwnRole.message(ocod::domain::Locale::Th)));

    // Ending all sign-ins ends the app's sessions (and would end the console's).
    let again = TestApp::signed_in_from(app.login(&phone, PASSWORD).await).await;
    let page = admin
        .post(&format!("{person_page}/end-sign-ins"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    for token in [&person.access, &again.access] {
        let res = app.get("/api/v1/me", Some(token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    // The audit log shows both in words, with names, filtered by action, actor and day.
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string();
    let page = admin
        .get(&format!(
            "/console/audit?action=role_set&from={today}&to={today}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let row = |action: &str| format!("<strong class=\"action\">{action}</strong>");
    assert!(
        page.body.contains(&row("เปลี่ยนสิทธิ์เป็นเจ้าหน้าที่")),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(&format!("<a href=\"{person_page}\">นางสาวมะลิ</a>")));
    assert!(!page.body.contains(&row("ออกจากระบบทุกเครื่อง")));
    // The actor typed as their e-mail (or an ID).
    for actor in [desk.admin_login.as_str(), desk.net.admin.user_id.as_str()] {
        let page = admin
            .get(&format!("/console/audit?actor={}", urlencoding(actor)))
            .await;
        assert!(page.body.contains(&row("ออกจากระบบทุกเครื่อง")), "{actor}");
    }
    let page = admin
        .get(&format!(
            "/console/audit?actor={}",
            urlencoding(&desk.staff_login)
        ))
        .await;
    assert!(!page.body.contains(&row("ออกจากระบบทุกเครื่อง")));
    let page = admin.get("/console/audit?from=2020-13-45").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"from-error\""));
}
