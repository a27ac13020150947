#include "ember/model.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "ember/error.h"
#include "ember/log.h"
#include "model/arch.h"
#include "model/config.h"
#include "model/weights.h"

namespace ember {

struct Model::Impl {
  ModelParams params;
  gguf::File file;  // declared before weights: they point into its bytes
  ModelConfig config;
  std::optional<Tokenizer> tokenizer;
  std::unique_ptr<model::Weights> weights;
  int n_threads = 1;
};

namespace {

constexpr int kMaxDefaultThreads = 8;

void report(const ModelParams& p, float progress, const std::string& path) {
  if (p.on_progress && !p.on_progress(progress))
    throw Error(ErrorKind::Cancelled, "[model] " + path + ": loading cancelled by on_progress");
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull)
    std::snprintf(buf, sizeof buf, "%.1fB", double(n) / 1e9);
  else if (n >= 1000000ull)
    std::snprintf(buf, sizeof buf, "%.0fM", double(n) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0fK", double(n) / 1e3);
  return buf;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const ModelParams& params) {
  if (params.n_threads < 0)
    throw Error(ErrorKind::InvalidArgument, "[model] n_threads must be >= 0, got " + std::to_string(params.n_threads));
  auto impl = std::make_unique<Impl>(Impl{params, gguf::File::open(path, {params.use_mmap}), {}, std::nullopt, nullptr, 1});
  report(params, 0.0f, path);
  impl->config = model::read_config(impl->file, params.vocab_only);
  if (impl->file.find("tokenizer.ggml.model")) {
    impl->tokenizer = Tokenizer::from_gguf(impl->file);
    for (const std::string& w : impl->tokenizer->warnings()) log(LogLevel::Warn, "[tokenizer] " + path + ": " + w);
    if (!params.vocab_only && impl->tokenizer->n_vocab() > impl->config.n_vocab)
      throw Error(ErrorKind::InvalidFile, "[model] " + path + ": the tokenizer has " +
                                              std::to_string(impl->tokenizer->n_vocab()) + " tokens, the model " +
                                              std::to_string(impl->config.n_vocab));
  }
  report(params, 0.05f, path);
  if (!params.vocab_only) {
    const model::ArchInfo* arch = model::find_arch(impl->config.arch);  // read_config checked it exists
    impl->weights = std::make_unique<model::Weights>(
        model::load_weights(impl->file, impl->config, *arch, [&](int done, int total) {
          return !params.on_progress || params.on_progress(0.05f + 0.95f * float(done) / float(total));
        }));
  }
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  impl->n_threads = params.n_threads > 0 ? params.n_threads : std::min(hw, kMaxDefaultThreads);
  report(params, 1.0f, path);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const noexcept { return impl_->config; }
const ModelParams& Model::params() const noexcept { return impl_->params; }
const gguf::File& Model::gguf() const noexcept { return impl_->file; }
int Model::default_n_threads() const noexcept { return impl_->n_threads; }
bool Model::vocab_only() const noexcept { return !impl_->weights; }
bool Model::has_tokenizer() const noexcept { return impl_->tokenizer.has_value(); }

const Tokenizer& Model::tokenizer() const {
  if (!impl_->tokenizer)
    throw Error(ErrorKind::InvalidArgument, "[model] " + impl_->file.path() + " has no tokenizer (tokenizer.ggml.model missing)");
  return *impl_->tokenizer;
}

std::optional<std::string> Model::chat_template() const { return impl_->file.get_string("tokenizer.chat_template"); }

const model::Weights& Model::weights() const {
  if (!impl_->weights)
    throw Error(ErrorKind::InvalidArgument, "[model] " + impl_->file.path() + " was loaded vocab_only: it has no weights");
  return *impl_->weights;
}

std::string Model::description() const {
  const ModelConfig& c = impl_->config;
  std::string s = c.name.empty() ? std::string("model") : c.name;
  s += " (" + c.arch + ", " + human_count(c.n_params) + " params, " + dtype_name(c.weight_type);
  if (!vocab_only()) {
    s += ", " + std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_embd) + " wide, " +
         std::to_string(c.n_head) + " heads";
    if (c.n_head_kv != c.n_head) s += " / " + std::to_string(c.n_head_kv) + " KV";
    s += ", ctx " + std::to_string(c.n_ctx_train);
  }
  s += ", vocab " + std::to_string(c.n_vocab) + ")";
  return s;
}

}  // namespace ember
