//! `ocod backup PATH`: a consistent copy of a SQLite database, taken while servers keep
//! writing to it. PostgreSQL is backed up with its own tools (see the README).

use std::fs::File;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;

use crate::db::DbUrl;

/// What a finished backup holds.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub users: i64,
    pub enrollments: i64,
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Copies the database at `url` to `dest`, which must not exist yet.
///
/// `VACUUM INTO` reads the database in one read transaction, so the copy is the database
/// as of one instant, and in WAL mode writers carry on meanwhile. The copy is written
/// under a temporary name, checked with `PRAGMA integrity_check`, flushed to disk and
/// only then renamed to `dest`: a file at `dest` is always a whole, checked backup.
pub fn backup(url: &DbUrl, dest: &Path) -> anyhow::Result<BackupReport> {
    let source = match url {
        DbUrl::Sqlite(path) => path,
        DbUrl::Postgres(_) => anyhow::bail!(
            "ocod backup copies SQLite databases; back up PostgreSQL with \
             `pg_dump --format=custom --file=PATH \"$DATABASE_URL\"` (see the README)"
        ),
    };
    if source == ":memory:" {
        anyhow::bail!("an in-memory database cannot be backed up");
    }
    if !Path::new(source).exists() {
        anyhow::bail!("there is no database at {source}");
    }
    if dest.exists() {
        anyhow::bail!(
            "{} already exists; backups never overwrite a file, choose a new name",
            dest.display()
        );
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // A partial file is what an interrupted backup left behind: never a backup.
    let _ = std::fs::remove_file(&partial);

    let result = copy_and_check(source, &partial);
    let report = match result {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, dest)?;
    // The rename itself must reach the disk too.
    if let Ok(dir) = File::open(&parent) {
        let _ = dir.sync_all();
    }
    Ok(BackupReport {
        path: dest.to_path_buf(),
        bytes: std::fs::metadata(dest)?.len(),
        users: report.0,
        enrollments: report.1,
    })
}

fn copy_and_check(source: &str, partial: &Path) -> anyhow::Result<(i64, i64)> {
    let mut conn = SqliteConnection::establish(source)?;
    // Wait for a writer's commit rather than fail while the servers are busy.
    diesel::sql_query("PRAGMA busy_timeout = 15000").execute(&mut conn)?;
    let target = partial
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(&mut conn)
        .map_err(|e| anyhow::anyhow!("cannot copy the database: {e}"))?;
    drop(conn);

    let mut copy = SqliteConnection::establish(target)?;
    let rows: Vec<CheckRow> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
    let problems: Vec<String> = rows
        .into_iter()
        .map(|r| r.integrity_check)
        .filter(|line| line != "ok")
        .collect();
    if !problems.is_empty() {
        anyhow::bail!(
            "the copy failed its integrity check: {}",
            problems.join("; ")
        );
    }
    let users: i64 = crate::schema::users::table.count().get_result(&mut copy)?;
    let enrollments: i64 = crate::schema::enrollments::table
        .count()
        .get_result(&mut copy)?;
    Ok((users, enrollments))
}
