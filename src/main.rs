use clap::Parser;

/// mimalloc instead of the system allocator: a push worker and an HTTP server allocate
/// and free many small buffers per request across threads, where glibc's malloc spent a
/// fifth of the fan-out's CPU. Built without transparent huge pages (`no_thp`): with
/// them, mimalloc asked Linux for 2 MiB pages for its arenas, and a fresh server held
/// 30 MiB more than it used (76 instead of 55 MiB; a storm of sign-ups peaked at 137
/// instead of 94 MiB, `bench/enroll.sh --only memory`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // A missing .env is normal; a broken one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("ocod: cannot read .env: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    match ocod::cli::run(ocod::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ocod: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
