//! Generation: the canonical greedy text, streaming, callbacks, cancelling.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{canonical_params, expected, model, session};
use ember::{Callbacks, GenerateParams, StopReason};

#[test]
fn greedy_generation_gives_exactly_the_canonical_text() {
    let e = expected();
    assert_eq!(e.text, " divs divs divs divs divs", "tests/data/bindings_expected.json changed");
    let mut s = session(0);
    let g = s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap();
    assert_eq!(g.text, e.text);
    assert_eq!(g.stats.stop_reason, StopReason::Length);
    assert_eq!(g.stats.prompt_tokens, e.prompt_tokens.len());
    assert_eq!(g.stats.generated_tokens, e.n_predict as usize);
    assert_eq!(g.stats.stop_reason.finish_reason(), "length");
    assert!(g.stats.decode_ms >= 0.0 && g.stats.prefill_ms >= 0.0 && g.stats.ttft_ms >= 0.0);
}

#[test]
fn generating_from_the_prompt_tokens_gives_the_same_text() {
    let e = expected();
    let mut s = session(128);
    let g = s.generate(&e.prompt_tokens, &canonical_params(&e)).unwrap();
    assert_eq!(g.text, e.text);
    let greedy = model().detokenize(&e.greedy_tokens, false).unwrap();
    assert_eq!(format!(" {greedy}"), e.text, "detokenize drops the leading space");
}

#[test]
fn a_second_call_reuses_the_cached_prefix() {
    let e = expected();
    let mut s = session(128);
    let first = s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap();
    let second = s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap();
    assert_eq!(second.text, first.text);
    assert_eq!(second.stats.reused_tokens, e.prompt_tokens.len() - 1);
}

#[test]
fn streamed_pieces_join_to_the_returned_text() {
    let e = expected();
    let mut s = session(128);
    let params = canonical_params(&e).with_n_predict(24);
    let whole = s.generate(e.prompt.as_str(), &params).unwrap();
    let mut stream = s.stream(e.prompt.as_str(), &params).unwrap();
    let mut pieces = Vec::new();
    for piece in stream.by_ref() {
        pieces.push(piece.unwrap());
    }
    assert!(pieces.len() > 1, "one piece per token, not the whole text at once");
    assert_eq!(pieces.concat(), whole.text);
    let stats = stream.stats().expect("stats after the last piece");
    assert_eq!(stats.generated_tokens, 24);
    drop(stream);
    // and the callback form, on this thread
    let mut seen = String::new();
    let g = s
        .generate_with(
            e.prompt.as_str(),
            &params,
            Callbacks::new().on_piece(|p| {
                seen.push_str(p);
                true
            }),
        )
        .unwrap();
    assert_eq!(seen, whole.text);
    assert_eq!(g.text, whole.text);
}

#[test]
fn dropping_a_stream_early_cancels_it_and_frees_the_session() {
    let e = expected();
    let mut s = session(512);
    let mut params = canonical_params(&e).with_n_predict(-1);
    params.ignore_eos = true;
    {
        let mut stream = s.stream(e.prompt.as_str(), &params).unwrap();
        let first = stream.next().unwrap().unwrap();
        assert!(!first.is_empty());
    } // dropped after one piece of ~500 possible
    let g = s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap();
    assert_eq!(g.text, e.text);
}

#[test]
fn a_bad_parameter_in_a_stream_is_its_only_item() {
    let e = expected();
    let mut s = session(64);
    let mut params = canonical_params(&e);
    params.top_p = 2.0;
    let items: Vec<_> = s.stream(e.prompt.as_str(), &params).unwrap().collect();
    assert_eq!(items.len(), 1);
    let err = items.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.kind(), ember::ErrorKind::InvalidArgument);
    assert!(err.message().contains("top_p"), "{err}");
}

#[test]
fn a_piece_callback_returning_false_stops_the_generation() {
    let e = expected();
    let mut s = session(128);
    let mut n = 0;
    let g = s
        .generate_with(
            e.prompt.as_str(),
            &canonical_params(&e).with_n_predict(50),
            Callbacks::new().on_piece(|_| {
                n += 1;
                n < 3
            }),
        )
        .unwrap();
    assert_eq!(g.stats.stop_reason, StopReason::Cancelled);
    assert_eq!(n, 3);
    assert!(g.stats.generated_tokens < 50);
}

#[test]
fn prompt_progress_can_stop_before_the_first_token() {
    let e = expected();
    let mut s = session(128);
    let mut calls = Vec::new();
    let g = s
        .generate_with(
            e.prompt.as_str(),
            &canonical_params(&e),
            Callbacks::new().on_prompt_progress(|done, total| {
                calls.push((done, total));
                false
            }),
        )
        .unwrap();
    assert_eq!(g.stats.stop_reason, StopReason::Cancelled);
    assert_eq!(g.text, "");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, e.prompt_tokens.len());
}

#[test]
fn cancel_from_another_thread_returns_the_text_so_far() {
    let e = expected();
    let mut s = session(1024);
    let mut params = canonical_params(&e).with_n_predict(-1);
    params.ignore_eos = true;
    let handle = s.cancel_handle();
    let (first_piece_tx, first_piece_rx) = mpsc::channel::<()>();
    let (cancelled_tx, cancelled_rx) = mpsc::channel::<bool>();
    let canceller = thread::spawn(move || {
        first_piece_rx.recv().unwrap();
        cancelled_tx.send(handle.cancel()).unwrap();
    });
    let mut pieces = String::new();
    let g = s
        .generate_with(
            e.prompt.as_str(),
            &params,
            Callbacks::new().on_piece(|p| {
                pieces.push_str(p);
                if pieces.len() == p.len() {
                    // Hold the generation until the other thread has cancelled,
                    // so the stop lands on the next token for certain.
                    first_piece_tx.send(()).unwrap();
                    assert!(cancelled_rx.recv().unwrap(), "the session is alive");
                }
                true
            }),
        )
        .unwrap();
    canceller.join().unwrap();
    assert_eq!(g.stats.stop_reason, StopReason::Cancelled);
    assert_eq!(g.text, pieces);
    assert!(g.stats.generated_tokens <= 2, "{} tokens after the cancel", g.stats.generated_tokens);
    // A cancel while nothing runs is forgotten.
    assert!(s.cancel_handle().cancel());
    assert_eq!(s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap().text, e.text);
    // A handle outliving its session does nothing.
    let late = s.cancel_handle();
    drop(s);
    assert!(!late.cancel());
}

#[test]
fn stop_strings_end_the_text_and_are_not_returned() {
    let e = expected();
    let mut s = session(128);
    let g = s.generate(e.prompt.as_str(), &canonical_params(&e).with_stop(" divs divs")).unwrap();
    assert_eq!(g.text, "");
    assert_eq!(g.stats.stop_reason, StopReason::StopString);
    let g = s.generate(e.prompt.as_str(), &canonical_params(&e).with_stop("vs d")).unwrap();
    assert_eq!(g.text, " di");
}

#[test]
fn a_seed_fixes_the_sampled_text_and_logit_bias_bans_a_token() {
    let e = expected();
    let mut s = session(128);
    let sampled = GenerateParams::default().with_temperature(1.0).with_seed(42).with_n_predict(16);
    let a = s.generate(e.prompt.as_str(), &sampled).unwrap().text;
    let b = s.generate(e.prompt.as_str(), &sampled).unwrap().text;
    assert_eq!(a, b);
    let mut banned = canonical_params(&e);
    banned.logit_bias = vec![(e.greedy_tokens[0], f32::NEG_INFINITY)];
    let g = s.generate(e.prompt.as_str(), &banned).unwrap();
    assert!(!g.text.starts_with(" divs"), "{:?}", g.text);
}

#[test]
fn a_panic_in_a_callback_stops_the_generation_and_propagates() {
    let e = expected();
    let mut s = session(128);
    let params = canonical_params(&e).with_n_predict(50);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.generate_with(e.prompt.as_str(), &params, Callbacks::new().on_piece(|_| panic!("boom in on_piece")))
    }));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in on_piece"));
    // the session is still usable
    assert_eq!(s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap().text, e.text);
}

#[test]
fn a_leaked_stream_cannot_overlap_the_next_call() {
    let e = expected();
    let mut s = session(256);
    let stream = s.stream(e.prompt.as_str(), &canonical_params(&e).with_n_predict(40)).unwrap();
    std::mem::forget(stream); // its worker keeps running with the session's busy flag
    let g = s.generate(e.prompt.as_str(), &canonical_params(&e)).unwrap(); // waits for the worker
    assert_eq!(g.text, e.text);
}
