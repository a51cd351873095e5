//! The web console over real HTTP: sign-in and its cookie, the language, CSRF and origin
//! checks, who may open and post what, and that each action is the API's (checked
//! through the API). The admin screens are in `admin`.

mod admin;

use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_configured, unique_phone, Network, SignedIn, TestApp, TestDb,
};

const PASSWORD: &str = "password-123";

/// A browser as the console sees it: its cookies, and the CSRF token of the last page.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    csrf: String,
    language: Option<&'static str>,
}

/// A console answer: status, where it sends the browser, its body.
struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: Vec::new(),
            csrf: String::new(),
            language: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        let status = res.status();
        let location = res
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let set_cookies: Vec<String> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for raw in &set_cookies {
            let pair = raw.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            let removed = raw.contains("Max-Age=0") || value.is_empty();
            if !removed {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        let body = res.text().await.unwrap();
        if let Some(token) = csrf_in(&body) {
            self.csrf = token;
        }
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .header(COOKIE, self.cookie_header());
        if let Some(lang) = self.language {
            req = req.header(ACCEPT_LANGUAGE, lang);
        }
        req
    }

    async fn get(&mut self, path: &str) -> Page {
        let res = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    /// Posts a form as a console page does: same origin, with the page's CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let origin = self.app.address.clone();
        self.post_raw(path, &form, Some(&origin)).await
    }

    async fn post_raw(&mut self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut req = self
            .request(reqwest::Method::POST, path)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap());
        if let Some(origin) = origin {
            req = req.header(ORIGIN, origin);
        }
        let res = req.send().await.unwrap();
        self.read(res).await
    }

    async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        self.get("/console/login").await;
        let origin = self.app.address.clone();
        self.post_raw(
            "/console/login",
            &[("login", login), ("password", password)],
            Some(&origin),
        )
        .await
    }

    /// Signs in and opens Today (which holds the CSRF token).
    async fn signed_in(app: &'a TestApp, login: &str) -> Browser<'a> {
        let mut browser = Browser::new(app);
        let page = browser.sign_in(login, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/console/today"));
        let today = browser.get("/console/today").await;
        assert_eq!(today.status, StatusCode::OK);
        assert!(!browser.csrf.is_empty());
        browser
    }
}

/// The one-time key a form carries (a double tap sends the same one).
fn once_in(body: &str) -> Option<String> {
    let start = body.find("name=\"once\" value=\"")? + "name=\"once\" value=\"".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

fn csrf_in(body: &str) -> Option<String> {
    let start = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

/// The e-mail a test user signs in with.
async fn email_of(app: &TestApp, user: &SignedIn) -> String {
    let me: Value = app
        .get("/api/v1/me", Some(&user.access))
        .await
        .json()
        .await
        .unwrap();
    me["email"].as_str().unwrap().to_string()
}

/// A network, a session at the staff member's center with one resident enrolled, and the
/// resident's enrollment ID.
struct Desk {
    net: Network,
    session: String,
    other_session: String,
    enrollment: String,
    staff_login: String,
    other_staff_login: String,
    admin_login: String,
}

async fn desk(app: &TestApp) -> Desk {
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let other_session = app
        .session(
            &net.other_staff.access,
            &net.other_center_id,
            &net.course_id,
            2,
        )
        .await;
    let resident = app.resident().await;
    let res = app.enroll(&session, &resident.access).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let enrollment = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Desk {
        staff_login: email_of(app, &net.staff).await,
        other_staff_login: email_of(app, &net.other_staff).await,
        admin_login: email_of(app, &net.admin).await,
        net,
        session,
        other_session,
        enrollment,
    }
}

async fn enrollment_status(app: &TestApp, desk: &Desk) -> String {
    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{}/enrollments", desk.session),
            Some(&desk.net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    roster["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == desk.enrollment.as_str())
        .map(|l| l["status"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "gone".into())
}

#[tokio::test]
async fn the_sign_in_page_is_thai_by_default_and_english_when_the_browser_prefers_it() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"th\">"));
    assert!(page.body.contains("เบอร์โทรศัพท์หรืออีเมล"));

    browser.language = Some("en-US,en;q=0.9");
    let page = browser.get("/console/login").await;
    assert!(page.body.contains("<html lang=\"en\">"));
    for words in ["Phone or e-mail", "Password", "Sign in"] {
        assert!(page.body.contains(words), "{words} missing");
    }

    // The switch wins over the browser, and is remembered.
    let switched = browser
        .get("/console/language?to=th&back=%2Fconsole%2Flogin")
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location.as_deref(), Some("/console/login"));
    let page = browser.get("/console/login").await;
    assert!(page.body.contains("<html lang=\"th\">"));

    // The switch goes back only to console pages.
    let away = browser
        .get("/console/language?to=en&back=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(away.location.as_deref(), Some("/console/today"));
}

#[tokio::test]
async fn signing_in_sets_a_cookie_scripts_cannot_read_sent_only_over_https_to_the_console() {
    let app = spawn_app().await;
    let staff = app.user_with_role("staff").await;
    let login = email_of(&app, &staff).await;
    let mut browser = Browser::new(&app);
    let page = browser.sign_in(&login, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("ocod_console="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/console"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    // The session is a login-session row like the app's.
    assert_eq!(app.count("auth_sessions").await, 2);

    // With --dev (plain http on a laptop) the cookie is not Secure, or nothing would work.
    let dev = spawn_configured(std::sync::Arc::new(TestDb::create()), &[], |s| {
        s.secure_cookies = false
    })
    .await;
    let staff = dev.user_with_role("staff").await;
    let login = email_of(&dev, &staff).await;
    let page = Browser::new(&dev).sign_in(&login, PASSWORD).await;
    let cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("ocod_console="))
        .expect("a session cookie");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn residents_are_told_the_console_is_for_staff_and_get_no_session() {
    let app = spawn_app().await;
    let phone = unique_phone();
    let res = app
        .register(json!({ "phone": phone, "password": PASSWORD, "display_name": "ผู้ทดสอบ" }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let sessions = app.count("auth_sessions").await;
    for (language, words) in [
        (None, "สำหรับเจ้าหน้าที่ศูนย์และผู้ดูแลระบบเท่านั้น"),
        (
            Some("en"),
            "This console is for center staff and admins only",
        ),
    ] {
        let mut browser = Browser::new(&app);
        browser.language = language;
        let page = browser.sign_in(&phone, PASSWORD).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains(words), "{}", page.body);
        assert!(page
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("ocod_console=")));
    }
    assert_eq!(app.count("auth_sessions").await, sessions);
}

#[tokio::test]
async fn a_wrong_password_is_shown_beside_the_field_and_locks_out_like_the_api() {
    let app = spawn_app_with_failures(3).await;
    let staff = app.user_with_role("staff").await;
    let login = email_of(&app, &staff).await;
    let mut browser = Browser::new(&app);
    let page = browser.sign_in(&login, "wrong-password").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("id=\"password-error\""));
    assert!(page.body.contains("aria-invalid=\"true\""));
    assert!(
        page.body.contains(&format!("value=\"{login}\"")),
        "the login is kept"
    );
    let page = browser.sign_in("", "x").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"login-error\""));
    browser.sign_in(&login, "wrong-password").await;
    browser.sign_in(&login, "wrong-password").await;
    // Locked: the right password is refused here and in the API, as after API failures.
    let page = browser.sign_in(&login, PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.login(&login, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn spawn_app_with_failures(n: u32) -> TestApp {
    crate::helpers::spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", &n.to_string())]).await
}

#[tokio::test]
async fn pages_need_a_sign_in_and_come_back_after_it() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut browser = Browser::new(&app);
    let wanted = format!("/console/sessions/{}", desk.session);
    for path in [
        "/console/today".to_string(),
        "/console/sessions/new".to_string(),
        wanted.clone(),
        format!("{wanted}/roster.csv"),
        format!("{wanted}/attendance.json"),
        format!("{wanted}/edit"),
        format!("{wanted}/cancel"),
        format!("/console/enrollments/{}/release", desk.enrollment),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location
                .as_deref()
                .unwrap()
                .starts_with("/console/login?next="),
            "{path}"
        );
    }
    // Posting without a session changes nothing.
    let page = browser
        .post(
            &format!("/console/enrollments/{}/attendance", desk.enrollment),
            &[("status", "attended")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(enrollment_status(&app, &desk).await, "confirmed");

    // Signing in from the redirect comes back to the page asked for.
    let page = browser.get(&wanted).await;
    let login_path = page.location.unwrap();
    let next = login_path
        .split("next=")
        .nth(1)
        .unwrap()
        .replace("%2F", "/");
    assert_eq!(next, wanted);
    let origin = app.address.clone();
    let page = browser
        .post_raw(
            "/console/login",
            &[
                ("login", &desk.staff_login),
                ("password", PASSWORD),
                ("next", &next),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(page.location.as_deref(), Some(wanted.as_str()));
}

#[tokio::test]
async fn forms_without_this_sessions_token_or_from_another_site_change_nothing() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut browser = Browser::signed_in(&app, &desk.staff_login).await;
    let path = format!("/console/enrollments/{}/attendance", desk.enrollment);
    let origin = app.address.clone();
    let token = browser.csrf.clone();

    let no_token = browser
        .post_raw(&path, &[("status", "attended")], Some(&origin))
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong_token = browser
        .post_raw(
            &path,
            &[("csrf", "AAAA"), ("status", "attended")],
            Some(&origin),
        )
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let other_site = browser
        .post_raw(
            &path,
            &[("csrf", &token), ("status", "attended")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(other_site.status, StatusCode::FORBIDDEN);
    let no_origin = browser
        .post_raw(&path, &[("csrf", &token), ("status", "attended")], None)
        .await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    assert!(
        no_origin.body.contains("<html lang=\"th\">"),
        "an HTML page in Thai"
    );

    // Another staff member's token does not fit this session.
    let other = Browser::signed_in(&app, &desk.other_staff_login).await;
    let theirs = browser
        .post_raw(
            &path,
            &[("csrf", &other.csrf), ("status", "attended")],
            Some(&origin),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(enrollment_status(&app, &desk).await, "confirmed");

    // A browser that sends Sec-Fetch-Site instead of Origin is fine when it says same-origin.
    let res = browser
        .request(reqwest::Method::POST, &path)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(
            serde_urlencoded::to_string([("csrf", token.as_str()), ("status", "attended")])
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(enrollment_status(&app, &desk).await, "attended");
}

#[tokio::test]
async fn signing_out_a_role_change_or_erasure_ends_the_console_session_at_once() {
    let app = spawn_app().await;
    let desk = desk(&app).await;

    let mut browser = Browser::signed_in(&app, &desk.staff_login).await;
    let page = browser.post("/console/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/console/login?signed_out=1")
    );
    // Even a browser that kept the cookie is signed out: the row is revoked.
    let mut kept = Browser::signed_in(&app, &desk.staff_login).await;
    let cookies = kept.cookies.clone();
    kept.post("/console/logout", &[]).await;
    kept.cookies = cookies;
    assert_eq!(
        kept.get("/console/today").await.status,
        StatusCode::SEE_OTHER
    );

    // An admin makes the staff member a resident: their next page is the sign-in page.
    let mut browser = Browser::signed_in(&app, &desk.staff_login).await;
    let res = app
        .patch_json(
            &format!("/api/v1/admin/users/{}", desk.net.staff.user_id),
            &json!({ "role": "resident" }),
            Some(&desk.net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        browser.get("/console/today").await.status,
        StatusCode::SEE_OTHER
    );

    // Erasure (DELETE /me) ends every session, the console's too.
    let mut browser = Browser::signed_in(&app, &desk.other_staff_login).await;
    let res = app
        .delete("/api/v1/me", Some(&desk.net.other_staff.access))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        browser.get("/console/today").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn staff_open_only_their_centers_sessions_and_admins_open_any() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let own = format!("/console/sessions/{}", desk.session);
    let other = format!("/console/sessions/{}", desk.other_session);
    let release = format!("/console/enrollments/{}/release", desk.enrollment);
    let pages = |session: &str| {
        vec![
            session.to_string(),
            format!("{session}/roster.csv"),
            format!("{session}/attendance.json"),
            format!("{session}/edit"),
            format!("{session}/cancel"),
        ]
    };
    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    let mut other_staff = Browser::signed_in(&app, &desk.other_staff_login).await;
    let mut admin = Browser::signed_in(&app, &desk.admin_login).await;
    for path in pages(&own).into_iter().chain([release.clone()]) {
        assert_eq!(
            staff.get(&path).await.status,
            StatusCode::OK,
            "staff {path}"
        );
        assert_eq!(
            admin.get(&path).await.status,
            StatusCode::OK,
            "admin {path}"
        );
        let refused = other_staff.get(&path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "other staff {path}");
        assert!(refused.body.contains("คุณไม่มีสิทธิ์ดูหน้านี้"));
    }
    for path in pages(&other) {
        assert_eq!(
            staff.get(&path).await.status,
            StatusCode::FORBIDDEN,
            "staff {path}"
        );
    }
    assert_eq!(
        staff.get("/console/sessions/no-such-session").await.status,
        StatusCode::NOT_FOUND
    );

    // Posting to another center's session or enrollment is refused and changes nothing.
    other_staff.get("/console/today").await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/console/enrollments/{}/attendance", desk.enrollment),
            vec![("status", "attended")],
        ),
        (
            format!("/console/enrollments/{}/release", desk.enrollment),
            vec![],
        ),
        (format!("{own}/cancel"), vec![]),
        (format!("{own}/check-in"), vec![("code", "22222-2222")]),
        (
            format!("{own}/walk-in"),
            vec![("phone", "0891234567"), ("name", "ผู้มาใหม่")],
        ),
        (
            format!("{own}/message"),
            vec![("title", "หัวข้อ"), ("body", "ข้อความ")],
        ),
        (
            format!("{own}/edit"),
            vec![
                ("date", "2099-01-01"),
                ("starts", "09:00"),
                ("ends", "10:00"),
                ("capacity", "9"),
                ("confirmed", "yes"),
            ],
        ),
    ];
    for (path, fields) in &posts {
        let page = other_staff.post(path, fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    }
    let session: Value = app
        .get(&format!("/api/v1/sessions/{}", desk.session), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["status"], "scheduled");
    assert_eq!(session["capacity"], 2);
    assert_eq!(session["seats_left"], 1);
    assert_eq!(enrollment_status(&app, &desk).await, "confirmed");

    // The admin's Today offers a center by code; an unknown code says so beside the field.
    let page = admin.get("/console/today?center=CDC-T-0002").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&desk.other_session));
    assert!(!page.body.contains(&desk.session));
    let page = admin.get("/console/today?center=CDC-NOPE").await;
    assert!(page.body.contains("id=\"center-error\""));
}

#[tokio::test]
async fn today_lists_my_centers_sessions_with_seats_and_the_waitlist() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // Fill the second seat and put someone on the waitlist.
    for _ in 0..2 {
        let resident = app.resident().await;
        assert_eq!(
            app.enroll(&desk.session, &resident.access).await.status(),
            StatusCode::CREATED
        );
    }
    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    let page = staff.get("/console/today").await;
    assert!(page
        .body
        .contains(&format!("/console/sessions/{}", desk.session)));
    assert!(
        !page.body.contains(&desk.other_session),
        "another center's session"
    );
    assert!(page.body.contains("2/2"));
    assert!(page.body.contains("รอคิว 1 คน"));
    assert!(page.body.contains("รู้ทันภัยออนไลน์"), "the course title");

    staff.language = Some("en");
    staff
        .get("/console/language?to=en&back=%2Fconsole%2Ftoday")
        .await;
    let page = staff.get("/console/today").await;
    assert!(page.body.contains("1 waiting"));
    assert!(page.body.contains("Online safety"));
    assert!(page.body.contains("Sign out"));
}

#[tokio::test]
async fn console_actions_are_the_apis_with_its_errors_beside_the_field_in_the_pages_language() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    let session = format!("/console/sessions/{}", desk.session);

    // One tap: attended, then corrected to no-show.
    for status in ["attended", "no_show"] {
        let page = staff
            .post(
                &format!("/console/enrollments/{}/attendance", desk.enrollment),
                &[("status", status)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location.unwrap().contains("done=attendance"));
        assert_eq!(enrollment_status(&app, &desk).await, status);
    }

    // A walk-in with a bad phone: the API's message beside the field, in Thai, then English.
    let users = app.count("users").await;
    let page = staff
        .post(
            &format!("{session}/walk-in"),
            &[("phone", "12345"), ("name", "ผู้มาใหม่")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"walk-in-phone-error\""));
    assert!(page
        .body
        .contains(ocod::i18n::Code::InvalidPhone.message(ocod::domain::Locale::Th)));
    assert!(
        page.body.contains("value=\"12345\""),
        "what was typed is kept"
    );
    staff
        .get("/console/language?to=en&back=%2Fconsole%2Ftoday")
        .await;
    let page = staff
        .post(
            &format!("{session}/walk-in"),
            &[("phone", "12345"), ("name", "New")],
        )
        .await;
    assert!(page
        .body
        .contains(ocod::i18n::Code::InvalidPhone.message(ocod::domain::Locale::En)));
    // A new phone without a name: the name is needed.
    let page = staff
        .post(
            &format!("{session}/walk-in"),
            &[("phone", &unique_phone()), ("name", "")],
        )
        .await;
    assert!(
        page.body.contains("id=\"walk-in-name-error\""),
        "{}",
        page.body
    );
    assert_eq!(
        app.count("users").await,
        users,
        "refused walk-ins made no account"
    );

    // A walk-in tapped twice (the same form sent again) is one enrollment.
    let phone = unique_phone();
    let page = staff.get(&format!("{session}?phone={phone}")).await;
    let once = once_in(&page.body).unwrap();
    for _ in 0..2 {
        let page = staff
            .post(
                &format!("{session}/walk-in"),
                &[("once", &once), ("phone", &phone), ("name", "ยายมา")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(page.location.unwrap().contains("done=walk_in"));
    }
    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{}/enrollments", desk.session),
            Some(&desk.net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roster["items"].as_array().unwrap().len(), 2);

    // The CSV is the API's.
    let res = staff
        .request(reqwest::Method::GET, &format!("{session}/roster.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.contains("ยายมา"));

    // Messaging everyone: an empty text is refused beside the field; a good one is sent.
    let page = staff
        .post(
            &format!("{session}/message"),
            &[("title", ""), ("body", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"message-title-error\""));
    // Sent twice from the same page (a double tap): one message.
    let once = once_in(&staff.get(&session).await.body).unwrap();
    for _ in 0..2 {
        let page = staff
            .post(
                &format!("{session}/message"),
                &[
                    ("once", once.as_str()),
                    ("title", "ห้องเรียนย้าย"),
                    ("body", "วันนี้เรียน\r\nห้อง 2"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let broadcasts: Value = app
        .get("/api/v1/admin/broadcasts", Some(&desk.net.admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(broadcasts["items"].as_array().unwrap().len(), 1);
    let sent = &broadcasts["items"][0];
    assert_eq!(sent["body"]["th"], "วันนี้เรียน\nห้อง 2");
    assert_eq!(sent["audience"]["kind"], "session");
    assert_eq!(sent["audience"]["value"], desk.session.as_str());

    // Resizing below the seats taken: the API's refusal, nothing changed.
    let page = staff
        .post(
            &format!("{session}/edit"),
            &[
                ("date", "2099-01-01"),
                ("starts", "09:00"),
                ("ends", "08:00"),
                ("capacity", "2"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-ends-error\""));

    // Cancelling: the confirmation says how many are told; then the API shows it cancelled.
    let page = staff.get(&format!("{session}/cancel")).await;
    assert!(page.body.contains("1 person will be told"), "{}", page.body);
    let page = staff.post(&format!("{session}/cancel"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cancelled: Value = app
        .get(&format!("/api/v1/sessions/{}", desk.session), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    // Cancelling again is the API's refusal, shown on the page.
    let page = staff.post(&format!("{session}/cancel"), &[]).await;
    assert!(page
        .body
        .contains(ocod::i18n::Code::SessionNotScheduled.message(ocod::domain::Locale::En)));
}

#[tokio::test]
async fn a_new_session_is_created_at_my_center_with_errors_beside_the_fields() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    let page = staff.get("/console/sessions/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&desk.net.course_id));
    let day = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let page = staff
        .post(
            "/console/sessions/new",
            &[
                ("center", &desk.net.center_id),
                ("course", ""),
                ("date", &day),
                ("starts", "25:00"),
                ("ends", "12:00"),
                ("capacity", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["f-course-error", "f-starts-error", "f-capacity-error"] {
        assert!(page.body.contains(field), "{field}");
    }
    // Another center's ID is the API's refusal.
    let page = staff
        .post(
            "/console/sessions/new",
            &[
                ("center", &desk.net.other_center_id),
                ("course", &desk.net.course_id),
                ("date", &day),
                ("starts", "09:00"),
                ("ends", "12:00"),
                ("capacity", "8"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = staff
        .post(
            "/console/sessions/new",
            &[
                ("center", &desk.net.center_id),
                ("course", &desk.net.course_id),
                ("date", &day),
                ("starts", "09:00"),
                ("ends", "12:00"),
                ("capacity", "8"),
                ("room", "ห้อง 2"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id = page
        .location
        .unwrap()
        .trim_start_matches("/console/sessions/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let created: Value = app
        .get(&format!("/api/v1/sessions/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["capacity"], 8);
    assert_eq!(created["room"], "ห้อง 2");
    assert_eq!(created["center"]["id"], desk.net.center_id.as_str());
    // 09:00 in Bangkok is 02:00 UTC.
    assert!(
        created["starts_at"].as_str().unwrap().contains("T02:00:00"),
        "{created}"
    );
}

#[tokio::test]
async fn unknown_pages_are_html_in_the_pages_language_and_the_stylesheet_is_cached() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/nothing-here").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("ไม่พบหน้านี้"));
    let login = browser.get("/console/login").await;
    let href_start = login.body.find("/console/static/console.css?v=").unwrap();
    let href_end = login.body[href_start..].find('"').unwrap();
    let href = &login.body[href_start..href_start + href_end];
    let res = app.client.get(app.url(href)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let res = app
        .client
        .get(app.url("/console/today"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let login = app
        .client
        .get(app.url("/console/login"))
        .send()
        .await
        .unwrap();
    let policy = login.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("form-action 'self'"));
}

#[tokio::test]
async fn a_walk_in_is_looked_up_by_phone_first() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    staff
        .get("/console/language?to=en&back=%2Fconsole%2Ftoday")
        .await;
    let session = format!("/console/sessions/{}", desk.session);

    // A resident already on the roster: found, and not offered again.
    let phone = unique_phone();
    let res = app
        .register(json!({ "phone": phone, "password": PASSWORD, "display_name": "ป้าแดง" }))
        .await;
    let known = TestApp::signed_in_from(res).await;
    let page = staff.get(&format!("{session}?phone={phone}")).await;
    assert!(
        page.body.contains("<strong>ป้าแดง</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Enroll</button>"));
    assert_eq!(
        app.enroll(&desk.session, &known.access).await.status(),
        StatusCode::CREATED
    );
    let page = staff.get(&format!("{session}?phone={phone}")).await;
    assert!(page.body.contains("Already on the roster"));
    assert!(!page.body.contains(">Enroll</button>"));

    // A new phone asks for a name; a phone that is not one is refused beside the field.
    let page = staff
        .get(&format!("{session}?phone={}", unique_phone()))
        .await;
    assert!(page.body.contains("No account has this phone yet"));
    assert!(page.body.contains("id=\"walk-in-name\""));
    let page = staff.get(&format!("{session}?phone=12345")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"walk-in-phone-error\""));
    assert!(!page.body.contains("id=\"walk-in-name\""));

    // Another center's staff cannot look people up through a session that is not theirs.
    let mut other = Browser::signed_in(&app, &desk.other_staff_login).await;
    let page = other.get(&format!("{session}?phone={phone}")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("ป้าแดง"));
}

#[tokio::test]
async fn staff_check_people_in_on_the_session_s_page_by_ticket_code() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let net = &desk.net;
    let soon = app
        .session_in(&net.staff.access, &net.center_id, &net.course_id, 5, 1)
        .await;
    let resident = app.resident().await;
    let seat: Value = app
        .enroll(&soon, &resident.access)
        .await
        .json()
        .await
        .unwrap();
    let seat_id = seat["id"].as_str().unwrap().to_string();
    let ticket: Value = app
        .get(
            &format!("/api/v1/me/enrollments/{seat_id}/ticket"),
            Some(&resident.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let code = ticket["code"].as_str().unwrap().to_string();
    let status_of = |session: String| {
        let (app, token, seat_id) = (&app, net.staff.access.clone(), seat_id.clone());
        async move {
            let roster: Value = app
                .get(
                    &format!("/api/v1/sessions/{session}/enrollments"),
                    Some(&token),
                )
                .await
                .json()
                .await
                .unwrap();
            roster["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["id"] == seat_id.as_str())
                .map(|l| l["status"].as_str().unwrap().to_string())
        }
    };

    let mut staff = Browser::signed_in(&app, &desk.staff_login).await;
    let page = format!("/console/sessions/{soon}");
    assert!(staff.get(&page).await.body.contains("เช็กอินแล้ว 0/1"));
    // A real ticket typed on another session's page: said beside the field, not checked
    // in elsewhere.
    let other_page = format!("/console/sessions/{}", desk.session);
    staff.get(&other_page).await;
    let refused = staff
        .post(&format!("{other_page}/check-in"), &[("code", &code)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"ticket-code-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("บัตรนี้เป็นของรอบอบรมอื่น"));
    assert!(
        refused.body.contains(&format!("value=\"{code}\"")),
        "the code is kept"
    );
    assert_eq!(status_of(soon.clone()).await.as_deref(), Some("confirmed"));

    // On its own page, typed in lower case: checked in, back at the person's line.
    staff.get(&page).await;
    let typed = code.to_lowercase();
    let done = staff
        .post(&format!("{page}/check-in"), &[("code", &typed)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let location = done.location.unwrap();
    assert!(
        location.contains("done=checked_in") && location.ends_with(&format!("#e-{seat_id}")),
        "{location}"
    );
    assert_eq!(status_of(soon.clone()).await.as_deref(), Some("attended"));
    let again = staff
        .post(&format!("{page}/check-in"), &[("code", &code)])
        .await;
    assert!(again.location.unwrap().contains("done=already_in"));
    let shown = staff.get(&page).await.body;
    assert!(shown.contains("เช็กอินแล้ว 1/1"), "the count follows");
    let now: Value =
        serde_json::from_str(&staff.get(&format!("{page}/attendance.json")).await.body).unwrap();
    assert_eq!(now, json!({ "attended": [seat_id], "seated": 1 }));
}

/// A sign-in storm beyond the password hashers gets the console's sign-in page again with
/// the busy message beside the password (503, in the page's language), not an error page;
/// the staff member then signs in.
#[tokio::test]
async fn a_sign_in_turned_away_as_busy_says_so_beside_the_password() {
    let app = crate::helpers::spawn_app_with(&[
        ("OCOD_PASSWORD_HASHERS", "1"),
        ("OCOD_PASSWORD_QUEUE", "0"),
        // The storm's wrong passwords must not lock the account for this test.
        ("OCOD_LOGIN_MAX_FAILURES", "100"),
    ])
    .await;
    let desk = desk(&app).await;
    let mut browsers: Vec<Browser> = (0..12).map(|_| Browser::new(&app)).collect();
    for browser in browsers.iter_mut() {
        browser.get("/console/login").await;
    }
    let origin = app.address.clone();
    let attempts = browsers.iter_mut().map(|browser| {
        let origin = origin.clone();
        let login = desk.staff_login.clone();
        async move {
            browser
                .post_raw(
                    "/console/login",
                    &[("login", &login), ("password", "not the password at all")],
                    Some(&origin),
                )
                .await
        }
    });
    let pages = futures_util::future::join_all(attempts).await;
    let busy: Vec<&Page> = pages
        .iter()
        .filter(|p| p.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "12 at once on one hasher with no queue");
    for page in &pages {
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(&page.status),
            "{}",
            page.status
        );
    }
    for page in busy {
        assert!(
            page.body
                .contains("<p class=\"error\" id=\"password-error\">ขณะนี้มีผู้ใช้งานจำนวนมาก"),
            "{}",
            page.body
        );
    }
    // One at a time, the staff member signs in.
    let mut browser = Browser::new(&app);
    let page = browser.sign_in(&desk.staff_login, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}
