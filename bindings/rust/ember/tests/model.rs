//! Model metadata and the tokenizer.

mod common;

use common::{expected, model};

#[test]
fn tiny_llama_metadata() {
    let m = model();
    assert_eq!((m.n_vocab(), m.n_ctx_train(), m.n_embd(), m.n_layer()), (32000, 1024, 256, 4));
    assert!(m.n_params() > 0);
    let d = m.description().unwrap();
    assert!(d.contains("llama") && d.contains("tiny-random-llama"), "{d}");
    assert_eq!(m.meta_get("general.architecture").unwrap().as_deref(), Some("llama"));
    assert_eq!(m.meta_get("llama.context_length").unwrap().as_deref(), Some("1024"));
    assert_eq!(m.meta_get("tokenizer.ggml.add_bos_token").unwrap().as_deref(), Some("true"));
    assert_eq!(m.meta_get("no.such.key").unwrap(), None);
    let meta = m.metadata().unwrap();
    assert_eq!(meta[0].0, "tokenizer.ggml.model", "file order");
    assert_eq!(meta[1].0, "tokenizer.ggml.pre");
    let tokens = &meta.iter().find(|(k, _)| k == "tokenizer.ggml.tokens").unwrap().1;
    assert!(tokens.starts_with(r#"["<unk>", "<s>", "</s>""#), "{}", &tokens[..40]);
    assert_eq!(m.meta_keys().unwrap().len(), meta.len());
    assert_eq!(m.chat_template().unwrap(), None, "the tiny model has none");
    assert_eq!((m.token_bos(), m.token_eos()), (Some(1), Some(2)));
    assert!(m.token_is_eog(2).unwrap() && !m.token_is_eog(1).unwrap());
    assert!(!m.is_vocab_only());
    assert_eq!(ember::abi_version(), ember::ABI_VERSION);
    assert!(ember::version().starts_with("0."));
}

#[test]
fn tokenize_gives_llama_cpps_ids_and_detokenize_round_trips() {
    let e = expected();
    let m = model();
    let ids = m.tokenize(&e.prompt, e.add_special, e.parse_special).unwrap();
    assert_eq!(ids, e.prompt_tokens);
    assert_eq!(m.tokenize(&e.prompt, false, false).unwrap(), e.prompt_tokens[1..]);
    assert_eq!(m.detokenize(&ids, false).unwrap(), e.prompt);
    assert!(m.detokenize(&ids, true).unwrap().starts_with("<s>"));
    for text in ["Hello, world!", "  two  spaces", "naïve café — 東京 🤖", "line\nbreak\ttab", ""] {
        assert_eq!(m.detokenize(&m.tokenize(text, true, false).unwrap(), false).unwrap(), text);
    }
    assert_eq!(m.tokenize("<s>", false, true).unwrap(), vec![1]);
    assert_ne!(m.tokenize("<s>", false, false).unwrap(), vec![1]);
    assert_eq!(
        m.tokenize(b"bytes too".as_slice(), false, false).unwrap(),
        m.tokenize("bytes too", false, false).unwrap()
    );
}

#[test]
fn token_to_piece_gives_raw_bytes() {
    let m = model();
    assert_eq!(m.token_to_piece(1, false).unwrap(), b"");
    assert_eq!(m.token_to_piece(1, true).unwrap(), b"<s>");
    let ids = m.tokenize("🤖", false, false).unwrap();
    let bytes: Vec<u8> = ids.iter().flat_map(|&t| m.token_to_piece(t, false).unwrap()).collect();
    assert_eq!(String::from_utf8(bytes).unwrap().trim(), "🤖", "byte-fallback pieces, each part of the character");
    assert_eq!(m.detokenize_bytes(&ids, false).unwrap(), "🤖".as_bytes());
}

#[test]
fn long_texts_make_the_buffers_grow() {
    let m = model();
    let text = "robot ".repeat(3000);
    let ids = m.tokenize(&text, false, false).unwrap();
    assert!(ids.len() >= 3000);
    assert_eq!(m.detokenize(&ids, false).unwrap(), text);
}

#[test]
fn the_log_callback_receives_messages_at_the_chosen_level() {
    use std::sync::{Arc, Mutex};
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    ember::set_log_level(ember::LogLevel::Debug).unwrap();
    ember::set_log_callback(Some(Box::new(move |level, msg| sink.lock().unwrap().push((level, msg.to_owned())))))
        .unwrap();
    let _m = ember::Model::load(common::tiny_path(), ember::ModelParams::default()).unwrap();
    ember::set_log_callback(None).unwrap();
    ember::set_log_level(ember::LogLevel::Warn).unwrap();
    let lines = lines.lock().unwrap();
    assert!(!lines.is_empty(), "a load logs at debug/info level");
    assert!(lines.iter().all(|(_, msg)| !msg.is_empty()));
}
