/* The smallest C program that generates text with ember:
 *   ember-minimal-c MODEL.gguf ["prompt"]
 * load -> session -> generate (streamed to stdout) -> free. */
#include <stdio.h>
#include <string.h>

#include "ember.h"

static int print_piece(const char* piece, size_t len, void* user_data) {
  (void)user_data;
  fwrite(piece, 1, len, stdout);
  fflush(stdout);
  return 0; /* non-zero would stop the generation */
}

int main(int argc, char** argv) {
  const char* prompt = argc > 2 ? argv[2] : "Once upon a time";
  ember_model* model = NULL;
  ember_session* session = NULL;
  ember_generate_params gp;
  ember_status st;

  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf [prompt]\n", argv[0]);
    return 2;
  }
  st = ember_model_load(argv[1], NULL, &model);
  if (st == EMBER_OK) st = ember_session_create(model, NULL, &session);
  if (st == EMBER_OK) st = ember_generate_default_params(&gp, sizeof gp);
  if (st == EMBER_OK) {
    gp.n_predict = 64;
    gp.on_piece = print_piece;
    printf("%s", prompt);
    st = ember_session_generate(session, prompt, strlen(prompt), &gp, NULL, 0, NULL, NULL);
    printf("\n");
  }
  if (st != EMBER_OK) fprintf(stderr, "error: %s: %s\n", ember_status_string(st), ember_last_error());
  ember_session_free(session);
  ember_model_free(model);
  return st == EMBER_OK ? 0 : 1;
}
