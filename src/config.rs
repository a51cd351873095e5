//! Settings read once from the environment (and `.env`), typed and validated at start.
//! Every variable is listed in `.env.example`.

use std::fmt;
use std::time::Duration;

use crate::db::DbUrl;
use crate::domain::{parse_duration, parse_offsets, QuietHours};

/// Log output: JSON lines for machines (production) or readable text for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DbUrl,
    pub bind: String,
    pub jwt_secret: Secret,
    /// True when the secret was generated for this process (`serve --dev`).
    pub jwt_secret_is_ephemeral: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Window in which a just-rotated refresh token may be presented again (two
    /// requests racing from the same phone) without being treated as theft.
    pub refresh_reuse_grace: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    /// How long a console sign-in lasts (`OCOD_CONSOLE_SESSION_TTL`, a working day).
    pub console_session_ttl: Duration,
    /// Whether the console's cookie is `Secure` (always, except with `serve --dev`).
    pub secure_cookies: bool,
    pub db_pool_size: u32,
    /// How often each process checks whether centers changed elsewhere.
    pub directory_refresh: Duration,
    pub http_workers: usize,
    /// How much one person may hold or send at a time.
    pub limits: Limits,
    /// Sign-ups one client address may make in an hour (`0`: no limit).
    pub signups_per_address_per_hour: u32,
    /// Password hashes run at once at most (`OCOD_PASSWORD_HASHERS`, one per core): each
    /// holds 19 MiB while it runs.
    pub password_hashers: usize,
    /// Sign-ups and logins that may wait for a hasher (`OCOD_PASSWORD_QUEUE`); more are
    /// answered 503 `server_busy` with `Retry-After`.
    pub password_queue: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`OCOD_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<crate::http::client_address::Cidr>,
    /// How long before a session reminders go out (`OCOD_REMINDER_OFFSETS`), longest first.
    pub reminder_offsets: Vec<Duration>,
    /// Server default quiet hours (`OCOD_QUIET_HOURS`); `None` disables them.
    pub quiet_hours: Option<QuietHours>,
    /// Service-account key for FCM; without it pushes only reach the in-app inbox.
    pub google_credentials: Option<std::path::PathBuf>,
    pub fcm_endpoint: String,
    /// Most pushes in flight at once per worker.
    pub push_concurrency: usize,
    /// Most pushes handed to FCM per second by this process (`OCOD_FCM_MAX_PER_SECOND`,
    /// default 10,000: Google's quota per project).
    pub fcm_max_per_second: u32,
    /// Attempts before a delivery is given up as failed.
    pub push_max_attempts: i32,
    /// How often an idle worker looks for due work.
    pub worker_poll: Duration,
    /// How long a claimed delivery stays a worker's before another may take it over (a
    /// worker that died mid-send); keep it well above the 10 s send timeout.
    pub push_lease: Duration,
    /// One-time sign-in codes: how long, how often, how many.
    pub otp: OtpSettings,
    /// How text messages go out (`OCOD_SMS_PROVIDER`).
    pub sms: SmsProvider,
    /// The LINE official account, when one is connected.
    pub line: Option<LineSettings>,
    /// The base of absolute URLs that leave the server (`OCOD_PUBLIC_URL`).
    pub public_url: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Whether `serve` runs the push worker too (`--no-worker` turns it off).
    pub run_worker: bool,
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// An HMAC-SHA256 (hex) of `value` under `key`, for `purpose` (see `Settings::keyed_hash`).
pub fn keyed_hash(key: &[u8], purpose: &str, value: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Settings {
    /// An HMAC-SHA256 (hex) of `value` under the server's secret, for `purpose`: how what a
    /// limit counts (an address, a phone) is stored without storing it.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        keyed_hash(self.jwt_secret.expose(), purpose, value)
    }

    /// What `keyed_hash` needs, to take along without the whole settings.
    pub fn hash_key(&self) -> Vec<u8> {
        self.jwt_secret.expose().to_vec()
    }

    /// Keys failed-login records by a keyed hash of the login (see `login_throttle`).
    pub fn login_keyer(&self) -> crate::models::login_throttle::LoginKeyer {
        crate::models::login_throttle::LoginKeyer::new(self.jwt_secret.expose())
    }

    /// Reads the process environment. `dev` relaxes the secret requirement.
    pub fn from_env(dev: bool) -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok(), dev)
    }

    /// Reads settings through `lookup`, collecting every problem rather than stopping
    /// at the first, so an operator fixes them all in one go.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        dev: bool,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        let database_url =
            match DbUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "./ocod.db".into())) {
                Ok(url) => Some(url),
                Err(e) => {
                    problems.push(e);
                    None
                }
            };

        let (jwt_secret, jwt_secret_is_ephemeral) = match get("OCOD_JWT_SECRET") {
            Some(s) if s.len() >= MIN_JWT_SECRET_BYTES => (Secret(s.into_bytes()), false),
            Some(s) => {
                problems.push(format!(
                    "OCOD_JWT_SECRET is {} bytes; it must be at least {MIN_JWT_SECRET_BYTES} \
                     (try: openssl rand -base64 48)",
                    s.len()
                ));
                (Secret(Vec::new()), false)
            }
            None if dev => {
                let mut bytes = vec![0u8; 48];
                if let Err(e) = getrandom::fill(&mut bytes) {
                    problems.push(format!("cannot generate a development secret: {e}"));
                }
                (Secret(bytes), true)
            }
            None => {
                problems.push(
                    "OCOD_JWT_SECRET is not set; it must be at least 32 bytes \
                     (try: openssl rand -base64 48), or run `ocod serve --dev`"
                        .into(),
                );
                (Secret(Vec::new()), false)
            }
        };

        let mut duration = |key: &str, default: &str| -> Duration {
            let raw = get(key).unwrap_or_else(|| default.into());
            parse_duration(&raw).unwrap_or_else(|e| {
                problems.push(format!("{key}: {e}"));
                Duration::ZERO
            })
        };
        let access_token_ttl = duration("OCOD_ACCESS_TOKEN_TTL", "15m");
        let refresh_token_ttl = duration("OCOD_REFRESH_TOKEN_TTL", "60d");
        let refresh_reuse_grace = duration("OCOD_REFRESH_REUSE_GRACE", "10s");
        let login_lockout = duration("OCOD_LOGIN_LOCKOUT", "15m");
        let console_session_ttl = duration("OCOD_CONSOLE_SESSION_TTL", "12h");
        let directory_refresh = duration("OCOD_DIRECTORY_REFRESH", "1s");
        let worker_poll = duration("OCOD_WORKER_POLL", "1s");
        let push_lease = duration("OCOD_PUSH_LEASE", "60s");
        let otp_ttl = duration("OCOD_OTP_TTL", "10m").max(Duration::from_secs(1));
        let otp_resend_after = duration("OCOD_OTP_RESEND_AFTER", "60s");

        let mut number = |key: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(key) {
                None => default,
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        problems.push(format!(
                            "{key} must be a whole number from {min} to {max}, not `{raw}`"
                        ));
                        default
                    }
                },
            }
        };
        let login_max_failures = number("OCOD_LOGIN_MAX_FAILURES", 5, 1, 1000) as u32;
        let db_pool_size = number("OCOD_DB_POOL_SIZE", 16, 1, 512) as u32;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2) as u64;
        let http_workers = number("OCOD_HTTP_WORKERS", cores, 1, 256) as usize;
        let push_concurrency = number("OCOD_PUSH_CONCURRENCY", 1_000, 1, 10_000) as usize;
        let fcm_max_per_second = number("OCOD_FCM_MAX_PER_SECOND", 10_000, 1, 1_000_000) as u32;
        let push_max_attempts = number("OCOD_PUSH_MAX_ATTEMPTS", 8, 1, 50) as i32;
        let limits = Limits {
            upcoming_enrollments: number("OCOD_MAX_UPCOMING_ENROLLMENTS", 10, 1, 1000) as i64,
            waitlisted: number("OCOD_MAX_WAITLISTED", 5, 0, 1000) as i64,
            broadcasts_per_day: number("OCOD_MAX_BROADCASTS_PER_DAY", 20, 1, 10_000) as i64,
        };
        let signups_per_address_per_hour =
            number("OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR", 20, 0, 1_000_000) as u32;
        let password_hashers = number("OCOD_PASSWORD_HASHERS", cores, 1, 256) as usize;
        let password_queue = number("OCOD_PASSWORD_QUEUE", 64, 0, 100_000) as usize;
        let otp = OtpSettings {
            ttl: otp_ttl,
            resend_after: otp_resend_after,
            per_phone_per_hour: number("OCOD_OTP_PER_PHONE_PER_HOUR", 5, 1, 1000) as u32,
            per_address_per_hour: number("OCOD_OTP_PER_ADDRESS_PER_HOUR", 30, 1, 1_000_000) as u32,
            per_day: number("OCOD_OTP_PER_DAY", 10_000, 1, 100_000_000) as u32,
        };
        let trusted_proxies = match crate::http::client_address::Cidr::parse_list(
            &get("OCOD_TRUSTED_PROXIES").unwrap_or_default(),
        ) {
            Ok(list) => list,
            Err(e) => {
                problems.push(format!("OCOD_TRUSTED_PROXIES: {e}"));
                Vec::new()
            }
        };

        // Unset means the default; set but empty means none.
        let reminder_offsets = match parse_offsets(
            &lookup("OCOD_REMINDER_OFFSETS").unwrap_or_else(|| "24h,1h".into()),
        ) {
            Ok(offsets) => offsets,
            Err(e) => {
                problems.push(format!("OCOD_REMINDER_OFFSETS: {e}"));
                Vec::new()
            }
        };
        let quiet_hours = match QuietHours::parse_setting(
            &lookup("OCOD_QUIET_HOURS").unwrap_or_else(|| "21:00-07:00".into()),
        ) {
            Ok(q) => q,
            Err(e) => {
                problems.push(format!("OCOD_QUIET_HOURS: {e}"));
                None
            }
        };
        let google_credentials =
            get("GOOGLE_APPLICATION_CREDENTIALS").map(std::path::PathBuf::from);
        if let Some(path) = &google_credentials {
            if !path.is_file() {
                problems.push(format!(
                    "GOOGLE_APPLICATION_CREDENTIALS names {}, which is not a readable file",
                    path.display()
                ));
            }
        }
        let fcm_endpoint = get("OCOD_FCM_ENDPOINT")
            .unwrap_or_else(|| "https://fcm.googleapis.com".into())
            .trim_end_matches('/')
            .to_string();
        if !(fcm_endpoint.starts_with("https://") || fcm_endpoint.starts_with("http://")) {
            problems.push(format!(
                "OCOD_FCM_ENDPOINT must be an http(s) URL, not `{fcm_endpoint}`"
            ));
        }

        let twilio_endpoint = get("OCOD_TWILIO_ENDPOINT")
            .unwrap_or_else(|| "https://api.twilio.com".into())
            .trim_end_matches('/')
            .to_string();
        if !(twilio_endpoint.starts_with("https://") || twilio_endpoint.starts_with("http://")) {
            problems.push(format!(
                "OCOD_TWILIO_ENDPOINT must be an http(s) URL, not `{twilio_endpoint}`"
            ));
        }
        let twilio = |problems: &mut Vec<String>| {
            let mut need = |key: &str| {
                get(key).unwrap_or_else(|| {
                    problems.push(format!("{key} must be set when OCOD_SMS_PROVIDER=twilio"));
                    String::new()
                })
            };
            SmsProvider::Twilio(TwilioSettings {
                account_sid: need("TWILIO_ACCOUNT_SID"),
                auth_token: Secret(need("TWILIO_AUTH_TOKEN").into_bytes()),
                from: need("OCOD_SMS_FROM"),
                endpoint: twilio_endpoint.clone(),
            })
        };
        let sms = match get("OCOD_SMS_PROVIDER").as_deref() {
            Some("log") => SmsProvider::Log,
            Some("twilio") => twilio(&mut problems),
            // Unset: Twilio when it is configured; otherwise the log (and a warning at
            // start, outside `--dev`).
            None if get("TWILIO_ACCOUNT_SID").is_some() && !dev => twilio(&mut problems),
            None => SmsProvider::Log,
            Some(other) => {
                problems.push(format!(
                    "OCOD_SMS_PROVIDER must be `twilio` or `log`, not `{other}`"
                ));
                SmsProvider::Log
            }
        };

        let line_endpoint = get("OCOD_LINE_ENDPOINT")
            .unwrap_or_else(|| "https://api.line.me".into())
            .trim_end_matches('/')
            .to_string();
        if !(line_endpoint.starts_with("https://") || line_endpoint.starts_with("http://")) {
            problems.push(format!(
                "OCOD_LINE_ENDPOINT must be an http(s) URL, not `{line_endpoint}`"
            ));
        }
        let line = match (
            get("OCOD_LINE_CHANNEL_SECRET"),
            get("OCOD_LINE_CHANNEL_TOKEN"),
        ) {
            (Some(secret), Some(token)) => Some(LineSettings {
                channel_secret: Secret(secret.into_bytes()),
                channel_token: Secret(token.into_bytes()),
                endpoint: line_endpoint,
                add_friend_url: get("OCOD_LINE_ADD_FRIEND_URL"),
            }),
            (None, None) => None,
            _ => {
                problems.push(
                    "OCOD_LINE_CHANNEL_SECRET and OCOD_LINE_CHANNEL_TOKEN are set together".into(),
                );
                None
            }
        };

        let log_format = match get("OCOD_LOG_FORMAT").as_deref() {
            None if dev => LogFormat::Pretty,
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                problems.push(format!(
                    "OCOD_LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                ));
                LogFormat::Json
            }
        };
        // RUST_LOG as Rust programs read it, when OCOD_LOG does not say.
        let log_filter = get("OCOD_LOG")
            .or_else(|| get("RUST_LOG"))
            .unwrap_or_else(|| "info".into());

        if access_token_ttl > Duration::ZERO && access_token_ttl < Duration::from_secs(10) {
            problems.push("OCOD_ACCESS_TOKEN_TTL must be at least 10s".into());
        }

        let bind = get("OCOD_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = get("OCOD_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if bind.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "OCOD_BIND must be HOST:PORT with an IP address, not `{bind}`"
            ));
        }

        match database_url {
            Some(database_url) if problems.is_empty() => Ok(Settings {
                database_url,
                bind,
                jwt_secret,
                jwt_secret_is_ephemeral,
                access_token_ttl,
                refresh_token_ttl,
                refresh_reuse_grace,
                login_max_failures,
                login_lockout,
                console_session_ttl,
                secure_cookies: !dev,
                db_pool_size,
                directory_refresh: directory_refresh.max(Duration::from_secs(1)),
                http_workers,
                limits,
                signups_per_address_per_hour,
                password_hashers,
                password_queue,
                trusted_proxies,
                reminder_offsets,
                quiet_hours,
                google_credentials,
                fcm_endpoint,
                push_concurrency,
                fcm_max_per_second,
                push_max_attempts,
                worker_poll: worker_poll.max(Duration::from_millis(100)),
                push_lease: push_lease.max(Duration::from_secs(1)),
                otp,
                sms,
                line,
                public_url,
                log_format,
                log_filter,
                run_worker: true,
            }),
            _ => Err(ConfigError(problems)),
        }
    }
}

/// The rules of one-time sign-in codes (PRODUCT.md section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSettings {
    /// How long a code works (`OCOD_OTP_TTL`, 10 minutes).
    pub ttl: Duration,
    /// The least time between two codes for one phone (`OCOD_OTP_RESEND_AFTER`, 60 s).
    pub resend_after: Duration,
    pub per_phone_per_hour: u32,
    pub per_address_per_hour: u32,
    /// Codes sent by the whole server in 24 hours (`OCOD_OTP_PER_DAY`): a ceiling on
    /// what an attack can cost in SMS.
    pub per_day: u32,
}

/// How text messages are sent.
#[derive(Debug, Clone)]
pub enum SmsProvider {
    /// Written to the log only (the default with `--dev`; needs nothing).
    Log,
    Twilio(TwilioSettings),
}

/// Twilio Programmable Messaging.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    /// A sender number (`+1…`, an alphanumeric sender ID) or a Messaging Service SID
    /// (`MG…`), sent as `From` or `MessagingServiceSid`.
    pub from: String,
    /// `OCOD_TWILIO_ENDPOINT` (https://api.twilio.com; a stand-in's address in tests).
    pub endpoint: String,
}

/// The LINE Messaging API channel of OCOD's official account.
#[derive(Debug, Clone)]
pub struct LineSettings {
    /// Signs the webhook's requests (`x-line-signature`).
    pub channel_secret: Secret,
    /// A channel access token, for replies and pushes.
    pub channel_token: Secret,
    /// `OCOD_LINE_ENDPOINT` (https://api.line.me; a stand-in's address in tests).
    pub endpoint: String,
    /// Where residents add the official account as a friend (`OCOD_LINE_ADD_FRIEND_URL`).
    pub add_friend_url: Option<String>,
}

/// Per-person limits that keep one account (or a stolen token) from taking a whole
/// center's seats or flooding residents' phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Confirmed seats in sessions that have not ended (`OCOD_MAX_UPCOMING_ENROLLMENTS`).
    pub upcoming_enrollments: i64,
    /// Places on waitlists of sessions that have not started (`OCOD_MAX_WAITLISTED`).
    pub waitlisted: i64,
    /// Broadcasts one staff member or admin may create in 24 hours
    /// (`OCOD_MAX_BROADCASTS_PER_DAY`).
    pub broadcasts_per_day: i64,
}

/// Every problem found in the configuration, one per line.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)], dev: bool) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned(), dev)
    }

    #[test]
    fn a_secret_is_required_outside_dev_mode() {
        let err = settings(&[], false).unwrap_err();
        assert!(
            err.to_string().contains("OCOD_JWT_SECRET is not set"),
            "{err}"
        );
        assert!(settings(&[], true).unwrap().jwt_secret_is_ephemeral);
    }

    #[test]
    fn the_log_filter_is_ocod_log_then_rust_log_then_info() {
        let filter = |vars: &[(&str, &str)]| settings(vars, true).unwrap().log_filter;
        assert_eq!(filter(&[]), "info");
        assert_eq!(filter(&[("RUST_LOG", "ocod=debug")]), "ocod=debug");
        assert_eq!(
            filter(&[("RUST_LOG", "ocod=debug"), ("OCOD_LOG", "warn")]),
            "warn"
        );
    }

    #[test]
    fn a_short_secret_is_refused_even_in_dev_mode() {
        let err = settings(&[("OCOD_JWT_SECRET", "too-short")], true).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = settings(
            &[
                ("DATABASE_URL", "mysql://x"),
                ("OCOD_ACCESS_TOKEN_TTL", "soon"),
                ("OCOD_DB_POOL_SIZE", "0"),
                ("OCOD_BIND", "localhost"),
            ],
            true,
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
    }

    #[test]
    fn defaults_are_sensible() {
        let s = settings(&[("OCOD_JWT_SECRET", &"x".repeat(32))], false).unwrap();
        assert_eq!(s.access_token_ttl, Duration::from_secs(900));
        assert_eq!(s.database_url, DbUrl::Sqlite("./ocod.db".into()));
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(
            s.limits,
            Limits {
                upcoming_enrollments: 10,
                waitlisted: 5,
                broadcasts_per_day: 20
            }
        );
    }
}

#[cfg(test)]
mod env_example_tests {
    /// `.env.example` is the operator's list of settings: it must name every one read here.
    #[test]
    fn env_example_lists_every_setting() {
        let source = include_str!("config.rs");
        let example = include_str!("../.env.example");
        let mut missing = Vec::new();
        for piece in source.split('"').skip(1).step_by(2) {
            let is_setting = piece == "DATABASE_URL"
                || (piece.starts_with("OCOD_")
                    && piece.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            if is_setting && !example.contains(&format!("{piece}=")) {
                missing.push(piece.to_string());
            }
        }
        assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    }
}
