//! The migrations are compiled into the binary (`embed_migrations!` in `src/db`); a new
//! or edited migration must rebuild it, which cargo does not notice by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
