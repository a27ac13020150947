// ember_model_*: loading and the model's read-only facts.
#include <cstdint>
#include <string>

#include "capi_internal.h"
#include "ember/gguf.h"
#include "ember/log.h"

using namespace ember;
using namespace ember::capi;

namespace {

ember_model_params model_defaults() {
  ember_model_params p{};
  const ModelParams cpp;
  p.struct_size = sizeof p;
  p.n_threads = cpp.n_threads;
  p.use_mmap = cpp.use_mmap;
  p.vocab_only = cpp.vocab_only;
  return p;
}

// Strings as they are; everything else as the gguf listing shows it, in full.
std::string value_text(const gguf::Value& v) {
  if (const std::string* s = v.as_string()) return *s;
  return v.to_display(SIZE_MAX, SIZE_MAX);
}

template <class T>
ember_status get_number(const ember_model* m, T* out, const char* fn, T (*get)(const Model&)) {
  return guard(fn, [&]() -> ember_status {
    const Model& model = model_of(m, fn);
    require(out, fn, "out");
    *out = get(model);
    return EMBER_OK;
  });
}

}  // namespace

extern "C" {

EMBER_API ember_status ember_model_default_params(ember_model_params* params, size_t struct_size) {
  const char* fn = "ember_model_default_params";
  return guard(fn, [&]() -> ember_status { return init_params(params, struct_size, model_defaults(), fn); });
}

EMBER_API ember_status ember_model_load(const char* path, const ember_model_params* params, ember_model** out_model) {
  const char* fn = "ember_model_load";
  if (out_model) *out_model = nullptr;
  bool cancelled = false;
  const ember_status st = guard(fn, [&]() -> ember_status {
    require(path, fn, "path");
    require(out_model, fn, "out_model");
    const ember_model_params p = read_params(params, model_defaults(), fn, "params");
    ModelParams mp;
    mp.n_threads = p.n_threads;
    mp.use_mmap = p.use_mmap;
    mp.vocab_only = p.vocab_only;
    if (p.progress) {
      const ember_progress_callback cb = p.progress;
      void* ud = p.progress_user_data;
      mp.on_progress = [cb, ud, &cancelled](float progress) {
        if (cb(progress, ud) == 0) return true;
        cancelled = true;
        return false;
      };
    }
    auto handle = std::make_unique<ember_model>();
    handle->model = Model::load(path, mp);
    log(LogLevel::Info, std::string("[capi] loaded ") + path + ": " + handle->model->description());
    *out_model = handle.release();
    return EMBER_OK;
  });
  // Model::load reports a refused on_progress as a plain error; the C ABI has its own code for it.
  if (st != EMBER_OK && cancelled)
    return fail(EMBER_ERR_CANCELLED, fn,
                std::string("[") + fn + "] " + (path ? path : "") + ": cancelled by the progress callback");
  return st;
}

EMBER_API void ember_model_free(ember_model* model) { delete model; }

EMBER_API ember_status ember_model_meta_get(const ember_model* model, const char* key, char* buf, size_t buf_size,
                                            size_t* out_len) {
  const char* fn = "ember_model_meta_get";
  return guard(fn, [&]() -> ember_status {
    const Model& m = model_of(model, fn);
    require(key, fn, "key");
    if (out_len) *out_len = 0;
    const gguf::Value* v = m.gguf().find(key);
    if (!v) return fail(EMBER_ERR_NOT_FOUND, fn, std::string("[") + fn + "] no metadata key '" + key + "'");
    return write_text(value_text(*v), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_model_meta_count(const ember_model* model, size_t* out_count) {
  const char* fn = "ember_model_meta_count";
  return guard(fn, [&]() -> ember_status {
    const Model& m = model_of(model, fn);
    require(out_count, fn, "out_count");
    *out_count = m.gguf().metadata().size();
    return EMBER_OK;
  });
}

EMBER_API ember_status ember_model_meta_key(const ember_model* model, size_t i, char* buf, size_t buf_size,
                                            size_t* out_len) {
  const char* fn = "ember_model_meta_key";
  return guard(fn, [&]() -> ember_status {
    const auto& md = model_of(model, fn).gguf().metadata();
    if (i >= md.size())
      throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] index " + std::to_string(i) +
                                                  " is out of range (" + std::to_string(md.size()) + " keys)");
    return write_text(md[i].first, buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_model_description(const ember_model* model, char* buf, size_t buf_size, size_t* out_len) {
  const char* fn = "ember_model_description";
  return guard(fn, [&]() -> ember_status {
    return write_text(model_of(model, fn).description(), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_model_chat_template(const ember_model* model, char* buf, size_t buf_size,
                                                 size_t* out_len) {
  const char* fn = "ember_model_chat_template";
  return guard(fn, [&]() -> ember_status {
    const Model& m = model_of(model, fn);
    if (out_len) *out_len = 0;
    const std::optional<std::string> t = m.chat_template();
    if (!t)
      return fail(EMBER_ERR_NOT_FOUND, fn, std::string("[") + fn + "] the model has no tokenizer.chat_template");
    return write_text(*t, buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_model_n_vocab(const ember_model* model, int32_t* out) {
  return get_number<int32_t>(model, out, "ember_model_n_vocab", [](const Model& m) { return m.config().n_vocab; });
}

EMBER_API ember_status ember_model_n_ctx_train(const ember_model* model, int32_t* out) {
  return get_number<int32_t>(model, out, "ember_model_n_ctx_train",
                             [](const Model& m) { return m.config().n_ctx_train; });
}

EMBER_API ember_status ember_model_n_embd(const ember_model* model, int32_t* out) {
  return get_number<int32_t>(model, out, "ember_model_n_embd", [](const Model& m) { return m.config().n_embd; });
}

EMBER_API ember_status ember_model_n_layer(const ember_model* model, int32_t* out) {
  return get_number<int32_t>(model, out, "ember_model_n_layer", [](const Model& m) { return m.config().n_layer; });
}

EMBER_API ember_status ember_model_n_params(const ember_model* model, uint64_t* out) {
  return get_number<uint64_t>(model, out, "ember_model_n_params", [](const Model& m) { return m.config().n_params; });
}

}  // extern "C"
