// ember run: generate text from a prompt, streamed to stdout; logs, progress
// and stats go to stderr. Flags are llama.cpp's where they overlap.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "commands.h"
#include "ember/error.h"
#include "common.h"
#include "ember/generate.h"
#include "ember/session.h"
#include "progress.h"

namespace ember::cli {
namespace {

std::atomic<bool> g_interrupted{false};  // set by SIGINT; the token callback stops generation
void on_sigint(int) { g_interrupted.store(true); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, "[run] cannot read prompt file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void add_run_command(CLI::App& app) {
  struct Opts {
    std::string model, prompt, file, kv_type = "f16";
    int n_predict = 256, threads = 0, n_ctx = 0, n_batch = 512;
    bool no_mmap = false, ignore_eos = false, parse_special = false, no_stats = false;
    std::vector<std::string> stop;
    SamplingParams sp;
    int64_t seed = -1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  cmd->add_option("-m,--model", o->model, "GGUF model (default: SmolLM2-135M-Instruct from the cache)");
  cmd->add_option("-p,--prompt", o->prompt, "prompt text");
  cmd->add_option("-f,--file", o->file, "read the prompt from a file");
  cmd->add_option("-n,--n-predict", o->n_predict, "tokens to generate (-1: until end of text)")->check(CLI::Range(-1, 1 << 24));
  cmd->add_option("-t,--threads", o->threads, "threads (0: all cores, at most 8)")->check(CLI::Range(0, 1024));
  cmd->add_option("-c,--ctx-size", o->n_ctx, "context size (0: the model's, at most 4096)")->check(CLI::Range(0, 1 << 24));
  cmd->add_option("-b,--batch-size", o->n_batch, "prompt tokens per forward pass")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--temp", o->sp.temperature, "temperature (0: greedy)");
  cmd->add_option("--top-k", o->sp.top_k, "top-k (0: off)");
  cmd->add_option("--top-p", o->sp.top_p, "top-p (1: off)");
  cmd->add_option("--min-p", o->sp.min_p, "min-p (0: off)");
  cmd->add_option("--typical", o->sp.typical_p, "locally typical sampling p (1: off)");
  cmd->add_option("--repeat-penalty", o->sp.repeat_penalty, "repetition penalty (1: off)");
  cmd->add_option("--repeat-last-n", o->sp.repeat_last_n, "tokens the penalties look back (-1: all)");
  cmd->add_option("--presence-penalty", o->sp.presence_penalty, "presence penalty");
  cmd->add_option("--frequency-penalty", o->sp.frequency_penalty, "frequency penalty");
  cmd->add_option("-s,--seed", o->seed, "RNG seed (-1: random)");
  cmd->add_option("--stop", o->stop, "stop at this text (repeatable)");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16, q8_0, q4_0");
  cmd->add_flag("--no-mmap", o->no_mmap, "read the model into memory instead of mapping it");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "keep generating past end-of-text tokens");
  cmd->add_flag("--special", o->parse_special, "read special tokens written in the prompt");
  cmd->add_flag("--no-stats", o->no_stats, "do not print timings to stderr");
  cmd->callback([o] {
    if (o->prompt.empty() && !o->file.empty()) o->prompt = read_file(o->file);
    if (o->prompt.empty()) throw Error(ErrorKind::InvalidArgument, "[run] no prompt: give -p TEXT or -f FILE");
    GenerateParams gp;
    gp.sampling = o->sp;
    if (o->seed >= 0) gp.sampling.seed = uint64_t(o->seed);
    gp.sampling.validate();
    gp.n_predict = o->n_predict;
    gp.stop = o->stop;
    gp.ignore_eos = o->ignore_eos;
    gp.parse_special = o->parse_special;

    auto model = load_model(resolve_model_path(o->model), o->threads, !o->no_mmap);
    SessionParams sp;
    sp.n_ctx = o->n_ctx;
    sp.n_batch = o->n_batch;
    const auto kv = dtype_from_name(o->kv_type);
    if (!kv) throw Error(ErrorKind::InvalidArgument, "[run] unknown --kv-type '" + o->kv_type + "'");
    sp.kv_type = *kv;
    Session session(model, sp);
    if (!o->no_stats) std::fprintf(stderr, "%s\n", model->description().c_str());

    ProgressBar bar("prompt");
    gp.on_prompt_progress = [&](int32_t done, int32_t total) {
      if (total >= 2 * o->n_batch) bar.update(double(done) / total);  // only for long prompts
    };
    std::signal(SIGINT, on_sigint);
    bool first = true;
    const GenerateResult r = session.generate(o->prompt, gp, [&](std::string_view piece) {
      if (first) bar.done(), first = false;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return !g_interrupted.load();
    });
    bar.done();
    std::printf("\n");
    if (!o->no_stats) {
      const auto& s = r.stats;
      std::fprintf(stderr,
                   "\n[%s] prompt %d tokens (%d reused) %.1f tok/s | generated %d tokens %.1f tok/s | "
                   "first token %.0f ms\n",
                   stop_reason_name(r.stop_reason), s.prompt_tokens, s.reused_tokens, s.prefill_tok_s,
                   s.generated_tokens, s.decode_tok_s, s.ttft_ms);
    }
  });
}

}  // namespace ember::cli
