//! Links libember (a shared library) from EMBER_LIB_DIR, by default the
//! repository's `build/` directory (three levels above this crate), and
//! records that directory as an rpath so test binaries run without
//! LD_LIBRARY_PATH.

use std::env;
use std::path::{Path, PathBuf};

/// The target's OS (a build script is compiled for the host, so cfg! would name the host's).
fn target_os() -> String {
    env::var("CARGO_CFG_TARGET_OS").unwrap_or_default()
}

fn library_file() -> &'static str {
    match target_os().as_str() {
        "macos" | "ios" => "libember.dylib",
        "windows" => "ember.lib",
        _ => "libember.so",
    }
}

fn lib_dir() -> PathBuf {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    if let Some(dir) = env::var_os("EMBER_LIB_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        // A build script runs in the crate's directory, not the caller's: a
        // relative EMBER_LIB_DIR could silently mean another place.
        if dir.is_relative() {
            panic!(
                "EMBER_LIB_DIR must be an absolute path, got {} (scripts/test-rust makes it absolute)",
                dir.display()
            );
        }
        return dir;
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // bindings/rust/ember-sys -> <repo>/build
    manifest.join("../../../build")
}

fn main() {
    let dir = lib_dir();
    let dir = dir.canonicalize().unwrap_or(dir);
    let lib = dir.join(library_file());
    println!("cargo:rerun-if-changed={}", lib.display());
    if !Path::new(&lib).exists() {
        panic!(
            "{} not found: build the library first \
             (cmake -S <repo> -B <repo>/build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C <repo>/build ember) \
             or set EMBER_LIB_DIR to the directory that holds it",
            lib.display()
        );
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=ember");
    // Link arguments reach only this package's own tests and examples;
    // dependents read lib_dir (DEP_EMBER_LIB_DIR) and add their own.
    if target_os() != "windows" {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:lib_dir={}", dir.display());
}
