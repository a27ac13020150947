// ember bench: prefill (pp) and decode (tg) tokens per second, as llama-bench
// measures them: a prompt of -p tokens in batches of -b, then -n single-token
// decode steps, repeated -r times; mean and standard deviation.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "ember/error.h"
#include "common.h"
#include "ember/gguf.h"
#include "ember/session.h"

namespace ember::cli {
namespace {

struct Stat {
  double mean = 0, sd = 0;
};

Stat stats(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0.0;
  return s;
}

// Bytes of weights one decode step reads: every tensor, except that the
// token embedding table is only looked up by row unless it is also the output.
double decode_bytes_per_token(const Model& m) {
  double bytes = 0;
  for (const auto& t : m.gguf().tensors())
    if (t.name != "token_embd.weight" || m.config().tied_embeddings) bytes += double(t.n_bytes);
  return bytes;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Opts {
    std::string model;
    int n_prompt = 512, n_gen = 128, threads = 2, reps = 3, n_batch = 512;
    std::string kv_type = "f16";
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed");
  cmd->add_option("-m,--model", o->model, "GGUF model (default: SmolLM2-135M-Instruct from the cache)");
  cmd->add_option("-p,--n-prompt", o->n_prompt, "prompt tokens (prefill test; 0 to skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--n-gen", o->n_gen, "generated tokens (decode test; 0 to skip)")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-t,--threads", o->threads, "threads")->check(CLI::Range(1, 1024));
  cmd->add_option("-r,--repetitions", o->reps, "repetitions")->check(CLI::Range(1, 1000));
  cmd->add_option("-b,--batch-size", o->n_batch, "tokens per forward pass in prefill")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16, q8_0, q4_0");
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->callback([o] {
    const std::string path = resolve_model_path(o->model);
    auto model = load_model(path, o->threads, true);
    SessionParams sp;
    sp.n_ctx = o->n_prompt + o->n_gen + 1;
    sp.n_batch = o->n_batch;
    sp.n_threads = o->threads;
    const auto kv = dtype_from_name(o->kv_type);
    if (!kv) throw Error(ErrorKind::InvalidArgument, "[bench] unknown --kv-type '" + o->kv_type + "'");
    sp.kv_type = *kv;
    Session session(model, sp);
    const int32_t n_vocab = model->config().n_vocab;

    std::vector<int32_t> prompt(static_cast<size_t>(o->n_prompt));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t((i * 7919 + 13) % size_t(n_vocab));

    using clock = std::chrono::steady_clock;
    std::vector<double> pp, tg;
    // One warm-up pass touches the mapped weights so the first run is not a page-fault benchmark.
    for (int rep = -1; rep < o->reps; ++rep) {
      session.kv_clear();
      if (o->n_prompt > 0) {
        const auto t0 = clock::now();
        session.decode(Batch::from_tokens(prompt));
        const double s = std::chrono::duration<double>(clock::now() - t0).count();
        if (rep >= 0) pp.push_back(o->n_prompt / s);
      }
      if (o->n_gen > 0) {
        session.kv_clear();
        int32_t tok = 1 % n_vocab;
        const auto t0 = clock::now();
        for (int i = 0; i < o->n_gen; ++i) {
          Batch b;
          b.add(tok, i, 0, true);
          session.decode(b);
          tok = int32_t((size_t(tok) * 31 + 7) % size_t(n_vocab));
        }
        const double s = std::chrono::duration<double>(clock::now() - t0).count();
        if (rep >= 0) tg.push_back(o->n_gen / s);
      }
    }
    const Stat p = stats(pp), g = stats(tg);
    const double gb_per_tok = decode_bytes_per_token(*model) * 1e-9;
    if (o->json) {
      nlohmann::json j = {{"engine", "ember"},
                          {"model", path},
                          {"description", model->description()},
                          {"threads", o->threads},
                          {"n_prompt", o->n_prompt},
                          {"n_gen", o->n_gen},
                          {"n_batch", o->n_batch},
                          {"kv_type", o->kv_type},
                          {"prefill_tok_s", p.mean},
                          {"prefill_tok_s_sd", p.sd},
                          {"decode_tok_s", g.mean},
                          {"decode_tok_s_sd", g.sd},
                          {"decode_weight_gb_s", g.mean * gb_per_tok}};
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    std::printf("%s\n", model->description().c_str());
    std::printf("| threads | test   |          t/s | weights read |\n|--------:|:-------|-------------:|-------------:|\n");
    if (o->n_prompt > 0) std::printf("| %7d | pp%-4d | %7.2f ± %3.1f |              |\n", o->threads, o->n_prompt, p.mean, p.sd);
    if (o->n_gen > 0)
      std::printf("| %7d | tg%-4d | %7.2f ± %3.1f | %7.2f GB/s |\n", o->threads, o->n_gen, g.mean, g.sd, g.mean * gb_per_tok);
  });
}

}  // namespace ember::cli
