// Tokenizers against the reference vocabularies in shared/testdata/tokenizer:
// every case of each .inp must give exactly the ids of the matching .out line.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/tokenizer.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/vocab.h"

using namespace ember;

namespace {

const std::string kVocabDir = EMBER_SHARED_DIR "/testdata/tokenizer/";
const char* const kVocabs[] = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "falcon", "starcoder", "bert-bge"};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

// The .inp holds the cases separated by "\n__ggml_vocab_test__\n" (the file
// ends with one, which is not followed by a case); line i of .out holds the
// space-separated ids of case i, empty for the empty string.
std::vector<Case> load_cases(const std::string& vocab) {
  const std::string inp = read_file(kVocabDir + "ggml-vocab-" + vocab + ".gguf.inp");
  const std::string out = read_file(kVocabDir + "ggml-vocab-" + vocab + ".gguf.out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (true) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) break;
    texts.push_back(inp.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  REQUIRE_MESSAGE(pos == inp.size(), vocab << ".inp does not end with the separator");
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  for (const std::string& t : texts) {
    REQUIRE_MESSAGE(std::getline(lines, line), vocab << ".out has fewer lines than .inp has cases");
    Case c{t, {}};
    std::istringstream nums(line);
    int64_t id;
    while (nums >> id) c.ids.push_back(static_cast<int32_t>(id));
    cases.push_back(std::move(c));
  }
  return cases;
}

Tokenizer load_tokenizer(const std::string& path) { return Tokenizer::from_gguf(gguf::File::open(path)); }
Tokenizer load_vocab(const std::string& vocab) { return load_tokenizer(kVocabDir + "ggml-vocab-" + vocab + ".gguf"); }

std::string show(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
  return s.str();
}

std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) out.append("\\x").append(std::to_string(c));
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

TEST_CASE("tokenizer: every reference case of every vocab gives exactly the reference ids") {
  for (const std::string vocab : kVocabs) {
    CAPTURE(vocab);
    const Tokenizer tok = load_vocab(vocab);
    const std::vector<Case> cases = load_cases(vocab);
    int pass = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto got = tok.encode(cases[i].text, /*add_special=*/false, /*parse_special=*/false);
      if (got == cases[i].ids) {
        ++pass;
      } else {
        FAIL_CHECK("case " << i << " '" << escape(cases[i].text) << "'\n  expected: " << show(cases[i].ids)
                           << "\n  got:      " << show(got));
      }
    }
    MESSAGE(vocab << ": " << pass << "/" << cases.size() << " cases match");
  }
}

TEST_CASE("tokenizer: round trip where the reference ids decode back to the input") {
  for (const std::string vocab : kVocabs) {
    const Tokenizer tok = load_vocab(vocab);
    const std::vector<Case> cases = load_cases(vocab);
    int n = 0;
    std::string excluded;
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string ref = tok.decode(cases[i].ids);
      if (ref != cases[i].text) {
        excluded += " " + std::to_string(i) + ":'" + escape(cases[i].text) + "'->'" + escape(ref) + "'";
        continue;
      }
      ++n;
      CHECK(tok.decode(tok.encode(cases[i].text, false, false)) == cases[i].text);
    }
    MESSAGE(vocab << ": " << n << "/" << cases.size() << " round trip; excluded:" << excluded);
  }
}

// --- the default model ---------------------------------------------------------

namespace {

std::string smollm2_path() {
  const char* dir = std::getenv("EMBER_MODEL_DIR");
  const char* home = std::getenv("HOME");
  const std::string base = dir ? std::string(dir) : std::string(home ? home : "") + "/.cache/ember/models";
  return base + "/SmolLM2-135M-Instruct.Q4_1.gguf";
}

bool have_smollm2() {
  if (std::filesystem::exists(smollm2_path())) return true;
  MESSAGE("skipped: " << smollm2_path() << " is absent (scripts/fetch-models fetches it)");
  return false;
}

}  // namespace

TEST_CASE("tokenizer: SmolLM2 (smollm pre-tokenizer) gives known ids") {
  if (!have_smollm2()) return;
  const Tokenizer tok = load_tokenizer(smollm2_path());
  CHECK(tok.model() == TokenizerModel::Bpe);
  CHECK(tok.pre() == "smollm");
  CHECK(tok.warnings().empty());
  // Ids published by an independent SmolLM2 tokenizer's self-check (its digits
  // split one by one, as SmolLM2's Digits(individual_digits) pre-tokenizer does).
  const std::map<std::string, std::vector<int32_t>> known = {
      {"Hello, we can use", {19556, 28, 392, 416, 722}},
      {"The capital of France is", {504, 3575, 282, 4649, 314}},
      {"You are a helpful AI assistant named SmolLM, trained by Hugging Face",
       {2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182}},
      {"\n", {198}},
      {"Hello world! 123", {19556, 905, 17, 216, 33, 34, 35}},
      {"Café déjà vu.", {51, 1939, 2756, 32564, 90, 16739, 386, 101, 30}},
      {"  multiple   spaces", {216, 2701, 256, 5600}},
  };
  for (const auto& [text, ids] : known) {
    CAPTURE(text);
    CHECK(show(tok.encode(text, false, false)) == show(ids));
    CHECK(tok.decode(ids) == text);
  }
}

TEST_CASE("tokenizer: SmolLM2 chat tokens are parsed only with parse_special") {
  if (!have_smollm2()) return;
  const Tokenizer tok = load_tokenizer(smollm2_path());
  CHECK(tok.bos() == 1);
  CHECK(tok.eos() == 2);
  CHECK_FALSE(tok.add_bos());
  CHECK(tok.is_eog(2));  // <|im_end|>
  CHECK(tok.is_eog(0));  // <|endoftext|>
  CHECK_FALSE(tok.is_eog(1));
  CHECK(tok.find("<|im_start|>") == 1);
  CHECK(tok.nl() == 198);

  const std::string chat = "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n";
  const auto parsed = tok.encode(chat, true, true);
  REQUIRE(parsed.size() >= 4);
  CHECK(parsed.front() == 1);
  CHECK(std::count(parsed.begin(), parsed.end(), 1) == 2);
  CHECK(std::count(parsed.begin(), parsed.end(), 2) == 1);
  CHECK(tok.decode(parsed) == chat);
  CHECK(tok.decode(parsed, /*remove_special=*/true) == "user\nHi there\nassistant\n");
  // The text between the special tokens is tokenized as on its own.
  const auto user = tok.encode("user\nHi there", false, false);
  CHECK(std::vector<int32_t>(parsed.begin() + 1, parsed.begin() + 1 + user.size()) == user);

  const auto plain = tok.encode(chat, true, false);
  CHECK(std::count(plain.begin(), plain.end(), 1) == 0);
  CHECK(std::count(plain.begin(), plain.end(), 2) == 0);
  CHECK(tok.decode(plain) == chat);
  CHECK(tok.token_to_piece(2) == "<|im_end|>");
  CHECK(tok.token_to_piece(2, /*special=*/false).empty());
}

// --- special tokens and flags ------------------------------------------------------

TEST_CASE("tokenizer: add_special adds BOS/EOS as each vocab asks") {
  const Tokenizer spm = load_vocab("llama-spm");
  CHECK(spm.add_bos());
  CHECK_FALSE(spm.add_eos());
  CHECK(spm.encode("Hello", true, false) == std::vector<int32_t>{1, 15043});
  CHECK(spm.encode("", true, false) == std::vector<int32_t>{1});
  CHECK(spm.encode("", false, false).empty());

  const Tokenizer gpt2 = load_vocab("gpt-2");
  CHECK_FALSE(gpt2.add_bos());
  CHECK(gpt2.encode("Hello", true, false) == gpt2.encode("Hello", false, false));
  CHECK(gpt2.is_eog(50256));

  const Tokenizer deepseek = load_vocab("deepseek-coder");
  CHECK(deepseek.add_bos());
  CHECK(deepseek.encode("Hello", true, false).front() == 32013);

  const Tokenizer bert = load_vocab("bert-bge");  // [CLS] ... [SEP]
  const auto ids = bert.encode("Hello world", true, false);
  CHECK(ids == std::vector<int32_t>{101, 7592, 2088, 102});
  CHECK(bert.decode(ids) == "[CLS] hello world [SEP]");
  CHECK(bert.decode(ids, true) == "hello world");
}

TEST_CASE("tokenizer: control tokens in the text are plain text unless parse_special") {
  const Tokenizer spm = load_vocab("llama-spm");
  const auto parsed = spm.encode("<s>Hello</s>", false, true);
  CHECK(parsed == std::vector<int32_t>{1, 15043, 2});  // text after a special token gets the space prefix
  const auto plain = spm.encode("<s>Hello</s>", false, false);
  CHECK(std::find(plain.begin(), plain.end(), 1) == plain.end());
  CHECK(std::find(plain.begin(), plain.end(), 2) == plain.end());
  CHECK(spm.decode(plain) == "<s>Hello</s>");
  CHECK(spm.decode(parsed, true) == "Hello");

  const Tokenizer phi3 = load_vocab("phi-3");
  const auto turn = phi3.encode("<|user|>\nHi<|end|>", false, true);
  CHECK(turn.front() == 32010);
  CHECK(turn.back() == 32007);
  CHECK(phi3.is_eog(32007));   // <|end|>
  CHECK(phi3.is_eog(32000));   // eos <|endoftext|>
  CHECK(phi3.eot() == 32007);

  // The longest special token wins where several start at the same place.
  const Tokenizer star = load_vocab("starcoder");
  const auto fim = star.encode("<fim_prefix>x<fim_suffix>", false, true);
  CHECK(fim.front() == 1);
  CHECK(fim.back() == 3);
}

TEST_CASE("tokenizer: user-defined tokens are matched even without parse_special") {
  // deepseek-coder lists 'ü' and other Latin-1 letters as added (user-defined) tokens.
  const Tokenizer tok = load_vocab("deepseek-coder");
  CHECK(tok.token_type(32009) == TokenType::UserDefined);
  CHECK(tok.encode("ü", false, false) == std::vector<int32_t>{32009});
  CHECK(tok.encode("ü", false, true) == std::vector<int32_t>{32009});
}

TEST_CASE("tokenizer: decode and token_to_piece reject ids out of range, naming the id") {
  const Tokenizer tok = load_vocab("gpt-2");
  const std::vector<int32_t> bad = {15496, 50257};
  CHECK_THROWS_WITH_AS(tok.decode(bad), doctest::Contains("50257"), ember::Error);
  CHECK_THROWS_WITH_AS(tok.token_to_piece(-1), doctest::Contains("-1"), ember::Error);
  CHECK_THROWS_AS(tok.token_type(1 << 30), ember::Error);
}

// --- streaming -----------------------------------------------------------------

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("tokenizer: StreamDecoder never emits half a UTF-8 character") {
  const std::string text = "Lamas 🦙 und Führer: нещо 😶‍🌫️ 我想在apple工作";
  for (const std::string vocab : {"llama-spm", "gpt-2", "falcon"}) {
    CAPTURE(vocab);
    const Tokenizer tok = load_vocab(vocab);
    const auto ids = tok.encode(text, false, false);
    StreamDecoder stream(tok);
    std::string all, expected;
    bool held_back = false;
    for (int32_t id : ids) {
      const std::string piece = tok.token_to_piece(id);
      expected += piece;
      if (!valid_utf8(piece)) held_back = true;
      const std::string out = stream.push(id);
      CHECK(valid_utf8(out));
      all += out;
    }
    all += stream.flush();
    CHECK(held_back);  // the text does split characters across tokens
    CHECK(all == expected);
  }
  // Bytes that can never form a character are passed on, not held.
  const Tokenizer spm = load_vocab("llama-spm");
  StreamDecoder stream(spm);
  CHECK(stream.push(*spm.find("<0xFF>")) == "\xFF");
  CHECK(stream.push(*spm.find("<0xE2>")).empty());
  CHECK(stream.push(*spm.find("<0x82>")).empty());
  CHECK(stream.push(*spm.find("<0xAC>")) == "\xE2\x82\xAC");  // €
  CHECK(stream.push(*spm.find("<0xF0>")).empty());
  CHECK(stream.flush() == "\xF0");
}

// --- robustness ------------------------------------------------------------------

TEST_CASE("tokenizer: any bytes tokenize; byte-level and byte-fallback vocabs give them back exactly") {
  std::mt19937 rng(1234);
  std::vector<std::string> inputs = {
      std::string("\0\0a\0", 4), "\xFF\xFE\xFD", "\xC3", "a\xE2\x82", "\xED\xA0\x80 surrogate", "\xF4\x90\x80\x80",
      "\xC0\xAF overlong", "<|im_start|", "<s", "\x80\x80\x80", std::string(1000, ' '), std::string(1000, '\n'),
  };
  for (int n = 0; n < 200; ++n) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    inputs.push_back(s);
  }
  for (const std::string vocab : kVocabs) {
    CAPTURE(vocab);
    const Tokenizer tok = load_vocab(vocab);
    // deepseek-coder maps the bytes that never occur in UTF-8 (0xC0, 0xF5, ...) to user-defined
    // tokens that decode as the Latin-1 letter; BERT normalizes.
    const bool exact = vocab != "deepseek-coder" && vocab != "bert-bge";
    // Byte-level vocabs may lack a few bytes (falcon lacks 0x03, 0xC0, ...): those are dropped.
    std::string dropped;
    if (tok.model() == TokenizerModel::Bpe) {
      for (int b = 0; b < 256; ++b)
        if (tok.encode(std::string(1, static_cast<char>(b)), false, false).empty()) dropped += static_cast<char>(b);
    }
    for (const std::string& s : inputs) {
      CAPTURE(escape(s));
      std::vector<int32_t> ids;
      CHECK_NOTHROW(ids = tok.encode(s, true, true));
      CHECK_NOTHROW(ids = tok.encode(s, false, false));
      for (int32_t id : ids) CHECK((id >= 0 && id < tok.n_vocab()));
      std::string expected;
      for (char c : s)
        if (dropped.find(c) == std::string::npos) expected += c;
      // U+2581 is SentencePiece's escaped space and comes back as ' '.
      if (exact && s.find("\xE2\x96\x81") == std::string::npos) CHECK(escape(tok.decode(ids)) == escape(expected));
    }
  }
}

TEST_CASE("tokenizer: 1 MB inputs of one kind tokenize without trouble") {
  std::mt19937 rng(99);
  std::string random(1 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng() % 256);
  const std::vector<std::string> big = {random, std::string(1 << 20, 'a'), std::string(1 << 20, ' '),
                                        std::string(1 << 20, '\0'), std::string(1 << 20, '7')};
  for (const std::string vocab : kVocabs) {
    CAPTURE(vocab);
    const Tokenizer tok = load_vocab(vocab);
    for (const std::string& s : big) {
      std::vector<int32_t> ids;
      const auto t0 = std::chrono::steady_clock::now();
      CHECK_NOTHROW(ids = tok.encode(s, false, false));
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (ms > 2000) MESSAGE(vocab << ": 1 MB of '" << escape(s.substr(0, 1)) << "...' took " << ms << " ms");
    }
  }
}

// --- malformed metadata ------------------------------------------------------------

namespace {

using gguf::Value;

// A tiny SentencePiece vocab; tests spoil one key at a time.
gguf::Writer tiny_spm() {
  gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::string("llama"));
  w.set("tokenizer.ggml.tokens", Value::string_array({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "\xE2\x96\x81" "a"}));
  w.set("tokenizer.ggml.scores", Value::number_array(std::vector<float>{0, 0, 0, -1, -2, -3}));
  w.set("tokenizer.ggml.token_type", Value::number_array(std::vector<int32_t>{2, 3, 3, 1, 1, 1}));
  w.set("tokenizer.ggml.bos_token_id", Value::u32(1));
  return w;
}

// A tiny byte-level BPE vocab: the stand-in of byte b at id b, then "ab" (256), "Ġab" (257), extra.
gguf::Writer tiny_bpe(std::vector<std::string> merges = {"a b", "Ġ ab"}, std::string pre = "gpt-2",
                      std::vector<std::string> extra = {}) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    static int next = 0;
    if (b == 0) next = 0x100;
    const uint32_t cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens.push_back(s);
  }
  tokens.push_back("ab");
  tokens.push_back("Ġab");
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::string(pre));
  w.set("tokenizer.ggml.tokens", Value::string_array(tokens));
  w.set("tokenizer.ggml.merges", Value::string_array(merges));
  return w;
}

Tokenizer from_writer(const gguf::Writer& w) { return Tokenizer::from_gguf(gguf::File::from_bytes(w.to_bytes())); }

}  // namespace

TEST_CASE("tokenizer: the tiny test vocabs work") {
  const Tokenizer spm = from_writer(tiny_spm());
  CHECK(spm.encode("a a", false, false) == std::vector<int32_t>{5, 5});
  CHECK(spm.decode(spm.encode("a a", true, false)) == "<s> a a");  // the space is dropped only at the very start
  CHECK(spm.decode(spm.encode("a a", true, false), true) == "a a");
  const Tokenizer bpe = from_writer(tiny_bpe());
  CHECK(bpe.encode("ab ab", false, false) == std::vector<int32_t>{256, 257});
  CHECK(bpe.decode(bpe.encode("ab ab", false, false)) == "ab ab");
}

TEST_CASE("tokenizer: malformed vocab metadata gives an error naming the key") {
  auto fails_with = [](const gguf::Writer& w, const char* key) {
    CAPTURE(key);
    CHECK_THROWS_WITH_AS(from_writer(w), doctest::Contains(key), ember::Error);
  };
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.scores", Value::number_array(std::vector<float>{0, 0, 0}));
    fails_with(w, "tokenizer.ggml.scores");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.token_type", Value::number_array(std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1}));
    fails_with(w, "tokenizer.ggml.token_type");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.token_type", Value::number_array(std::vector<int32_t>{1, 1, 1, 1, 1, 9}));
    fails_with(w, "tokenizer.ggml.token_type");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.bos_token_id", Value::u32(6));
    fails_with(w, "tokenizer.ggml.bos_token_id");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.padding_token_id", Value::string("0"));
    fails_with(w, "tokenizer.ggml.padding_token_id");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.tokens", Value::number_array(std::vector<uint32_t>{1, 2, 3, 4, 5, 6}));
    fails_with(w, "tokenizer.ggml.tokens");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.tokens", Value::string_array({}));
    fails_with(w, "tokenizer.ggml.tokens");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.add_bos_token", Value::u32(1));
    fails_with(w, "tokenizer.ggml.add_bos_token");
  }
  {
    gguf::Writer w;
    w.set("general.name", Value::string("no tokenizer"));
    fails_with(w, "tokenizer.ggml.model");
  }
  {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.model", Value::string("t5"));
    CHECK_THROWS_WITH_AS(from_writer(w), doctest::Contains("not supported"), ember::Error);
    try {
      from_writer(w);
    } catch (const ember::Error& e) {
      CHECK(e.kind() == ErrorKind::Unsupported);
    }
  }
  {
    gguf::Writer w;
    w.set("tokenizer.ggml.model", Value::string("llama"));
    w.set("tokenizer.ggml.tokens", Value::string_array({"a", "b"}));
    fails_with(w, "tokenizer.ggml.scores");  // SentencePiece needs scores
  }
  fails_with(tiny_bpe({"a b", "Ġ zz"}), "tokenizer.ggml.merges");   // unknown part
  fails_with(tiny_bpe({"a b", "b a"}), "tokenizer.ggml.merges");    // "ba" is not a token
  fails_with(tiny_bpe({"a b", "ab"}), "tokenizer.ggml.merges");     // no separator
  {
    auto w = tiny_bpe();
    w.set("tokenizer.ggml.merges", Value::number_array(std::vector<int32_t>{1}));
    fails_with(w, "tokenizer.ggml.merges");
  }
}

TEST_CASE("tokenizer: an unknown pre-tokenizer falls back to the default with a warning") {
  const Tokenizer tok = from_writer(tiny_bpe({"a b", "Ġ ab"}, "no-such-pre"));
  CHECK(tok.pre() == "default");
  REQUIRE(tok.warnings().size() == 1);
  CHECK(tok.warnings()[0].find("no-such-pre") != std::string::npos);
  CHECK(tok.encode("ab ab", false, false) == std::vector<int32_t>{256, 257});
}

TEST_CASE("tokenizer: WordPiece with ## continuations") {
  gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::string("bert"));
  w.set("tokenizer.ggml.tokens", Value::string_array({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "hel", "##lo",
                                                      "world", "!", "##s", "un", "##aff", "##able"}));
  w.set("tokenizer.ggml.token_type", Value::number_array(std::vector<int32_t>{3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  const Tokenizer tok = from_writer(w);
  CHECK(tok.bos() == 2);
  CHECK(tok.sep() == 3);
  CHECK(tok.unk() == 1);
  CHECK(tok.encode("Hello worlds!", true, false) == std::vector<int32_t>{2, 4, 7, 9, 8, 3});
  CHECK(tok.encode("unaffable Hellos xyz", false, false) == std::vector<int32_t>{10, 11, 12, 4, 9, 1});
  CHECK(tok.encode("hel", false, false) == std::vector<int32_t>{5});
  CHECK(tok.decode(std::vector<int32_t>{10, 11, 12, 4, 9, 1}) == "unaffable hellos [UNK]");
  CHECK(tok.encode(std::string(101, 'a'), false, false) == std::vector<int32_t>{1});  // longer than 100 characters
}

// --- speed -----------------------------------------------------------------------

namespace {

// About 1 MB of English-like text: words of a real paragraph in a seeded
// random order, with punctuation, numbers and line breaks.
std::string english_megabyte() {
  const std::string paragraph =
      "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
      "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it "
      "was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything "
      "before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the "
      "other way. In short, the period was so far like the present period, that some of its noisiest "
      "authorities insisted on its being received, for good or for evil, in the superlative degree of "
      "comparison only. There were a king with a large jaw and a queen with a plain face, on the throne of "
      "England; there were a king with a large jaw and a queen with a fair face, on the throne of France.";
  std::vector<std::string> words;
  std::istringstream in(paragraph);
  for (std::string w; in >> w;) words.push_back(w);
  std::mt19937 rng(7);
  std::string text;
  while (text.size() < (1u << 20)) {
    text += words[rng() % words.size()];
    const unsigned r = rng() % 100;
    text += r < 2 ? "\n\n" : r < 4 ? " " + std::to_string(rng() % 100000) + " " : " ";
  }
  return text;
}

}  // namespace

TEST_CASE("tokenizer: speed on 1 MB of English text (printed, not asserted)") {
  const std::string text = english_megabyte();
  std::vector<std::string> paths;
  for (const std::string vocab : kVocabs) paths.push_back(kVocabDir + "ggml-vocab-" + vocab + ".gguf");
  if (std::filesystem::exists(smollm2_path())) paths.push_back(smollm2_path());
  for (const std::string& path : paths) {
    const Tokenizer tok = load_tokenizer(path);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text, false, false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(std::filesystem::path(path).filename().string()
            << ": " << text.size() << " bytes -> " << ids.size() << " tokens in " << ms << " ms");
    if (tok.model() != TokenizerModel::WordPiece) CHECK(tok.decode(ids) == text);
  }
}

TEST_CASE("tokenizer: llama3-family pieces that are whole tokens skip the merges") {
  // "abc" is a token no merge sequence reaches ("a b" then nothing joins "ab" and "c").
  const Tokenizer plain = from_writer(tiny_bpe({"a b"}, "gpt-2", {"abc"}));
  CHECK(plain.encode("abc", false, false) == std::vector<int32_t>{256, 'c'});
  const Tokenizer llama3 = from_writer(tiny_bpe({"a b"}, "llama-bpe", {"abc"}));
  CHECK(llama3.pre() == "llama-bpe");
  CHECK(llama3.encode("abc", false, false) == std::vector<int32_t>{258});
}

namespace {

std::vector<std::string> split(const char* pre_name, std::string_view text) {
  tok::PreTokenizer pre;
  REQUIRE(tok::make_pre_tokenizer(pre_name, pre));
  std::vector<tok::Span> spans;
  tok::pre_tokenize(pre, text, {0, text.size()}, spans);
  std::vector<std::string> out;
  for (const auto& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

using Pieces = std::vector<std::string>;

}  // namespace

TEST_CASE("tokenizer: pre-tokenizer regexes split as their models do") {
  CHECK(split("gpt-2", "Hello world, it's 2024!  ok") ==
        Pieces{"Hello", " world", ",", " it", "'s", " 2024", "!", " ", " ok"});
  CHECK(split("llama-bpe", "Hello world 12345 I'M\n\n  x") ==
        Pieces{"Hello", " world", " ", "123", "45", " I", "'M", "\n\n", " ", " x"});
  CHECK(split("qwen2", "x12345") == Pieces{"x", "1", "2", "3", "4", "5"});
  CHECK(split("smollm", "a 12") == Pieces{"a", " ", "1", "2"});
  CHECK(split("deepseek-coder", "a\nb 12") == Pieces{"a", "\n", "b", " ", "1", "2"});
  CHECK(split("falcon", "x 1234") == Pieces{"x", " ", "123", "4"});
  CHECK(split("gpt-4o", "HelloWorld's") == Pieces{"Hello", "World's"});
  CHECK(split("default", "a, b 1234") == Pieces{"a", ",", " b", " ", "123", "4"});
}

TEST_CASE("tokenizer: every known pre-tokenizer compiles and covers its input") {
  const std::string text =
      "Hello, y'all! How are you \xF0\x9F\x98\x81 ?\xE6\x88\x91\xE6\x83\xB3 apple 1314151 \t\n\n  "
      "\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE <sentinel:12> IMGIMGABZ \xFF\xC3 end";
  for (const char* name : {"default", "gpt-2", "llama-bpe", "dbrx", "chatglm-bpe", "qwen2", "starcoder", "refact",
                           "command-r", "smollm", "falcon", "deepseek-coder", "deepseek-llm", "deepseek-v3",
                           "poro-chat", "viking", "tekken", "gpt-4o", "chameleon", "mpt", "olmo", "jais"}) {
    CAPTURE(name);
    const Pieces pieces = split(name, text);
    std::string joined;
    for (const auto& p : pieces) {
      CHECK_FALSE(p.empty());
      joined += p;
    }
    CHECK(joined == text);
  }
}

TEST_CASE("tokenizer: SentencePiece word-at-a-time merging equals merging the whole text") {
  auto impl = tok::load_vocab(gguf::File::open(kVocabDir + "ggml-vocab-llama-spm.gguf"));
  REQUIRE(impl->spm_word_chunks);
  auto whole = std::make_shared<Tokenizer::Impl>(*impl);
  whole->spm_word_chunks = false;
  const char* words[] = {"the", "  ", "Führer", "\xF0\x9F\xA6\x99", "a", "\n", "cpp", "\xE2\x96\x81", "3.14",
                         "нещо", "\xFF", "  \t", "interesting", "'s"};
  std::mt19937 rng(5);
  for (int n = 0; n < 300; ++n) {
    std::string s;
    for (int k = rng() % 12; k > 0; --k) s += std::string(words[rng() % std::size(words)]) + (rng() % 3 ? " " : "");
    std::vector<int32_t> a, b;
    tok::encode_spm(*impl, s, true, a);
    tok::encode_spm(*whole, s, true, b);
    CAPTURE(escape(s));
    CHECK(a == b);
  }
}

TEST_CASE("tokenizer: one Tokenizer serves several threads at once") {
  const Tokenizer tok = load_vocab("gpt-2");
  const std::vector<Case> cases = load_cases("gpt-2");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        for (const Case& c : cases)
          if (tok.encode(c.text, false, false) != c.ids || tok.decode(c.ids) != c.text) ++failures[t];
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == std::vector<int>(4, 0));
}

TEST_CASE("tokenizer: tiny-llama's reference prompt tokens and greedy text (llama.cpp's)") {
  const std::string dir = EMBER_SHARED_DIR "/testdata/models/";
  const Tokenizer tok = load_tokenizer(dir + "tiny-llama-f16.gguf");
  const gguf::File ref = gguf::File::open(dir + "ref-tiny-llama-f16.gguf");
  auto ints = [&](const char* name) {
    const gguf::TensorInfo* t = ref.find_tensor(name);
    REQUIRE(t != nullptr);
    REQUIRE(t->type == DType::I32);
    const auto* p = reinterpret_cast<const int32_t*>(t->data);
    return std::vector<int32_t>(p, p + t->n_elements);
  };
  const std::string prompt = *ref.get_string("ref.prompt");
  const auto expected = ints("prompt_tokens");
  CHECK(show(tok.encode(prompt, /*add_special=*/true, /*parse_special=*/true)) == show(expected));
  CHECK(tok.decode(expected, /*remove_special=*/true) == prompt);
  // The generated text is the pieces of the greedy tokens, streamed.
  StreamDecoder stream(tok);
  std::string text;
  for (int32_t id : ints("greedy_tokens")) text += stream.push(id);
  text += stream.flush();
  CHECK(text == *ref.get_string("ref.greedy_text"));
}

TEST_CASE("tokenizer: SentencePiece flags and unused pieces") {
  gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::string("llama"));
  w.set("tokenizer.ggml.tokens",
        Value::string_array({"<unk>", "<s>", "</s>", "a", "b", "c", "ab", "abc", "\xE2\x96\x81", "<0x62>", "<0x20>"}));
  w.set("tokenizer.ggml.scores", Value::number_array(std::vector<float>{0, 0, 0, -5, -5, -5, -1, -2, -5, 0, 0}));
  w.set("tokenizer.ggml.token_type", Value::number_array(std::vector<int32_t>{2, 3, 3, 1, 1, 1, 5, 1, 1, 6, 6}));
  w.set("tokenizer.ggml.add_space_prefix", Value::boolean(false));  // as Gemma
  {
    const Tokenizer tok = from_writer(w);
    CHECK(tok.encode("abc", false, false) == std::vector<int32_t>{7});
    // "ab" is an unused piece: a step towards "abc", never emitted itself.
    CHECK(tok.encode("ab", false, false) == std::vector<int32_t>{3, 4});
    CHECK(tok.encode("a c", false, false) == std::vector<int32_t>{3, 8, 5});
    CHECK(tok.decode(std::vector<int32_t>{8, 3}) == " a");  // no space prefix to remove
    CHECK(tok.nl() == -1);
  }
  w.set("tokenizer.ggml.remove_extra_whitespaces", Value::boolean(true));
  {
    const Tokenizer tok = from_writer(w);
    CHECK(tok.encode("  a   c  ", false, false) == std::vector<int32_t>{3, 8, 5});
  }
}
