#pragma once
// Errors raised inside libember. Every message names its place, e.g.
// "[gguf] tensor 'blk.3.attn_q.weight': offset 123456 past end of file (size 99999)".
// The C ABI turns the kind into a status code.
#include <stdexcept>
#include <string>

namespace ember {

enum class ErrorKind {
  InvalidArgument,  // a bad parameter from the caller
  InvalidFile,      // a malformed or truncated file
  Io,               // the OS refused (open, mmap, read)
  Unsupported,      // valid input that ember cannot handle (yet)
  Internal,
  Cancelled,        // a callback of the caller's asked to stop (e.g. ModelParams::on_progress)
};

/// The one exception type libember throws for anything input can cause.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  explicit Error(const std::string& message) : Error(ErrorKind::InvalidArgument, message) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace ember
