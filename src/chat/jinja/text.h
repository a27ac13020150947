#pragma once
// Python str semantics over UTF-8 strings: lengths and indexes count code
// points, and strip/split/upper/title/repr… behave like CPython's. Bytes that
// are not valid UTF-8 stand for themselves (decoded as U+DC80 + byte, the way
// Python's surrogateescape does, and encoded back unchanged).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::jinja::text {

std::u32string decode(std::string_view s);
std::string encode(std::u32string_view s);
void append_utf8(std::string& out, char32_t cp);
bool is_ascii(std::string_view s) noexcept;
/// Number of code points.
size_t length(std::string_view s) noexcept;

/// str.strip / lstrip / rstrip; chars == nullopt strips whitespace.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
/// str.split / rsplit; sep == nullopt splits on runs of whitespace. Throws
/// std::invalid_argument("empty separator") for an empty sep.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string casefold(std::string_view s);
std::string title(std::string_view s);       // str.title
std::string capitalize(std::string_view s);  // str.capitalize
std::string swapcase(std::string_view s);

enum class Pred { Alpha, Alnum, Decimal, Digit, Numeric, Space, Printable, Upper, Lower, Title, Identifier, Ascii };
bool is(std::string_view s, Pred p);

/// str.center / ljust / rjust with a one-character fill.
std::string pad(std::string_view s, int64_t width, char32_t fill, int align /* -1 left, 0 center, 1 right */);
std::string zfill(std::string_view s, int64_t width);

/// str.find / rfind over [start, end) in code points (Python slice rules); -1 if absent.
int64_t find(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end,
             bool reverse);
int64_t count(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end);
/// str.replace; count < 0 replaces all.
std::string replace(std::string_view s, std::string_view old, std::string_view with, int64_t count);
/// The size in bytes replace() would return, without building it.
size_t replaced_size(std::string_view s, std::string_view old, std::string_view with, int64_t count);

/// repr() of a str: quotes chosen and characters escaped as CPython does.
std::string repr(std::string_view s);
/// markupsafe.escape: & < > ' " as entities.
std::string escape_html(std::string_view s);

/// Code-point slice s[start:stop:step] with Python's clamping; std::nullopt is an omitted bound.
std::string slice(std::string_view s, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);

/// PySlice_AdjustIndices: the start and stop a slice of a length-n sequence resolves to.
void adjust_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step, int64_t& first,
                  int64_t& last);
/// Resolves Python slice bounds for a sequence of length n into a list of indexes.
std::vector<int64_t> slice_indexes(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);

}  // namespace ember::jinja::text
