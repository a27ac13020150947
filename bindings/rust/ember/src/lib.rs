//! ember: run local LLMs (GGUF files) on the CPU — the safe Rust API of
//! libember's C ABI (`capi/ember.h`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use ember::{GenerateParams, Model, ModelParams, Session, SessionParams};
//!
//! fn main() -> ember::Result<()> {
//!     let model = Arc::new(Model::load("model.gguf", ModelParams::default())?);
//!     let mut session = Session::new(Arc::clone(&model), SessionParams::default())?;
//!     let params = GenerateParams::greedy().with_n_predict(32);
//!     println!("{}", session.generate("Once upon a time", &params)?.text);
//!     for piece in session.stream("Tell me a story", &params)? {
//!         print!("{}", piece?);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Threads: a [`Model`] is immutable, `Send + Sync`, shared as `Arc<Model>`;
//! a [`Session`] is `Send` but not `Sync` (one thread at a time: make one per
//! thread). A [`CancelHandle`] stops a session's running call from any thread.
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>() {}
//! shared_between_threads::<ember::Session>(); // a Session is not Sync
//! ```
//!
//! ```compile_fail
//! # fn f(session: &mut ember::Session) -> ember::Result<()> {
//! let stream = session.stream("Hi", &ember::GenerateParams::greedy())?;
//! session.kv_clear()?; // the stream borrows the session until it is dropped
//! drop(stream);
//! # Ok(()) }
//! ```
//!
//! Errors: every fallible call returns [`Result`], whose [`Error`] carries the
//! status kind ([`ErrorKind`]) and the library's message (`ember_last_error()`).
//!
//! Memory: every handle is freed by `Drop`.

#![warn(missing_docs)]

mod buffers;
mod chat;
mod error;
mod generate;
mod log;
mod model;
mod session;
mod stream;

pub use ember_sys as sys;

pub use chat::{
    json_string, messages_to_json, render_chat_template, render_chat_template_json, Chat, ChatReply, FinishReason,
    Message, ToolCall,
};
pub use error::{Error, ErrorKind, Result};
pub use generate::{Callbacks, GenerateParams, GenerateStats, Generation, Prompt, StopReason};
pub use log::{set_log_callback, set_log_level, LogFn, LogLevel};
pub use model::{Model, ModelParams};
pub use session::{CancelHandle, KvType, Logits, Session, SessionParams};
pub use stream::Stream;

/// A token id.
pub type Token = i32;

/// The ABI this crate was written against (EMBER_ABI_VERSION of ember.h).
pub const ABI_VERSION: i32 = sys::EMBER_ABI_VERSION;

/// The loaded libember's version, `"MAJOR.MINOR.PATCH"`.
pub fn version() -> String {
    // SAFETY: static NUL-terminated text.
    unsafe { error::cstr_lossy(sys::ember_version()) }
}

/// The loaded libember's ABI version; this crate expects [`ABI_VERSION`].
pub fn abi_version() -> i32 {
    // SAFETY: a plain call.
    unsafe { sys::ember_abi_version() }
}
