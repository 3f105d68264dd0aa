#pragma once

// Error vocabulary shared by every component.
//
// Expected failures (network, HTTP status, parse, config, sink, state) are
// values: functions return Result<T>. Bugs are assert()s. Exceptions appear
// only at the edges (third-party code that throws) and are converted at once.

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace newsflow {

// What kind of failure an Error is. Stable names (ErrcName) appear in logs
// and metric labels, so enumerators are added, never renamed.
enum class Errc {
  kInvalidArgument,   // caller passed something malformed (usage, bad URL)
  kConfig,            // configuration is invalid
  kParse,             // a document (feed, page, JSON) could not be parsed
  kNotAFeed,          // the document is not RSS, Atom or JSON Feed
  kIo,                // local file or OS failure
  kNotFound,          // a file or record does not exist
  kDns,               // host name could not be resolved
  kConnect,           // TCP connect failed or was refused
  kTls,               // TLS handshake or certificate failure
  kTimeout,           // connect or transfer deadline passed
  kConnectionReset,   // peer closed or reset the connection mid-transfer
  kHttpStatus,        // server answered with a non-success status
  kTooLarge,          // body exceeded the configured cap
  kTooManyRedirects,  // redirect chain longer than the cap
  kEmptyBody,         // 200 with no body
  kBlocked,           // refused by policy (SSRF guard, scheme not allowed)
  kSink,              // sink failure (producer, broker, destination)
  kState,             // state store (SQLite) failure
  kCancelled,         // operation cancelled by shutdown
  kInternal,          // unexpected failure of a dependency
};

// Returns the stable snake_case name of `code`, e.g. "http_status".
std::string_view ErrcName(Errc code);

// A failure: a kind, a one-line human message and, where known, the place it
// refers to (file:line:col, feed name, URL). Cheap to move; copyable.
class Error {
 public:
  // Only for containers that need it; a default Error says "unknown error".
  Error() : Error(Errc::kInternal, "unknown error") {}
  Error(Errc code, std::string message, std::string where = {},
        int http_status = 0)
      : code_(code),
        message_(std::move(message)),
        where_(std::move(where)),
        http_status_(http_status) {}

  static Error InvalidArgument(std::string m, std::string w = {}) {
    return Error(Errc::kInvalidArgument, std::move(m), std::move(w));
  }
  static Error Config(std::string m, std::string w = {}) {
    return Error(Errc::kConfig, std::move(m), std::move(w));
  }
  static Error Parse(std::string m, std::string w = {}) {
    return Error(Errc::kParse, std::move(m), std::move(w));
  }
  static Error Io(std::string m, std::string w = {}) {
    return Error(Errc::kIo, std::move(m), std::move(w));
  }
  static Error Internal(std::string m, std::string w = {}) {
    return Error(Errc::kInternal, std::move(m), std::move(w));
  }

  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& where() const { return where_; }
  int http_status() const { return http_status_; }

  // Returns a copy whose `where` is `w` (keeps an existing, more precise
  // place if one is already set).
  Error At(std::string w) const&;
  Error At(std::string w) &&;

  // True for failures that may go away by themselves (network, 5xx, 429,
  // sink transient); a scheduler retries these with backoff.
  bool IsRetryable() const;

  // One line: "<where>: <message>" or "<message>" when no place is known.
  std::string ToString() const;

 private:
  Errc code_;
  std::string message_;
  std::string where_;
  int http_status_;
};

// Lets Result<T>::value() throw on our error type (found by ADL).
[[noreturn]] void throw_exception_from_error(const Error& e,
                                             const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace newsflow
