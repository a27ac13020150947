//! `Model`: a loaded GGUF model, its metadata and its tokenizer.

use std::any::Any;
use std::ffi::CString;
use std::fmt;
use std::os::raw::{c_float, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use ember_sys as sys;

use crate::buffers::{c_string, read_bytes, read_text, read_tokens, read_value};
use crate::chat::{raw_messages, Message};
use crate::error::{check, Error, ErrorKind, Result};
use crate::session::{Session, SessionParams};
use crate::Token;

/// How [`Model::load`] loads a model.
///
/// `Default` gives the library's defaults (`ember_model_default_params`).
pub struct ModelParams {
    /// Default threads of the model's sessions; 0: the hardware threads, at most 8.
    pub n_threads: i32,
    /// Map the file (default); `false` reads it into memory.
    pub use_mmap: bool,
    /// Load metadata and tokenizer only; no session can run on the model.
    pub vocab_only: bool,
    /// Called on the loading thread with the progress in 0..=1; returning
    /// `false` cancels the load ([`ErrorKind::Cancelled`]). A panic in it
    /// cancels the load and is resumed after it.
    pub progress: Option<Box<dyn FnMut(f32) -> bool>>,
}

impl ModelParams {
    /// The defaults with `n_threads` threads.
    pub fn with_threads(mut self, n_threads: i32) -> Self {
        self.n_threads = n_threads;
        self
    }

    /// The defaults with `use_mmap` set.
    pub fn with_mmap(mut self, use_mmap: bool) -> Self {
        self.use_mmap = use_mmap;
        self
    }

    /// The defaults with `vocab_only` set.
    pub fn with_vocab_only(mut self, vocab_only: bool) -> Self {
        self.vocab_only = vocab_only;
        self
    }

    /// The defaults with a progress callback (return `false` to cancel).
    pub fn with_progress(mut self, progress: impl FnMut(f32) -> bool + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    fn library_defaults() -> sys::ember_model_params {
        let mut p = std::mem::MaybeUninit::<sys::ember_model_params>::zeroed();
        // SAFETY: p is writable for its size, which is what we pass.
        let status =
            unsafe { sys::ember_model_default_params(p.as_mut_ptr(), std::mem::size_of::<sys::ember_model_params>()) };
        debug_assert_eq!(status, sys::EMBER_OK);
        // SAFETY: the library filled every field (or left the zeroes, which are valid too).
        unsafe { p.assume_init() }
    }
}

impl Default for ModelParams {
    fn default() -> Self {
        let p = Self::library_defaults();
        ModelParams { n_threads: p.n_threads, use_mmap: p.use_mmap, vocab_only: p.vocab_only, progress: None }
    }
}

impl fmt::Debug for ModelParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelParams")
            .field("n_threads", &self.n_threads)
            .field("use_mmap", &self.use_mmap)
            .field("vocab_only", &self.vocab_only)
            .field("progress", &self.progress.as_ref().map(|_| "FnMut(f32) -> bool"))
            .finish()
    }
}

/// A GGUF model loaded by libember.
///
/// Immutable once loaded: `Model` is `Send + Sync`, and every method may be
/// called from any number of threads at once. Generation runs in a
/// [`Session`]; share the model between threads with `Arc<Model>` and give
/// each thread its own session ([`Session::new`] takes the `Arc`). Dropping
/// the model frees it once its last session is gone too (the library keeps a
/// model alive while sessions use it).
pub struct Model {
    raw: NonNull<sys::ember_model>,
    n_vocab: i32,
    n_ctx_train: i32,
    n_embd: i32,
    n_layer: i32,
    n_params: u64,
    bos: Token,
    eos: Token,
    vocab_only: bool,
}

// SAFETY: ember.h: "ember_model: immutable once loaded. ... every ember_model_* /
// tokenizer function may be called concurrently"; freeing is done once, by Drop.
unsafe impl Send for Model {}
// SAFETY: as above; &Model only reaches the concurrent-safe calls.
unsafe impl Sync for Model {}

struct ProgressState {
    callback: Box<dyn FnMut(f32) -> bool>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn progress_trampoline(progress: c_float, user_data: *mut c_void) -> c_int {
    // SAFETY: user_data is the &mut ProgressState that Model::load passed, alive during the load.
    let state = unsafe { &mut *user_data.cast::<ProgressState>() };
    if state.panic.is_some() {
        return 1;
    }
    match panic::catch_unwind(AssertUnwindSafe(|| (state.callback)(progress))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(payload) => {
            state.panic = Some(payload);
            1
        }
    }
}

impl Model {
    /// Loads a GGUF model.
    ///
    /// Errors: [`ErrorKind::Io`] when the file cannot be opened (a missing
    /// path), [`ErrorKind::InvalidFile`] for a file that is not a valid GGUF
    /// model, [`ErrorKind::Unsupported`] for a valid one ember cannot run,
    /// [`ErrorKind::Cancelled`] when the progress callback returned `false`.
    pub fn load(path: impl AsRef<Path>, params: ModelParams) -> Result<Model> {
        let path = path.as_ref();
        let c_path = path_to_c(path)?;
        let mut raw_params = ModelParams::library_defaults();
        raw_params.n_threads = params.n_threads;
        raw_params.use_mmap = params.use_mmap;
        raw_params.vocab_only = params.vocab_only;
        let mut state = params.progress.map(|callback| ProgressState { callback, panic: None });
        if let Some(state) = state.as_mut() {
            raw_params.progress = Some(progress_trampoline);
            raw_params.progress_user_data = (state as *mut ProgressState).cast();
        }
        let mut out: *mut sys::ember_model = ptr::null_mut();
        // SAFETY: c_path and raw_params live through the call; state (the
        // callback's user data) too, and the library calls back only during it.
        let status = unsafe { sys::ember_model_load(c_path.as_ptr(), &raw_params, &mut out) };
        let result = check(status);
        if let Some(payload) = state.and_then(|s| s.panic) {
            if let Some(raw) = NonNull::new(out) {
                // SAFETY: a model the library handed over, freed once.
                unsafe { sys::ember_model_free(raw.as_ptr()) };
            }
            panic::resume_unwind(payload);
        }
        result?;
        let raw = NonNull::new(out).ok_or_else(|| {
            Error::new(ErrorKind::Internal, "[ember::Model::load] the library returned EMBER_OK and no model")
        })?;
        let mut model = Model {
            raw,
            n_vocab: 0,
            n_ctx_train: 0,
            n_embd: 0,
            n_layer: 0,
            n_params: 0,
            bos: -1,
            eos: -1,
            vocab_only: params.vocab_only,
        };
        let m = model.raw.as_ptr();
        // SAFETY (each call): m is a live model and the out pointer is valid.
        model.n_vocab = read_value(|o| unsafe { sys::ember_model_n_vocab(m, o) })?;
        model.n_ctx_train = read_value(|o| unsafe { sys::ember_model_n_ctx_train(m, o) })?;
        model.n_embd = read_value(|o| unsafe { sys::ember_model_n_embd(m, o) })?;
        model.n_layer = read_value(|o| unsafe { sys::ember_model_n_layer(m, o) })?;
        model.n_params = read_value(|o| unsafe { sys::ember_model_n_params(m, o) })?;
        model.bos = read_value(|o| unsafe { sys::ember_token_bos(m, o) })?;
        model.eos = read_value(|o| unsafe { sys::ember_token_eos(m, o) })?;
        Ok(model)
    }

    /// Loads with the default parameters.
    pub fn load_default(path: impl AsRef<Path>) -> Result<Model> {
        Model::load(path, ModelParams::default())
    }

    /// The `ember_model*` handle, for other C code. It stays owned by `self`.
    pub fn as_ptr(&self) -> *const sys::ember_model {
        self.raw.as_ptr()
    }

    /// A new session on this model (the same as [`Session::new`]).
    pub fn session(self: &Arc<Self>, params: SessionParams) -> Result<Session> {
        Session::new(Arc::clone(self), params)
    }

    // --- properties -------------------------------------------------------------

    /// Tokens in the vocabulary.
    pub fn n_vocab(&self) -> usize {
        self.n_vocab.max(0) as usize
    }

    /// The context length the model was trained with (its GGUF metadata).
    pub fn n_ctx_train(&self) -> usize {
        self.n_ctx_train.max(0) as usize
    }

    /// Width of the hidden state (and of an embedding).
    pub fn n_embd(&self) -> usize {
        self.n_embd.max(0) as usize
    }

    /// Transformer blocks.
    pub fn n_layer(&self) -> usize {
        self.n_layer.max(0) as usize
    }

    /// Parameters (weights) in the model.
    pub fn n_params(&self) -> u64 {
        self.n_params
    }

    /// Whether it was loaded with `vocab_only` (no session can run).
    pub fn is_vocab_only(&self) -> bool {
        self.vocab_only
    }

    /// The beginning-of-sequence token, if the vocabulary has one.
    pub fn token_bos(&self) -> Option<Token> {
        (self.bos >= 0).then_some(self.bos)
    }

    /// The end-of-sequence token, if the vocabulary has one.
    pub fn token_eos(&self) -> Option<Token> {
        (self.eos >= 0).then_some(self.eos)
    }

    /// One line: name, architecture, size, weight type, shape.
    pub fn description(&self) -> Result<String> {
        let m = self.raw.as_ptr();
        // SAFETY: m is live; read_text passes a writable buffer of buf_size bytes.
        read_text(256, |b, n, out| unsafe { sys::ember_model_description(m, b, n, out) })
    }

    /// The model's `tokenizer.chat_template` (Jinja text), `None` if it has none.
    pub fn chat_template(&self) -> Result<Option<String>> {
        let m = self.raw.as_ptr();
        // SAFETY: as in description.
        not_found_as_none(read_text(4096, |b, n, out| unsafe { sys::ember_model_chat_template(m, b, n, out) }))
    }

    /// One GGUF metadata value as text, `None` if the file has no such key.
    ///
    /// Strings come as they are, numbers in shortest round-trip form, bools as
    /// `true`/`false`, arrays as `[a, b, ...]` with every element.
    pub fn meta_get(&self, key: &str) -> Result<Option<String>> {
        let key = c_string(key, "ember::Model::meta_get", "key")?;
        let m = self.raw.as_ptr();
        // SAFETY: as in description; key lives through the calls.
        not_found_as_none(read_text(256, |b, n, out| unsafe { sys::ember_model_meta_get(m, key.as_ptr(), b, n, out) }))
    }

    /// The metadata keys, in file order.
    pub fn meta_keys(&self) -> Result<Vec<String>> {
        let m = self.raw.as_ptr();
        // SAFETY: m is live, the out pointer valid.
        let count: usize = read_value(|o| unsafe { sys::ember_model_meta_count(m, o) })?;
        (0..count)
            // SAFETY: as in description.
            .map(|i| read_text(64, |b, n, out| unsafe { sys::ember_model_meta_key(m, i, b, n, out) }))
            .collect()
    }

    /// Every metadata key (file order) with its value as text (see
    /// [`Model::meta_get`]). Tokenizer arrays are included in full, so this
    /// can be large for big vocabularies.
    pub fn metadata(&self) -> Result<Vec<(String, String)>> {
        self.meta_keys()?
            .into_iter()
            .map(|k| {
                let v = self.meta_get(&k)?.unwrap_or_default();
                Ok((k, v))
            })
            .collect()
    }

    // --- tokenizer ----------------------------------------------------------------

    /// Token ids of `text`.
    ///
    /// `add_special`: add BOS/EOS as the vocabulary asks; `parse_special`: read
    /// control tokens written in the text (`"<|im_start|>"`) as their ids.
    pub fn tokenize(&self, text: impl AsRef<[u8]>, add_special: bool, parse_special: bool) -> Result<Vec<Token>> {
        let text = text.as_ref();
        let m = self.raw.as_ptr();
        // A token covers at least one byte (byte fallback), plus BOS/EOS and a
        // space prefix: this first guess is nearly always enough.
        read_tokens(text.len() + 8, |buf, cap, out| {
            // SAFETY: text lives through the call; buf holds cap tokens (NULL when 0).
            unsafe {
                sys::ember_tokenize(m, text.as_ptr().cast(), text.len(), add_special, parse_special, buf, cap, out)
            }
        })
    }

    /// Text of `tokens` (the tokenizer's leading space removed; invalid UTF-8
    /// replaced by U+FFFD). `special`: also render control and unknown tokens
    /// (`"<s>"`); by default they produce nothing.
    pub fn detokenize(&self, tokens: &[Token], special: bool) -> Result<String> {
        let bytes = self.detokenize_bytes(tokens, special)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Like [`Model::detokenize`], but the raw bytes (which need not be valid UTF-8).
    pub fn detokenize_bytes(&self, tokens: &[Token], special: bool) -> Result<Vec<u8>> {
        let m = self.raw.as_ptr();
        read_bytes(8 * tokens.len() + 16, |b, n, out| {
            // SAFETY: tokens lives through the call; b holds n bytes.
            unsafe { sys::ember_detokenize(m, tokens.as_ptr(), tokens.len(), !special, b, n, out) }
        })
    }

    /// Raw bytes of one token (possibly part of a UTF-8 character).
    /// `special`: render control and unknown tokens (`b"<s>"`); otherwise they give nothing.
    pub fn token_to_piece(&self, token: Token, special: bool) -> Result<Vec<u8>> {
        let m = self.raw.as_ptr();
        // SAFETY: b holds n bytes.
        read_bytes(32, |b, n, out| unsafe { sys::ember_token_to_piece(m, token, special, b, n, out) })
    }

    /// True for end-of-generation tokens (EOS, EOT, `<|im_end|>`, ...).
    pub fn token_is_eog(&self, token: Token) -> Result<bool> {
        let m = self.raw.as_ptr();
        // SAFETY: m is live, the out pointer valid.
        read_value(|o| unsafe { sys::ember_token_is_eog(m, token, o) })
    }

    // --- chat templates ---------------------------------------------------------------

    /// The prompt for a conversation in the model's chat template (ChatML when
    /// the file has none), rendered with its BOS/EOS token texts.
    ///
    /// Generate from it with `parse_special = true`, and `add_special = false`
    /// when it already starts with the BOS text ([`crate::Chat`] does both).
    pub fn apply_chat_template(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String> {
        let (_keep, raw) = raw_messages(messages, "ember::Model::apply_chat_template")?;
        let m = self.raw.as_ptr();
        read_text(4096, |b, n, out| {
            // SAFETY: raw (and the strings it points to, in _keep) live through the call.
            unsafe {
                sys::ember_model_apply_chat_template(m, raw.as_ptr(), raw.len(), add_generation_prompt, b, n, out)
            }
        })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and freed exactly once; sessions keep
        // the library's model alive on their own.
        unsafe { sys::ember_model_free(self.raw.as_ptr()) };
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("n_vocab", &self.n_vocab)
            .field("n_ctx_train", &self.n_ctx_train)
            .field("n_embd", &self.n_embd)
            .field("n_layer", &self.n_layer)
            .field("n_params", &self.n_params)
            .field("vocab_only", &self.vocab_only)
            .finish()
    }
}

fn not_found_as_none(r: Result<String>) -> Result<Option<String>> {
    match r {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn path_to_c(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::new(ErrorKind::InvalidArgument, format!("[ember::Model::load] path {:?} contains a NUL byte", path))
    })
}

#[cfg(not(unix))]
fn path_to_c(path: &Path) -> Result<CString> {
    let text = path.to_str().ok_or_else(|| {
        Error::new(ErrorKind::InvalidArgument, format!("[ember::Model::load] path {:?} is not UTF-8", path))
    })?;
    c_string(text, "ember::Model::load", "path")
}
