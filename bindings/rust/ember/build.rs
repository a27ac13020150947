//! Gives this crate's tests and examples an rpath to libember's directory
//! (ember-sys finds it and passes it on as DEP_EMBER_LIB_DIR), so they run
//! without LD_LIBRARY_PATH.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_EMBER_LIB_DIR");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if let Ok(dir) = std::env::var("DEP_EMBER_LIB_DIR") {
        if target_os != "windows" {
            // Reaches this package's tests, examples and benches (not dependents).
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
