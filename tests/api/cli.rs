//! The `ocod` binary: configuration errors are clear, and `user create` makes accounts
//! the API accepts.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

fn ocod(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ocod"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run ocod")
}

#[tokio::test]
async fn user_create_makes_an_admin_who_can_log_in() {
    let app = spawn_app().await;
    let out = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "admin",
            "--email",
            "Chief@Example.co.th",
            "--password",
            "admin-password",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = app.login("chief@example.co.th", "admin-password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");

    let again = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "staff",
            "--email",
            "chief@example.co.th",
            "--password",
            "x-password",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = ocod(
        app.db.url(),
        &[
            "user",
            "create",
            "--role",
            "staff",
            "--phone",
            "12",
            "--password",
            "x-password",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--phone"));
}

#[test]
fn an_unknown_database_scheme_is_refused_clearly() {
    let out = ocod("mysql://root@localhost/ocod", &["migrate"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scheme `mysql` is not supported"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_to_start_without_a_secret_outside_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let out = ocod(db.to_str().unwrap(), &["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OCOD_JWT_SECRET is not set"), "{stderr}");
}

#[tokio::test]
async fn seed_demo_loads_the_whole_network_and_logins_that_work() {
    let app = spawn_app().await;
    let out = ocod(app.db.url(), &["seed-demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2394 centers in 77 provinces"), "{stdout}");
    assert_eq!(app.count("centers").await, 2394);
    assert!(app.count("course_sessions").await >= 4000);

    // Loading again changes nothing.
    let again = ocod(app.db.url(), &["seed-demo"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("not loaded"));
    assert_eq!(app.count("centers").await, 2394);

    // The demo staff member runs a center in Chiang Mai and can see its rosters.
    let res = app.login("staff@demo.ocod.th", "demo-staff-pass").await;
    assert_eq!(res.status(), StatusCode::OK);
    let resident = app.login("0812345678", "demo-resident-pass").await;
    assert_eq!(resident.status(), StatusCode::OK);
    // This server loaded its directory before the seed; another process's change shows
    // after the refresh interval.
    let mut found = 0;
    for _ in 0..50 {
        let page: Value = app
            .get("/api/v1/centers?province=Chiang%20Mai&limit=100", None)
            .await
            .json()
            .await
            .unwrap();
        found = page["items"].as_array().unwrap().len();
        if found > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found > 20, "{found}");
}

#[tokio::test]
async fn import_centers_loads_a_good_file_and_nothing_of_a_bad_one() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "\u{feff}code,name_th,name_en,province,district,subdistrict,lat,lon,status,phone\n\
         CDC-X-1,ศูนย์ดิจิทัลชุมชนตำบลสุเทพ,Suthep Community Digital Center,เชียงใหม่,เมืองเชียงใหม่,สุเทพ,18.80,98.95,active,053 123 456\n\
         CDC-X-2,\"ศูนย์ฯ บ้านใหม่, หมู่ 3\",Ban Mai Community Digital Center,Loei,เมืองเลย,กุดป่อง,17.48,101.72,under_construction,\n",
    )
    .unwrap();
    let out = ocod(app.db.url(), &["import-centers", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.count("centers").await, 2);

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,name_th,name_en,province,district,subdistrict,lat,lon\n\
         CDC-Y-1,ก,A,Loei,d,s,17.4,101.7\n\
         CDC-Y-2,ก,A,Atlantis,d,s,17.4,101.7\n\
         CDC-Y-3,ก,A,Loei,d,s,north,101.7\n\
         CDC-X-1,ก,A,Loei,d,s,17.4,101.7\n\
         CDC-Y-1,ก,A,Loei,d,s,17.4,101.7\n",
    )
    .unwrap();
    let out = ocod(app.db.url(), &["import-centers", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "line 3: province",
        "line 4: lat",
        "line 5: code CDC-X-1 already exists",
        "line 6: code CDC-Y-1 repeats line 2",
        "nothing was imported",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        app.count("centers").await,
        2,
        "the good first row of a bad file was not imported"
    );

    let missing_column = dir.path().join("columns.csv");
    std::fs::write(&missing_column, "code,name_th\nX,Y\n").unwrap();
    let out = ocod(
        app.db.url(),
        &["import-centers", missing_column.to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing column `name_en`"));
}
