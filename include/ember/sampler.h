#pragma once
// Token samplers: a chain of small stages that turn one step's logits into a
// token id. SamplerChain::from_params builds the usual chain
//   penalties -> logit bias -> top_k -> typical -> top_p -> min_p -> temperature -> dist
// (the order llama.cpp uses by default), or with temperature <= 0
//   penalties -> logit bias -> greedy.
// Stages left at their "off" value are not added at all.
//
// Thread safety: a chain (and each stage) is used by one thread at a time.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ember {

/// One candidate token. `p` is valid only after TokenCandidates::softmax().
struct TokenProb {
  int32_t id;
  float logit;
  float p;
};

/// The working set the stages narrow down. Stages may drop items, reorder
/// them and change logits; the final stage (dist or greedy) sets `selected`.
struct TokenCandidates {
  std::vector<TokenProb> items;
  bool sorted = false;    // items are in descending logit order, ties by lower id first
  int64_t selected = -1;  // index into items of the chosen token, -1 until a final stage ran

  /// Refills from a full logits row (items[i].id == i). NaN logits become
  /// -inf so that no stage sees them. Reuses the buffer between steps.
  void assign(std::span<const float> logits);
  size_t size() const noexcept { return items.size(); }
  /// Sorts all items (descending logit, ties to the lower id).
  void sort();
  /// Puts the best min(k, size()) items first, in sorted order, leaving the
  /// rest in unspecified order; O(n) + O(k log k). Sets `sorted` when k >= size().
  void sort_top(size_t k);
  /// Fills p with softmax(logit) over the current items. If the best logit
  /// is -inf every item gets the same p; if it is +inf the +inf items share p = 1.
  void softmax();
  /// Keeps the first n items.
  void truncate(size_t n);
  /// The item for `id`, or nullptr if it was dropped. O(1) while items are
  /// in assign()'s layout, a linear scan otherwise.
  TokenProb* find(int32_t id) noexcept;
};

/// The "pick a random seed" value of SamplingParams::seed (llama.cpp's
/// LLAMA_DEFAULT_SEED). Any other value is used as given.
inline constexpr uint64_t kDefaultSeed = 0xFFFFFFFFu;

/// Resolves kDefaultSeed to a seed from std::random_device; other values pass through.
uint64_t resolve_seed(uint64_t seed);

struct SamplingParams {
  float temperature = 0.8f;        // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 40;              // <= 0: off
  float top_p = 0.95f;             // (0, 1]; 1: off
  float min_p = 0.05f;             // [0, 1]; 0: off
  float typical_p = 1.0f;          // (0, 1]; 1: off
  float repeat_penalty = 1.0f;     // > 0; 1: off
  int32_t repeat_last_n = 64;      // window of accepted tokens the penalties see; 0: off, -1: all since reset()
  float frequency_penalty = 0.0f;  // subtracted count times
  float presence_penalty = 0.0f;   // subtracted once if the token is in the window
  uint64_t seed = kDefaultSeed;    // kDefaultSeed: random
  std::map<int32_t, float> logit_bias;  // added to the logit; -inf bans the token

  /// Throws Error(InvalidArgument, "[sampler] <field> ...") for a value out of
  /// range or NaN. Token ids of logit_bias are checked against the vocabulary
  /// when the chain is built.
  void validate() const;
};

/// One step of the chain.
class SamplerStage {
 public:
  virtual ~SamplerStage() = default;
  /// Short name for logs, e.g. "top_k(40)".
  virtual std::string name() const = 0;
  virtual void apply(TokenCandidates& candidates) = 0;
  /// Told about every token that enters the context (sampled or forced).
  virtual void accept(int32_t token) {}
  /// Forgets history and restarts any random state.
  virtual void reset() {}
};

// Stage factories. They throw Error(InvalidArgument) only for arguments that
// could put NaN into the logits (NaN, a +inf bias, repeat <= 0); other values
// are taken as given, and values at the "off" end make the stage a no-op.
// Every stage keeps at least one candidate.

/// Final stage: selects the highest logit, ties to the lowest id.
std::unique_ptr<SamplerStage> make_greedy_stage();
/// Final stage: draws from softmax(logits) with a portable xoshiro256** RNG.
/// reset() restarts the sequence from `seed`; kDefaultSeed is resolved once here.
/// If every candidate is -inf (all banned) it selects the lowest remaining id.
std::unique_ptr<SamplerStage> make_dist_stage(uint64_t seed);
/// Divides logits by t; t <= 0 keeps only the best token.
std::unique_ptr<SamplerStage> make_temperature_stage(float t);
/// Keeps the k best (ties to the lower id); k <= 0 is off. Leaves items sorted.
std::unique_ptr<SamplerStage> make_top_k_stage(int32_t k);
/// Keeps the smallest most-probable set whose probability mass is >= p.
std::unique_ptr<SamplerStage> make_top_p_stage(float p);
/// Keeps tokens with probability >= p * (probability of the best token).
std::unique_ptr<SamplerStage> make_min_p_stage(float p);
/// Locally typical sampling: orders tokens by |-log p - H| (H the entropy)
/// and keeps the smallest such prefix whose mass is >= p. Leaves items unsorted.
std::unique_ptr<SamplerStage> make_typical_stage(float p);
/// Repetition / frequency / presence penalties over the last `last_n`
/// accepted tokens (-1: every token since reset()). For a token seen c > 0
/// times: logit /= repeat if logit > 0 else logit *= repeat; then
/// logit -= c * frequency + presence.
std::unique_ptr<SamplerStage> make_penalties_stage(int32_t last_n, float repeat, float frequency, float presence);
/// Adds bias[id] to the logit of id; a -inf bias bans the token.
std::unique_ptr<SamplerStage> make_logit_bias_stage(std::map<int32_t, float> bias);

class SamplerChain {
 public:
  /// n_vocab > 0 makes sample() and accept() check sizes and ids; 0 skips the checks.
  explicit SamplerChain(int32_t n_vocab = 0);
  SamplerChain(SamplerChain&&) noexcept;
  SamplerChain& operator=(SamplerChain&&) noexcept;
  ~SamplerChain();

  /// Validates params (plus logit_bias ids < n_vocab) and builds the chain
  /// described at the top of this header.
  static SamplerChain from_params(const SamplingParams& params, int32_t n_vocab);

  /// Appends a stage; the last one must select a token (dist or greedy).
  SamplerChain& add(std::unique_ptr<SamplerStage> stage);

  /// Runs the chain over one step's logits (size n_vocab) and returns the
  /// token. Does not accept() it: the caller does, once the token is used.
  int32_t sample(std::span<const float> logits);
  /// Runs the chain over a prepared candidate set.
  int32_t sample(TokenCandidates& candidates);
  /// Records a token entering the context (penalty history).
  void accept(int32_t token);
  /// Clears history and restarts the RNG from seed().
  void reset();

  /// The dist stage's seed after resolving kDefaultSeed (chains built by
  /// from_params; kDefaultSeed when the chain is greedy or built by hand).
  uint64_t seed() const noexcept { return seed_; }
  int32_t n_vocab() const noexcept { return n_vocab_; }
  size_t n_stages() const noexcept { return stages_.size(); }
  /// "penalties(64, 1.1, 0, 0) -> top_k(40) -> ... -> dist"
  std::string describe() const;
  /// The candidates as the last sample() left them (e.g. for log-probs).
  const TokenCandidates& last_candidates() const noexcept { return candidates_; }

 private:
  int32_t n_vocab_;
  uint64_t seed_ = kDefaultSeed;
  std::vector<std::unique_ptr<SamplerStage>> stages_;
  TokenCandidates candidates_;
};

}  // namespace ember
