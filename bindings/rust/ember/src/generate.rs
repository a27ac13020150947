//! Generation parameters, results and the callback plumbing shared by
//! `Session::generate*`, `Session::stream` and `Chat`.

use std::any::Any;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use ember_sys as sys;

use crate::buffers::c_string;
use crate::error::Result;
use crate::Token;

/// Sampling and stopping parameters of a generation (`ember_generate_params`).
///
/// `Default` gives the library's defaults (`ember_generate_default_params`):
/// temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, n_predict 256, a random
/// seed. Sampling runs penalties -> logit bias -> top_k -> typical_p -> top_p
/// -> min_p -> temperature. Values are checked by the library when the
/// generation starts: a bad one is an [`crate::ErrorKind::InvalidArgument`].
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateParams {
    /// <= 0: greedy (argmax).
    pub temperature: f32,
    /// <= 0: off.
    pub top_k: i32,
    /// In (0, 1]; 1: off.
    pub top_p: f32,
    /// In [0, 1]; 0: off.
    pub min_p: f32,
    /// In (0, 1]; 1: off.
    pub typical_p: f32,
    /// > 0; 1: off.
    pub repeat_penalty: f32,
    /// Tokens the penalties see; 0: off, -1: all.
    pub repeat_last_n: i32,
    /// OpenAI-style; 0: off.
    pub frequency_penalty: f32,
    /// OpenAI-style; 0: off.
    pub presence_penalty: f32,
    /// A fixed seed gives the same text every time; `None`: random
    /// (`Some(EMBER_SEED_RANDOM)` = `Some(0xFFFF_FFFF)` is random too).
    pub seed: Option<u64>,
    /// Tokens to generate at most; -1: until end of generation or a full context.
    pub n_predict: i32,
    /// Add BOS/EOS to a text prompt as the vocabulary asks.
    pub add_special: bool,
    /// Read control tokens in a text prompt (`"<|im_start|>"`) as their ids.
    pub parse_special: bool,
    /// Keep generating past end-of-generation tokens.
    pub ignore_eos: bool,
    /// Strings that end the generation (not returned).
    pub stop: Vec<String>,
    /// (token, value) pairs added to the logits; `f32::NEG_INFINITY` bans a token.
    pub logit_bias: Vec<(Token, f32)>,
}

impl Default for GenerateParams {
    fn default() -> Self {
        let p = library_defaults();
        GenerateParams {
            temperature: p.temperature,
            top_k: p.top_k,
            top_p: p.top_p,
            min_p: p.min_p,
            typical_p: p.typical_p,
            repeat_penalty: p.repeat_penalty,
            repeat_last_n: p.repeat_last_n,
            frequency_penalty: p.frequency_penalty,
            presence_penalty: p.presence_penalty,
            seed: (p.seed != sys::EMBER_SEED_RANDOM).then_some(p.seed),
            n_predict: p.n_predict,
            add_special: p.add_special,
            parse_special: p.parse_special,
            ignore_eos: p.ignore_eos,
            stop: Vec::new(),
            logit_bias: Vec::new(),
        }
    }
}

impl GenerateParams {
    /// The defaults with temperature 0 (greedy: the same text every time).
    pub fn greedy() -> Self {
        GenerateParams { temperature: 0.0, ..Default::default() }
    }

    /// With `n_predict` (tokens to generate at most; -1: no limit).
    pub fn with_n_predict(mut self, n_predict: i32) -> Self {
        self.n_predict = n_predict;
        self
    }

    /// With `temperature`.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = temperature;
        self
    }

    /// With a fixed `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// With a stop string added.
    pub fn with_stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }

    /// The C struct for this, with the arrays it points to kept alive by the result.
    pub(crate) fn to_raw(&self, place: &str) -> Result<RawGenerateParams> {
        let stops = self.stop.iter().map(|s| c_string(s, place, "a stop string")).collect::<Result<Vec<_>>>()?;
        let stop_ptrs: Vec<*const c_char> = stops.iter().map(|s| s.as_ptr()).collect();
        let bias_tokens: Vec<Token> = self.logit_bias.iter().map(|(t, _)| *t).collect();
        let bias: Vec<f32> = self.logit_bias.iter().map(|(_, b)| *b).collect();
        let mut p = library_defaults();
        p.temperature = self.temperature;
        p.top_k = self.top_k;
        p.top_p = self.top_p;
        p.min_p = self.min_p;
        p.typical_p = self.typical_p;
        p.repeat_penalty = self.repeat_penalty;
        p.repeat_last_n = self.repeat_last_n;
        p.frequency_penalty = self.frequency_penalty;
        p.presence_penalty = self.presence_penalty;
        p.seed = self.seed.unwrap_or(sys::EMBER_SEED_RANDOM);
        p.n_predict = self.n_predict;
        p.add_special = self.add_special;
        p.parse_special = self.parse_special;
        p.ignore_eos = self.ignore_eos;
        // The Vecs' heap buffers do not move when RawGenerateParams does.
        if !stop_ptrs.is_empty() {
            p.stop = stop_ptrs.as_ptr();
            p.n_stop = stop_ptrs.len();
        }
        if !bias.is_empty() {
            p.logit_bias_tokens = bias_tokens.as_ptr();
            p.logit_bias = bias.as_ptr();
            p.n_logit_bias = bias.len();
        }
        Ok(RawGenerateParams { raw: p, _stops: stops, _stop_ptrs: stop_ptrs, _bias_tokens: bias_tokens, _bias: bias })
    }
}

fn library_defaults() -> sys::ember_generate_params {
    let mut p = std::mem::MaybeUninit::<sys::ember_generate_params>::zeroed();
    // SAFETY: p is writable for its size, which is what we pass.
    let status = unsafe {
        sys::ember_generate_default_params(p.as_mut_ptr(), std::mem::size_of::<sys::ember_generate_params>())
    };
    debug_assert_eq!(status, sys::EMBER_OK);
    // SAFETY: all-zero is a valid value of every field (NULL pointers, None callbacks).
    unsafe { p.assume_init() }
}

/// `ember_generate_params` with the storage its pointers refer to.
pub(crate) struct RawGenerateParams {
    pub(crate) raw: sys::ember_generate_params,
    _stops: Vec<CString>,
    _stop_ptrs: Vec<*const c_char>,
    _bias_tokens: Vec<Token>,
    _bias: Vec<f32>,
}

// SAFETY: the raw pointers point into the Vecs owned alongside them, which
// nothing mutates; moving the whole to another thread is fine.
unsafe impl Send for RawGenerateParams {}

/// Why a generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// An end-of-generation token.
    EndOfGeneration,
    /// `n_predict` tokens.
    Length,
    /// A stop string.
    StopString,
    /// The context is full.
    ContextFull,
    /// A callback returned `false`, a stream was dropped, or a [`crate::CancelHandle`] cancelled.
    Cancelled,
}

impl StopReason {
    fn from_raw(v: i32) -> StopReason {
        match v {
            sys::EMBER_STOP_END_OF_GENERATION => StopReason::EndOfGeneration,
            sys::EMBER_STOP_LENGTH => StopReason::Length,
            sys::EMBER_STOP_STRING => StopReason::StopString,
            sys::EMBER_STOP_CONTEXT_FULL => StopReason::ContextFull,
            _ => StopReason::Cancelled,
        }
    }

    /// The OpenAI-style reason: `"stop"` (end of generation or a stop
    /// string), `"length"` (n_predict or a full context) or `"cancelled"`.
    pub fn finish_reason(self) -> &'static str {
        match self {
            StopReason::EndOfGeneration | StopReason::StopString => "stop",
            StopReason::Length | StopReason::ContextFull => "length",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// Figures of one generation (`ember_generate_stats`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateStats {
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Tokens of the call's prompt.
    pub prompt_tokens: usize,
    /// Of those, already in the KV cache from the previous call.
    pub reused_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// From the call's start to the first generated token.
    pub ttft_ms: f64,
    /// Time evaluating the prompt.
    pub prefill_ms: f64,
    /// Time generating.
    pub decode_ms: f64,
    /// Prompt tokens per second.
    pub prefill_tok_s: f64,
    /// Generated tokens per second.
    pub decode_tok_s: f64,
}

impl GenerateStats {
    pub(crate) fn empty_raw() -> sys::ember_generate_stats {
        sys::ember_generate_stats {
            struct_size: std::mem::size_of::<sys::ember_generate_stats>(),
            ..Default::default()
        }
    }

    pub(crate) fn from_raw(s: &sys::ember_generate_stats) -> GenerateStats {
        GenerateStats {
            stop_reason: StopReason::from_raw(s.stop_reason),
            prompt_tokens: s.prompt_tokens.max(0) as usize,
            reused_tokens: s.reused_tokens.max(0) as usize,
            generated_tokens: s.generated_tokens.max(0) as usize,
            ttft_ms: s.ttft_ms,
            prefill_ms: s.prefill_ms,
            decode_ms: s.decode_ms,
            prefill_tok_s: s.prefill_tok_s,
            decode_tok_s: s.decode_tok_s,
        }
    }
}

/// The result of [`crate::Session::generate`]: the text and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The generated text (invalid UTF-8 from the model replaced by U+FFFD).
    pub text: String,
    /// Figures of the generation, with the reason it stopped.
    pub stats: GenerateStats,
}

/// What a generation starts from: text, or token ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt<'a> {
    /// UTF-8 text, tokenized with the `add_special`/`parse_special` of the parameters.
    Text(&'a str),
    /// Token ids (empty: start from BOS).
    Tokens(&'a [Token]),
}

impl<'a> From<&'a str> for Prompt<'a> {
    fn from(s: &'a str) -> Self {
        Prompt::Text(s)
    }
}

impl<'a> From<&'a String> for Prompt<'a> {
    fn from(s: &'a String) -> Self {
        Prompt::Text(s)
    }
}

impl<'a> From<&'a [Token]> for Prompt<'a> {
    fn from(t: &'a [Token]) -> Self {
        Prompt::Tokens(t)
    }
}

impl<'a> From<&'a Vec<Token>> for Prompt<'a> {
    fn from(t: &'a Vec<Token>) -> Self {
        Prompt::Tokens(t)
    }
}

impl<'a, const N: usize> From<&'a [Token; N]> for Prompt<'a> {
    fn from(t: &'a [Token; N]) -> Self {
        Prompt::Tokens(t)
    }
}

/// An owned prompt, for a generation that runs on another thread.
#[derive(Debug, Clone)]
pub(crate) enum OwnedPrompt {
    Text(String),
    Tokens(Vec<Token>),
}

impl OwnedPrompt {
    pub(crate) fn as_prompt(&self) -> Prompt<'_> {
        match self {
            OwnedPrompt::Text(s) => Prompt::Text(s),
            OwnedPrompt::Tokens(t) => Prompt::Tokens(t),
        }
    }
}

impl From<Prompt<'_>> for OwnedPrompt {
    fn from(p: Prompt<'_>) -> Self {
        match p {
            Prompt::Text(s) => OwnedPrompt::Text(s.to_owned()),
            Prompt::Tokens(t) => OwnedPrompt::Tokens(t.to_vec()),
        }
    }
}

/// Callbacks of a generation, called on the thread that runs it.
///
/// ```no_run
/// # use ember::*;
/// # fn f(session: &mut Session) -> ember::Result<()> {
/// let mut n = 0;
/// let g = session.generate_with(
///     "Once upon a time",
///     &GenerateParams::greedy(),
///     Callbacks::new().on_piece(|piece| { print!("{piece}"); n += 1; n < 10 }),
/// )?;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Callbacks<'a> {
    pub(crate) on_piece: Option<PieceFn<'a>>,
    pub(crate) on_prompt_progress: Option<PromptProgressFn<'a>>,
}

type PieceFn<'a> = Box<dyn FnMut(&str) -> bool + 'a>;
type PromptProgressFn<'a> = Box<dyn FnMut(usize, usize) -> bool + 'a>;

impl<'a> Callbacks<'a> {
    /// No callbacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Receives each piece of text as it is made (whole UTF-8 characters);
    /// returning `false` stops the generation (stop reason `Cancelled`).
    pub fn on_piece(mut self, f: impl FnMut(&str) -> bool + 'a) -> Self {
        self.on_piece = Some(Box::new(f));
        self
    }

    /// Called after each chunk of the prompt with (done, total) tokens;
    /// returning `false` stops before any token is sampled.
    pub fn on_prompt_progress(mut self, f: impl FnMut(usize, usize) -> bool + 'a) -> Self {
        self.on_prompt_progress = Some(Box::new(f));
        self
    }
}

/// Turns the library's byte pieces into `str` pieces: a character split
/// across pieces is held back until whole, and invalid bytes become U+FFFD
/// exactly as `String::from_utf8_lossy` would replace them in the whole text.
#[derive(Default)]
pub(crate) struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// The text of `bytes` appended to what was pending that is whole now.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // SAFETY: from_utf8 vouched for the first valid_up_to bytes.
                    out.push_str(unsafe { std::str::from_utf8_unchecked(valid) });
                    match e.error_len() {
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[n..];
                        }
                        None => {
                            rest = after; // an incomplete character: wait for the next piece
                            break;
                        }
                    }
                }
            }
        }
        let keep = rest.len();
        let start = self.pending.len() - keep;
        self.pending.drain(..start);
        out
    }

    /// What is left at the end: an incomplete character becomes U+FFFD.
    pub(crate) fn finish(&mut self) -> String {
        if self.pending.is_empty() {
            return String::new();
        }
        self.pending.clear();
        char::REPLACEMENT_CHARACTER.to_string()
    }
}

/// The state the C callbacks reach through their user data.
pub(crate) struct CallState<'a, 'b> {
    pub(crate) callbacks: &'b mut Callbacks<'a>,
    pub(crate) decoder: Utf8Pieces,
    /// All the bytes, when the caller wants the whole text.
    pub(crate) collected: Option<Vec<u8>>,
    /// Set by CancelHandle: every callback then stops the generation, which
    /// also catches a cancel that landed before the C call began.
    pub(crate) stop_requested: &'b AtomicBool,
    pub(crate) panic: Option<Box<dyn Any + Send>>,
}

impl<'a, 'b> CallState<'a, 'b> {
    pub(crate) fn new(callbacks: &'b mut Callbacks<'a>, stop_requested: &'b AtomicBool, collect: bool) -> Self {
        CallState {
            callbacks,
            decoder: Utf8Pieces::default(),
            collected: collect.then(Vec::new),
            stop_requested,
            panic: None,
        }
    }

    /// Points `p`'s callbacks at this state (which must outlive the C call).
    pub(crate) fn install(&mut self, p: &mut sys::ember_generate_params) {
        p.on_piece = Some(piece_trampoline);
        p.on_piece_user_data = (self as *mut Self).cast();
        p.on_prompt_progress = Some(progress_trampoline);
        p.on_prompt_progress_user_data = (self as *mut Self).cast();
    }

    /// After the call: the last incomplete character, to the piece callback.
    pub(crate) fn flush(&mut self) {
        let tail = self.decoder.finish();
        if !tail.is_empty() && self.panic.is_none() {
            if let Some(f) = self.callbacks.on_piece.as_mut() {
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| f(&tail))) {
                    self.panic = Some(payload);
                }
            }
        }
    }

    /// Resumes a panic one of the callbacks raised.
    pub(crate) fn resume_panic(&mut self) {
        if let Some(payload) = self.panic.take() {
            panic::resume_unwind(payload);
        }
    }

    /// The collected text, invalid UTF-8 replaced.
    pub(crate) fn text(&mut self) -> String {
        let bytes = self.collected.take().unwrap_or_default();
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

unsafe extern "C" fn piece_trampoline(piece: *const c_char, len: usize, user_data: *mut c_void) -> c_int {
    // SAFETY: user_data is the CallState installed for this call, alive during it.
    let state = unsafe { &mut *user_data.cast::<CallState<'_, '_>>() };
    if state.panic.is_some() || state.stop_requested.load(Ordering::Acquire) {
        return 1;
    }
    let bytes: &[u8] = if len == 0 || piece.is_null() {
        &[]
    } else {
        // SAFETY: the library passes len readable bytes, valid during the call.
        unsafe { std::slice::from_raw_parts(piece.cast::<u8>(), len) }
    };
    if let Some(all) = state.collected.as_mut() {
        all.extend_from_slice(bytes);
    }
    let Some(f) = state.callbacks.on_piece.as_mut() else { return 0 };
    let text = state.decoder.push(bytes);
    if text.is_empty() {
        return 0;
    }
    match panic::catch_unwind(AssertUnwindSafe(|| f(&text))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(payload) => {
            state.panic = Some(payload);
            1
        }
    }
}

unsafe extern "C" fn progress_trampoline(done: i32, total: i32, user_data: *mut c_void) -> c_int {
    // SAFETY: as in piece_trampoline.
    let state = unsafe { &mut *user_data.cast::<CallState<'_, '_>>() };
    if state.panic.is_some() || state.stop_requested.load(Ordering::Acquire) {
        return 1;
    }
    let Some(f) = state.callbacks.on_prompt_progress.as_mut() else { return 0 };
    match panic::catch_unwind(AssertUnwindSafe(|| f(done.max(0) as usize, total.max(0) as usize))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(payload) => {
            state.panic = Some(payload);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Pieces;

    #[test]
    fn utf8_pieces_hold_back_split_characters_and_match_lossy_decoding() {
        let cases: [&[&[u8]]; 4] = [
            &[b"ab", "é".as_bytes(), b"c"],
            &[&[0xF0, 0x9F], &[0xA4, 0x96], b"!"],
            &[&[0xFF, b'a'], &[0xE2, 0x82], b"x"],
            &[b"end", &[0xE2, 0x82]],
        ];
        for pieces in cases {
            let mut d = Utf8Pieces::default();
            let mut streamed = String::new();
            let mut all = Vec::new();
            for p in pieces {
                streamed.push_str(&d.push(p));
                all.extend_from_slice(p);
            }
            streamed.push_str(&d.finish());
            assert_eq!(streamed, String::from_utf8_lossy(&all));
        }
    }
}
