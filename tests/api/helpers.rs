//! `spawn_app()`: a fresh database and a running server per test.

use std::collections::HashMap;

use diesel::connection::SimpleConnection;
use ocod::config::Settings;
use ocod::db::{DbPool, DbUrl};
use ocod::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// The database a test runs on; dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn create() -> Self {
        match std::env::var("OCOD_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) if matches!(DbUrl::parse(&admin_url), Ok(DbUrl::Postgres(_))) => {
                let name = format!("ocod_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = ocod::db::establish_postgres(&admin_url)
                    .expect("connect to OCOD_TEST_DATABASE_URL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = replace_database(&admin_url, &name);
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
            Some(other) => panic!("OCOD_TEST_DATABASE_URL must be a postgres:// URL, not {other}"),
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir
                    .path()
                    .join("ocod-test.db")
                    .to_string_lossy()
                    .into_owned();
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut admin) = ocod::db::establish_postgres(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| i + authority_start)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..path_start])
}

pub fn settings_for(db_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", db_url),
        ("OCOD_BIND", "127.0.0.1:0"),
        ("OCOD_JWT_SECRET", TEST_SECRET),
        ("OCOD_HTTP_WORKERS", "2"),
        ("OCOD_DB_POOL_SIZE", "8"),
        // No quiet hours unless a test asks: results must not depend on the time of day.
        ("OCOD_QUIET_HOURS", ""),
        // Tests sign many people up from one address; the limit has tests of its own.
        ("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|k| vars.get(k).cloned(), false).expect("valid test settings")
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub db: std::sync::Arc<TestDb>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_on(std::sync::Arc::new(TestDb::create()), overrides).await
}

/// Another server on the same database, as when several processes serve one PostgreSQL.
pub async fn spawn_on(db: std::sync::Arc<TestDb>, overrides: &[(&str, &str)]) -> TestApp {
    spawn_configured(db, overrides, |_| {}).await
}

/// A server whose settings `configure` may still change.
pub async fn spawn_configured(
    db: std::sync::Arc<TestDb>,
    overrides: &[(&str, &str)],
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        ocod::telemetry::init(ocod::config::LogFormat::Pretty, "info");
    }
    let mut settings = settings_for(db.url(), overrides);
    configure(&mut settings);
    let app = Application::build(settings).expect("build application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        pool,
        db,
    }
}

/// A signed-in user as the tests hold them: their ID and token pair.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl SignedIn {
    pub fn from_body(body: &Value) -> Self {
        SignedIn {
            user_id: body["user"]["id"].as_str().expect("user id").to_string(),
            access: body["access_token"]
                .as_str()
                .expect("access token")
                .to_string(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_string(),
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with a JSON body, with the bearer token if given.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, path, body, token)
            .await
    }

    pub async fn patch_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        self.send_json(reqwest::Method::PATCH, path, body, token)
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, token).await
    }

    pub async fn register(&self, body: Value) -> reqwest::Response {
        self.post_json("/api/v1/auth/register", &body, None).await
    }

    pub async fn login(&self, login: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({ "login": login, "password": password }),
            None,
        )
        .await
    }

    /// Quiet hours for `who` from an hour ago until `hours` from now (Bangkok time).
    pub async fn quiet_until(&self, who: &SignedIn, hours: i64) {
        use chrono::Timelike;
        let bangkok = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Bangkok);
        let at = |h: i64| {
            let t = bangkok + chrono::Duration::hours(h);
            format!("{:02}:{:02}", t.hour(), t.minute())
        };
        let res = self
            .patch_json(
                "/api/v1/me",
                &json!({ "quiet_hours": { "start": at(-1), "end": at(hours) } }),
                Some(&who.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// Registers a resident with a fresh phone number and returns their session.
    pub async fn resident(&self) -> SignedIn {
        let phone = unique_phone();
        let res = self
            .register(
                json!({ "phone": phone, "password": "password-123", "display_name": "ผู้ทดสอบ" }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        SignedIn::from_body(&res.json().await.expect("json"))
    }

    /// Creates a user with `role` straight in the database and logs them in over HTTP.
    pub async fn user_with_role(&self, role: &str) -> SignedIn {
        let email = format!("{role}-{}@test.ocod.th", uuid::Uuid::now_v7().simple());
        let args = ocod::cli::CreateUserArgs {
            role: match role {
                "admin" => ocod::cli::RoleArg::Admin,
                "staff" => ocod::cli::RoleArg::Staff,
                _ => ocod::cli::RoleArg::Resident,
            },
            phone: None,
            email: Some(email.clone()),
            password: "password-123".into(),
            name: None,
        };
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            ocod::cli::create_user(&mut pool.get().expect("conn"), &args).expect("create user")
        })
        .await
        .expect("join");
        let res = self.login(&email, "password-123").await;
        assert_eq!(res.status(), StatusCode::OK);
        SignedIn::from_body(&res.json().await.expect("json"))
    }

    pub async fn signed_in_from(res: reqwest::Response) -> SignedIn {
        SignedIn::from_body(&res.json().await.expect("json"))
    }

    /// Runs a query on the test database (for checking what was stored).
    pub async fn count(&self, sql_table: &'static str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().expect("conn");
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
                .get_result::<Count>(&mut conn)
                .expect("count")
                .n
        })
        .await
        .expect("join")
    }
}

/// A distinct valid Thai mobile number for each call.
pub fn unique_phone() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) + std::process::id() % 1000 * 10_000;
    format!("08{:08}", n % 100_000_000)
}

/// Reads a problem+json answer, checking its shape, and returns its `code`.
pub async fn problem_code(res: reqwest::Response) -> String {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content-type was {content_type}"
    );
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["status"], status, "{body}");
    for key in ["type", "title", "detail", "code"] {
        assert!(body[key].is_string(), "problem lacks {key}: {body}");
    }
    body["code"].as_str().unwrap_or_default().to_string()
}

/// Field errors of a validation problem as (field, code).
pub async fn field_errors(res: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["code"], "validation_failed", "{body}");
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A small network built through the API: two active centers with a staff member each,
/// a course, and an admin.
pub struct Network {
    pub admin: SignedIn,
    pub center_id: String,
    pub other_center_id: String,
    pub staff: SignedIn,
    pub other_staff: SignedIn,
    pub course_id: String,
}

/// An RFC 3339 time `hours` from now.
pub fn hours_from_now(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TestApp {
    /// A request without a body, with the bearer token if given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, path, token).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, token).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, token).await
    }

    /// Creates a center as `admin`, near (`lat`, `lon`), and returns its ID.
    pub async fn center(&self, admin: &SignedIn, code: &str, lat: f64, lon: f64) -> String {
        let res = self
            .post_json(
                "/api/v1/centers",
                &json!({
                    "code": code, "name_th": format!("ศูนย์ดิจิทัลชุมชน {code}"), "name_en": format!("{code} Community Digital Center"),
                    "province": "เชียงใหม่", "district": "เมืองเชียงใหม่", "subdistrict": "สุเทพ", "lat": lat, "lon": lon
                }),
                Some(&admin.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    pub async fn course(&self, admin: &SignedIn) -> String {
        let res = self
            .post_json(
                "/api/v1/courses",
                &json!({
                    "title_th": "รู้ทันภัยออนไลน์", "title_en": "Online safety", "description_th": "สังเกตลิงก์ปลอม",
                    "description_en": "Spot fake links.", "category": "online_safety", "level": "beginner", "duration_minutes": 120
                }),
                Some(&admin.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Schedules a session two days ahead with `capacity` seats; returns its ID.
    pub async fn session(
        &self,
        token: &str,
        center_id: &str,
        course_id: &str,
        capacity: i64,
    ) -> String {
        self.session_in(token, center_id, course_id, capacity, 48)
            .await
    }

    /// Schedules a two-hour session starting `hours` from now; returns its ID.
    pub async fn session_in(
        &self,
        token: &str,
        center_id: &str,
        course_id: &str,
        capacity: i64,
        hours: i64,
    ) -> String {
        let starts_at = chrono::Utc::now() + chrono::Duration::hours(hours);
        let ends_at = starts_at + chrono::Duration::hours(2);
        self.session_at(token, center_id, course_id, capacity, starts_at, ends_at)
            .await
    }

    /// Schedules a session from `starts_at` to `ends_at` (whole seconds, as sent); returns
    /// its ID.
    pub async fn session_at(
        &self,
        token: &str,
        center_id: &str,
        course_id: &str,
        capacity: i64,
        starts_at: chrono::DateTime<chrono::Utc>,
        ends_at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let at =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let res = self
            .post_json(
                &format!("/api/v1/centers/{center_id}/sessions"),
                &json!({ "course_id": course_id, "starts_at": at(starts_at), "ends_at": at(ends_at), "capacity": capacity }),
                Some(token),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap_or_default()
        );
        res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    pub async fn network(&self) -> Network {
        let admin = self.user_with_role("admin").await;
        let center_id = self.center(&admin, "CDC-T-0001", 18.7883, 98.9853).await;
        let other_center_id = self.center(&admin, "CDC-T-0002", 18.8053, 98.9503).await;
        let staff = self.user_with_role("staff").await;
        let other_staff = self.user_with_role("staff").await;
        for (center, member) in [(&center_id, &staff), (&other_center_id, &other_staff)] {
            let res = self
                .put(
                    &format!("/api/v1/centers/{center}/staff/{}", member.user_id),
                    Some(&admin.access),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        let course_id = self.course(&admin).await;
        Network {
            admin,
            center_id,
            other_center_id,
            staff,
            other_staff,
            course_id,
        }
    }

    /// `seated` takes the session's only seat, `waiting` joins the waitlist, then `seated`
    /// gives the seat up (so `waiting` is promoted).
    pub async fn give_up_seat_to(&self, session_id: &str, seated: &SignedIn, waiting: &SignedIn) {
        let seat: Value = self
            .enroll(session_id, &seated.access)
            .await
            .json()
            .await
            .expect("json");
        self.enroll(session_id, &waiting.access).await;
        let path = format!(
            "/api/v1/me/enrollments/{}",
            seat["id"].as_str().expect("id")
        );
        assert_eq!(
            self.delete(&path, Some(&seated.access)).await.status(),
            StatusCode::OK
        );
    }

    /// A resident with a phone (`device_token`) whose seat's session staff then cancel,
    /// so a `session_cancelled` notice is on its way to them.
    pub async fn resident_told_of_a_cancellation(&self, device_token: &str) -> SignedIn {
        let net = self.network().await;
        let session = self
            .session(&net.staff.access, &net.center_id, &net.course_id, 5)
            .await;
        let resident = self.resident().await;
        let res = self
            .post_json(
                "/api/v1/me/devices",
                &json!({ "token": device_token, "platform": "android" }),
                Some(&resident.access),
            )
            .await;
        assert!(res.status().is_success());
        assert_eq!(
            self.enroll(&session, &resident.access).await.status(),
            StatusCode::CREATED
        );
        let res = self
            .post(
                &format!("/api/v1/sessions/{session}/cancel"),
                Some(&net.staff.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        resident
    }

    /// The caller's inbox once the server's own worker has delivered something to it
    /// (failing the test after 10 s).
    pub async fn delivered_inbox(&self, token: &str) -> Value {
        for _ in 0..100 {
            let inbox: Value = self
                .get("/api/v1/me/notifications", Some(token))
                .await
                .json()
                .await
                .expect("json");
            if inbox["items"].as_array().is_some_and(|i| !i.is_empty()) {
                return inbox;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("nothing reached the inbox within 10 s");
    }

    pub async fn enroll(&self, session_id: &str, token: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/sessions/{session_id}/enrollments"),
            Some(token),
        )
        .await
    }

    /// Many residents at once, created straight in the database with one shared password
    /// hash (hashing 200 passwords would only slow the test), each with a live login.
    pub async fn many_residents(&self, n: usize) -> Vec<SignedIn> {
        let pool = self.pool.clone();
        let settings = settings_for(self.db.url(), &[]);
        tokio::task::spawn_blocking(move || {
            let keys = ocod::auth::TokenKeys::new(&settings).expect("keys");
            let hash = ocod::auth::password::hash_password("password-123").expect("hash");
            let mut conn = pool.get().expect("conn");
            (0..n)
                .map(|i| {
                    let now = ocod::db::now();
                    let user = ocod::models::users::NewUser {
                        id: ocod::domain::UserId::generate(),
                        phone: None,
                        email: Some(format!(
                            "resident{i}-{}@test.ocod.th",
                            uuid::Uuid::now_v7().simple()
                        )),
                        password_hash: hash.clone(),
                        display_name: format!("ผู้เรียน {i}"),
                        role: ocod::domain::Role::Resident,
                        locale: ocod::domain::Locale::Th,
                        created_at: now,
                        updated_at: now,
                    };
                    let user = ocod::models::users::create_user(&mut conn, &user)
                        .expect("insert")
                        .expect("unique");
                    let refresh = ocod::models::logins::start(
                        &mut conn,
                        &user.id,
                        None,
                        settings.refresh_token_ttl,
                    )
                    .expect("session");
                    let access = keys
                        .issue_access(&user.id, &refresh.session_id, ocod::domain::Role::Resident)
                        .expect("token");
                    SignedIn {
                        user_id: user.id.to_string(),
                        access,
                        refresh: refresh.token,
                    }
                })
                .collect()
        })
        .await
        .expect("join")
    }

    /// Whatever breaks the seat-keeping rules of one session, described; empty when sound.
    pub async fn seat_violations(&self, session_id: &str) -> Vec<String> {
        let pool = self.pool.clone();
        let session_id = ocod::domain::CourseSessionId::from_raw(session_id);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().expect("conn");
            let session = ocod::models::course_sessions::find(&mut conn, &session_id)
                .expect("query")
                .expect("session");
            let roster = ocod::models::enrollments::roster(&mut conn, &session_id).expect("roster");
            let mut problems = Vec::new();
            let seated = roster
                .iter()
                .filter(|e| {
                    matches!(
                        e.enrollment.status.as_str(),
                        "confirmed" | "attended" | "no_show"
                    )
                })
                .count() as i32;
            let waiting: Vec<_> = roster
                .iter()
                .filter(|e| e.enrollment.status == ocod::domain::EnrollmentStatus::Waitlisted)
                .collect();
            if seated != session.seats_taken {
                problems.push(format!(
                    "seats_taken is {} but {seated} hold seats",
                    session.seats_taken
                ));
            }
            if seated > session.capacity {
                problems.push(format!("{seated} seated in {} seats", session.capacity));
            }
            if waiting.len() as i32 != session.waitlist_count {
                problems.push(format!(
                    "waitlist_count is {} but {} wait",
                    session.waitlist_count,
                    waiting.len()
                ));
            }
            if !waiting.is_empty() && seated < session.capacity {
                problems.push(format!(
                    "{} wait while {} seats are free",
                    waiting.len(),
                    session.capacity - seated
                ));
            }
            let mut seqs: Vec<i32> = waiting
                .iter()
                .filter_map(|e| e.enrollment.waitlist_seq)
                .collect();
            let before = seqs.len();
            seqs.sort();
            seqs.dedup();
            if seqs.len() != before || before != waiting.len() {
                problems.push("waitlist tickets are missing or repeated".into());
            }
            let mut people: Vec<&str> = roster
                .iter()
                .map(|e| e.enrollment.user_id.as_str())
                .collect();
            people.sort();
            let total = people.len();
            people.dedup();
            if people.len() != total {
                problems.push("someone holds two live enrollments".into());
            }
            problems
        })
        .await
        .expect("join")
    }
}

impl TestApp {
    /// The kinds of the user's notifications, in any status.
    pub async fn notification_kinds(&self, user_id: &str) -> Vec<String> {
        self.notifications_of(user_id)
            .await
            .into_iter()
            .map(|(kind, _, _)| kind)
            .collect()
    }

    /// The user's notifications as (kind, status, due_at UTC), oldest due first.
    pub async fn notifications_of(
        &self,
        user_id: &str,
    ) -> Vec<(String, String, chrono::NaiveDateTime)> {
        use diesel::prelude::*;
        use ocod::schema::notifications::dsl as n;
        let pool = self.pool.clone();
        let user_id = user_id.to_string();
        tokio::task::spawn_blocking(move || {
            n::notifications
                .filter(n::user_id.eq(user_id))
                .select((n::kind, n::status, n::due_at))
                .order((n::due_at.asc(), n::kind.asc()))
                .load::<(String, String, chrono::NaiveDateTime)>(&mut pool.get().expect("conn"))
                .expect("notifications")
        })
        .await
        .expect("join")
    }
}

/// A server wired to a fake FCM, with its push worker stopped so tests run rounds
/// themselves (`rig.step()`), deterministically.
pub struct PushRig {
    pub app: TestApp,
    pub fake: ocod::push::fake::FakeFcm,
    pub worker: ocod::push::worker::PushWorker,
    /// The fake's service-account key file, for worker processes started by tests.
    pub key_path: String,
    _credentials: tempfile::TempDir,
}

/// A running fake FCM and a service-account key file for it (removed with the `TempDir`).
/// A fake FCM on a random port, served by the test's runtime.
pub fn running_fake_fcm() -> ocod::push::fake::FakeFcm {
    let (fake, server) = ocod::push::fake::FakeFcm::start("127.0.0.1:0").expect("fake FCM");
    tokio::spawn(server);
    fake
}

pub fn start_fake_fcm() -> (ocod::push::fake::FakeFcm, tempfile::TempDir, String) {
    let fake = running_fake_fcm();
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("service-account.json");
    let account = ocod::push::fake::service_account(&fake.base_url);
    std::fs::write(&key, serde_json::to_string(&account).expect("json")).expect("write key");
    let key_path = key.to_string_lossy().into_owned();
    (fake, dir, key_path)
}

pub async fn spawn_push_app(overrides: &[(&str, &str)]) -> PushRig {
    let (fake, dir, key_path) = start_fake_fcm();
    let mut all: Vec<(&str, &str)> = vec![
        ("GOOGLE_APPLICATION_CREDENTIALS", &key_path),
        ("OCOD_FCM_ENDPOINT", &fake.base_url),
    ];
    all.extend_from_slice(overrides);
    let db = std::sync::Arc::new(TestDb::create());
    let app = spawn_configured(db, &all, |s| s.run_worker = false).await;
    let settings = settings_for(app.db.url(), &all);
    let worker = ocod::push::worker::PushWorker::from_settings(app.pool.clone(), &settings, None)
        .expect("worker");
    PushRig {
        app,
        fake,
        worker,
        key_path: key_path.clone(),
        _credentials: dir,
    }
}

impl PushRig {
    pub async fn step(&self) -> ocod::push::worker::Step {
        self.worker.step().await.expect("worker round")
    }

    /// Runs worker rounds until `done` holds (or 20 s pass, failing the test).
    pub async fn step_until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let started = std::time::Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "gave up waiting for {what}"
            );
            if self.step().await.is_idle() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }

    pub async fn device(&self, session: &SignedIn, token: &str) {
        let res = self
            .app
            .post_json(
                "/api/v1/me/devices",
                &json!({ "token": token, "platform": "android" }),
                Some(&session.access),
            )
            .await;
        assert!(res.status().is_success());
    }
}

/// The seconds of a response's `Retry-After` (a whole number, as the server sends it).
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .expect("Retry-After is text")
        .parse()
        .expect("Retry-After is whole seconds")
}
