//! The `ocod` command line: serve the API, migrate, manage users, load demo data.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::password::hash_password;
use crate::config::Settings;
use crate::db::{self, DbConn};
use crate::domain::{DisplayName, Email, Locale, Password, Phone, Role, UserId};
use crate::models::users::{self, CreateUserError, NewUser};
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "ocod",
    version,
    about = "Backend of Thailand's Community Digital Centers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrating the database first).
    Serve(ServeArgs),
    /// Run only the push worker (any number may share one PostgreSQL).
    Worker,
    /// Run a fake of FCM for developing the app without Google (see the README).
    FakeFcm {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
        /// Write a service-account key for the fake here, to use as
        /// GOOGLE_APPLICATION_CREDENTIALS.
        #[arg(long, default_value = "fake-fcm-service-account.json")]
        credentials_out: std::path::PathBuf,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Load the demo network (77 provinces, 2,394 centers, courses, sessions) and one
    /// account per role into an empty database.
    SeedDemo {
        /// Same seed, same network.
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Load centers from a CSV file (see the README for the columns); all or nothing.
    ImportCenters { file: std::path::PathBuf },
    /// Copy the SQLite database to a new file while servers keep running (PostgreSQL:
    /// use pg_dump, see the README).
    Backup {
        /// The file to write; must not exist yet.
        path: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Development mode: readable logs, and a throw-away JWT secret if none is set.
    #[arg(long)]
    pub dev: bool,
    /// Load the demo data on first start of an empty database.
    #[arg(long)]
    pub demo: bool,
    /// Serve the API only; run the push worker elsewhere (`ocod worker`).
    #[arg(long)]
    pub no_worker: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with any role (the only way to make the first admin).
    Create(CreateUserArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Resident,
    Staff,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Resident => Role::Resident,
            RoleArg::Staff => Role::Staff,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("login").required(true).multiple(true).args(["phone", "email"]))]
pub struct CreateUserArgs {
    #[arg(long, value_enum)]
    pub role: RoleArg,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub password: String,
    /// Name shown in the apps (defaults to the phone number or e-mail).
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs the parsed command; the binary's `main` only loads `.env` and calls this.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Worker => run_worker(),
        Command::FakeFcm {
            bind,
            credentials_out,
        } => fake_fcm(&bind, &credentials_out),
        Command::Migrate => {
            let settings = command_settings()?;
            let pool = db::build_pool(&settings.database_url, 1)?;
            let applied = db::run_migrations(&mut *pool.get()?)?;
            println!(
                "{} migration(s) applied to {}",
                applied.len(),
                settings.database_url.redacted()
            );
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let settings = command_settings()?;
            let mut conn = migrated_connection(&settings)?;
            let user = create_user(&mut conn, &args)?;
            println!(
                "created {} {} ({})",
                user.role,
                user.id,
                user.phone.or(user.email).unwrap_or_default()
            );
            Ok(())
        }
        Command::SeedDemo { seed } => {
            let settings = command_settings()?;
            let mut conn = migrated_connection(&settings)?;
            seed_demo(&mut conn, seed)
        }
        Command::Backup { path } => {
            let settings = command_settings()?;
            let report = crate::backup::backup(&settings.database_url, &path)?;
            println!(
                "backup of {} written to {} ({} bytes, integrity ok): {} user(s), {} enrollment(s)",
                settings.database_url.redacted(),
                report.path.display(),
                report.bytes,
                report.users,
                report.enrollments
            );
            Ok(())
        }
        Command::ImportCenters { file } => {
            let settings = command_settings()?;
            let mut conn = migrated_connection(&settings)?;
            let text = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            match crate::import::import_centers(&mut conn, &text)? {
                Ok(n) => {
                    println!("imported {n} center(s) from {}", file.display());
                    Ok(())
                }
                Err(problems) => {
                    for problem in &problems {
                        eprintln!("{}: {problem}", file.display());
                    }
                    anyhow::bail!(
                        "nothing was imported: {} problem(s) in {}",
                        problems.len(),
                        file.display()
                    )
                }
            }
        }
    }
}

/// Settings for one-off commands, which sign no tokens and so need no JWT secret.
fn command_settings() -> anyhow::Result<Settings> {
    let settings = Settings::from_env(true)?;
    telemetry::init(crate::config::LogFormat::Pretty, &settings.log_filter);
    Ok(settings)
}

fn migrated_connection(
    settings: &Settings,
) -> anyhow::Result<r2d2::PooledConnection<db::DbManager>> {
    let pool = db::build_pool(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::from_env(args.dev)?;
    settings.run_worker = !args.no_worker;
    let _logs = telemetry::init_background(settings.log_format, &settings.log_filter);
    if settings.jwt_secret_is_ephemeral {
        tracing::warn!("development mode: OCOD_JWT_SECRET is not set, using a random one; tokens end with this process");
    }
    tracing::info!(database = %settings.database_url.redacted(), bind = %settings.bind, "starting ocod");
    let app = Application::build(settings)?;
    if args.demo {
        let mut conn = app.pool().get()?;
        seed_demo(&mut conn, crate::demo::DEFAULT_SEED)?;
    }
    tracing::info!(port = app.port(), "listening");
    actix_web::rt::System::new().block_on(app.run_until_stopped())?;
    tracing::info!("stopped");
    Ok(())
}

/// `ocod worker`: the push worker alone, until SIGINT or SIGTERM.
fn run_worker() -> anyhow::Result<()> {
    let settings = Settings::from_env(true)?;
    let _logs = telemetry::init_background(settings.log_format, &settings.log_filter);
    let pool = db::build_pool(&settings.database_url, settings.db_pool_size)?;
    db::run_migrations(&mut *pool.get()?)?;
    let worker = crate::push::worker::PushWorker::from_settings(pool, &settings, None)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let flag = std::sync::Arc::clone(&stop);
        tokio::spawn(async move {
            wait_for_shutdown_signal().await;
            tracing::info!("stopping the push worker after its current round");
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        tracing::info!("push worker started");
        worker.run(stop).await;
    });
    Ok(())
}

async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `ocod fake-fcm`: the fake FCM, with a matching service-account key written out.
fn fake_fcm(bind: &str, credentials_out: &std::path::Path) -> anyhow::Result<()> {
    telemetry::init(crate::config::LogFormat::Pretty, "info");
    actix_web::rt::System::new().block_on(async {
        let (fake, server) = crate::push::fake::FakeFcm::start(bind)?;
        let account = crate::push::fake::service_account(&fake.base_url);
        std::fs::write(credentials_out, serde_json::to_string_pretty(&account)?)?;
        println!("fake FCM listening on {}", fake.base_url);
        println!(
            "  GOOGLE_APPLICATION_CREDENTIALS={}",
            credentials_out.display()
        );
        println!("  OCOD_FCM_ENDPOINT={}", fake.base_url);
        println!(
            "  received messages: GET {}/fake/messages; inject faults: POST {}/fake/control",
            fake.base_url, fake.base_url
        );
        let server_handle = server.handle();
        tokio::select! {
            result = server => result?,
            _ = wait_for_shutdown_signal() => server_handle.stop(true).await,
        }
        anyhow::Ok(())
    })
}

/// Creates an account with any role, validating like the API does.
pub fn create_user(conn: &mut DbConn, args: &CreateUserArgs) -> anyhow::Result<users::User> {
    let refuse = |field: &str, code: crate::i18n::Code| {
        anyhow::anyhow!("--{field}: {}", code.message(crate::domain::Locale::En))
    };
    let phone = args
        .phone
        .as_deref()
        .map(Phone::parse)
        .transpose()
        .map_err(|c| refuse("phone", c))?;
    let email = args
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|c| refuse("email", c))?;
    let password = Password::parse(&args.password).map_err(|c| refuse("password", c))?;
    let fallback = phone
        .as_ref()
        .map(|p| p.as_str())
        .or(email.as_ref().map(|e| e.as_str()))
        .unwrap_or("user");
    let display_name = DisplayName::parse(args.name.as_deref().unwrap_or(fallback))
        .map_err(|c| refuse("name", c))?;
    let now = db::now();
    let new_user = NewUser {
        id: UserId::generate(),
        phone: phone.map(|p| p.as_str().to_string()),
        email: email.map(|e| e.as_str().to_string()),
        password_hash: hash_password(password.expose())?,
        display_name: display_name.into_inner(),
        role: Role::from(args.role),
        locale: Locale::Th,
        created_at: now,
        updated_at: now,
    };
    users::create_user(conn, &new_user)?.map_err(|taken| match taken {
        CreateUserError::PhoneTaken => {
            anyhow::anyhow!("an account with this phone number already exists")
        }
        CreateUserError::EmailTaken => {
            anyhow::anyhow!("an account with this e-mail already exists")
        }
    })
}

/// The demo accounts, one per role. Their passwords are public: demo data only.
const DEMO_USERS: &[(RoleArg, &str, &str, &str)] = &[
    (
        RoleArg::Admin,
        "admin@demo.ocod.th",
        "demo-admin-pass",
        "ผู้ดูแลระบบ (Demo Admin)",
    ),
    (
        RoleArg::Staff,
        "staff@demo.ocod.th",
        "demo-staff-pass",
        "เจ้าหน้าที่ศูนย์ (Demo Staff)",
    ),
    (
        RoleArg::Resident,
        "0812345678",
        "demo-resident-pass",
        "สมศรี ใจดี (Demo Resident)",
    ),
];

/// Loads the demo network and accounts into an empty database and prints the
/// credentials; a database that already has data is left alone.
pub fn seed_demo(conn: &mut DbConn, seed: u64) -> anyhow::Result<()> {
    use diesel::prelude::*;
    let existing_users: i64 = crate::schema::users::table.count().get_result(conn)?;
    let existing_centers: i64 = crate::schema::centers::table.count().get_result(conn)?;
    if existing_users > 0 || existing_centers > 0 {
        println!("demo data not loaded: the database already has {existing_users} user(s) and {existing_centers} center(s)");
        return Ok(());
    }
    let loaded = crate::demo::seed_network(conn, seed)?;
    println!(
        "demo network loaded (seed {seed}): {} centers in 77 provinces, {} courses, {} upcoming sessions, {} held in the last three weeks",
        loaded.centers, loaded.courses, loaded.sessions, loaded.past_sessions
    );
    println!("demo accounts (for trying OCOD out only):");
    for (role, login, password, name) in DEMO_USERS {
        let (phone, email) = if login.contains('@') {
            (None, Some(login.to_string()))
        } else {
            (Some(login.to_string()), None)
        };
        let args = CreateUserArgs {
            role: *role,
            phone,
            email,
            password: password.to_string(),
            name: Some(name.to_string()),
        };
        let user = create_user(conn, &args)?;
        println!(
            "  {:<9} login: {login:<20} password: {password}",
            Role::from(*role).as_str()
        );
        if let RoleArg::Resident = role {
            if let Some(code) = crate::demo::history::attended_once(conn, &user.id)? {
                println!("            attended a course: certificate /verify/{code}");
            }
        }
        if let (RoleArg::Staff, Some(center)) = (role, &loaded.staff_center) {
            crate::models::centers::assign_staff(conn, &center.id, &user.id)?;
            let courses = crate::demo::demo_courses(seed);
            let week = crate::demo::desk::seed(conn, &user.id, &center.id, &courses)?;
            println!(
                "            staff of {} {} ({}), with {week} sessions this week",
                center.code, center.name_th, center.province
            );
        }
    }
    Ok(())
}
