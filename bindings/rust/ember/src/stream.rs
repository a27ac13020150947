//! `Stream`: the pieces of a generation as an iterator, while it runs.
//!
//! The C call delivers pieces through a callback and returns only at the end,
//! so an iterator cannot run it on the consumer's thread. The call runs on a
//! worker thread instead, whose piece callback sends each piece over a
//! channel; `next()` waits for the next one. The worker owns a busy guard on
//! the session, so nothing else can run on it meanwhile, even if the `Stream`
//! is leaked; dropping the stream cancels the generation and joins the worker.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::error::{Error, ErrorKind, Result};
use crate::generate::{Callbacks, GenerateStats, OwnedPrompt, RawGenerateParams};
use crate::session::{run_generation, Session, SessionInner};

enum Event {
    Piece(String),
    Done(Result<GenerateStats>),
    Panic(Box<dyn Any + Send>),
}

/// Pieces of text from [`Session::stream`], as they are made.
///
/// Each item is `Ok(piece)` (whole UTF-8 characters; the pieces joined are
/// exactly the text [`Session::generate`] returns), or one final `Err` if the
/// generation failed. It borrows the session mutably until dropped.
pub struct Stream<'s> {
    rx: Option<Receiver<Event>>,
    worker: Option<JoinHandle<()>>,
    inner: Arc<SessionInner>,
    stats: Option<GenerateStats>,
    _session: PhantomData<&'s mut Session>,
}

impl<'s> Stream<'s> {
    pub(crate) fn start(session: &'s mut Session, prompt: OwnedPrompt, raw: RawGenerateParams) -> Result<Stream<'s>> {
        let inner = Arc::clone(session.inner());
        // Taken here, before the worker exists, so that a cancel made from now
        // on is not cleared by the acquisition.
        let guard = inner.acquire();
        let (tx, rx) = mpsc::channel::<Event>();
        let worker = thread::Builder::new()
            .name("ember-stream".into())
            .spawn(move || {
                let pieces = tx.clone();
                let mut callbacks =
                    Callbacks::new().on_piece(move |piece| pieces.send(Event::Piece(piece.to_owned())).is_ok());
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                    run_generation(&guard, prompt.as_prompt(), raw, &mut callbacks, false)
                }));
                // The session is free again before the consumer hears the end.
                drop(callbacks);
                drop(guard);
                let _ = tx.send(match outcome {
                    Ok(result) => Event::Done(result.map(|g| g.stats)),
                    Err(payload) => Event::Panic(payload),
                });
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::OutOfMemory,
                    format!("[ember::Session::stream] cannot start the worker thread: {e}"),
                )
            })?;
        Ok(Stream { rx: Some(rx), worker: Some(worker), inner, stats: None, _session: PhantomData })
    }

    /// Figures of the generation, once the iteration has ended (`None` before,
    /// and after a failure).
    pub fn stats(&self) -> Option<&GenerateStats> {
        self.stats.as_ref()
    }

    /// Stops the generation at its next token; the iteration then ends with
    /// stop reason `Cancelled`.
    pub fn cancel(&self) {
        let _ = self.inner.cancel();
    }

    fn join(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Iterator for Stream<'_> {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        let rx = self.rx.as_ref()?;
        let event = rx.recv();
        match event {
            Ok(Event::Piece(piece)) => Some(Ok(piece)),
            Ok(Event::Done(result)) => {
                self.rx = None;
                self.join();
                match result {
                    Ok(stats) => {
                        self.stats = Some(stats);
                        None
                    }
                    Err(e) => Some(Err(e)),
                }
            }
            Ok(Event::Panic(payload)) => {
                self.rx = None;
                self.join();
                panic::resume_unwind(payload)
            }
            Err(_) => {
                // The worker ended without a word: only possible if it could not send.
                self.rx = None;
                self.join();
                Some(Err(Error::new(ErrorKind::Internal, "[ember::Stream] the generation thread ended unexpectedly")))
            }
        }
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.cancel();
            // With the receiver gone, the worker's next send fails and stops it too.
            self.rx = None;
            self.join();
        }
    }
}

impl fmt::Debug for Stream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").field("running", &self.worker.is_some()).field("stats", &self.stats).finish()
    }
}
