//! Does a failed login take the same time whether or not the account exists?
//! Prints the median and 90th percentile of each kind of attempt and their ratio,
//! measured against one server in one run (`cargo bench --bench login_timing`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ocod::config::Settings;
use ocod::startup::Application;
use serde_json::json;

const ROUNDS: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let vars: HashMap<&str, String> = HashMap::from([
        (
            "DATABASE_URL",
            dir.path().join("bench.db").to_string_lossy().into_owned(),
        ),
        ("OCOD_BIND", "127.0.0.1:0".into()),
        (
            "OCOD_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-0123".into(),
        ),
        ("OCOD_LOGIN_MAX_FAILURES", "1000".into()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned(), false)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = Application::build(settings)?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let login = |login: String, password: &'static str| {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let started = Instant::now();
            let res = client
                .post(url)
                .json(&json!({ "login": login, "password": password }))
                .send()
                .await?;
            let status = res.status().as_u16();
            res.bytes().await?;
            anyhow::Ok((started.elapsed(), status))
        }
    };
    client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({ "phone": "0811111111", "password": "right-password", "display_name": "Bench" }))
        .send()
        .await?;

    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    // Interleave the two kinds so drift in machine load affects both alike.
    for i in 0..ROUNDS {
        let (t, status) = login("0811111111".into(), "wrong-password").await?;
        assert_eq!(status, 401);
        wrong.push(t);
        let (t, status) = login(format!("nobody{i}@example.com"), "wrong-password").await?;
        assert_eq!(status, 401);
        unknown.push(t);
    }
    wrong.sort();
    unknown.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("login timing over {ROUNDS} attempts each (release build, SQLite)");
    println!(
        "  wrong password, existing account: median {:7.2} ms  p90 {:7.2} ms",
        ms(percentile(&wrong, 0.5)),
        ms(percentile(&wrong, 0.9))
    );
    println!(
        "  unknown account:                  median {:7.2} ms  p90 {:7.2} ms",
        ms(percentile(&unknown, 0.5)),
        ms(percentile(&unknown, 0.9))
    );
    println!(
        "  ratio unknown / wrong (median):   {:.3}",
        percentile(&unknown, 0.5).as_secs_f64() / percentile(&wrong, 0.5).as_secs_f64()
    );
    Ok(())
}
