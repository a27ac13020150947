// Python's arithmetic on template values: int/float promotion, floor
// division and modulo signs, str and list concatenation and repetition.
#include <cmath>
#include <limits>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::FloorDiv: return "//";
    case BinOp::Mod: return "%";
    case BinOp::Pow: return "** or pow()";
  }
  return "?";
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
  raise("TypeError", std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" + type_name(a) + "' and '" +
                         type_name(b) + "'");
}

[[noreturn]] void overflow() {
  raise("OverflowError", "integer result does not fit in 64 bits (ember's integers are 64-bit)");
}


Value repeat(Interpreter& in, const Value& seq, int64_t n) {
  if (n <= 0) {
    if (seq.is_string()) return seq.is_markup() ? Value::markup("") : Value::string("");
    return seq.is_list() ? Value::list() : Value::tuple();
  }
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(n) > in.options().max_output_bytes / s.size() + 1) in.check_size(SIZE_MAX);
    in.check_size(s.size() * static_cast<size_t>(n));
    in.charge(s.size() * static_cast<size_t>(n));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const auto& items = seq.items();
  // A list costs at least a Value per item.
  const size_t item_bytes = items.size() * sizeof(Value);
  if (item_bytes && static_cast<uint64_t>(n) > in.options().max_output_bytes / item_bytes + 1) in.check_size(SIZE_MAX);
  in.check_size(item_bytes * static_cast<size_t>(n));
  in.charge(item_bytes * static_cast<size_t>(n));
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
}

// Python's float floor division and modulo.
void float_divmod(double vx, double wx, double& div, double& mod) {
  mod = std::fmod(vx, wx);
  div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  if (div != 0.0) {
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    div = floordiv;
  } else {
    div = std::copysign(0.0, vx / wx);
  }
}

Value int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if ((exp & 1) && __builtin_mul_overflow(result, base, &result)) overflow();
    exp >>= 1;
    if (exp && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return Value::integer(result);
}

}  // namespace

Value binary_op(Interpreter& in, BinOp op, const Value& a, const Value& b) {
  // str % anything is str formatting, even with Undefined on the right.
  if (op == BinOp::Mod && a.is_string()) {
    std::string s = percent_format(in, a.str(), b, a.is_markup());
    return a.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
  }
  if (a.is_undefined()) a.fail_undefined();
  if (b.is_undefined()) b.fail_undefined();
  const bool ints = a.is_integral() && b.is_integral();
  const bool nums = a.is_number() && b.is_number();
  switch (op) {
    case BinOp::Add:
      if (ints) {
        int64_t r;
        if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) overflow();
        return Value::integer(r);
      }
      if (nums) return Value::real(a.as_double() + b.as_double());
      if (a.is_string() && b.is_string()) {
        in.check_size(a.str().size() + b.str().size());
        in.charge(a.str().size() + b.str().size());
        // Markup escapes a plain str it meets.
        if (a.is_markup() && !b.is_markup()) return Value::markup(a.str() + text::escape_html(b.str()));
        if (b.is_markup() && !a.is_markup()) return Value::markup(text::escape_html(a.str()) + b.str());
        return a.is_markup() ? Value::markup(a.str() + b.str()) : Value::string(a.str() + b.str());
      }
      if ((a.is_plain_list() && b.is_plain_list()) || (a.is_tuple() && b.is_tuple())) {
        in.check_size((a.items().size() + b.items().size()) * sizeof(Value));
        in.charge((a.items().size() + b.items().size()) * sizeof(Value));
        std::vector<Value> out = a.items();
        out.insert(out.end(), b.items().begin(), b.items().end());
        return a.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
      }
      if (a.is_markup()) unsupported(op, a, b);  // Markup.__add__ returns NotImplemented
      if (a.is_string() || a.is_plain_list() || a.is_tuple())
        raise("TypeError", "can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
      unsupported(op, a, b);
    case BinOp::Sub:
      if (ints) {
        int64_t r;
        if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) overflow();
        return Value::integer(r);
      }
      if (nums) return Value::real(a.as_double() - b.as_double());
      unsupported(op, a, b);
    case BinOp::Mul:
      if (ints) {
        int64_t r;
        if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) overflow();
        return Value::integer(r);
      }
      if (nums) return Value::real(a.as_double() * b.as_double());
      if ((a.is_string() || a.is_plain_list() || a.is_tuple()) && b.is_integral()) return repeat(in, a, b.as_int());
      if ((b.is_string() || b.is_plain_list() || b.is_tuple()) && a.is_integral()) return repeat(in, b, a.as_int());
      if ((a.is_string() || a.is_plain_list() || a.is_tuple()) && b.is_float())
        raise("TypeError", "can't multiply sequence by non-int of type 'float'");
      if ((b.is_string() || b.is_plain_list() || b.is_tuple()) && a.is_float())
        raise("TypeError", "can't multiply sequence by non-int of type 'float'");
      unsupported(op, a, b);
    case BinOp::Div:
      if (nums) {
        if (b.as_double() == 0.0) raise("ZeroDivisionError", ints ? "division by zero" : "float division by zero");
        return Value::real(a.as_double() / b.as_double());
      }
      unsupported(op, a, b);
    case BinOp::FloorDiv:
      if (ints) {
        int64_t x = a.as_int(), y = b.as_int();
        if (y == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) overflow();
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::integer(q);
      }
      if (nums) {
        if (b.as_double() == 0.0) raise("ZeroDivisionError", "float floor division by zero");
        double div, mod;
        float_divmod(a.as_double(), b.as_double(), div, mod);
        return Value::real(div);
      }
      unsupported(op, a, b);
    case BinOp::Mod:
      if (a.is_string()) {
        std::string s = percent_format(in, a.str(), b, a.is_markup());
        return a.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
      }
      if (ints) {
        int64_t x = a.as_int(), y = b.as_int();
        if (y == 0) raise("ZeroDivisionError", "integer modulo by zero");
        if (y == -1) return Value::integer(0);
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::integer(r);
      }
      if (nums) {
        if (b.as_double() == 0.0) raise("ZeroDivisionError", "float modulo");
        double div, mod;
        float_divmod(a.as_double(), b.as_double(), div, mod);
        return Value::real(mod);
      }
      unsupported(op, a, b);
    case BinOp::Pow:
      if (ints) {
        if (b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
        if (a.as_int() == 0) raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
        return Value::real(std::pow(a.as_double(), b.as_double()));
      }
      if (nums) {
        double x = a.as_double(), y = b.as_double();
        if (x == 0.0 && y < 0) raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
        if (x < 0 && std::floor(y) != y)
          raise("TypeError", "a negative number to a fractional power is complex, which ember does not support");
        double r = std::pow(x, y);
        if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) raise("OverflowError", "(34, 'Numerical result out of range')");
        return Value::real(r);
      }
      unsupported(op, a, b);
  }
  unsupported(op, a, b);
}

Value unary_minus(const Value& v) {
  if (v.is_undefined()) v.fail_undefined();
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) overflow();
    return Value::integer(-v.as_int());
  }
  if (v.is_float()) return Value::real(-v.as_double());
  raise("TypeError", "bad operand type for unary -: '" + type_name(v) + "'");
}

Value unary_plus(const Value& v) {
  if (v.is_undefined()) v.fail_undefined();
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) return v;
  raise("TypeError", "bad operand type for unary +: '" + type_name(v) + "'");
}

Value slice_value(Interpreter& in, const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) obj.fail_undefined();
  auto bound = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    if (v.is_integral()) return v.as_int();
    if (v.is_undefined()) v.fail_undefined();
    raise("TypeError", "slice indices must be integers or None or have an __index__ method");
  };
  std::optional<int64_t> a = bound(start), b = bound(stop), c = bound(step);
  int64_t stride = c.value_or(1);
  if (stride == 0) raise("ValueError", "slice step cannot be zero");
  if (obj.is_string()) {
    std::string s = text::slice(obj.str(), a, b, stride);
    return obj.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
  }
  if (obj.is_range()) {
    // range(…)[a:b:c] is a range (CPython's compute_slice).
    const ListData& r = list_data(obj);
    int64_t first, last;
    text::adjust_slice(static_cast<int64_t>(r.items.size()), a, b, stride, first, last);
    return range_value(r.range_start + r.range_step * first, r.range_start + r.range_step * last, r.range_step * stride);
  }
  if ((obj.is_list() || obj.is_tuple()) && obj.tag() != Tag::DictKeys && obj.tag() != Tag::DictValues &&
      obj.tag() != Tag::DictItems) {
    const auto& items = obj.items();
    std::vector<Value> out;
    for (int64_t i : text::slice_indexes(static_cast<int64_t>(items.size()), a, b, stride))
      out.push_back(items[static_cast<size_t>(i)]);
    return obj.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
  }
  if (obj.is_dict()) raise("TypeError", "unhashable type: 'slice'");
  (void)in;
  raise("TypeError", concat({"'", type_name(obj), "' object is not subscriptable"}));
}

}  // namespace ember::jinja
