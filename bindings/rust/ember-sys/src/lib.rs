//! Raw declarations of libember's C ABI, `capi/ember.h`, one to one.
//!
//! Everything here is `unsafe` to call and follows the header's conventions:
//! status codes with a thread-local message (`ember_last_error`), opaque
//! handles with NULL-safe frees, option structs that start with
//! `struct_size` and are filled by their `*_default_params` function, and
//! text outputs into caller buffers (`EMBER_ERR_BUFFER_TOO_SMALL` with the
//! needed length in `*out_len`). Read `capi/ember.h` for the contract of each
//! call; the safe API is the `ember` crate.
//!
//! Structs are `#[repr(C)]` and match the header field for field; C99 `bool`
//! is Rust's `bool` (one byte, 0 or 1). `tests/layout.rs` compiles the header
//! with the C compiler and compares every size and offset.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_float, c_int, c_void};

// --- versions -----------------------------------------------------------------

pub const EMBER_VERSION_MAJOR: c_int = 0;
pub const EMBER_VERSION_MINOR: c_int = 1;
pub const EMBER_VERSION_PATCH: c_int = 0;
/// Changes only when the ABI breaks (and with it the SONAME libember.so.N).
pub const EMBER_ABI_VERSION: c_int = 1;

// --- status and errors ----------------------------------------------------------

pub type ember_status = c_int;

pub const EMBER_OK: ember_status = 0;
/// A bad parameter or NULL pointer from the caller.
pub const EMBER_ERR_INVALID_ARGUMENT: ember_status = -1;
/// A malformed or truncated model file.
pub const EMBER_ERR_INVALID_FILE: ember_status = -2;
/// The OS refused (open, mmap, read).
pub const EMBER_ERR_IO: ember_status = -3;
/// Valid input ember cannot handle (yet).
pub const EMBER_ERR_UNSUPPORTED: ember_status = -4;
/// A callback or ember_session_cancel stopped the call.
pub const EMBER_ERR_CANCELLED: ember_status = -5;
pub const EMBER_ERR_OUT_OF_MEMORY: ember_status = -6;
/// The required size is in the out_len / out_n argument.
pub const EMBER_ERR_BUFFER_TOO_SMALL: ember_status = -7;
/// A bug in ember: please report it with ember_last_error().
pub const EMBER_ERR_INTERNAL: ember_status = -8;
/// A metadata key or chat template the model does not have.
pub const EMBER_ERR_NOT_FOUND: ember_status = -9;

// --- logging ----------------------------------------------------------------------

pub const EMBER_LOG_DEBUG: c_int = 0;
pub const EMBER_LOG_INFO: c_int = 1;
pub const EMBER_LOG_WARN: c_int = 2;
pub const EMBER_LOG_ERROR: c_int = 3;
pub const EMBER_LOG_NONE: c_int = 4;

/// msg is NUL-terminated and valid only during the call.
pub type ember_log_callback = Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, user_data: *mut c_void)>;

// --- models -----------------------------------------------------------------------

/// Opaque model handle.
#[repr(C)]
pub struct ember_model {
    _private: [u8; 0],
}

pub type ember_token = i32;

/// Called with 0..1 during a load; a non-zero return cancels it.
pub type ember_progress_callback = Option<unsafe extern "C" fn(progress: c_float, user_data: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_model_params {
    pub struct_size: usize,
    /// Default threads of its sessions; 0: hardware threads, at most 8.
    pub n_threads: i32,
    /// Default true; false reads the whole file into memory.
    pub use_mmap: bool,
    /// Default false; true: metadata and tokenizer only, no session can run.
    pub vocab_only: bool,
    pub progress: ember_progress_callback,
    pub progress_user_data: *mut c_void,
}

// --- sessions -----------------------------------------------------------------------

/// Opaque session handle.
#[repr(C)]
pub struct ember_session {
    _private: [u8; 0],
}

pub const EMBER_KV_F16: i32 = 0;
pub const EMBER_KV_Q8_0: i32 = 1;
pub const EMBER_KV_Q4_0: i32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_session_params {
    pub struct_size: usize,
    /// Positions per sequence; default 0: min(n_ctx_train, 4096).
    pub n_ctx: i32,
    /// Tokens per forward pass; default 512.
    pub n_batch: i32,
    /// Default 0: the model's n_threads.
    pub n_threads: i32,
    /// EMBER_KV_*; default EMBER_KV_F16.
    pub kv_type: i32,
    /// Independent sequences (seq ids 0..n_seq_max-1); default 1.
    pub n_seq_max: i32,
}

// --- generation ------------------------------------------------------------------------

/// Receives each piece of generated text (not NUL-terminated); non-zero stops.
pub type ember_piece_callback =
    Option<unsafe extern "C" fn(piece: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;
/// Called after each chunk of the prompt; non-zero stops before any token is sampled.
pub type ember_prompt_progress_callback =
    Option<unsafe extern "C" fn(done: i32, total: i32, user_data: *mut c_void) -> c_int>;

/// The seed value that asks for a random seed.
pub const EMBER_SEED_RANDOM: u64 = 0xFFFF_FFFF;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_generate_params {
    pub struct_size: usize,
    /// Default 0.8; <= 0: greedy.
    pub temperature: f32,
    /// Default 40; <= 0: off.
    pub top_k: i32,
    /// Default 0.95; (0, 1]; 1: off.
    pub top_p: f32,
    /// Default 0.05; [0, 1]; 0: off.
    pub min_p: f32,
    /// Default 1; (0, 1]; 1: off.
    pub typical_p: f32,
    /// Default 1 (off); > 0.
    pub repeat_penalty: f32,
    /// Default 64; tokens the penalties see; 0: off, -1: all.
    pub repeat_last_n: i32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    /// Default EMBER_SEED_RANDOM.
    pub seed: u64,
    /// Default 256; -1: until EOG or a full context.
    pub n_predict: i32,
    pub add_special: bool,
    pub parse_special: bool,
    pub ignore_eos: bool,
    /// n_stop NUL-terminated stop strings; may be NULL.
    pub stop: *const *const c_char,
    pub n_stop: usize,
    /// n_logit_bias ids; may be NULL.
    pub logit_bias_tokens: *const ember_token,
    /// Added to their logits; -INFINITY bans a token.
    pub logit_bias: *const f32,
    pub n_logit_bias: usize,
    pub on_piece: ember_piece_callback,
    pub on_piece_user_data: *mut c_void,
    pub on_prompt_progress: ember_prompt_progress_callback,
    pub on_prompt_progress_user_data: *mut c_void,
}

pub const EMBER_STOP_END_OF_GENERATION: i32 = 0;
pub const EMBER_STOP_LENGTH: i32 = 1;
pub const EMBER_STOP_STRING: i32 = 2;
pub const EMBER_STOP_CONTEXT_FULL: i32 = 3;
pub const EMBER_STOP_CANCELLED: i32 = 4;

/// Output struct: the caller sets struct_size to its size; the library writes no further.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ember_generate_stats {
    pub struct_size: usize,
    /// EMBER_STOP_*.
    pub stop_reason: i32,
    pub prompt_tokens: i32,
    pub reused_tokens: i32,
    pub generated_tokens: i32,
    pub ttft_ms: f64,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
}

// --- chat templates and chat ------------------------------------------------------------------

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_chat_message {
    /// "system", "user", "assistant", "tool", ...
    pub role: *const c_char,
    pub content: *const c_char,
}

/// Opaque chat handle.
#[repr(C)]
pub struct ember_chat {
    _private: [u8; 0],
}

pub const EMBER_TOOL_CALL_ID: c_int = 0;
pub const EMBER_TOOL_CALL_NAME: c_int = 1;
/// JSON object text.
pub const EMBER_TOOL_CALL_ARGUMENTS: c_int = 2;

extern "C" {
    // versions
    pub fn ember_version() -> *const c_char;
    pub fn ember_abi_version() -> c_int;

    // status and errors
    pub fn ember_status_string(status: ember_status) -> *const c_char;
    pub fn ember_last_error() -> *const c_char;

    // logging
    pub fn ember_set_log_callback(callback: ember_log_callback, user_data: *mut c_void) -> ember_status;
    pub fn ember_set_log_level(level: c_int) -> ember_status;

    // models
    pub fn ember_model_default_params(params: *mut ember_model_params, struct_size: usize) -> ember_status;
    pub fn ember_model_load(
        path: *const c_char,
        params: *const ember_model_params,
        out_model: *mut *mut ember_model,
    ) -> ember_status;
    pub fn ember_model_free(model: *mut ember_model);
    pub fn ember_model_meta_get(
        model: *const ember_model,
        key: *const c_char,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_model_meta_count(model: *const ember_model, out_count: *mut usize) -> ember_status;
    pub fn ember_model_meta_key(
        model: *const ember_model,
        i: usize,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_model_description(
        model: *const ember_model,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_model_chat_template(
        model: *const ember_model,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_model_n_vocab(model: *const ember_model, out: *mut i32) -> ember_status;
    pub fn ember_model_n_ctx_train(model: *const ember_model, out: *mut i32) -> ember_status;
    pub fn ember_model_n_embd(model: *const ember_model, out: *mut i32) -> ember_status;
    pub fn ember_model_n_layer(model: *const ember_model, out: *mut i32) -> ember_status;
    pub fn ember_model_n_params(model: *const ember_model, out: *mut u64) -> ember_status;

    // tokenizer
    pub fn ember_tokenize(
        model: *const ember_model,
        text: *const c_char,
        text_len: usize,
        add_special: bool,
        parse_special: bool,
        tokens: *mut ember_token,
        max_tokens: usize,
        out_n: *mut usize,
    ) -> ember_status;
    pub fn ember_detokenize(
        model: *const ember_model,
        tokens: *const ember_token,
        n: usize,
        remove_special: bool,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_token_to_piece(
        model: *const ember_model,
        token: ember_token,
        special: bool,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_token_bos(model: *const ember_model, out: *mut ember_token) -> ember_status;
    pub fn ember_token_eos(model: *const ember_model, out: *mut ember_token) -> ember_status;
    pub fn ember_token_is_eog(model: *const ember_model, token: ember_token, out: *mut bool) -> ember_status;

    // sessions
    pub fn ember_session_default_params(params: *mut ember_session_params, struct_size: usize) -> ember_status;
    pub fn ember_session_create(
        model: *const ember_model,
        params: *const ember_session_params,
        out_session: *mut *mut ember_session,
    ) -> ember_status;
    pub fn ember_session_free(session: *mut ember_session);
    pub fn ember_session_n_ctx(session: *const ember_session, out: *mut i32) -> ember_status;
    pub fn ember_session_cancel(session: *mut ember_session) -> ember_status;

    // raw decoding
    pub fn ember_session_decode(
        session: *mut ember_session,
        tokens: *const ember_token,
        n: usize,
        pos0: i32,
        seq_id: i32,
        all_logits: bool,
    ) -> ember_status;
    pub fn ember_session_n_outputs(session: *const ember_session, out: *mut i32) -> ember_status;
    pub fn ember_session_logits(
        session: *const ember_session,
        i: i32,
        out: *mut *const f32,
        out_n: *mut usize,
    ) -> ember_status;
    pub fn ember_session_embed(
        session: *mut ember_session,
        tokens: *const ember_token,
        n: usize,
        normalize: bool,
        out: *mut f32,
        out_size: usize,
        out_n: *mut usize,
    ) -> ember_status;

    // KV cache
    pub fn ember_session_kv_clear(session: *mut ember_session) -> ember_status;
    pub fn ember_session_kv_remove(session: *mut ember_session, seq: i32, p0: i32, p1: i32) -> ember_status;
    pub fn ember_session_kv_keep_seq(session: *mut ember_session, seq: i32) -> ember_status;
    pub fn ember_session_kv_copy(
        session: *mut ember_session,
        src_seq: i32,
        dst_seq: i32,
        p0: i32,
        p1: i32,
    ) -> ember_status;
    pub fn ember_session_kv_pos_max(session: *const ember_session, seq: i32, out: *mut i32) -> ember_status;
    pub fn ember_session_kv_bytes(session: *const ember_session, out: *mut usize) -> ember_status;

    // generation
    pub fn ember_generate_default_params(params: *mut ember_generate_params, struct_size: usize) -> ember_status;
    pub fn ember_session_generate(
        session: *mut ember_session,
        prompt: *const c_char,
        prompt_len: usize,
        params: *const ember_generate_params,
        text: *mut c_char,
        text_size: usize,
        out_text_len: *mut usize,
        stats: *mut ember_generate_stats,
    ) -> ember_status;
    pub fn ember_session_generate_tokens(
        session: *mut ember_session,
        prompt: *const ember_token,
        n_prompt: usize,
        params: *const ember_generate_params,
        text: *mut c_char,
        text_size: usize,
        out_text_len: *mut usize,
        stats: *mut ember_generate_stats,
    ) -> ember_status;

    // chat templates
    pub fn ember_render_chat_template(
        tmpl: *const c_char,
        messages: *const ember_chat_message,
        n_messages: usize,
        add_generation_prompt: bool,
        bos_token: *const c_char,
        eos_token: *const c_char,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_render_chat_template_json(
        tmpl: *const c_char,
        context_json: *const c_char,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_model_apply_chat_template(
        model: *const ember_model,
        messages: *const ember_chat_message,
        n_messages: usize,
        add_generation_prompt: bool,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;

    // chat
    pub fn ember_chat_create(
        session: *mut ember_session,
        tmpl: *const c_char,
        out_chat: *mut *mut ember_chat,
    ) -> ember_status;
    pub fn ember_chat_free(chat: *mut ember_chat);
    pub fn ember_chat_uses_fallback_template(chat: *const ember_chat, out: *mut bool) -> ember_status;
    pub fn ember_chat_render_json(
        chat: *const ember_chat,
        messages_json: *const c_char,
        tools_json: *const c_char,
        add_generation_prompt: bool,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_chat_generate(
        chat: *mut ember_chat,
        messages: *const ember_chat_message,
        n_messages: usize,
        params: *const ember_generate_params,
        stats: *mut ember_generate_stats,
    ) -> ember_status;
    pub fn ember_chat_generate_json(
        chat: *mut ember_chat,
        messages_json: *const c_char,
        tools_json: *const c_char,
        params: *const ember_generate_params,
        stats: *mut ember_generate_stats,
    ) -> ember_status;
    pub fn ember_chat_reply_content(
        chat: *const ember_chat,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_chat_reply_finish_reason(chat: *const ember_chat) -> *const c_char;
    pub fn ember_chat_reply_n_tool_calls(chat: *const ember_chat, out: *mut usize) -> ember_status;
    pub fn ember_chat_reply_tool_call(
        chat: *const ember_chat,
        i: usize,
        field: c_int,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
    pub fn ember_chat_reply_json(
        chat: *const ember_chat,
        buf: *mut c_char,
        buf_size: usize,
        out_len: *mut usize,
    ) -> ember_status;
}
