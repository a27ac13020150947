/* Loading and freeing a model many times in one process does not grow its
 * resident memory: each load's mapping, tokenizer and weights index go away
 * with ember_model_free. Resident set size from /proc/self/statm. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ember.h"

#define TINY EMBER_SHARED_DIR "/testdata/models/tiny-llama-f16.gguf"

static long resident_kib(void) {
  long size = 0, resident = 0;
#ifdef __GLIBC__
  /* glibc keeps freed large blocks on its heap once its mmap threshold has
     risen (it does after the first 23 MB buffer is freed); hand them back so
     only memory that is still referenced counts. */
  malloc_trim(0);
#endif
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Loads and frees n times (with a session each time when with_session). */
static int cycle(int n, bool use_mmap, bool with_session) {
  int i;
  for (i = 0; i < n; ++i) {
    ember_model_params mp;
    ember_model* m = NULL;
    ember_session* s = NULL;
    ember_model_default_params(&mp, sizeof mp);
    mp.use_mmap = use_mmap;
    mp.n_threads = 1;
    if (ember_model_load(TINY, &mp, &m) != EMBER_OK) {
      printf("load %d failed: %s\n", i, ember_last_error());
      return 0;
    }
    if (with_session) {
      ember_session_params sp;
      ember_session_default_params(&sp, sizeof sp);
      sp.n_ctx = 256;
      if (ember_session_create(m, &sp, &s) != EMBER_OK) {
        printf("session %d failed: %s\n", i, ember_last_error());
        ember_model_free(m);
        return 0;
      }
      ember_session_free(s);
    }
    ember_model_free(m);
  }
  return 1;
}

int main(void) {
  /* Slack for allocator bookkeeping and lazily touched library pages; one
   * leaked load would be >= 23 MB (the file) or >= 1 MB (the tokenizer). */
  const long slack_kib = 1024;
  int passed = 0, failed = 0, k;
  struct {
    const char* name;
    int n;
    bool use_mmap, with_session;
  } runs[3] = {{"100 loads, mmap", 100, true, false},
               {"20 loads, read into memory", 20, false, false},
               {"20 loads with a session each", 20, true, true}};
#ifdef EMBER_CAPI_SANITIZED
  printf("skipped: resident memory is not meaningful under sanitizers\n0 passed, 0 failed\n");
  return 0;
#endif
  for (k = 0; k < 3; ++k) {
    long before, after;
    if (!cycle(3, runs[k].use_mmap, runs[k].with_session)) return 1; /* warm-up: first-use allocations */
    before = resident_kib();
    if (!cycle(runs[k].n, runs[k].use_mmap, runs[k].with_session)) return 1;
    after = resident_kib();
    printf("%s: resident %ld KiB -> %ld KiB (%+ld KiB)\n", runs[k].name, before, after, after - before);
    if (before > 0 && after >= 0 && after - before <= slack_kib) {
      ++passed;
    } else {
      ++failed;
      printf("FAILED %s: resident memory grew by %ld KiB (slack %ld KiB)\n", runs[k].name, after - before, slack_kib);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
