//! Rebuild when a migration changes: `embed_migrations!` cannot tell cargo itself.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
