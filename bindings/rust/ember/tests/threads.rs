//! One Model shared by threads, each with its own Session, generating at the same time.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::model;
use ember::{GenerateParams, Model, Session, SessionParams};

fn jobs() -> Vec<(&'static str, GenerateParams)> {
    let n = 24;
    vec![
        ("Once upon a time, there was a little robot who", GenerateParams::greedy().with_n_predict(n)),
        ("The capital of France is", GenerateParams::default().with_temperature(0.9).with_seed(1234).with_n_predict(n)),
        ("def fibonacci(n):", GenerateParams::greedy().with_n_predict(n)),
    ]
}

fn run(model: &Arc<Model>, prompt: &str, params: &GenerateParams) -> String {
    let mut s = Session::new(Arc::clone(model), SessionParams::default().with_n_ctx(128).with_threads(1)).unwrap();
    let text = s.generate(prompt, params).unwrap().text;
    let streamed: String = s.stream(prompt, params).unwrap().map(|p| p.unwrap()).collect();
    assert_eq!(streamed, text, "streamed on a busy machine, the same text");
    text
}

#[test]
fn threads_with_their_own_sessions_get_exactly_the_text_each_gets_alone() {
    let model = model();
    let alone: Vec<String> = jobs().iter().map(|(p, params)| run(&model, p, params)).collect();
    assert_eq!(alone.len(), 3);
    assert!(alone[0] != alone[1] && alone[1] != alone[2], "{alone:?}");
    for _round in 0..2 {
        let start = Arc::new(Barrier::new(jobs().len()));
        let handles: Vec<_> = jobs()
            .into_iter()
            .map(|(prompt, params)| {
                let model = Arc::clone(&model);
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    start.wait();
                    run(&model, prompt, &params)
                })
            })
            .collect();
        let together: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(together, alone);
    }
}

#[test]
fn a_session_moves_to_another_thread_and_the_model_is_shared_by_reference() {
    let model = model();
    let mut s = Session::new(Arc::clone(&model), SessionParams::default().with_n_ctx(64)).unwrap();
    let params = GenerateParams::greedy().with_n_predict(4);
    let here = s.generate("Hello", &params).unwrap().text;
    let there = thread::spawn(move || s.generate("Hello", &params).unwrap().text).join().unwrap();
    assert_eq!(here, there);
    // &Model across scoped threads: tokenizing concurrently.
    let m: &Model = &model;
    let ids: Vec<Vec<i32>> = thread::scope(|scope| {
        let hs: Vec<_> =
            (0..4).map(|_| scope.spawn(|| m.tokenize("shared by reference", true, false).unwrap())).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn model_is_send_and_sync_and_session_is_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Model>();
    send_sync::<ember::CancelHandle>();
    send_sync::<ember::Error>();
    send::<Session>();
    send::<ember::Chat<Session>>();
    // Session is not Sync: `fn assert_sync<T: Sync>() {} assert_sync::<Session>()` does not compile
    // (the doc test in lib.rs checks it).
}
