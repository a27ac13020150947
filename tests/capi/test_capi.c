/* The C ABI from C99: load, metadata, tokenizer, greedy generation, logits,
 * KV cache operations, cancellation, logging, and every error path giving its
 * status and a message. Prints "N passed, N failed"; exits non-zero on failure. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"

#ifndef EMBER_SHARED_DIR
#error "EMBER_SHARED_DIR must be defined"
#endif
#ifndef EMBER_CAPI_TMP_DIR
#error "EMBER_CAPI_TMP_DIR must be defined"
#endif

#define TINY EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf"
#define PROMPT "Once upon a time, there was a little robot who"

/* From ref-tiny-llama-f16.gguf (llama.cpp): the prompt's ids with BOS, and the
 * text of its first 5 greedy tokens (24641 x5; top-1 margins >= 0.2, so
 * summation order cannot change them). */
static const ember_token kPromptTokens[12] = {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217, 19964, 1058};
#define GREEDY5 " divs divs divs divs divs"

static int g_passed, g_failed;
static const char* g_test = "";

static void check(int ok, const char* what, int line) {
  if (ok) {
    ++g_passed;
    return;
  }
  ++g_failed;
  printf("FAILED %s (line %d): %s\n", g_test, line, what);
}
#define CHECK(cond) check((cond) ? 1 : 0, #cond, __LINE__)

/* The call returns want; a failure also leaves a message naming `needle`. */
static void check_status(ember_status got, ember_status want, const char* needle, const char* what, int line) {
  char buf[1024];
  const char* msg = ember_last_error();
  if (got != want) {
    snprintf(buf, sizeof buf, "%s -> %d (%s), want %d (%s); last error: %s", what, got, ember_status_string(got), want,
             ember_status_string(want), msg);
    check(0, buf, line);
    return;
  }
  if (want != EMBER_OK && (msg == NULL || msg[0] == '\0')) {
    snprintf(buf, sizeof buf, "%s: empty ember_last_error()", what);
    check(0, buf, line);
    return;
  }
  if (want != EMBER_OK && needle && strstr(msg, needle) == NULL) {
    snprintf(buf, sizeof buf, "%s: ember_last_error() \"%s\" does not mention \"%s\"", what, msg, needle);
    check(0, buf, line);
    return;
  }
  check(1, what, line);
}
#define CHECK_STATUS(expr, want, needle) check_status((expr), (want), (needle), #expr, __LINE__)
#define CHECK_OK(expr) check_status((expr), EMBER_OK, NULL, #expr, __LINE__)

static ember_model* load_tiny(void) {
  ember_model* m = NULL;
  ember_model_params mp;
  CHECK_OK(ember_model_default_params(&mp, sizeof mp));
  mp.n_threads = 2;
  CHECK_OK(ember_model_load(TINY, &mp, &m));
  return m;
}

static ember_session* new_session(const ember_model* m, int32_t n_ctx, int32_t n_batch, int32_t n_seq_max) {
  ember_session* s = NULL;
  ember_session_params sp;
  CHECK_OK(ember_session_default_params(&sp, sizeof sp));
  sp.n_ctx = n_ctx;
  sp.n_batch = n_batch;
  sp.n_threads = 2;
  sp.n_seq_max = n_seq_max;
  CHECK_OK(ember_session_create(m, &sp, &s));
  return s;
}

static ember_generate_params greedy(int32_t n_predict) {
  ember_generate_params gp;
  ember_generate_default_params(&gp, sizeof gp);
  gp.temperature = 0;
  gp.n_predict = n_predict;
  return gp;
}

static int argmax(const float* x, size_t n) {
  size_t i, best = 0;
  for (i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return (int)best;
}

/* --- tests ---------------------------------------------------------------- */

static void test_versions(void) {
  char want[64];
  int s;
  g_test = "versions";
  snprintf(want, sizeof want, "%d.%d.%d", EMBER_VERSION_MAJOR, EMBER_VERSION_MINOR, EMBER_VERSION_PATCH);
  CHECK(strcmp(ember_version(), want) == 0);
  CHECK(ember_abi_version() == EMBER_ABI_VERSION);
  for (s = EMBER_ERR_NOT_FOUND; s <= EMBER_OK; ++s) CHECK(ember_status_string(s)[0] != '\0');
  CHECK(strcmp(ember_status_string(12345), "unknown status") == 0);
}

static void test_model_metadata(const ember_model* m) {
  char buf[256];
  size_t len = 0, count = 0;
  int32_t n = 0;
  uint64_t n_params = 0;
  g_test = "model metadata";
  CHECK_OK(ember_model_meta_get(m, "general.architecture", buf, sizeof buf, &len));
  CHECK(strcmp(buf, "llama") == 0 && len == 5);
  CHECK_OK(ember_model_meta_get(m, "llama.context_length", buf, sizeof buf, &len));
  CHECK(strcmp(buf, "1024") == 0);
  CHECK_OK(ember_model_meta_get(m, "tokenizer.ggml.add_bos_token", buf, sizeof buf, NULL));
  CHECK(strcmp(buf, "true") == 0);
  CHECK_OK(ember_model_meta_get(m, "llama.rope.freq_base", buf, sizeof buf, NULL));
  CHECK(strcmp(buf, "10000") == 0);
  /* size query, then a buffer one byte short */
  CHECK_STATUS(ember_model_meta_get(m, "general.name", NULL, 0, &len), EMBER_ERR_BUFFER_TOO_SMALL, "needs 18 bytes");
  CHECK(len == strlen("tiny-random-llama"));
  CHECK_STATUS(ember_model_meta_get(m, "general.name", buf, len, &len), EMBER_ERR_BUFFER_TOO_SMALL, "needs 18 bytes");
  CHECK(len == 17 && buf[0] == '\0');
  CHECK_OK(ember_model_meta_get(m, "general.name", buf, len + 1, &len));
  CHECK(strcmp(buf, "tiny-random-llama") == 0);
  CHECK_STATUS(ember_model_meta_get(m, "no.such.key", buf, sizeof buf, &len), EMBER_ERR_NOT_FOUND, "no.such.key");
  /* a 32000-element array, in full */
  CHECK(ember_model_meta_get(m, "tokenizer.ggml.scores", NULL, 0, &len) == EMBER_ERR_BUFFER_TOO_SMALL);
  CHECK(len > 32000);

  CHECK_OK(ember_model_meta_count(m, &count));
  CHECK(count == 23);
  CHECK_OK(ember_model_meta_key(m, 0, buf, sizeof buf, NULL));
  CHECK(strcmp(buf, "tokenizer.ggml.model") == 0);
  CHECK_STATUS(ember_model_meta_key(m, count, buf, sizeof buf, NULL), EMBER_ERR_INVALID_ARGUMENT, "out of range");

  CHECK_OK(ember_model_description(m, buf, sizeof buf, &len));
  CHECK(strstr(buf, "tiny-random-llama") != NULL && strstr(buf, "llama") != NULL && len == strlen(buf));
  CHECK_STATUS(ember_model_chat_template(m, buf, sizeof buf, &len), EMBER_ERR_NOT_FOUND, "chat_template");

  CHECK_OK(ember_model_n_vocab(m, &n));
  CHECK(n == 32000);
  CHECK_OK(ember_model_n_ctx_train(m, &n));
  CHECK(n == 1024);
  CHECK_OK(ember_model_n_embd(m, &n));
  CHECK(n == 256);
  CHECK_OK(ember_model_n_layer(m, &n));
  CHECK(n == 4);
  CHECK_OK(ember_model_n_params(m, &n_params));
  CHECK(n_params > 8000000);
}

static void test_tokenizer(const ember_model* m) {
  ember_token toks[64];
  char text[256];
  size_t n = 0, len = 0;
  ember_token id = 0;
  bool eog = false;
  g_test = "tokenizer";
  CHECK_OK(ember_tokenize(m, PROMPT, strlen(PROMPT), true, false, toks, 64, &n));
  CHECK(n == 12 && memcmp(toks, kPromptTokens, sizeof kPromptTokens) == 0);
  /* too small: the count needed comes back */
  CHECK_STATUS(ember_tokenize(m, PROMPT, strlen(PROMPT), true, false, toks, 5, &n), EMBER_ERR_BUFFER_TOO_SMALL, "12 tokens");
  CHECK(n == 12);
  CHECK(ember_tokenize(m, PROMPT, strlen(PROMPT), false, false, NULL, 0, &n) == EMBER_ERR_BUFFER_TOO_SMALL && n == 11);
  /* round trip */
  CHECK_OK(ember_detokenize(m, kPromptTokens, 12, true, text, sizeof text, &len));
  CHECK(strcmp(text, PROMPT) == 0 && len == strlen(PROMPT));
  CHECK_STATUS(ember_detokenize(m, kPromptTokens, 12, true, text, 10, &len), EMBER_ERR_BUFFER_TOO_SMALL, "needs");
  CHECK(len == strlen(PROMPT));
  CHECK_OK(ember_tokenize(m, "", 0, false, false, toks, 64, &n));
  CHECK(n == 0);
  CHECK_OK(ember_token_to_piece(m, 9038, true, text, sizeof text, &len));
  CHECK(strcmp(text, " Once") == 0 && len == 5);
  CHECK_STATUS(ember_token_to_piece(m, 32000, true, text, sizeof text, &len), EMBER_ERR_INVALID_ARGUMENT, "32000");
  CHECK_OK(ember_token_bos(m, &id));
  CHECK(id == 1);
  CHECK_OK(ember_token_eos(m, &id));
  CHECK(id == 2);
  CHECK_OK(ember_token_is_eog(m, 2, &eog));
  CHECK(eog);
  CHECK_OK(ember_token_is_eog(m, 9038, &eog));
  CHECK(!eog);
  CHECK_STATUS(ember_token_is_eog(m, -1, &eog), EMBER_ERR_INVALID_ARGUMENT, "-1");
}

typedef struct {
  char text[512];
  size_t len;
  int pieces;
  int stop_after; /* return non-zero after this many pieces (0: never) */
} Collect;

static int collect_piece(const char* piece, size_t len, void* user_data) {
  Collect* c = (Collect*)user_data;
  if (c->len + len < sizeof c->text) {
    memcpy(c->text + c->len, piece, len);
    c->len += len;
    c->text[c->len] = '\0';
  }
  ++c->pieces;
  return c->stop_after > 0 && c->pieces >= c->stop_after;
}

static int cancel_prompt(int32_t done, int32_t total, void* user_data) {
  (void)done, (void)total;
  ++*(int*)user_data;
  return 1;
}

static void test_generate(const ember_model* m) {
  ember_session* s = new_session(m, 128, 512, 1);
  ember_generate_params gp = greedy(5);
  ember_generate_stats st;
  Collect c;
  char text[256];
  size_t len = 0;
  int calls = 0;
  const char* stops[1];
  g_test = "generate";
  memset(&c, 0, sizeof c);
  st.struct_size = sizeof st;
  gp.on_piece = collect_piece;
  gp.on_piece_user_data = &c;
  CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, sizeof text, &len, &st));
  CHECK(strcmp(text, GREEDY5) == 0 && len == strlen(GREEDY5));
  CHECK(strcmp(c.text, GREEDY5) == 0 && c.pieces >= 1);
  CHECK(st.stop_reason == EMBER_STOP_LENGTH && st.prompt_tokens == 12 && st.generated_tokens == 5 &&
        st.reused_tokens == 0);
  CHECK(st.prefill_ms >= 0 && st.ttft_ms > 0 && st.decode_tok_s >= 0);

  /* the same prompt again reuses the cached prefix; text only through the buffer */
  gp.on_piece = NULL;
  CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, sizeof text, &len, &st));
  CHECK(strcmp(text, GREEDY5) == 0 && st.reused_tokens == 11);

  /* a small buffer gets what fits; the length needed comes back */
  CHECK_STATUS(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, 8, &len, &st), EMBER_ERR_BUFFER_TOO_SMALL,
               "needs 26 bytes");
  CHECK(strcmp(text, " divs d") == 0 && len == strlen(GREEDY5) && st.generated_tokens == 5);

  /* from token ids: the same text */
  CHECK_OK(ember_session_generate_tokens(s, kPromptTokens, 12, &gp, text, sizeof text, &len, NULL));
  CHECK(strcmp(text, GREEDY5) == 0);

  /* the piece callback stops it */
  memset(&c, 0, sizeof c);
  c.stop_after = 1;
  gp.on_piece = collect_piece;
  gp.on_piece_user_data = &c;
  CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, NULL, 0, &len, &st));
  CHECK(st.stop_reason == EMBER_STOP_CANCELLED && st.generated_tokens == 1 && strcmp(c.text, " divs") == 0);
  gp.on_piece = NULL;

  /* a stop string ends it and is not returned */
  stops[0] = "s d";
  gp.stop = stops;
  gp.n_stop = 1;
  CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, sizeof text, &len, &st));
  CHECK(strcmp(text, " div") == 0 && st.stop_reason == EMBER_STOP_STRING);
  gp.stop = NULL;
  gp.n_stop = 0;

  /* the prompt-progress callback stops it before any token */
  gp.on_prompt_progress = cancel_prompt;
  gp.on_prompt_progress_user_data = &calls;
  CHECK_OK(ember_session_generate(s, "A different prompt", 18, &gp, text, sizeof text, &len, &st));
  CHECK(calls == 1 && st.stop_reason == EMBER_STOP_CANCELLED && st.generated_tokens == 0 && len == 0);
  gp.on_prompt_progress = NULL;

  /* a banned token is never generated */
  {
    const ember_token banned[1] = {24641};
    const float bias[1] = {-INFINITY};
    gp.logit_bias_tokens = banned;
    gp.logit_bias = bias;
    gp.n_logit_bias = 1;
    CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, sizeof text, &len, &st));
    CHECK(strstr(text, "divs") == NULL && st.generated_tokens == 5);
    gp.n_logit_bias = 0;
  }

  /* a seeded sampler repeats itself */
  {
    char a[256], b[256];
    ember_generate_params sp = greedy(12);
    sp.temperature = 1.0f;
    sp.seed = 42;
    CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &sp, a, sizeof a, NULL, NULL));
    CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &sp, b, sizeof b, NULL, NULL));
    CHECK(strcmp(a, b) == 0 && strlen(a) > 0);
  }
  ember_session_free(s);
}

static void test_logits_and_kv(const ember_model* m) {
  /* n_batch 5: the 12 prompt tokens run in 3 chunks, their logits gathered */
  ember_session* s = new_session(m, 64, 5, 2);
  ember_session* one = new_session(m, 64, 512, 1);
  const float* row = NULL;
  const float* last = NULL;
  float* saved = malloc(32000 * sizeof(float));
  size_t n = 0, i;
  int32_t n_out = 0, pos = 0;
  size_t bytes = 0;
  double max_diff = 0;
  g_test = "logits and KV cache";

  CHECK_OK(ember_session_decode(s, kPromptTokens, 12, 0, 0, true));
  CHECK_OK(ember_session_n_outputs(s, &n_out));
  CHECK(n_out == 12);
  CHECK_OK(ember_session_logits(s, -1, &row, &n));
  CHECK(n == 32000 && argmax(row, n) == 24641);
  /* llama.cpp's logit of that token after the prompt: 6.969857 */
  CHECK(fabs(row[24641] - 6.969857) < 0.05);
  memcpy(saved, row, 32000 * sizeof(float));
  CHECK_OK(ember_session_logits(s, 5, &row, &n));
  CHECK(argmax(row, n) == 6664 && fabs(row[6664] - 6.441029) < 0.05);
  CHECK_STATUS(ember_session_logits(s, 12, &row, &n), EMBER_ERR_INVALID_ARGUMENT, "12 rows");
  CHECK_STATUS(ember_session_logits(s, -13, &row, &n), EMBER_ERR_INVALID_ARGUMENT, "rows");

  /* one chunk, last row only: the same numbers (up to summation order) */
  CHECK_OK(ember_session_decode(one, kPromptTokens, 12, 0, 0, false));
  CHECK_OK(ember_session_n_outputs(one, &n_out));
  CHECK(n_out == 1);
  CHECK_OK(ember_session_logits(one, 0, &last, &n));
  for (i = 0; i < 32000; ++i) max_diff = fmax(max_diff, fabs(last[i] - saved[i]));
  CHECK(max_diff < 1e-3);

  /* KV operations */
  CHECK_OK(ember_session_kv_pos_max(s, 0, &pos));
  CHECK(pos == 11);
  CHECK_OK(ember_session_kv_pos_max(s, 1, &pos));
  CHECK(pos == -1);
  CHECK_OK(ember_session_kv_bytes(s, &bytes));
  CHECK(bytes > 0);
  /* truncate to 6 positions and decode the rest again: the same last logits */
  CHECK_OK(ember_session_kv_remove(s, 0, 6, -1));
  CHECK_OK(ember_session_kv_pos_max(s, 0, &pos));
  CHECK(pos == 5);
  CHECK_OK(ember_session_kv_copy(s, 0, 1, -1, -1));
  CHECK_OK(ember_session_kv_pos_max(s, 1, &pos));
  CHECK(pos == 5);
  CHECK_OK(ember_session_kv_keep_seq(s, 1));
  CHECK_OK(ember_session_kv_pos_max(s, 0, &pos));
  CHECK(pos == -1);
  CHECK_OK(ember_session_decode(s, kPromptTokens + 6, 6, 6, 1, false));
  CHECK_OK(ember_session_logits(s, -1, &row, &n));
  max_diff = 0;
  for (i = 0; i < 32000; ++i) max_diff = fmax(max_diff, fabs(row[i] - saved[i]));
  CHECK(max_diff < 1e-3);
  CHECK_OK(ember_session_kv_clear(s));
  CHECK_OK(ember_session_kv_pos_max(s, 1, &pos));
  CHECK(pos == -1);

  /* bad decodes change nothing */
  CHECK_STATUS(ember_session_kv_pos_max(s, 7, &pos), EMBER_ERR_INVALID_ARGUMENT, "seq id 7");
  CHECK_STATUS(ember_session_kv_remove(s, 9, 0, -1), EMBER_ERR_INVALID_ARGUMENT, "seq id 9");
  {
    const ember_token bad[3] = {1, 32000, 5};
    CHECK_STATUS(ember_session_decode(s, bad, 3, 0, 0, false), EMBER_ERR_INVALID_ARGUMENT, "tokens[1]");
  }
  CHECK_STATUS(ember_session_decode(s, kPromptTokens, 12, 60, 0, false), EMBER_ERR_INVALID_ARGUMENT, "context of 64");
  CHECK_STATUS(ember_session_decode(s, kPromptTokens, 12, 0, 2, false), EMBER_ERR_INVALID_ARGUMENT, "seq_id 2");
  CHECK_STATUS(ember_session_decode(s, kPromptTokens, 0, 0, 0, false), EMBER_ERR_INVALID_ARGUMENT, "n is 0");
  CHECK_STATUS(ember_session_decode(s, kPromptTokens, 3, -1, 0, false), EMBER_ERR_INVALID_ARGUMENT, "pos0");
  CHECK_OK(ember_session_kv_pos_max(s, 0, &pos));
  CHECK(pos == -1);

  /* embeddings: llama.cpp's mean pooling gives 1.268087, -0.370515, ... for the prompt
     (tests/data/reference/tiny_llama_embeddings.json); normalized: unit length */
  {
    float emb[256], unit[256];
    size_t n_out = 0;
    double norm2 = 0;
    CHECK_OK(ember_session_embed(s, kPromptTokens, 12, false, emb, 256, &n_out));
    CHECK(n_out == 256);
    CHECK(fabs(emb[0] - 1.268087) < 2e-3 && fabs(emb[1] + 0.370515) < 2e-3);
    CHECK_OK(ember_session_embed(s, kPromptTokens, 12, true, unit, 256, &n_out));
    for (i = 0; i < 256; ++i) norm2 += (double)unit[i] * unit[i];
    CHECK(fabs(norm2 - 1.0) < 1e-5);
    CHECK_STATUS(ember_session_embed(s, kPromptTokens, 12, true, emb, 100, &n_out), EMBER_ERR_BUFFER_TOO_SMALL,
                 "holds 100");
    CHECK(n_out == 256);
    CHECK_STATUS(ember_session_embed(s, kPromptTokens, 0, true, emb, 256, &n_out), EMBER_ERR_INVALID_ARGUMENT,
                 "no tokens");
    CHECK_STATUS(ember_session_embed(s, NULL, 3, true, emb, 256, &n_out), EMBER_ERR_INVALID_ARGUMENT,
                 "tokens is NULL");
    CHECK_OK(ember_session_kv_pos_max(s, 0, &pos));
    CHECK(pos == -1); /* sequence 0 is left empty */
  }
  free(saved);
  ember_session_free(one);
  ember_session_free(s);
}

/* --- cancellation from another thread ------------------------------------- */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int pieces;
  int done;
  ember_session* session;
} CancelState;

static int count_piece(const char* piece, size_t len, void* user_data) {
  CancelState* cs = (CancelState*)user_data;
  (void)piece, (void)len;
  pthread_mutex_lock(&cs->mu);
  ++cs->pieces;
  pthread_cond_broadcast(&cs->cv);
  pthread_mutex_unlock(&cs->mu);
  return 0;
}

/* Waits for 3 pieces, then cancels. */
static void* cancel_after_pieces(void* arg) {
  CancelState* cs = (CancelState*)arg;
  pthread_mutex_lock(&cs->mu);
  while (cs->pieces < 3) pthread_cond_wait(&cs->cv, &cs->mu);
  pthread_mutex_unlock(&cs->mu);
  ember_session_cancel(cs->session);
  return NULL;
}

/* Cancels over and over until the decode returns (each call clears old requests). */
static void* cancel_until_done(void* arg) {
  CancelState* cs = (CancelState*)arg;
  for (;;) {
    int done;
    pthread_mutex_lock(&cs->mu);
    done = cs->done;
    pthread_mutex_unlock(&cs->mu);
    if (done) break;
    ember_session_cancel(cs->session);
  }
  return NULL;
}

static void test_cancel(const ember_model* m) {
  CancelState cs;
  pthread_t th;
  ember_generate_params gp = greedy(-1);
  ember_generate_stats st;
  ember_token* toks;
  ember_status status;
  int32_t pos = 0, i;
  g_test = "cancel from another thread";
  memset(&cs, 0, sizeof cs);
  pthread_mutex_init(&cs.mu, NULL);
  pthread_cond_init(&cs.cv, NULL);

  cs.session = new_session(m, 1024, 512, 1);
  gp.ignore_eos = true;
  gp.on_piece = count_piece;
  gp.on_piece_user_data = &cs;
  st.struct_size = sizeof st;
  pthread_create(&th, NULL, cancel_after_pieces, &cs);
  CHECK_OK(ember_session_generate(cs.session, PROMPT, strlen(PROMPT), &gp, NULL, 0, NULL, &st));
  pthread_join(th, NULL);
  CHECK(st.stop_reason == EMBER_STOP_CANCELLED && st.generated_tokens >= 3 && st.generated_tokens < 1000);

  /* a long decode in chunks of 8 stops between chunks */
  ember_session_free(cs.session);
  cs.session = new_session(m, 1024, 8, 1);
  toks = malloc(1000 * sizeof(ember_token));
  for (i = 0; i < 1000; ++i) toks[i] = 100 + i;
  pthread_create(&th, NULL, cancel_until_done, &cs);
  status = ember_session_decode(cs.session, toks, 1000, 0, 0, false);
  pthread_mutex_lock(&cs.mu);
  cs.done = 1;
  pthread_mutex_unlock(&cs.mu);
  pthread_join(th, NULL);
  CHECK_STATUS(status, EMBER_ERR_CANCELLED, "cancelled after");
  CHECK_OK(ember_session_kv_pos_max(cs.session, 0, &pos));
  CHECK(pos >= 7 && pos < 999 && (pos + 1) % 8 == 0);
  {
    const float* row;
    size_t n;
    CHECK_STATUS(ember_session_logits(cs.session, -1, &row, &n), EMBER_ERR_INVALID_ARGUMENT, "0 rows");
  }
  free(toks);
  ember_session_free(cs.session);
  pthread_cond_destroy(&cs.cv);
  pthread_mutex_destroy(&cs.mu);
}

/* --- errors ----------------------------------------------------------------- */

static int write_truncated_copy(const char* src, const char* dst, long bytes) {
  FILE* in = fopen(src, "rb");
  FILE* out = fopen(dst, "wb");
  char* buf = malloc((size_t)bytes);
  int ok = in && out && buf && fread(buf, 1, (size_t)bytes, in) == (size_t)bytes &&
           fwrite(buf, 1, (size_t)bytes, out) == (size_t)bytes;
  free(buf);
  if (in) fclose(in);
  if (out && fclose(out) != 0) ok = 0;
  return ok;
}

static void test_errors(const ember_model* m) {
  const char* truncated = EMBER_CAPI_TMP_DIR "/truncated-tiny-llama.gguf";
  ember_model* out = (ember_model*)&out; /* set to NULL by a failing load */
  ember_session* s = NULL;
  ember_session* sess = NULL;
  ember_model_params mp;
  ember_session_params sp;
  ember_generate_params gp = greedy(4);
  char text[64];
  ember_token toks[4];
  size_t n = 0;
  int32_t v = 0;
  const float* row = NULL;
  g_test = "errors";

  /* files */
  CHECK_STATUS(ember_model_load(EMBER_CAPI_TMP_DIR "/no-such-model.gguf", NULL, &out), EMBER_ERR_IO, "no-such-model.gguf");
  CHECK(out == NULL);
  CHECK(write_truncated_copy(TINY, truncated, 1000000));
  CHECK_STATUS(ember_model_load(truncated, NULL, &out), EMBER_ERR_INVALID_FILE, "truncated-tiny-llama.gguf");
  CHECK(out == NULL);
  remove(truncated);

  /* NULL pointers name the parameter */
  CHECK_STATUS(ember_model_load(NULL, NULL, &out), EMBER_ERR_INVALID_ARGUMENT, "path is NULL");
  CHECK_STATUS(ember_model_load(TINY, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "out_model is NULL");
  CHECK_STATUS(ember_model_default_params(NULL, sizeof mp), EMBER_ERR_INVALID_ARGUMENT, "params is NULL");
  CHECK_STATUS(ember_model_meta_get(NULL, "general.name", text, sizeof text, &n), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
  CHECK_STATUS(ember_model_meta_get(m, NULL, text, sizeof text, &n), EMBER_ERR_INVALID_ARGUMENT, "key is NULL");
  CHECK_STATUS(ember_model_meta_get(m, "general.name", NULL, 10, &n), EMBER_ERR_INVALID_ARGUMENT, "buf is NULL");
  CHECK_STATUS(ember_model_n_vocab(m, NULL), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  CHECK_STATUS(ember_tokenize(NULL, "a", 1, true, false, toks, 4, &n), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
  CHECK_STATUS(ember_tokenize(m, NULL, 1, true, false, toks, 4, &n), EMBER_ERR_INVALID_ARGUMENT, "text is NULL");
  CHECK_STATUS(ember_tokenize(m, "a b c d e", 9, true, false, NULL, 4, &n), EMBER_ERR_INVALID_ARGUMENT, "tokens is NULL");
  CHECK_STATUS(ember_detokenize(m, NULL, 3, false, text, sizeof text, &n), EMBER_ERR_INVALID_ARGUMENT, "tokens is NULL");
  CHECK_STATUS(ember_token_bos(m, NULL), EMBER_ERR_INVALID_ARGUMENT, "out is NULL");
  CHECK_STATUS(ember_session_create(NULL, NULL, &s), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
  CHECK_STATUS(ember_session_create(m, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "out_session is NULL");
  CHECK_STATUS(ember_session_generate(NULL, "a", 1, &gp, text, sizeof text, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "session is NULL");
  CHECK_STATUS(ember_session_decode(NULL, toks, 1, 0, 0, false), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(ember_session_cancel(NULL), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(ember_session_kv_clear(NULL), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(ember_set_log_level(17), EMBER_ERR_INVALID_ARGUMENT, "17");

  /* bad session parameters */
  ember_session_default_params(&sp, sizeof sp);
  sp.n_ctx = -1;
  CHECK_STATUS(ember_session_create(m, &sp, &s), EMBER_ERR_INVALID_ARGUMENT, "n_ctx");
  CHECK(s == NULL);
  ember_session_default_params(&sp, sizeof sp);
  sp.kv_type = 9;
  CHECK_STATUS(ember_session_create(m, &sp, &s), EMBER_ERR_INVALID_ARGUMENT, "kv_type 9");
  ember_session_default_params(&sp, sizeof sp);
  sp.n_batch = 0;
  CHECK_STATUS(ember_session_create(m, &sp, &s), EMBER_ERR_INVALID_ARGUMENT, "n_batch");
  sp.struct_size = 0;
  CHECK_STATUS(ember_session_create(m, &sp, &s), EMBER_ERR_INVALID_ARGUMENT, "struct_size");
  CHECK_STATUS(ember_session_default_params(&sp, 3), EMBER_ERR_INVALID_ARGUMENT, "struct_size");

  /* bad generation parameters leave the session usable */
  sess = new_session(m, 16, 512, 1);
  gp.top_p = 2;
  gp.temperature = 0.8f;
  CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &gp, text, sizeof text, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "top_p");
  gp = greedy(4);
  gp.n_predict = -7;
  CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &gp, text, sizeof text, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "n_predict");
  gp = greedy(4);
  gp.n_stop = 2;
  CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &gp, text, sizeof text, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "stop is NULL");
  gp = greedy(4);
  CHECK_STATUS(ember_session_generate(sess, PROMPT " " PROMPT, strlen(PROMPT) * 2 + 1, &gp, text, sizeof text, &n, NULL),
               EMBER_ERR_INVALID_ARGUMENT, "the context holds 16");
  CHECK_STATUS(ember_session_generate(sess, NULL, 0, &gp, text, sizeof text, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "prompt is NULL");
  CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &gp, NULL, 10, &n, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "text is NULL");
  {
    ember_generate_stats st;
    st.struct_size = 0;
    CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &gp, text, sizeof text, &n, &st), EMBER_ERR_INVALID_ARGUMENT,
                 "stats->struct_size");
  }
  {
    /* a caller built against a newer ember.h that sets a field this library lacks */
    struct {
      ember_generate_params p;
      int32_t newer_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    ember_generate_default_params(&newer.p, sizeof newer);
    newer.p.temperature = 0;
    newer.p.n_predict = 2;
    CHECK_OK(ember_session_generate(sess, "Hello", 5, &newer.p, text, sizeof text, &n, NULL));
    newer.newer_field = 1;
    CHECK_STATUS(ember_session_generate(sess, "Hello", 5, &newer.p, text, sizeof text, &n, NULL), EMBER_ERR_UNSUPPORTED,
                 "newer ember.h");
  }
  {
    /* a caller built against an older ember.h: only the leading fields, defaults for the rest */
    ember_session_params older;
    ember_session_default_params(&older, offsetof(ember_session_params, n_threads));
    older.n_ctx = 32;
    CHECK(older.struct_size == offsetof(ember_session_params, n_threads));
    CHECK_OK(ember_session_create(m, &older, &s));
    CHECK_OK(ember_session_n_ctx(s, &v));
    CHECK(v == 32);
    ember_session_free(s);
    s = NULL;
  }
  gp = greedy(4);
  CHECK_OK(ember_session_generate(sess, "Hello", 5, &gp, text, sizeof text, &n, NULL));
  CHECK(n > 0);
  ember_session_free(sess);

  /* a vocab-only model tokenizes but cannot run */
  ember_model_default_params(&mp, sizeof mp);
  mp.vocab_only = true;
  mp.use_mmap = false;
  CHECK_OK(ember_model_load(TINY, &mp, &out));
  CHECK_OK(ember_tokenize(out, "Hello", 5, false, false, toks, 4, &n));
  CHECK(n >= 1);
  CHECK_STATUS(ember_session_create(out, NULL, &s), EMBER_ERR_INVALID_ARGUMENT, "vocab_only");
  CHECK(s == NULL);
  ember_model_free(out);

  /* frees take NULL */
  ember_model_free(NULL);
  ember_session_free(NULL);
  (void)row;
}

/* --- logging and load progress ---------------------------------------------- */

typedef struct {
  int messages;
  int saw_loaded;
  int bad_level;
} LogState;

static void on_log(int level, const char* msg, void* user_data) {
  LogState* ls = (LogState*)user_data;
  ++ls->messages;
  if (strstr(msg, "loaded") && strstr(msg, "tiny-llama-f16.gguf")) ls->saw_loaded = 1;
  if (level < EMBER_LOG_DEBUG || level > EMBER_LOG_ERROR) ls->bad_level = 1;
}

typedef struct {
  int calls;
  float last;
  int monotonic;
  int cancel_at; /* return non-zero on this call (0: never) */
} Progress;

static int on_progress(float p, void* user_data) {
  Progress* pr = (Progress*)user_data;
  ++pr->calls;
  if (p < pr->last) pr->monotonic = 0;
  pr->last = p;
  return pr->cancel_at > 0 && pr->calls >= pr->cancel_at;
}

static void test_logging_and_progress(void) {
  LogState ls;
  Progress pr;
  ember_model_params mp;
  ember_model* m = NULL;
  g_test = "logging and load progress";
  memset(&ls, 0, sizeof ls);
  CHECK_OK(ember_set_log_callback(on_log, &ls));
  CHECK_OK(ember_set_log_level(EMBER_LOG_INFO));
  ember_model_default_params(&mp, sizeof mp);
  memset(&pr, 0, sizeof pr);
  pr.monotonic = 1;
  mp.progress = on_progress;
  mp.progress_user_data = &pr;
  CHECK_OK(ember_model_load(TINY, &mp, &m));
  CHECK(m != NULL);
  ember_model_free(m);
  CHECK(ls.messages >= 1 && ls.saw_loaded && !ls.bad_level);
  CHECK(pr.calls >= 3 && pr.monotonic && pr.last == 1.0f);
  CHECK_OK(ember_set_log_callback(NULL, NULL));
  CHECK_OK(ember_set_log_level(EMBER_LOG_WARN));
  ls.messages = 0;
  CHECK_OK(ember_model_load(TINY, NULL, &m));
  ember_model_free(m);
  CHECK(ls.messages == 0);

  /* the progress callback cancels, at the start and half-way through the weights */
  memset(&pr, 0, sizeof pr);
  pr.cancel_at = 1;
  m = (ember_model*)&m;
  CHECK_STATUS(ember_model_load(TINY, &mp, &m), EMBER_ERR_CANCELLED, "cancelled by the progress callback");
  CHECK(m == NULL && pr.calls == 1);
  memset(&pr, 0, sizeof pr);
  pr.cancel_at = 4;
  CHECK_STATUS(ember_model_load(TINY, &mp, &m), EMBER_ERR_CANCELLED, "cancelled");
  CHECK(m == NULL && pr.calls == 4);
}

static void test_chat_templates(const ember_model* m) {
  static const char* kTmpl =
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}";
  ember_chat_message msgs[2];
  char buf[512];
  size_t len = 0;
  g_test = "chat templates";
  msgs[0].role = "system";
  msgs[0].content = "Be brief.";
  msgs[1].role = "user";
  msgs[1].content = "Hi!";
  CHECK_OK(ember_render_chat_template(kTmpl, msgs, 2, true, "<s>", NULL, buf, sizeof buf, &len));
  CHECK(strcmp(buf, "<s>[system] Be brief.\n[user] Hi!\n[assistant]") == 0 && len == strlen(buf));
  CHECK_STATUS(ember_render_chat_template(kTmpl, msgs, 2, false, NULL, NULL, buf, 8, &len), EMBER_ERR_BUFFER_TOO_SMALL,
               "needs");
  CHECK(len == strlen("[system] Be brief.\n[user] Hi!\n"));
  CHECK_OK(ember_render_chat_template_json(kTmpl, "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", buf,
                                           sizeof buf, &len));
  CHECK(strcmp(buf, "[user] x\n") == 0);
  /* errors: syntax, raise_exception, bad JSON, NULLs */
  CHECK_STATUS(ember_render_chat_template("{% for %}", msgs, 2, true, NULL, NULL, buf, sizeof buf, &len),
               EMBER_ERR_INVALID_ARGUMENT, "[jinja] line 1");
  CHECK_STATUS(ember_render_chat_template("{{ raise_exception('no system role') }}", msgs, 2, true, NULL, NULL, buf,
                                          sizeof buf, &len),
               EMBER_ERR_INVALID_ARGUMENT, "no system role");
  CHECK_STATUS(ember_render_chat_template_json(kTmpl, "{not json", buf, sizeof buf, &len), EMBER_ERR_INVALID_ARGUMENT,
               "JSON");
  CHECK_STATUS(ember_render_chat_template(NULL, msgs, 2, true, NULL, NULL, buf, sizeof buf, &len),
               EMBER_ERR_INVALID_ARGUMENT, "tmpl is NULL");
  CHECK_STATUS(ember_render_chat_template(kTmpl, NULL, 2, true, NULL, NULL, buf, sizeof buf, &len),
               EMBER_ERR_INVALID_ARGUMENT, "messages is NULL");
  msgs[1].content = NULL;
  CHECK_STATUS(ember_render_chat_template(kTmpl, msgs, 2, true, NULL, NULL, buf, sizeof buf, &len),
               EMBER_ERR_INVALID_ARGUMENT, "messages[1].content is NULL");
  msgs[1].content = "Hi!";
  /* the tiny model has no template: ChatML */
  CHECK_OK(ember_model_apply_chat_template(m, msgs + 1, 1, true, buf, sizeof buf, &len));
  CHECK(strcmp(buf, "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n") == 0);
  CHECK_STATUS(ember_model_apply_chat_template(NULL, msgs, 1, true, buf, sizeof buf, &len), EMBER_ERR_INVALID_ARGUMENT,
               "model is NULL");
}

static void test_chat(const ember_model* m) {
  ember_session* s = new_session(m, 256, 512, 2);
  ember_chat* chat = NULL;
  ember_generate_params gp = greedy(6);
  ember_generate_stats st;
  ember_chat_message msg;
  char prompt[512], text[512], reply[512];
  size_t len = 0, n_calls = 9;
  bool fallback = false;
  g_test = "chat";
  CHECK_OK(ember_chat_create(s, NULL, &chat));
  CHECK_OK(ember_chat_uses_fallback_template(chat, &fallback));
  CHECK(fallback); /* the tiny model has no template: ChatML */
  CHECK(strcmp(ember_chat_reply_finish_reason(chat), "") == 0);
  CHECK_STATUS(ember_chat_reply_content(chat, reply, sizeof reply, &len), EMBER_ERR_INVALID_ARGUMENT, "no reply");

  /* A turn is the templated prompt generated from with special tokens parsed. */
  msg.role = "user";
  msg.content = "Hi!";
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  CHECK_OK(ember_chat_generate(chat, &msg, 1, &gp, &st));
  CHECK_OK(ember_chat_reply_content(chat, reply, sizeof reply, &len));
  CHECK(len == strlen(reply) && st.generated_tokens > 0);
  CHECK_OK(ember_chat_reply_n_tool_calls(chat, &n_calls));
  CHECK(n_calls == 0);
  CHECK(strcmp(ember_chat_reply_finish_reason(chat), "length") == 0 ||
        strcmp(ember_chat_reply_finish_reason(chat), "stop") == 0);
  {
    ember_session* plain = new_session(m, 256, 512, 2);
    CHECK_OK(ember_model_apply_chat_template(m, &msg, 1, true, prompt, sizeof prompt, &len));
    /* ChatML does not write BOS, so the vocabulary adds it */
    gp.parse_special = true;
    gp.add_special = true;
    CHECK_OK(ember_session_generate(plain, prompt, len, &gp, text, sizeof text, NULL, NULL));
    CHECK(strncmp(text, reply, strlen(reply)) == 0); /* the reply may drop trailing whitespace */
    ember_session_free(plain);
  }

  /* The same conversation as JSON, plus the reply as the next turn's assistant message:
     the second turn reuses the first turn's prompt from the KV cache. */
  CHECK_OK(ember_chat_generate_json(chat, "[{\"role\": \"user\", \"content\": \"Hi!\"}]", NULL, &gp, &st));
  CHECK_OK(ember_chat_reply_content(chat, text, sizeof text, &len));
  CHECK(strcmp(text, reply) == 0);
  CHECK(st.reused_tokens > 0);
  CHECK_OK(ember_chat_reply_json(chat, text, sizeof text, &len));
  CHECK(strncmp(text, "{\"role\":\"assistant\",\"content\":\"", 31) == 0);
  CHECK_OK(ember_chat_render_json(chat, "[{\"role\": \"user\", \"content\": \"Hi!\"}]", NULL, true, text,
                                  sizeof text, &len));
  CHECK(strcmp(text, prompt) == 0);

  /* Bad input names the place; the chat stays usable. */
  CHECK_STATUS(ember_chat_generate_json(chat, "[{\"role\": 3}]", NULL, &gp, NULL), EMBER_ERR_INVALID_ARGUMENT,
               "messages[0].role");
  CHECK_STATUS(ember_chat_generate_json(chat, "{not json", NULL, &gp, NULL), EMBER_ERR_INVALID_ARGUMENT, "JSON");
  CHECK_STATUS(ember_chat_generate_json(chat, "[{\"role\": \"user\", \"content\": \"x\"}]", "[{\"type\"", &gp, NULL),
               EMBER_ERR_INVALID_ARGUMENT, "tools");
  CHECK_STATUS(ember_chat_generate_json(chat, "[{\"role\": \"user\", \"content\": \"x\"}]", "[{\"type\": 5}]", &gp,
                                        NULL),
               EMBER_ERR_INVALID_ARGUMENT, "tools[0].type");
  CHECK_STATUS(ember_chat_generate_json(chat, "[{\"role\": \"user\", \"content\": \"x\"}]", "\"get_weather\"", &gp,
                                        NULL),
               EMBER_ERR_INVALID_ARGUMENT, "tools: must be a list");
  CHECK_STATUS(ember_chat_generate(chat, NULL, 1, &gp, NULL), EMBER_ERR_INVALID_ARGUMENT, "messages is NULL");
  CHECK_STATUS(ember_chat_generate(chat, &msg, 0, &gp, NULL), EMBER_ERR_INVALID_ARGUMENT, "no messages");
  CHECK_STATUS(ember_chat_reply_tool_call(chat, 0, EMBER_TOOL_CALL_NAME, text, sizeof text, &len),
               EMBER_ERR_INVALID_ARGUMENT, NULL);
  ember_chat_free(chat);
  CHECK_STATUS(ember_chat_create(s, "{% for %}", &chat), EMBER_ERR_INVALID_ARGUMENT, "[jinja] line 1");
  CHECK(chat == NULL);
  CHECK_OK(ember_chat_create(s, NULL, &chat));
  CHECK_OK(ember_chat_generate(chat, &msg, 1, &gp, NULL));
  CHECK_OK(ember_chat_reply_content(chat, text, sizeof text, &len));
  CHECK(strcmp(text, reply) == 0);
  ember_chat_free(chat);
  ember_chat_free(NULL);
  ember_session_free(s);
}

static void test_session_outlives_model(void) {
  ember_model* m = load_tiny();
  ember_session* s = new_session(m, 64, 512, 1);
  ember_generate_params gp = greedy(5);
  char text[64];
  g_test = "a session keeps its model alive";
  ember_model_free(m);
  CHECK_OK(ember_session_generate(s, PROMPT, strlen(PROMPT), &gp, text, sizeof text, NULL, NULL));
  CHECK(strcmp(text, GREEDY5) == 0);
  ember_session_free(s);
}

int main(void) {
  ember_model* m;
  test_versions();
  m = load_tiny();
  if (!m) {
    printf("cannot load %s: %s\n", TINY, ember_last_error());
    printf("%d passed, %d failed\n", g_passed, g_failed + 1);
    return 1;
  }
  test_model_metadata(m);
  test_tokenizer(m);
  test_generate(m);
  test_logits_and_kv(m);
  test_cancel(m);
  test_errors(m);
  test_logging_and_progress();
  test_chat_templates(m);
  test_chat(m);
  test_session_outlives_model();
  ember_model_free(m);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
