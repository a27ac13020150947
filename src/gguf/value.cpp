// Metadata values: compact storage for arrays, typed access, display and encoding.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <variant>

#include "ember/error.h"
#include "gguf/codec.h"

namespace ember::gguf {

// Arrays of numbers and strings keep one typed vector; arrays of arrays keep Values.
// Bool arrays live in the uint8_t alternative as 0/1 bytes.
struct Value::ArrayData {
  using Items = std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
                             std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
                             std::vector<float>, std::vector<uint64_t>, std::vector<int64_t>,
                             std::vector<double>, std::vector<std::string>, std::vector<Value>>;
  ValueType elem = ValueType::U8;
  Items items;
  // Elements as Values for array(), made on first request.
  mutable std::once_flag boxed_once;
  mutable std::vector<Value> boxed;
};

namespace {

template <class T>
constexpr ValueType type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return ValueType::U8;
  else if constexpr (std::is_same_v<T, int8_t>) return ValueType::I8;
  else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::U16;
  else if constexpr (std::is_same_v<T, int16_t>) return ValueType::I16;
  else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::U32;
  else if constexpr (std::is_same_v<T, int32_t>) return ValueType::I32;
  else if constexpr (std::is_same_v<T, float>) return ValueType::F32;
  else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::U64;
  else if constexpr (std::is_same_v<T, int64_t>) return ValueType::I64;
  else if constexpr (std::is_same_v<T, double>) return ValueType::F64;
  else if constexpr (std::is_same_v<T, std::string>) return ValueType::String;
  else return ValueType::Array;
}

bool is_unsigned_int(ValueType t) {
  return t == ValueType::U8 || t == ValueType::U16 || t == ValueType::U32 || t == ValueType::U64;
}
bool is_signed_int(ValueType t) {
  return t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64;
}

[[noreturn]] void type_error(const char* what, ValueType found) {
  throw Error(ErrorKind::InvalidArgument,
              std::string("[gguf] value: expected ") + what + ", found " + value_type_name(found));
}

}  // namespace

const char* value_type_name(ValueType t) noexcept {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Array: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "?";
}

size_t value_type_size(ValueType t) noexcept {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::String: case ValueType::Array: return 0;
  }
  return 0;
}

// --- construction -------------------------------------------------------------

Value ValueCodec::scalar_from_bits(ValueType t, uint64_t bits) {
  Value v;
  v.type_ = t;
  switch (t) {
    case ValueType::I8: bits = uint64_t(int64_t(int8_t(uint8_t(bits)))); break;
    case ValueType::I16: bits = uint64_t(int64_t(int16_t(uint16_t(bits)))); break;
    case ValueType::I32: bits = uint64_t(int64_t(int32_t(uint32_t(bits)))); break;
    case ValueType::String: case ValueType::Array:
      throw Error(ErrorKind::Internal, "[gguf] scalar_from_bits on a string or array");
    default: break;
  }
  v.bits_ = bits;
  return v;
}

Value ValueCodec::bool_array_from_bytes(std::vector<uint8_t> bytes) {
  auto data = std::make_shared<Value::ArrayData>();
  data->elem = ValueType::Bool;
  data->items = std::move(bytes);
  return Value::make_array(std::move(data));
}

Value Value::make_array(std::shared_ptr<const ArrayData> data) {
  Value v;
  v.type_ = ValueType::Array;
  v.array_ = std::move(data);
  return v;
}

Value Value::u8(uint8_t v) { return ValueCodec::scalar_from_bits(ValueType::U8, v); }
Value Value::i8(int8_t v) { return ValueCodec::scalar_from_bits(ValueType::I8, uint8_t(v)); }
Value Value::u16(uint16_t v) { return ValueCodec::scalar_from_bits(ValueType::U16, v); }
Value Value::i16(int16_t v) { return ValueCodec::scalar_from_bits(ValueType::I16, uint16_t(v)); }
Value Value::u32(uint32_t v) { return ValueCodec::scalar_from_bits(ValueType::U32, v); }
Value Value::i32(int32_t v) { return ValueCodec::scalar_from_bits(ValueType::I32, uint32_t(v)); }
Value Value::f32(float v) { return ValueCodec::scalar_from_bits(ValueType::F32, std::bit_cast<uint32_t>(v)); }
Value Value::boolean(bool v) { return ValueCodec::scalar_from_bits(ValueType::Bool, v ? 1 : 0); }
Value Value::u64(uint64_t v) { return ValueCodec::scalar_from_bits(ValueType::U64, v); }
Value Value::i64(int64_t v) { return ValueCodec::scalar_from_bits(ValueType::I64, uint64_t(v)); }
Value Value::f64(double v) { return ValueCodec::scalar_from_bits(ValueType::F64, std::bit_cast<uint64_t>(v)); }

Value Value::string(std::string s) {
  Value v;
  v.type_ = ValueType::String;
  v.string_ = std::move(s);
  return v;
}

template <class T>
Value Value::number_array(std::vector<T> items) {
  auto data = std::make_shared<ArrayData>();
  data->elem = type_of<T>();
  data->items = std::move(items);
  return make_array(std::move(data));
}
template Value Value::number_array(std::vector<uint8_t>);
template Value Value::number_array(std::vector<int8_t>);
template Value Value::number_array(std::vector<uint16_t>);
template Value Value::number_array(std::vector<int16_t>);
template Value Value::number_array(std::vector<uint32_t>);
template Value Value::number_array(std::vector<int32_t>);
template Value Value::number_array(std::vector<float>);
template Value Value::number_array(std::vector<uint64_t>);
template Value Value::number_array(std::vector<int64_t>);
template Value Value::number_array(std::vector<double>);

Value Value::bool_array(const std::vector<bool>& items) {
  std::vector<uint8_t> bytes(items.begin(), items.end());
  return ValueCodec::bool_array_from_bytes(std::move(bytes));
}

Value Value::string_array(std::vector<std::string> items) {
  auto data = std::make_shared<ArrayData>();
  data->elem = ValueType::String;
  data->items = std::move(items);
  return make_array(std::move(data));
}

Value Value::nested_array(std::vector<Value> items) {
  for (size_t i = 0; i < items.size(); ++i)
    if (!items[i].is_array())
      throw Error(ErrorKind::InvalidArgument, "[gguf] nested_array: item " + std::to_string(i) + " is a " +
                                                  value_type_name(items[i].type()) + ", not an array");
  auto data = std::make_shared<ArrayData>();
  data->elem = ValueType::Array;
  data->items = std::move(items);
  return make_array(std::move(data));
}

Value Value::array_of(ValueType elem, const std::vector<Value>& items) {
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].type() != elem)
      throw Error(ErrorKind::InvalidArgument, "[gguf] array_of " + std::string(value_type_name(elem)) +
                                                  ": item " + std::to_string(i) + " is a " +
                                                  value_type_name(items[i].type()));
  auto numbers = [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> out;
    out.reserve(items.size());
    for (const Value& v : items) {
      T x;
      std::memcpy(&x, &v.bits_, sizeof(T));  // bits_ holds the value in its low bytes (little-endian)
      out.push_back(x);
    }
    return number_array(std::move(out));
  };
  switch (elem) {
    case ValueType::U8: return numbers(uint8_t{});
    case ValueType::I8: return numbers(int8_t{});
    case ValueType::U16: return numbers(uint16_t{});
    case ValueType::I16: return numbers(int16_t{});
    case ValueType::U32: return numbers(uint32_t{});
    case ValueType::I32: return numbers(int32_t{});
    case ValueType::F32: return numbers(float{});
    case ValueType::U64: return numbers(uint64_t{});
    case ValueType::I64: return numbers(int64_t{});
    case ValueType::F64: return numbers(double{});
    case ValueType::Bool: {
      std::vector<uint8_t> bytes;
      bytes.reserve(items.size());
      for (const Value& v : items) bytes.push_back(v.bits_ ? 1 : 0);
      return ValueCodec::bool_array_from_bytes(std::move(bytes));
    }
    case ValueType::String: {
      std::vector<std::string> strs;
      strs.reserve(items.size());
      for (const Value& v : items) strs.push_back(v.string_);
      return string_array(std::move(strs));
    }
    case ValueType::Array: return nested_array(items);
  }
  throw Error(ErrorKind::InvalidArgument,
              "[gguf] array_of: unknown element type " + std::to_string(uint32_t(elem)));
}

// --- access -------------------------------------------------------------------

ValueType Value::array_type() const {
  if (!is_array()) type_error("array", type_);
  return array_->elem;
}

size_t Value::size() const noexcept {
  if (!is_array()) return 0;
  return std::visit([](const auto& v) { return v.size(); }, array_->items);
}

std::optional<int64_t> Value::as_int() const noexcept {
  if (is_signed_int(type_)) return int64_t(bits_);
  if (is_unsigned_int(type_) && bits_ <= uint64_t(std::numeric_limits<int64_t>::max())) return int64_t(bits_);
  return std::nullopt;
}

std::optional<uint64_t> Value::as_uint() const noexcept {
  if (is_unsigned_int(type_)) return bits_;
  if (is_signed_int(type_) && int64_t(bits_) >= 0) return bits_;
  return std::nullopt;
}

std::optional<double> Value::as_float() const noexcept {
  if (type_ == ValueType::F32) return double(std::bit_cast<float>(uint32_t(bits_)));
  if (type_ == ValueType::F64) return std::bit_cast<double>(bits_);
  if (is_signed_int(type_)) return double(int64_t(bits_));
  if (is_unsigned_int(type_)) return double(bits_);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const noexcept {
  if (type_ == ValueType::Bool) return bits_ != 0;
  return std::nullopt;
}

const std::string* Value::as_string() const noexcept {
  return type_ == ValueType::String ? &string_ : nullptr;
}

Value Value::at(size_t i) const {
  if (!is_array()) type_error("array", type_);
  if (i >= size())
    throw Error(ErrorKind::InvalidArgument,
                "[gguf] value: index " + std::to_string(i) + " out of range for array of " + std::to_string(size()));
  const ValueType elem = array_->elem;
  return std::visit(
      [&](const auto& v) -> Value {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, Value>) {
          return v[i];
        } else if constexpr (std::is_same_v<T, std::string>) {
          return Value::string(v[i]);
        } else if constexpr (std::is_same_v<T, float>) {
          return Value::f32(v[i]);
        } else if constexpr (std::is_same_v<T, double>) {
          return Value::f64(v[i]);
        } else {
          using U = std::make_unsigned_t<T>;
          return ValueCodec::scalar_from_bits(elem, uint64_t(U(v[i])));
        }
      },
      array_->items);
}

const std::vector<Value>& Value::array() const {
  if (!is_array()) type_error("array", type_);
  if (const auto* nested = std::get_if<std::vector<Value>>(&array_->items)) return *nested;
  std::call_once(array_->boxed_once, [&] {
    const size_t n = size();
    array_->boxed.reserve(n);
    for (size_t i = 0; i < n; ++i) array_->boxed.push_back(at(i));
  });
  return array_->boxed;
}

std::span<const std::string> Value::strings() const {
  if (!is_array() || array_->elem != ValueType::String) {
    throw Error(ErrorKind::InvalidArgument,
                std::string("[gguf] value: expected an array of strings, found ") +
                    (is_array() ? "an array of " + std::string(value_type_name(array_->elem))
                                : std::string(value_type_name(type_))));
  }
  return std::get<std::vector<std::string>>(array_->items);
}

template <class T>
std::span<const T> Value::numbers() const {
  const bool ok = is_array() && (array_->elem == type_of<T>() ||
                                 (std::is_same_v<T, uint8_t> && array_->elem == ValueType::Bool));
  if (!ok) {
    throw Error(ErrorKind::InvalidArgument,
                std::string("[gguf] value: expected an array of ") + value_type_name(type_of<T>()) + ", found " +
                    (is_array() ? "an array of " + std::string(value_type_name(array_->elem))
                                : std::string(value_type_name(type_))));
  }
  return std::get<std::vector<T>>(array_->items);
}
template std::span<const uint8_t> Value::numbers() const;
template std::span<const int8_t> Value::numbers() const;
template std::span<const uint16_t> Value::numbers() const;
template std::span<const int16_t> Value::numbers() const;
template std::span<const uint32_t> Value::numbers() const;
template std::span<const int32_t> Value::numbers() const;
template std::span<const float> Value::numbers() const;
template std::span<const uint64_t> Value::numbers() const;
template std::span<const int64_t> Value::numbers() const;
template std::span<const double> Value::numbers() const;

std::vector<int64_t> Value::to_ints() const {
  if (!is_array()) type_error("array of integers", type_);
  std::vector<int64_t> out;
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_integral_v<T>) {
          out.reserve(v.size());
          for (T x : v) {
            if constexpr (std::is_same_v<T, uint64_t>) {
              if (x > uint64_t(std::numeric_limits<int64_t>::max()))
                throw Error(ErrorKind::InvalidArgument,
                            "[gguf] value: array element " + std::to_string(x) + " does not fit in i64");
            }
            out.push_back(int64_t(x));
          }
        } else {
          throw Error(ErrorKind::InvalidArgument, std::string("[gguf] value: expected an array of integers, found "
                                                              "an array of ") + value_type_name(array_->elem));
        }
      },
      array_->items);
  return out;
}

std::vector<double> Value::to_floats() const {
  if (!is_array()) type_error("array of numbers", type_);
  std::vector<double> out;
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) {
          out.assign(v.begin(), v.end());
        } else {
          throw Error(ErrorKind::InvalidArgument, std::string("[gguf] value: expected an array of numbers, found "
                                                              "an array of ") + value_type_name(array_->elem));
        }
      },
      array_->items);
  return out;
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  if (type_ == ValueType::String) return string_ == other.string_;
  if (type_ != ValueType::Array) return bits_ == other.bits_;
  if (array_ == other.array_) return true;
  if (array_->elem != other.array_->elem) return false;
  if (size() != other.size()) return false;
  // Compare encodings so floats compare bit for bit (NaN == NaN, -0 != +0).
  std::vector<uint8_t> ea, eb;
  VectorSink sa(ea), sb(eb);
  ValueCodec::write_elements(*this, sa);
  ValueCodec::write_elements(other, sb);
  return ea == eb;
}

// --- encoding -------------------------------------------------------------------

void ValueCodec::write_elements(const Value& v, ByteSink& out) {
  if (!v.is_array()) type_error("array", v.type());
  std::visit(
      [&](const auto& items) {
        using T = typename std::decay_t<decltype(items)>::value_type;
        if constexpr (std::is_same_v<T, Value>) {
          for (const Value& item : items) write_value(item, out);
        } else if constexpr (std::is_same_v<T, std::string>) {
          for (const std::string& s : items) out.put_string(s);
        } else {
          out.put(items.data(), items.size() * sizeof(T));
        }
      },
      v.array_->items);
}

void ValueCodec::write_value(const Value& v, ByteSink& out) {
  switch (v.type_) {
    case ValueType::String: out.put_string(v.string_); return;
    case ValueType::Array:
      out.put_u32(uint32_t(v.array_->elem));
      out.put_u64(v.size());
      write_elements(v, out);
      return;
    default: out.put(&v.bits_, value_type_size(v.type_)); return;  // low bytes of a little-endian u64
  }
}

uint64_t Value::content_hash() const {
  HashSink h;
  if (is_array()) ValueCodec::write_elements(*this, h);
  else ValueCodec::write_value(*this, h);
  return h.hash();
}

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

// --- display ------------------------------------------------------------------

void append_escaped(std::string& out, std::string_view s) {
  static const char* digits = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += digits[c >> 4];
          out += digits[c & 15];
        } else {
          out += char(c);
        }
    }
  }
}

// Locale-independent (to_chars/from_chars), so the listing is the same in every
// process; the algorithm is mirrored by tests/data/gguf_listings/make_listings.py.
std::string format_float(double v, bool single) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto sci = [&](int digits) {
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific, digits - 1);
    return std::string_view(buf, size_t(r.ptr - buf));
  };
  const int max_digits = single ? 9 : 17;
  int digits = 1;
  for (; digits < max_digits; ++digits) {
    std::string_view s = sci(digits);
    double back = 0;
    std::from_chars(s.data(), s.data() + s.size(), back);
    if (single ? float(back) == float(v) : back == v) break;
  }
  std::string_view s = sci(digits);
  const size_t e = s.find('e');
  int exponent = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exponent);
  if (exponent < -5 || exponent > 15) return std::string(s);
  const int decimals = std::max(0, digits - 1 - exponent);
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  return std::string(buf, size_t(r.ptr - buf));
}

namespace {

void append_string_display(std::string& out, const std::string& s, size_t max_bytes) {
  size_t cut = s.size();
  if (cut > max_bytes) {
    cut = max_bytes;
    // Do not split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  }
  out += '"';
  append_escaped(out, std::string_view(s).substr(0, cut));
  out += '"';
  if (cut < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
}

void append_display(std::string& out, const Value& v, size_t max_items, size_t max_string);

template <class T>
void append_number(std::string& out, T x, ValueType elem) {
  if constexpr (std::is_same_v<T, float>) out += format_float(x, true);
  else if constexpr (std::is_same_v<T, double>) out += format_float(x, false);
  else if (elem == ValueType::Bool) out += x ? "true" : "false";
  else out += std::to_string(x);
}

void append_display(std::string& out, const Value& v, size_t max_items, size_t max_string) {
  switch (v.type()) {
    case ValueType::String: append_string_display(out, *v.as_string(), max_string); return;
    case ValueType::Bool: out += *v.as_bool() ? "true" : "false"; return;
    case ValueType::F32: out += format_float(*v.as_float(), true); return;
    case ValueType::F64: out += format_float(*v.as_float(), false); return;
    case ValueType::Array: break;
    default:
      if (auto i = v.as_int()) out += std::to_string(*i);
      else out += std::to_string(*v.as_uint());
      return;
  }
  const size_t n = v.size();
  const size_t shown = std::min(n, max_items);
  const ValueType elem = v.array_type();
  out += '[';
  for (size_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    switch (elem) {
      case ValueType::U8: case ValueType::Bool: append_number(out, v.numbers<uint8_t>()[i], elem); break;
      case ValueType::I8: append_number(out, v.numbers<int8_t>()[i], elem); break;
      case ValueType::U16: append_number(out, v.numbers<uint16_t>()[i], elem); break;
      case ValueType::I16: append_number(out, v.numbers<int16_t>()[i], elem); break;
      case ValueType::U32: append_number(out, v.numbers<uint32_t>()[i], elem); break;
      case ValueType::I32: append_number(out, v.numbers<int32_t>()[i], elem); break;
      case ValueType::F32: append_number(out, v.numbers<float>()[i], elem); break;
      case ValueType::U64: append_number(out, v.numbers<uint64_t>()[i], elem); break;
      case ValueType::I64: append_number(out, v.numbers<int64_t>()[i], elem); break;
      case ValueType::F64: append_number(out, v.numbers<double>()[i], elem); break;
      case ValueType::String: append_string_display(out, v.strings()[i], max_string); break;
      case ValueType::Array: append_display(out, v.array()[i], max_items, max_string); break;
    }
  }
  if (shown < n) out += shown ? ", ..." : "...";
  out += ']';
}

}  // namespace

std::string Value::to_display(size_t max_items, size_t max_string_bytes) const {
  std::string out;
  append_display(out, *this, max_items, max_string_bytes);
  return out;
}

}  // namespace ember::gguf
