//! Loads a model, generates a few tokens greedily and prints them.
//!
//! cargo run [-- MODEL.gguf [PROMPT]]; the model defaults to the tiny test
//! model in ../shared (or $EMBER_SHARED_DIR).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ember::{GenerateParams, Model, ModelParams, Session, SessionParams};

fn default_model() -> PathBuf {
    let shared = std::env::var_os("EMBER_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("testdata/models/tiny-llama-f16.gguf")
}

fn run() -> ember::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(default_model);
    let prompt = args.next().unwrap_or_else(|| "Once upon a time, there was a little robot who".to_owned());

    let model = Arc::new(Model::load(&path, ModelParams::default())?);
    let mut session = Session::new(Arc::clone(&model), SessionParams::default())?;
    let generation = session.generate(prompt.as_str(), &GenerateParams::greedy().with_n_predict(32))?;
    println!("{prompt}{}", generation.text);
    eprintln!(
        "[{} tokens, {:.1} tokens/s, stopped: {}]",
        generation.stats.generated_tokens,
        generation.stats.decode_tok_s,
        generation.stats.stop_reason.finish_reason()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
