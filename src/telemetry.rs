//! Logging: JSON lines in production, readable text in development.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber once, writing to stderr as each event happens; later
/// calls (tests) are ignored. For one-off commands.
pub fn init(format: LogFormat, filter: &str) {
    install(format, filter, std::io::stderr);
}

/// Keeps the background log writer of `init_background` running; dropping it writes out
/// what is still queued.
#[must_use = "logs queued at exit are written when the guard is dropped"]
pub struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

/// As `init`, but lines go through a queue to a writer thread, so a request never waits
/// on stderr (a pipe to journald or a container runtime can be slow). Nothing is dropped:
/// when the queue (128,000 lines) is full, the writer catches up before more are queued.
/// The writer thread gathers what is queued into one buffer and writes it out whenever
/// the queue runs dry (or the buffer fills), so a busy server makes one `write` per batch
/// of lines rather than one per line; an idle one writes each line as it comes.
/// For the server and the worker.
pub fn init_background(format: LogFormat, filter: &str) -> LogGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    if install(format, filter, writer) {
        LogGuard(Some(guard))
    } else {
        LogGuard(None)
    }
}

/// Whether this call installed the subscriber (only the first does).
fn install<W>(format: LogFormat, filter: &str, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    }
    .is_ok()
}
