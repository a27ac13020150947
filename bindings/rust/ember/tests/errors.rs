//! Failures surface as ember::Error with the library's message; nothing crashes.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::{canonical_params, expected, model, tiny_path};
use ember::{ErrorKind, GenerateParams, Model, ModelParams, Session, SessionParams};

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ember-rust-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let path = std::env::temp_dir().join("ember-no-such-dir/missing.gguf");
    let err = Model::load(&path, ModelParams::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.status(), ember::sys::EMBER_ERR_IO);
    assert!(err.message().starts_with('['), "the library's message: {err}");
    assert!(err.message().contains("missing.gguf"), "{err}");
    assert_eq!(err.to_string(), err.message());
}

#[test]
fn a_corrupt_gguf_is_an_invalid_file_error() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let path = temp_file("garbage.gguf", &garbage);
    let err = Model::load(&path, ModelParams::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFile, "{err}");
    assert!(err.message().starts_with('[') && err.message().len() > 10, "{err}");

    // A real GGUF cut short.
    let bytes = std::fs::read(tiny_path()).unwrap();
    let path = temp_file("truncated.gguf", &bytes[..bytes.len() / 3]);
    let err = Model::load(&path, ModelParams::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFile, "{err}");
}

#[test]
fn bad_session_parameters_are_invalid_arguments() {
    let err = Session::new(model(), SessionParams::default().with_n_ctx(-1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("n_ctx"), "{err}");
    let err = Session::new(model(), SessionParams { n_batch: 0, ..Default::default() }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn bad_sampling_parameters_are_invalid_arguments_and_change_nothing() {
    let e = expected();
    let mut s = Session::new(model(), SessionParams::default().with_n_ctx(64)).unwrap();
    let base = canonical_params(&e);
    let cases = [
        ("temperature", GenerateParams { temperature: f32::NAN, ..base.clone() }),
        ("top_p", GenerateParams { top_p: 2.0, ..base.clone() }),
        ("min_p", GenerateParams { min_p: -0.5, ..base.clone() }),
        ("repeat_penalty", GenerateParams { repeat_penalty: 0.0, ..base.clone() }),
    ];
    for (field, params) in cases {
        let err = s.generate(e.prompt.as_str(), &params).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{field}: {err}");
        assert!(err.message().contains(field), "{field}: {err}");
    }
    assert_eq!(s.kv_pos_max(0).unwrap(), None, "failed before anything changed");
    assert_eq!(s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap().text, e.text);
}

#[test]
fn a_prompt_longer_than_the_context_fails() {
    let mut s = Session::new(model(), SessionParams::default().with_n_ctx(16)).unwrap();
    let err = s.generate("robot ".repeat(40).as_str(), &GenerateParams::greedy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn bad_tokens_are_invalid_arguments() {
    let m = model();
    let err = m.detokenize(&[1, 999_999], false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let mut s = Session::new(Arc::clone(&m), SessionParams::default().with_n_ctx(64)).unwrap();
    let err = s.decode(&[1, -5], 0, 0, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let err = s.generate(&[1, 32000], &GenerateParams::greedy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn nul_bytes_are_refused_by_the_binding_in_the_librarys_style() {
    let err = Model::load("bad\0path.gguf", ModelParams::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().starts_with("[ember::Model::load]"), "{err}");
    let mut s = Session::new(model(), SessionParams::default().with_n_ctx(64)).unwrap();
    let err = s.generate("hi", &GenerateParams::greedy().with_stop("a\0b")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn a_vocab_only_model_tokenizes_but_runs_no_session() {
    let m = Arc::new(Model::load(tiny_path(), ModelParams::default().with_vocab_only(true)).unwrap());
    assert!(m.is_vocab_only());
    assert_eq!(m.tokenize("Hello", true, false).unwrap()[0], 1);
    let err = Session::new(m, SessionParams::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.message().contains("vocab"), "{err}");
}

#[test]
fn load_progress_reaches_one_and_returning_false_cancels() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    let _m = Model::load(
        tiny_path(),
        ModelParams::default().with_progress(move |p| {
            s2.lock().unwrap().push(p);
            true
        }),
    )
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty() && *seen.last().unwrap() == 1.0, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));

    let err = Model::load(tiny_path(), ModelParams::default().with_progress(|_| false)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
}

#[test]
fn a_panic_in_the_progress_callback_cancels_the_load_and_propagates() {
    let caught = std::panic::catch_unwind(|| {
        Model::load(tiny_path(), ModelParams::default().with_progress(|_| panic!("progress boom")))
    });
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"progress boom"));
}

#[test]
fn error_kinds_map_every_status_both_ways() {
    for status in -9..=-1 {
        let kind = ErrorKind::from_status(status);
        assert_ne!(kind, ErrorKind::Other(status));
        assert_eq!(kind.status(), status);
        assert!(!kind.description().is_empty());
    }
    assert_eq!(ErrorKind::from_status(-100), ErrorKind::Other(-100));
}
