//! An rpath to libember's directory, so `cargo run` needs no LD_LIBRARY_PATH:
//! EMBER_LIB_DIR, or <repo>/build as ember-sys uses by default.

fn main() {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    let dir = match std::env::var_os("EMBER_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build"),
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
