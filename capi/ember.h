/*
 * ember.h: the stable C ABI of libember (C99; usable from C++).
 *
 * Conventions
 *  - Every function that can fail returns an ember_status: EMBER_OK (0) or a
 *    negative error code. After a failure, ember_last_error() gives a message
 *    naming the place ("[ember_model_load] path is NULL"); it is per thread and
 *    stays until the next failure on that thread. The few functions that
 *    cannot fail (frees, versions, status strings) return their value directly.
 *  - No C++ exception and no abort crosses this boundary.
 *  - Objects are opaque handles with create/free pairs; every free accepts NULL.
 *  - Options structs start with `size_t struct_size`. Fill them with their
 *    ember_*_default_params(&p, sizeof p) initialiser, then change fields.
 *    Fields are only ever added at the end, and a field added later treats
 *    zero as "the default", so a program built against an older ember.h keeps
 *    working with a newer library. A newer program on an older library gets
 *    EMBER_ERR_UNSUPPORTED only if it sets a field that library does not know.
 *    Output structs (ember_generate_stats) also start with struct_size, which
 *    the caller sets to sizeof the struct; the library writes no further.
 *  - Text is UTF-8 (any bytes are accepted). Text outputs go to a
 *    caller-provided buffer and are NUL-terminated; buf_size counts the NUL.
 *    If the buffer is too small the call returns EMBER_ERR_BUFFER_TOO_SMALL
 *    and *out_len (when out_len is not NULL) receives the length needed,
 *    without the NUL; pass buf = NULL, buf_size = 0 to ask for the length.
 *    Token outputs work the same way with counts of tokens.
 *
 * Thread safety
 *  - ember_model: immutable once loaded. Any number of sessions on any threads
 *    may share one model, and every ember_model_* / tokenizer function may be
 *    called concurrently. A session keeps its model alive: the model may be
 *    freed before its sessions.
 *  - ember_session: one thread at a time (calls on one session must not
 *    overlap), except ember_session_cancel, which any thread may call while
 *    the session is in use (not after it is freed).
 *  - ember_set_log_callback / ember_set_log_level: callable from any thread;
 *    the callback may be called from any thread, one call at a time.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(EMBER_BUILDING_LIBRARY)
#    define EMBER_API __declspec(dllexport)
#  else
#    define EMBER_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define EMBER_API __attribute__((visibility("default")))
#else
#  define EMBER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- versions ------------------------------------------------------------- */

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
/* Changes only when the ABI breaks (and with it the SONAME libember.so.N). */
#define EMBER_ABI_VERSION 1

/* The library's version, "MAJOR.MINOR.PATCH" (static storage). */
EMBER_API const char* ember_version(void);
/* The library's EMBER_ABI_VERSION; a program may refuse to run on another. */
EMBER_API int ember_abi_version(void);

/* --- status and errors ---------------------------------------------------- */

typedef int ember_status;

enum {
  EMBER_OK = 0,
  EMBER_ERR_INVALID_ARGUMENT = -1, /* a bad parameter or NULL pointer from the caller */
  EMBER_ERR_INVALID_FILE = -2,     /* a malformed or truncated model file */
  EMBER_ERR_IO = -3,               /* the OS refused (open, mmap, read) */
  EMBER_ERR_UNSUPPORTED = -4,      /* valid input ember cannot handle (yet) */
  EMBER_ERR_CANCELLED = -5,        /* a callback or ember_session_cancel stopped the call */
  EMBER_ERR_OUT_OF_MEMORY = -6,
  EMBER_ERR_BUFFER_TOO_SMALL = -7, /* the required size is in the out_len / out_n argument */
  EMBER_ERR_INTERNAL = -8,         /* a bug in ember: please report it with ember_last_error() */
  EMBER_ERR_NOT_FOUND = -9         /* a metadata key or chat template the model does not have */
};

/* A short static description of a status code ("invalid argument"). */
EMBER_API const char* ember_status_string(ember_status status);
/* The message of the last failing call on this thread ("" if none). Valid
 * until the next failing call on this thread. */
EMBER_API const char* ember_last_error(void);

/* --- logging -------------------------------------------------------------- */

enum {
  EMBER_LOG_DEBUG = 0,
  EMBER_LOG_INFO = 1,
  EMBER_LOG_WARN = 2,
  EMBER_LOG_ERROR = 3,
  EMBER_LOG_NONE = 4
};

/* msg is NUL-terminated and valid only during the call. The callback must not
 * call ember_set_log_callback. */
typedef void (*ember_log_callback)(int level, const char* msg, void* user_data);

/* Routes the library's log messages to callback (process-wide); NULL restores
 * the default (warnings and errors to stderr). */
EMBER_API ember_status ember_set_log_callback(ember_log_callback callback, void* user_data);
/* Drops messages below level (EMBER_LOG_*; the default is EMBER_LOG_WARN). */
EMBER_API ember_status ember_set_log_level(int level);

/* --- models --------------------------------------------------------------- */

typedef struct ember_model ember_model;
typedef int32_t ember_token;

/* Called with 0..1 during a load; a non-zero return cancels it (EMBER_ERR_CANCELLED). */
typedef int (*ember_progress_callback)(float progress, void* user_data);

typedef struct ember_model_params {
  size_t struct_size;
  int32_t n_threads;  /* default threads of its sessions; 0: hardware threads, at most 8 */
  bool use_mmap;      /* default true; false reads the whole file into memory */
  bool vocab_only;    /* default false; true: metadata and tokenizer only, no session can run */
  ember_progress_callback progress; /* may be NULL */
  void* progress_user_data;
} ember_model_params;

/* Fills *params (struct_size bytes; pass sizeof *params) with the defaults. */
EMBER_API ember_status ember_model_default_params(ember_model_params* params, size_t struct_size);

/* Loads a GGUF model; params may be NULL for the defaults. On failure *out_model is NULL. */
EMBER_API ember_status ember_model_load(const char* path, const ember_model_params* params, ember_model** out_model);
EMBER_API void ember_model_free(ember_model* model);

/* The value of a GGUF metadata key as text: strings as they are, numbers in
 * shortest round-trip form, bools as true/false, arrays as [a, b, ...] with
 * every element. EMBER_ERR_NOT_FOUND if the file has no such key. */
EMBER_API ember_status ember_model_meta_get(const ember_model* model, const char* key, char* buf, size_t buf_size,
                                            size_t* out_len);
/* Number of metadata keys, and the i-th key (file order). */
EMBER_API ember_status ember_model_meta_count(const ember_model* model, size_t* out_count);
EMBER_API ember_status ember_model_meta_key(const ember_model* model, size_t i, char* buf, size_t buf_size,
                                            size_t* out_len);
/* One line: name, architecture, size, weight type, shape. */
EMBER_API ember_status ember_model_description(const ember_model* model, char* buf, size_t buf_size, size_t* out_len);
/* tokenizer.chat_template; EMBER_ERR_NOT_FOUND if the file has none. */
EMBER_API ember_status ember_model_chat_template(const ember_model* model, char* buf, size_t buf_size,
                                                 size_t* out_len);
EMBER_API ember_status ember_model_n_vocab(const ember_model* model, int32_t* out);
EMBER_API ember_status ember_model_n_ctx_train(const ember_model* model, int32_t* out);
EMBER_API ember_status ember_model_n_embd(const ember_model* model, int32_t* out);
EMBER_API ember_status ember_model_n_layer(const ember_model* model, int32_t* out);
EMBER_API ember_status ember_model_n_params(const ember_model* model, uint64_t* out);

/* --- tokenizer (of a model) ---------------------------------------------- */

/* Token ids of text[0..text_len). add_special: BOS/EOS as the vocabulary asks;
 * parse_special: control tokens written in the text ("<|im_start|>") become
 * their ids. tokens may be NULL when max_tokens is 0 (to ask for the count). */
EMBER_API ember_status ember_tokenize(const ember_model* model, const char* text, size_t text_len, bool add_special,
                                      bool parse_special, ember_token* tokens, size_t max_tokens, size_t* out_n);
/* Text of n tokens (the leading space the tokenizer adds is removed);
 * remove_special: control and unknown tokens produce nothing. */
EMBER_API ember_status ember_detokenize(const ember_model* model, const ember_token* tokens, size_t n,
                                        bool remove_special, char* buf, size_t buf_size, size_t* out_len);
/* Raw bytes of one token (may be part of a UTF-8 character; NUL-terminated);
 * special = false: control and unknown tokens give "". */
EMBER_API ember_status ember_token_to_piece(const ember_model* model, ember_token token, bool special, char* buf,
                                            size_t buf_size, size_t* out_len);
/* Special token ids; -1 when the vocabulary has none. */
EMBER_API ember_status ember_token_bos(const ember_model* model, ember_token* out);
EMBER_API ember_status ember_token_eos(const ember_model* model, ember_token* out);
/* End of generation: EOS, EOT and tokens such as <|im_end|>, <|eot_id|>. */
EMBER_API ember_status ember_token_is_eog(const ember_model* model, ember_token token, bool* out);

/* --- sessions ------------------------------------------------------------- */

typedef struct ember_session ember_session;

/* Element type of the KV cache. */
enum { EMBER_KV_F16 = 0, EMBER_KV_Q8_0 = 1, EMBER_KV_Q4_0 = 2 };

typedef struct ember_session_params {
  size_t struct_size;
  int32_t n_ctx;     /* positions per sequence; default 0: min(n_ctx_train, 4096) */
  int32_t n_batch;   /* tokens per forward pass; default 512 */
  int32_t n_threads; /* default 0: the model's n_threads */
  int32_t kv_type;   /* EMBER_KV_*; default EMBER_KV_F16 */
  int32_t n_seq_max; /* independent sequences (seq ids 0..n_seq_max-1); default 1 */
} ember_session_params;

EMBER_API ember_status ember_session_default_params(ember_session_params* params, size_t struct_size);

/* A session runs a model: it owns the KV cache, scratch buffers and threads.
 * params may be NULL for the defaults. Fails for a vocab_only model. */
EMBER_API ember_status ember_session_create(const ember_model* model, const ember_session_params* params,
                                            ember_session** out_session);
EMBER_API void ember_session_free(ember_session* session);
/* The context size in force (n_ctx = 0 resolved). */
EMBER_API ember_status ember_session_n_ctx(const ember_session* session, int32_t* out);

/* Stops the session's running ember_session_generate* (at its next token or
 * prompt chunk) or ember_session_decode (at its next chunk of n_batch tokens).
 * Callable from any thread. A cancel that arrives before the call starts is
 * forgotten: each call clears the request when it begins. */
EMBER_API ember_status ember_session_cancel(ember_session* session);

/* --- raw decoding --------------------------------------------------------- */

/* Evaluates tokens[0..n) at positions pos0, pos0+1, ... of sequence seq_id,
 * writing their keys and values into the KV cache. all_logits: keep the logits
 * of every token (rows 0..n-1), otherwise of the last one only (row 0). The
 * batch runs in chunks of n_batch tokens; ember_session_cancel between chunks
 * gives EMBER_ERR_CANCELLED, and the chunks already done stay in the cache
 * (see ember_session_kv_pos_max). Invalid tokens, positions or seq ids fail
 * before anything changes. */
EMBER_API ember_status ember_session_decode(ember_session* session, const ember_token* tokens, size_t n, int32_t pos0,
                                            int32_t seq_id, bool all_logits);
/* Rows of logits the last decode kept. */
EMBER_API ember_status ember_session_n_outputs(const ember_session* session, int32_t* out);
/* Row i of the last decode's logits (negative i counts from the end: -1 is the
 * last). *out points to *out_n = n_vocab floats owned by the session, valid
 * until its next decode or generate. */
EMBER_API ember_status ember_session_logits(const ember_session* session, int32_t i, const float** out,
                                            size_t* out_n);

/* Embedding of tokens[0..n): the model's last hidden state (after its final
 * norm) averaged over the tokens, scaled to unit length when normalize is
 * true. Writes n_embd floats to out (out_size: floats out holds; *out_n gets
 * n_embd, also when out is too small: EMBER_ERR_BUFFER_TOO_SMALL). Runs on
 * sequence 0, which it empties before and after: a following generate starts
 * from an empty cache. n must fit the context. */
EMBER_API ember_status ember_session_embed(ember_session* session, const ember_token* tokens, size_t n,
                                           bool normalize, float* out, size_t out_size, size_t* out_n);

/* --- KV cache ------------------------------------------------------------- */

/* Empties every sequence. */
EMBER_API ember_status ember_session_kv_clear(ember_session* session);
/* Drops positions [p0, p1) of seq (seq < 0: every sequence; p0 < 0: from 0; p1 < 0: to the end). */
EMBER_API ember_status ember_session_kv_remove(ember_session* session, int32_t seq, int32_t p0, int32_t p1);
/* Drops every sequence but seq. */
EMBER_API ember_status ember_session_kv_keep_seq(ember_session* session, int32_t seq);
/* Copies positions [p0, p1) of src into dst (p0 < 0: from 0; p1 < 0: to the end). */
EMBER_API ember_status ember_session_kv_copy(ember_session* session, int32_t src_seq, int32_t dst_seq, int32_t p0,
                                             int32_t p1);
/* Largest position held for seq, -1 if none. */
EMBER_API ember_status ember_session_kv_pos_max(const ember_session* session, int32_t seq, int32_t* out);
/* Bytes of the KV cache. */
EMBER_API ember_status ember_session_kv_bytes(const ember_session* session, size_t* out);

/* --- generation ----------------------------------------------------------- */

/* Receives each piece of generated text as soon as it is whole UTF-8 (piece
 * is not NUL-terminated); a non-zero return stops the generation. */
typedef int (*ember_piece_callback)(const char* piece, size_t len, void* user_data);
/* Called after each chunk of the prompt; a non-zero return stops the
 * generation before any token is sampled. */
typedef int (*ember_prompt_progress_callback)(int32_t done, int32_t total, void* user_data);

/* The seed value that asks for a random seed. */
#define EMBER_SEED_RANDOM 0xFFFFFFFFu

typedef struct ember_generate_params {
  size_t struct_size;
  /* sampling: the chain penalties -> logit bias -> top_k -> typical -> top_p -> min_p -> temperature */
  float temperature;       /* default 0.8; <= 0: greedy */
  int32_t top_k;           /* default 40; <= 0: off */
  float top_p;             /* default 0.95; (0, 1]; 1: off */
  float min_p;             /* default 0.05; [0, 1]; 0: off */
  float typical_p;         /* default 1; (0, 1]; 1: off */
  float repeat_penalty;    /* default 1 (off); > 0 */
  int32_t repeat_last_n;   /* default 64; tokens the penalties see; 0: off, -1: all */
  float frequency_penalty; /* default 0 */
  float presence_penalty;  /* default 0 */
  uint64_t seed;           /* default EMBER_SEED_RANDOM */
  int32_t n_predict;       /* default 256; tokens to generate at most, -1: until EOG or a full context */
  bool add_special;        /* default true: BOS/EOS as the vocabulary asks */
  bool parse_special;      /* default false: read "<|im_start|>" in the prompt as the special token */
  bool ignore_eos;         /* default false */
  const char* const* stop; /* n_stop NUL-terminated stop strings (not returned); may be NULL */
  size_t n_stop;
  const ember_token* logit_bias_tokens; /* n_logit_bias ids, may be NULL */
  const float* logit_bias;              /* added to their logits; -INFINITY bans a token */
  size_t n_logit_bias;
  ember_piece_callback on_piece;        /* may be NULL */
  void* on_piece_user_data;
  ember_prompt_progress_callback on_prompt_progress; /* may be NULL */
  void* on_prompt_progress_user_data;
} ember_generate_params;

EMBER_API ember_status ember_generate_default_params(ember_generate_params* params, size_t struct_size);

enum {
  EMBER_STOP_END_OF_GENERATION = 0, /* an end-of-generation token */
  EMBER_STOP_LENGTH = 1,            /* n_predict tokens */
  EMBER_STOP_STRING = 2,            /* a stop string */
  EMBER_STOP_CONTEXT_FULL = 3,
  EMBER_STOP_CANCELLED = 4          /* a callback returned non-zero, or ember_session_cancel */
};

typedef struct ember_generate_stats {
  size_t struct_size;        /* set by the caller: sizeof(ember_generate_stats) */
  int32_t stop_reason;       /* EMBER_STOP_* */
  int32_t prompt_tokens;     /* tokens of this call's prompt */
  int32_t reused_tokens;     /* of those, already in the KV cache from the previous call */
  int32_t generated_tokens;
  double ttft_ms;            /* call start to first generated token */
  double prefill_ms;
  double decode_ms;
  double prefill_tok_s;
  double decode_tok_s;
} ember_generate_stats;

/* Generates text after prompt[0..prompt_len) on sequence 0, reusing the
 * longest prefix the KV cache already holds. The text reaches on_piece as it
 * is made, and/or text (NUL-terminated; text may be NULL with text_size 0).
 * If text is too small it receives what fits (cut at a UTF-8 boundary), the
 * call returns EMBER_ERR_BUFFER_TOO_SMALL and *out_text_len the full length;
 * the generation itself is complete and *stats filled. stats may be NULL.
 * A stop by callback or ember_session_cancel is EMBER_OK with stop_reason
 * EMBER_STOP_CANCELLED. Bad parameters or a prompt that does not fit the
 * context fail before anything changes. */
EMBER_API ember_status ember_session_generate(ember_session* session, const char* prompt, size_t prompt_len,
                                              const ember_generate_params* params, char* text, size_t text_size,
                                              size_t* out_text_len, ember_generate_stats* stats);
/* The same from prompt token ids (n_prompt = 0: start from BOS). */
EMBER_API ember_status ember_session_generate_tokens(ember_session* session, const ember_token* prompt,
                                                     size_t n_prompt, const ember_generate_params* params, char* text,
                                                     size_t text_size, size_t* out_text_len,
                                                     ember_generate_stats* stats);

/* --- chat templates -------------------------------------------------------- */

/* One message of a conversation. Richer messages (tool calls, tool results,
 * extra fields) go through ember_render_chat_template_json. */
typedef struct ember_chat_message {
  const char* role;    /* "system", "user", "assistant", "tool", ... */
  const char* content;
} ember_chat_message;

/* Renders the Jinja chat template tmpl with `messages`, `add_generation_prompt`,
 * `bos_token` and `eos_token` (NULL: ""), byte for byte as Hugging Face
 * transformers renders it. A template that does not parse or raises gives
 * EMBER_ERR_INVALID_ARGUMENT with the template's line and message. */
EMBER_API ember_status ember_render_chat_template(const char* tmpl, const ember_chat_message* messages,
                                                  size_t n_messages, bool add_generation_prompt,
                                                  const char* bos_token, const char* eos_token, char* buf,
                                                  size_t buf_size, size_t* out_len);
/* The same with every variable taken from a JSON object, e.g.
 * {"messages": [...], "tools": [...], "add_generation_prompt": true, "bos_token": "<s>"}. */
EMBER_API ember_status ember_render_chat_template_json(const char* tmpl, const char* context_json, char* buf,
                                                       size_t buf_size, size_t* out_len);
/* The model's own chat template (ChatML when the file has none) rendered with
 * its vocabulary's BOS/EOS token texts: a prompt for ember_session_generate
 * with parse_special = true (and add_special = false when the text already
 * starts with the BOS token, so it is not added twice). */
EMBER_API ember_status ember_model_apply_chat_template(const ember_model* model, const ember_chat_message* messages,
                                                       size_t n_messages, bool add_generation_prompt, char* buf,
                                                       size_t buf_size, size_t* out_len);

/* --- chat ------------------------------------------------------------------ */

/* A conversation over a session: messages are rendered with the model's chat
 * template (or tmpl), generated from with the template's end-of-turn tokens as
 * stops, and the reply is split into content and tool calls. Each turn reuses
 * the KV cache for the prefix it shares with the previous one (sequence 0 of
 * the session). Thread safety: like its session, one thread at a time; the
 * session must outlive the chat. */
typedef struct ember_chat ember_chat;

/* tmpl: Jinja source, or NULL for the model's template (ChatML, with a warning
 * in the log, when the file has none). A template that does not parse gives
 * EMBER_ERR_INVALID_ARGUMENT naming its line. */
EMBER_API ember_status ember_chat_create(ember_session* session, const char* tmpl, ember_chat** out_chat);
EMBER_API void ember_chat_free(ember_chat* chat);
/* true when the model has no chat template and ChatML is used instead. */
EMBER_API ember_status ember_chat_uses_fallback_template(const ember_chat* chat, bool* out);

/* The prompt text the template gives for messages_json (see
 * ember_chat_generate_json), without generating. */
EMBER_API ember_status ember_chat_render_json(const ember_chat* chat, const char* messages_json,
                                             const char* tools_json, bool add_generation_prompt, char* buf,
                                             size_t buf_size, size_t* out_len);

/* One assistant turn after messages[0..n). params: sampling, n_predict, stop
 * strings and on_piece streaming as for ember_session_generate (add_special
 * and parse_special are decided by the chat); NULL for the defaults. The reply
 * stays in the chat until its next turn: read it with ember_chat_reply_*. */
EMBER_API ember_status ember_chat_generate(ember_chat* chat, const ember_chat_message* messages, size_t n_messages,
                                           const ember_generate_params* params, ember_generate_stats* stats);
/* The same with the messages as an OpenAI-style JSON array
 * ([{"role": "user", "content": "..."}, {"role": "assistant", "tool_calls": [...]},
 *   {"role": "tool", "tool_call_id": "...", "content": "..."}]) and tools_json
 * an OpenAI "tools" array (NULL: no tools). With tools, the reply is parsed for
 * tool calls (Hermes/Qwen <tool_call>, Llama 3.1 JSON, Mistral [TOOL_CALLS]);
 * text that only looks like a call stays content. */
EMBER_API ember_status ember_chat_generate_json(ember_chat* chat, const char* messages_json, const char* tools_json,
                                                const ember_generate_params* params, ember_generate_stats* stats);

/* The last reply's text (without tool calls). */
EMBER_API ember_status ember_chat_reply_content(const ember_chat* chat, char* buf, size_t buf_size, size_t* out_len);
/* "stop", "length", "tool_calls" or "cancelled" (static text; "" before the first turn). */
EMBER_API const char* ember_chat_reply_finish_reason(const ember_chat* chat);
EMBER_API ember_status ember_chat_reply_n_tool_calls(const ember_chat* chat, size_t* out);

enum { EMBER_TOOL_CALL_ID = 0, EMBER_TOOL_CALL_NAME = 1, EMBER_TOOL_CALL_ARGUMENTS = 2 /* JSON object text */ };
/* One field of the last reply's i-th tool call. */
EMBER_API ember_status ember_chat_reply_tool_call(const ember_chat* chat, size_t i, int field, char* buf,
                                                  size_t buf_size, size_t* out_len);
/* The last reply as an OpenAI assistant message, ready to append to the
 * messages of the next turn: {"role": "assistant", "content": ..., "tool_calls": [...]}. */
EMBER_API ember_status ember_chat_reply_json(const ember_chat* chat, char* buf, size_t buf_size, size_t* out_len);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
