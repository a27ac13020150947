//! `Session`: a model's runner with its own KV cache, and `CancelHandle`.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};

use ember_sys as sys;

use crate::buffers::{read_value, to_i32};
use crate::error::{check, Error, ErrorKind, Result};
use crate::generate::{CallState, Callbacks, GenerateParams, GenerateStats, Generation, Prompt, RawGenerateParams};
use crate::model::Model;
use crate::stream::Stream;
use crate::Token;

/// Element type of the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KvType {
    /// 16-bit floats (the default).
    #[default]
    F16,
    /// 8-bit blocks (Q8_0).
    Q8_0,
    /// 4-bit blocks (Q4_0).
    Q4_0,
}

impl KvType {
    fn to_raw(self) -> i32 {
        match self {
            KvType::F16 => sys::EMBER_KV_F16,
            KvType::Q8_0 => sys::EMBER_KV_Q8_0,
            KvType::Q4_0 => sys::EMBER_KV_Q4_0,
        }
    }
}

/// How [`Session::new`] sets up a session (`ember_session_params`).
///
/// `Default` gives the library's defaults: n_ctx 0 (min(n_ctx_train, 4096)),
/// n_batch 512, the model's threads, an f16 KV cache, one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    /// Positions per sequence; 0: min(n_ctx_train, 4096).
    pub n_ctx: i32,
    /// Tokens per forward pass.
    pub n_batch: i32,
    /// Worker threads; 0: the model's n_threads.
    pub n_threads: i32,
    /// Element type of the KV cache.
    pub kv_type: KvType,
    /// Independent sequences (seq ids 0..n_seq_max-1) for [`Session::decode`].
    pub n_seq_max: i32,
}

impl Default for SessionParams {
    fn default() -> Self {
        let p = library_defaults();
        let kv_type = match p.kv_type {
            sys::EMBER_KV_Q8_0 => KvType::Q8_0,
            sys::EMBER_KV_Q4_0 => KvType::Q4_0,
            _ => KvType::F16,
        };
        SessionParams { n_ctx: p.n_ctx, n_batch: p.n_batch, n_threads: p.n_threads, kv_type, n_seq_max: p.n_seq_max }
    }
}

impl SessionParams {
    /// With `n_ctx` positions per sequence.
    pub fn with_n_ctx(mut self, n_ctx: i32) -> Self {
        self.n_ctx = n_ctx;
        self
    }

    /// With `n_threads` worker threads.
    pub fn with_threads(mut self, n_threads: i32) -> Self {
        self.n_threads = n_threads;
        self
    }
}

fn library_defaults() -> sys::ember_session_params {
    let mut p = std::mem::MaybeUninit::<sys::ember_session_params>::zeroed();
    // SAFETY: p is writable for its size, which is what we pass.
    let status =
        unsafe { sys::ember_session_default_params(p.as_mut_ptr(), std::mem::size_of::<sys::ember_session_params>()) };
    debug_assert_eq!(status, sys::EMBER_OK);
    // SAFETY: all-zero is valid for every field.
    unsafe { p.assume_init() }
}

/// The library's session, shared by its `Session`, a running stream's worker
/// thread and (weakly) its cancel handles; freed when the last strong owner goes.
pub(crate) struct SessionInner {
    raw: NonNull<sys::ember_session>,
    /// True while a call runs on the session. Calls take `&mut Session`, so
    /// only a stream whose worker outlives its (leaked) `Stream` can find it
    /// set; the next call then waits for that worker to finish.
    busy: Mutex<bool>,
    idle: Condvar,
    pub(crate) stop_requested: AtomicBool,
}

// SAFETY: ember.h: a session is used by one thread at a time, except
// ember_session_cancel, which any thread may call while it is in use. Every
// call but cancel runs under the busy flag; cancel needs only a live handle,
// which the Arc/Weak ownership guarantees.
unsafe impl Send for SessionInner {}
// SAFETY: as above.
unsafe impl Sync for SessionInner {}

impl SessionInner {
    pub(crate) fn raw(&self) -> *mut sys::ember_session {
        self.raw.as_ptr()
    }

    /// Waits until no call runs on the session, then marks it busy and clears
    /// a stale stop request (a cancel made while nothing ran is forgotten).
    pub(crate) fn acquire(self: &Arc<Self>) -> BusyGuard {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy {
            busy = self.idle.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy = true;
        self.stop_requested.store(false, Ordering::Release);
        BusyGuard { inner: Arc::clone(self) }
    }

    pub(crate) fn cancel(&self) -> Result<()> {
        self.stop_requested.store(true, Ordering::Release);
        // SAFETY: the handle is live (the caller holds a strong reference);
        // ember_session_cancel may be called from any thread.
        check(unsafe { sys::ember_session_cancel(self.raw.as_ptr()) })
    }
}

impl Drop for SessionInner {
    fn drop(&mut self) {
        // SAFETY: the last owner frees the handle, once.
        unsafe { sys::ember_session_free(self.raw.as_ptr()) };
    }
}

/// Marks the session busy while alive (movable to a stream's worker thread).
pub(crate) struct BusyGuard {
    inner: Arc<SessionInner>,
}

impl BusyGuard {
    pub(crate) fn inner(&self) -> &Arc<SessionInner> {
        &self.inner
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut busy = self.inner.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy = false;
        self.inner.idle.notify_all();
    }
}

/// Stops a session's running generation or decode from any thread.
///
/// Get one with [`Session::cancel_handle`] and move it to another thread.
/// [`CancelHandle::cancel`] stops the running `generate`/`stream`/chat turn at
/// its next token or prompt chunk (the call returns `Ok` with
/// [`crate::StopReason::Cancelled`] and the text so far) and a `decode` at its
/// next chunk ([`ErrorKind::Cancelled`]). A cancel while nothing runs is
/// forgotten. The handle does not keep the session alive: once the session is
/// dropped, `cancel` does nothing.
#[derive(Clone)]
pub struct CancelHandle {
    inner: Weak<SessionInner>,
}

impl CancelHandle {
    /// Requests the stop; returns `false` if the session is gone.
    pub fn cancel(&self) -> bool {
        match self.inner.upgrade() {
            Some(inner) => inner.cancel().is_ok(),
            None => false,
        }
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").field("alive", &(self.inner.strong_count() > 0)).finish()
    }
}

/// Logits of a batch: one row of n_vocab floats per token.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    n_vocab: usize,
    data: Vec<f32>,
}

impl Logits {
    /// Rows (tokens).
    pub fn n_rows(&self) -> usize {
        self.data.len().checked_div(self.n_vocab).unwrap_or(0)
    }

    /// Width of a row.
    pub fn n_vocab(&self) -> usize {
        self.n_vocab
    }

    /// Row `i` (token i of the batch).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.n_vocab..(i + 1) * self.n_vocab]
    }

    /// Every row, one after the other (row-major).
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The rows as an iterator.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.n_vocab.max(1))
    }
}

/// Runs a model: owns a KV cache, scratch buffers and worker threads.
///
/// `Send` but not `Sync`: a session is used by one thread at a time (every
/// method that runs the model takes `&mut self`); move it to another thread,
/// or give each thread its own over a shared `Arc<Model>`. Only a
/// [`CancelHandle`] reaches it from other threads. Successive generations
/// reuse the longest prompt prefix the KV cache already holds.
pub struct Session {
    inner: Arc<SessionInner>,
    model: Arc<Model>,
    /// Cell makes the session !Sync.
    _not_sync: PhantomData<Cell<()>>,
}

impl Session {
    /// A new session over `model` (use `Arc::clone(&model)` to keep yours).
    ///
    /// Fails with [`ErrorKind::InvalidArgument`] for bad parameters
    /// (`n_ctx = -1`) or a `vocab_only` model.
    pub fn new(model: Arc<Model>, params: SessionParams) -> Result<Session> {
        let mut p = library_defaults();
        p.n_ctx = params.n_ctx;
        p.n_batch = params.n_batch;
        p.n_threads = params.n_threads;
        p.kv_type = params.kv_type.to_raw();
        p.n_seq_max = params.n_seq_max;
        let mut out: *mut sys::ember_session = ptr::null_mut();
        // SAFETY: the model is live, p and out valid for the call.
        check(unsafe { sys::ember_session_create(model.as_ptr(), &p, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| {
            Error::new(ErrorKind::Internal, "[ember::Session::new] the library returned EMBER_OK and no session")
        })?;
        let inner = Arc::new(SessionInner {
            raw,
            busy: Mutex::new(false),
            idle: Condvar::new(),
            stop_requested: AtomicBool::new(false),
        });
        Ok(Session { inner, model, _not_sync: PhantomData })
    }

    /// The model this session runs.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The `ember_session*` handle, for other C code. It stays owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::ember_session {
        self.inner.raw()
    }

    pub(crate) fn inner(&self) -> &Arc<SessionInner> {
        &self.inner
    }

    /// The context size in force (n_ctx = 0 resolved).
    pub fn n_ctx(&self) -> Result<usize> {
        let _guard = self.inner.acquire();
        let s = self.inner.raw();
        // SAFETY: s is live and not running (busy is ours).
        let n: i32 = read_value(|o| unsafe { sys::ember_session_n_ctx(s, o) })?;
        Ok(n.max(0) as usize)
    }

    /// A handle that cancels this session's running call from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { inner: Arc::downgrade(&self.inner) }
    }

    // --- generation ---------------------------------------------------------------

    /// Generates text after `prompt` (text or token ids) on sequence 0,
    /// reusing the longest prefix the KV cache already holds.
    ///
    /// A stop by a [`CancelHandle`] is `Ok`, with the text so far and
    /// [`crate::StopReason::Cancelled`]. Bad parameters, or a prompt that does
    /// not fit the context, fail before anything changes.
    pub fn generate<'p>(&mut self, prompt: impl Into<Prompt<'p>>, params: &GenerateParams) -> Result<Generation> {
        self.generate_with(prompt, params, Callbacks::new())
    }

    /// Like [`Session::generate`], calling `callbacks` on this thread as the
    /// generation goes (each piece of text, prompt progress). A panic in a
    /// callback stops the generation and is resumed when it has returned.
    pub fn generate_with<'p>(
        &mut self,
        prompt: impl Into<Prompt<'p>>,
        params: &GenerateParams,
        mut callbacks: Callbacks<'_>,
    ) -> Result<Generation> {
        let raw = params.to_raw("ember::Session::generate")?;
        let guard = self.inner.acquire();
        run_generation(&guard, prompt.into(), raw, &mut callbacks, true)
    }

    /// The pieces of a generation as an iterator, while it runs.
    ///
    /// The generation runs on a worker thread that hands each piece over a
    /// channel, so pieces arrive as they are made (the text is never
    /// gathered first). Dropping the stream early cancels the generation and
    /// waits for the worker; the session is then free again. After the last
    /// piece, [`Stream::stats`] has the figures. Parameters are checked when
    /// the generation starts: a bad one is the first (and only) item, an `Err`.
    pub fn stream<'p>(&mut self, prompt: impl Into<Prompt<'p>>, params: &GenerateParams) -> Result<Stream<'_>> {
        let raw = params.to_raw("ember::Session::stream")?;
        Stream::start(self, prompt.into().into(), raw)
    }

    // --- raw decoding -------------------------------------------------------------------

    /// Evaluates `tokens` at positions pos0, pos0+1, ... of sequence `seq_id`,
    /// writing their keys and values into the KV cache. `all_logits`: keep
    /// every token's logits (rows 0..n-1), otherwise the last one's only;
    /// read them with [`Session::logits_row`]. Invalid tokens, positions or
    /// sequence ids fail before anything changes.
    pub fn decode(&mut self, tokens: &[Token], pos0: usize, seq_id: i32, all_logits: bool) -> Result<()> {
        let pos0 = to_i32(pos0, "ember::Session::decode", "pos0")?;
        let _guard = self.inner.acquire();
        // SAFETY: the session is live and ours (busy); tokens lives through the call.
        check(unsafe {
            sys::ember_session_decode(self.inner.raw(), tokens.as_ptr(), tokens.len(), pos0, seq_id, all_logits)
        })
    }

    /// Rows of logits the last decode kept.
    pub fn n_outputs(&self) -> Result<usize> {
        let _guard = self.inner.acquire();
        let s = self.inner.raw();
        // SAFETY: s is live and not running (busy is ours).
        let n: i32 = read_value(|o| unsafe { sys::ember_session_n_outputs(s, o) })?;
        Ok(n.max(0) as usize)
    }

    /// Row `i` of the last decode's (or generation step's) logits, copied;
    /// negative `i` counts from the end (-1: the last).
    pub fn logits_row(&self, i: i32) -> Result<Vec<f32>> {
        let _guard = self.inner.acquire();
        let mut p: *const f32 = ptr::null();
        let mut n = 0usize;
        // SAFETY: the session is live and not running (busy is ours).
        check(unsafe { sys::ember_session_logits(self.inner.raw(), i, &mut p, &mut n) })?;
        if p.is_null() || n == 0 {
            return Ok(Vec::new());
        }
        // SAFETY: the library points at n floats it owns until the next decode,
        // which cannot start while we hold the busy flag.
        Ok(unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
    }

    /// Logits of every token of `tokens` evaluated from position 0 of
    /// sequence 0 (dropping whatever the cache held there): one row per token.
    pub fn logits(&mut self, tokens: &[Token]) -> Result<Logits> {
        let n_vocab = self.model.n_vocab();
        if tokens.is_empty() {
            return Ok(Logits { n_vocab, data: Vec::new() });
        }
        let _guard = self.inner.acquire();
        let s = self.inner.raw();
        // SAFETY (each call): the session is live and ours; pointers valid for the call.
        check(unsafe { sys::ember_session_kv_remove(s, 0, 0, -1) })?;
        check(unsafe { sys::ember_session_decode(s, tokens.as_ptr(), tokens.len(), 0, 0, true) })?;
        let mut data = Vec::with_capacity(tokens.len() * n_vocab);
        for i in 0..tokens.len() {
            let mut p: *const f32 = ptr::null();
            let mut n = 0usize;
            let row = to_i32(i, "ember::Session::logits", "row")?;
            check(unsafe { sys::ember_session_logits(s, row, &mut p, &mut n) })?;
            if n != n_vocab || p.is_null() {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("[ember::Session::logits] row {i} has {n} logits, the model {n_vocab} tokens"),
                ));
            }
            // SAFETY: n floats owned by the session until its next decode.
            data.extend_from_slice(unsafe { std::slice::from_raw_parts(p, n) });
        }
        Ok(Logits { n_vocab, data })
    }

    /// Embedding of `tokens`: the model's last hidden state (after its final
    /// norm) averaged over the tokens, scaled to unit length when `normalize`.
    /// Runs on sequence 0, which it empties before and after.
    pub fn embed(&mut self, tokens: &[Token], normalize: bool) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.model.n_embd()];
        let _guard = self.inner.acquire();
        let mut n = 0usize;
        // SAFETY: the session is live and ours; out holds out.len() floats.
        check(unsafe {
            sys::ember_session_embed(
                self.inner.raw(),
                tokens.as_ptr(),
                tokens.len(),
                normalize,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        })?;
        out.truncate(n);
        Ok(out)
    }

    /// Embedding of `text`, tokenized with BOS/EOS as the vocabulary asks (see [`Session::embed`]).
    pub fn embed_text(&mut self, text: &str, normalize: bool) -> Result<Vec<f32>> {
        let tokens = self.model.tokenize(text, true, false)?;
        self.embed(&tokens, normalize)
    }

    // --- KV cache ---------------------------------------------------------------------

    /// Empties every sequence of the KV cache.
    pub fn kv_clear(&mut self) -> Result<()> {
        let _guard = self.inner.acquire();
        // SAFETY: the session is live and ours.
        check(unsafe { sys::ember_session_kv_clear(self.inner.raw()) })
    }

    /// Drops positions [p0, p1) of `seq` (seq < 0: every sequence; p0 < 0: from 0; p1 < 0: to the end).
    pub fn kv_remove(&mut self, seq: i32, p0: i32, p1: i32) -> Result<()> {
        let _guard = self.inner.acquire();
        // SAFETY: as in kv_clear.
        check(unsafe { sys::ember_session_kv_remove(self.inner.raw(), seq, p0, p1) })
    }

    /// Drops every sequence but `seq`.
    pub fn kv_keep_seq(&mut self, seq: i32) -> Result<()> {
        let _guard = self.inner.acquire();
        // SAFETY: as in kv_clear.
        check(unsafe { sys::ember_session_kv_keep_seq(self.inner.raw(), seq) })
    }

    /// Copies positions [p0, p1) of `src` into `dst` (p0 < 0: from 0; p1 < 0: to the end).
    pub fn kv_copy(&mut self, src: i32, dst: i32, p0: i32, p1: i32) -> Result<()> {
        let _guard = self.inner.acquire();
        // SAFETY: as in kv_clear.
        check(unsafe { sys::ember_session_kv_copy(self.inner.raw(), src, dst, p0, p1) })
    }

    /// Largest position held for `seq`, `None` if none.
    pub fn kv_pos_max(&self, seq: i32) -> Result<Option<usize>> {
        let _guard = self.inner.acquire();
        let s = self.inner.raw();
        // SAFETY: s is live and not running (busy is ours).
        let p: i32 = read_value(|o| unsafe { sys::ember_session_kv_pos_max(s, seq, o) })?;
        Ok((p >= 0).then_some(p as usize))
    }

    /// Bytes of the KV cache.
    pub fn kv_bytes(&self) -> Result<usize> {
        let _guard = self.inner.acquire();
        let s = self.inner.raw();
        // SAFETY: s is live and not running (busy is ours).
        read_value(|o| unsafe { sys::ember_session_kv_bytes(s, o) })
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("n_ctx", &self.n_ctx().ok()).finish()
    }
}

/// One generation on a busy session: the C call with callbacks on this
/// thread; `collect` gathers the whole text for the result.
pub(crate) fn run_generation(
    guard: &BusyGuard,
    prompt: Prompt<'_>,
    mut raw: RawGenerateParams,
    callbacks: &mut Callbacks<'_>,
    collect: bool,
) -> Result<Generation> {
    let inner = guard.inner();
    let mut state = CallState::new(callbacks, &inner.stop_requested, collect);
    state.install(&mut raw.raw);
    let mut stats = GenerateStats::empty_raw();
    let s = inner.raw();
    // SAFETY: the session is live and busy (ours); raw, its arrays, the
    // prompt and the callback state all outlive the call.
    let status = unsafe {
        match prompt {
            Prompt::Text(text) => sys::ember_session_generate(
                s,
                text.as_ptr().cast(),
                text.len(),
                &raw.raw,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                &mut stats,
            ),
            Prompt::Tokens(tokens) => sys::ember_session_generate_tokens(
                s,
                tokens.as_ptr(),
                tokens.len(),
                &raw.raw,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                &mut stats,
            ),
        }
    };
    let result = check(status);
    if result.is_ok() {
        state.flush();
    }
    state.resume_panic();
    result?;
    Ok(Generation { text: state.text(), stats: GenerateStats::from_raw(&stats) })
}
