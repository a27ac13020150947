//! Raw decoding, logits of a batch, the KV cache and embeddings.

mod common;

use common::{expected, model, session};
use ember::{KvType, Session, SessionParams};

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn logits_of_a_batch_have_one_row_per_token_and_llama_cpps_values() {
    let e = expected();
    let mut s = session(0);
    let logits = s.logits(&e.prompt_tokens).unwrap();
    assert_eq!((logits.n_rows(), logits.n_vocab()), (e.prompt_tokens.len(), 32000));
    assert_eq!(logits.as_slice().len(), e.prompt_tokens.len() * 32000);
    assert!(logits.as_slice().iter().all(|x| x.is_finite()));
    let last = logits.row(logits.n_rows() - 1);
    assert_eq!(argmax(last) as i32, e.greedy_tokens[0]);
    // llama.cpp's logit of the first greedy token after the prompt
    assert!((last[24641] - 6.969857).abs() < 2e-3, "{}", last[24641]);
    assert_eq!(logits.rows().count(), e.prompt_tokens.len());
    assert_eq!(s.logits(&[]).unwrap().n_rows(), 0);
}

#[test]
fn batch_logits_agree_with_chunked_and_incremental_decoding() {
    let e = expected();
    let toks = &e.prompt_tokens;
    let whole = session(64).logits(toks).unwrap();
    let mut p = SessionParams::default().with_n_ctx(64);
    p.n_batch = 5; // 12 tokens in 3 chunks
    let mut s = Session::new(model(), p).unwrap();
    let chunked = s.logits(toks).unwrap();
    assert!(max_abs_diff(chunked.as_slice(), whole.as_slice()) < 1e-3);

    let mut p = SessionParams::default().with_n_ctx(64);
    p.n_seq_max = 2;
    let mut s = Session::new(model(), p).unwrap();
    s.decode(&toks[..6], 0, 0, false).unwrap();
    s.decode(&toks[6..], 6, 0, false).unwrap();
    assert_eq!(s.n_outputs().unwrap(), 1);
    assert_eq!(s.kv_pos_max(0).unwrap(), Some(11));
    assert!(max_abs_diff(&s.logits_row(-1).unwrap(), whole.row(11)) < 1e-3);
    s.kv_copy(0, 1, -1, -1).unwrap();
    assert_eq!(s.kv_pos_max(1).unwrap(), Some(11));
    s.kv_remove(0, 6, -1).unwrap();
    assert_eq!(s.kv_pos_max(0).unwrap(), Some(5));
    s.kv_keep_seq(0).unwrap();
    assert_eq!(s.kv_pos_max(1).unwrap(), None);
    s.decode(&toks[6..], 6, 0, true).unwrap();
    assert_eq!(s.n_outputs().unwrap(), 6);
    assert!(max_abs_diff(&s.logits_row(0).unwrap(), whole.row(6)) < 1e-3);
    assert!(s.kv_bytes().unwrap() > 0);
    assert_eq!(s.n_ctx().unwrap(), 64);
    s.kv_clear().unwrap();
    assert_eq!(s.kv_pos_max(0).unwrap(), None);
}

#[test]
fn every_kv_type_runs() {
    let e = expected();
    for kv in [KvType::F16, KvType::Q8_0, KvType::Q4_0] {
        let mut p = SessionParams::default().with_n_ctx(64);
        p.kv_type = kv;
        let mut s = Session::new(model(), p).unwrap();
        let g = s.generate(e.prompt.as_str(), &common::canonical_params(&e)).unwrap();
        assert_eq!(g.stats.generated_tokens, 5, "{kv:?}");
    }
}

#[test]
fn embeddings_are_deterministic_and_normalized_on_request() {
    let m = model();
    let mut s = session(128);
    let a = s.embed_text("The quick brown fox", true).unwrap();
    assert_eq!(a.len(), m.n_embd());
    let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    assert_eq!(s.embed_text("The quick brown fox", true).unwrap(), a);
    let raw = s.embed_text("The quick brown fox", false).unwrap();
    let raw_norm: f32 = raw.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((raw_norm - 1.0).abs() > 1e-3, "unnormalized: {raw_norm}");
    let scaled: Vec<f32> = raw.iter().map(|x| x / raw_norm).collect();
    assert!(max_abs_diff(&scaled, &a) < 1e-4);
    let b = s.embed_text("A completely different sentence about robots", true).unwrap();
    assert!(max_abs_diff(&a, &b) > 1e-3);
    // the session still generates from an empty cache afterwards
    assert_eq!(s.kv_pos_max(0).unwrap(), None);
    let e = expected();
    assert_eq!(s.generate(e.prompt.as_str(), &common::canonical_params(&e)).unwrap().text, e.text);
}

#[test]
fn embedding_nothing_or_more_than_the_context_fails() {
    let mut s = session(16);
    let err = s.embed(&[], true).unwrap_err();
    assert_eq!(err.kind(), ember::ErrorKind::InvalidArgument, "{err}");
    let err = s.embed(&[1; 40], true).unwrap_err();
    assert_eq!(err.kind(), ember::ErrorKind::InvalidArgument, "{err}");
}
