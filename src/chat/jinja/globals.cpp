// The global functions a chat template can call: jinja2's (range, dict,
// namespace, cycler, joiner) and those transformers adds (raise_exception,
// strftime_now).
#include "chat/jinja/objects.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

// jinja2's sandbox refuses longer ranges.
constexpr int64_t kMaxRange = 100000;

int64_t as_index(const Value& v) {
  if (v.is_integral()) return v.as_int();
  if (v.is_undefined()) v.fail_undefined();
  std::string msg = "'";
  msg += type_name(v);
  msg += "' object cannot be interpreted as an integer";
  raise("TypeError", std::move(msg));
}

Value range_fn(Interpreter&, Args& args) {
  if (!args.keywords.empty()) raise("TypeError", "range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3)
    raise("TypeError", "range expected " + std::string(p.empty() ? "at least 1 argument, got 0" : "at most 3 arguments, got " + std::to_string(p.size())));
  int64_t start = 0, stop, step = 1;
  if (p.size() == 1) {
    stop = as_index(p[0]);
  } else {
    start = as_index(p[0]);
    stop = as_index(p[1]);
    if (p.size() == 3) step = as_index(p[2]);
  }
  if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
  // Length computed without overflow.
  long double n = 0;
  if (step > 0 && start < stop) n = (static_cast<long double>(stop) - start + step - 1) / step;
  if (step < 0 && start > stop) n = (static_cast<long double>(start) - stop - step - 1) / -step;
  if (n > kMaxRange)
    raise("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  return range_value(start, stop, step);
}

// dict(*args, **kwargs) into d.
void fill_dict(Interpreter& in, DictData& d, Args& args, const char* fn) {
  if (args.positional.size() > 1)
    raise("TypeError", std::string(fn) + " expected at most 1 argument, got " + std::to_string(args.positional.size()));
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict_data().entries()) d.set(k, v);
    } else {
      size_t index = 0;
      for (const Value& item : iterate(src)) {
        if (!(item.is_string() || item.is_sequence_like() || item.is_dict()))
          raise("TypeError", "cannot convert dictionary update sequence element #" + std::to_string(index) +
                                 " to a sequence");
        std::vector<Value> pair = iterate(item);
        if (pair.size() != 2)
          raise("ValueError", "dictionary update sequence element #" + std::to_string(index) + " has length " +
                                  std::to_string(pair.size()) + "; 2 is required");
        d.set(pair[0], pair[1]);
        ++index;
      }
    }
  }
  for (auto& [k, v] : args.keywords) d.set(k, v);
  (void)in;
}

class CyclerObject : public Object {
 public:
  explicit CyclerObject(std::vector<Value> items) : items_(std::move(items)) {}
  void release() override { items_ = {Value()}; }
  std::string type_name() const override { return "Cycler"; }
  std::string type_repr() const override { return "jinja2.utils.Cycler object"; }
  Value get_attr(Interpreter&, const std::string& name) override {
    auto self = std::static_pointer_cast<CyclerObject>(shared_from_this());
    if (name == "current") return items_[pos_];
    if (name == "items") return Value::list(items_);
    if (name == "next" || name == "__next__") {
      return make_function("next", [self](Interpreter&, Args&) {
        Value v = self->items_[self->pos_];
        self->pos_ = (self->pos_ + 1) % self->items_.size();
        return v;
      });
    }
    if (name == "reset") {
      return make_function("reset", [self](Interpreter&, Args&) {
        self->pos_ = 0;
        return Value::none();
      });
    }
    return Value();
  }

 private:
  std::vector<Value> items_;
  size_t pos_ = 0;
};

class JoinerObject : public Object {
 public:
  explicit JoinerObject(std::string sep) : sep_(std::move(sep)) {}
  std::string type_name() const override { return "Joiner"; }
  std::string type_repr() const override { return "jinja2.utils.Joiner object"; }
  bool callable() const override { return true; }
  Value call(Interpreter&, Args&) override {
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }

 private:
  std::string sep_;
  bool used_ = false;
};

const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::string strftime_python(const std::string& fmt, const DateTime& t) {
  int64_t days = days_from_civil(t.year, t.month, t.day);
  int wday = static_cast<int>(((days % 7) + 11) % 7);  // 0 = Sunday
  int yday = static_cast<int>(days - days_from_civil(t.year, 1, 1));  // 0-based
  int month = std::min(std::max(t.month, 1), 12);
  auto num = [](int64_t v, int width, char pad) {
    std::string s = std::to_string(v < 0 ? -v : v);
    while (static_cast<int>(s.size()) < width) s.insert(s.begin(), pad);
    return (v < 0 ? "-" : "") + s;
  };
  // ISO 8601 week-based year and week.
  auto iso = [&](int& iso_year) {
    int wd = (wday + 6) % 7;  // 0 = Monday
    int week = (yday - wd + 10) / 7;
    iso_year = t.year;
    if (week < 1) {
      iso_year = t.year - 1;
      int prev_days = is_leap(iso_year) ? 366 : 365;
      week = (yday + prev_days - wd + 10) / 7;
    } else if (week == 53) {
      int days_in_year = is_leap(t.year) ? 366 : 365;
      if (yday - wd + 3 >= days_in_year) {  // Thursday of this week is next year
        week = 1;
        iso_year = t.year + 1;
      }
    }
    return week;
  };
  int hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out.push_back(fmt[i]);
      continue;
    }
    size_t start = i++;
    // glibc flags: '-' no padding, '_' spaces, '0' zeros, '^' upper case.
    char flag = 0;
    bool upper = false;
    while (i < fmt.size() && (fmt[i] == '-' || fmt[i] == '_' || fmt[i] == '0' || fmt[i] == '^' || fmt[i] == '#')) {
      if (fmt[i] == '^')
        upper = true;
      else if (fmt[i] != '#')
        flag = fmt[i];
      ++i;
    }
    if (i >= fmt.size()) {
      out += fmt.substr(start);
      break;
    }
    auto n = [&](int64_t v, int width, char pad = '0') {
      if (flag == '-') return num(v, 0, pad);
      if (flag == '_') return num(v, width, ' ');
      if (flag == '0') return num(v, width, '0');
      return num(v, width, pad);
    };
    int iso_year = 0;
    const size_t mark = out.size();
    switch (fmt[i]) {
      case 'a': out += std::string(kDays[wday]).substr(0, 3); break;
      case 'A': out += kDays[wday]; break;
      case 'b':
      case 'h': out += std::string(kMonths[month - 1]).substr(0, 3); break;
      case 'B': out += kMonths[month - 1]; break;
      case 'c':
        out += std::string(kDays[wday]).substr(0, 3) + " " + std::string(kMonths[month - 1]).substr(0, 3) + " " +
                num(t.day, 2, ' ') + " " + num(t.hour, 2, '0') + ":" + num(t.minute, 2, '0') + ":" +
                num(t.second, 2, '0') + " " + num(t.year, 0, '0');
        break;
      case 'C': out += n(t.year / 100, 2); break;
      case 'd': out += n(t.day, 2); break;
      case 'D': out += num(month, 2, '0') + "/" + num(t.day, 2, '0') + "/" + num(t.year % 100, 2, '0'); break;
      case 'e': out += n(t.day, 2, ' '); break;
      case 'f': out += "000000"; break;
      case 'F': out += num(t.year, 0, '0') + "-" + num(month, 2, '0') + "-" + num(t.day, 2, '0'); break;
      case 'G': iso(iso_year); out += n(iso_year, 0); break;
      case 'g': iso(iso_year); out += n(iso_year % 100, 2); break;
      case 'H': out += n(t.hour, 2); break;
      case 'I': out += n(hour12, 2); break;
      case 'j': out += n(yday + 1, 3); break;
      case 'k': out += n(t.hour, 2, ' '); break;
      case 'l': out += n(hour12, 2, ' '); break;
      case 'm': out += n(month, 2); break;
      case 'M': out += n(t.minute, 2); break;
      case 'n': out += "\n"; break;
      case 'p': out += t.hour < 12 ? "AM" : "PM"; break;
      case 'P': out += t.hour < 12 ? "am" : "pm"; break;
      case 'r':
        out += num(hour12, 2, '0') + ":" + num(t.minute, 2, '0') + ":" + num(t.second, 2, '0') + " " +
                (t.hour < 12 ? "AM" : "PM");
        break;
      case 'R': out += num(t.hour, 2, '0') + ":" + num(t.minute, 2, '0'); break;
      case 's':
        out += std::to_string(days * 86400 + t.hour * 3600 + t.minute * 60 + t.second);
        break;
      case 'S': out += n(t.second, 2); break;
      case 't': out += "\t"; break;
      case 'T': out += num(t.hour, 2, '0') + ":" + num(t.minute, 2, '0') + ":" + num(t.second, 2, '0'); break;
      case 'u': out += n(wday == 0 ? 7 : wday, 1); break;
      case 'U': out += n((yday + 7 - wday) / 7, 2); break;
      case 'V': out += n(iso(iso_year), 2); break;
      case 'w': out += n(wday, 1); break;
      case 'W': out += n((yday + 7 - ((wday + 6) % 7)) / 7, 2); break;
      case 'x': out += num(month, 2, '0') + "/" + num(t.day, 2, '0') + "/" + num(t.year % 100, 2, '0'); break;
      case 'X': out += num(t.hour, 2, '0') + ":" + num(t.minute, 2, '0') + ":" + num(t.second, 2, '0'); break;
      case 'y': out += n(t.year % 100, 2); break;
      case 'Y': out += n(t.year, 0); break;
      case 'z':
      case 'Z': break;  // a naive datetime has no zone
      case '%': out += "%"; break;
      default: out += fmt.substr(start, i - start + 1); break;
    }
    if (upper) {
      std::string tail = text::upper(std::string_view(out).substr(mark));
      out.resize(mark);
      out += tail;
    }
  }
  return out;
}

Value global_function(std::string_view name) {
  if (name == "range") return make_function("range", range_fn);
  if (name == "dict") {
    return make_function("dict", [](Interpreter& in, Args& args) {
      Value d = Value::dict();
      fill_dict(in, d.dict_data(), args, "dict");
      return d;
    });
  }
  if (name == "namespace") {
    return make_function("namespace", [](Interpreter& in, Args& args) {
      auto ns = std::make_shared<NamespaceObject>();
      in.track(ns);
      fill_dict(in, ns->attrs, args, "Namespace");
      return Value::object(ns);
    });
  }
  if (name == "cycler") {
    return make_function("cycler", [](Interpreter& in, Args& args) {
      if (args.positional.empty()) raise("RuntimeError", "at least one item has to be provided");
      auto cycler = std::make_shared<CyclerObject>(args.positional);
      in.track(cycler);
      return Value::object(cycler);
    });
  }
  if (name == "joiner") {
    return make_function("joiner", [](Interpreter&, Args& args) {
      std::vector<Value> a = bind_args("joiner", args, {{"sep", Value::string(", ")}});
      return Value::object(std::make_shared<JoinerObject>(to_str(a[0])));
    });
  }
  if (name == "lipsum") {
    return make_function("lipsum", [](Interpreter&, Args&) -> Value {
      raise("TemplateError", "lipsum() is not supported by ember (its text is random)");
    });
  }
  if (name == "raise_exception") {
    return make_function("raise_exception", [](Interpreter&, Args& args) -> Value {
      std::vector<Value> a = bind_args("raise_exception", args, {{"message", Value(), true}});
      raise("TemplateError", to_str(a[0]));
    });
  }
  if (name == "strftime_now") {
    return make_function("strftime_now", [](Interpreter& in, Args& args) -> Value {
      std::vector<Value> a = bind_args("strftime_now", args, {{"format", Value(), true}});
      if (!a[0].is_string()) raise("TypeError", "strftime() argument 1 must be str, not " + type_name(a[0]));
      return Value::string(strftime_python(a[0].str(), in.options().now));
    });
  }
  return Value();
}

}  // namespace ember::jinja
