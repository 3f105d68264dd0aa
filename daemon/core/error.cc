#include "daemon/core/error.h"

#include <stdexcept>

namespace newsflow {

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kConfig:
      return "config";
    case Errc::kParse:
      return "parse";
    case Errc::kNotAFeed:
      return "not_a_feed";
    case Errc::kIo:
      return "io";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kDns:
      return "dns";
    case Errc::kConnect:
      return "connect";
    case Errc::kTls:
      return "tls";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kConnectionReset:
      return "connection_reset";
    case Errc::kHttpStatus:
      return "http_status";
    case Errc::kTooLarge:
      return "too_large";
    case Errc::kTooManyRedirects:
      return "too_many_redirects";
    case Errc::kEmptyBody:
      return "empty_body";
    case Errc::kBlocked:
      return "blocked";
    case Errc::kSink:
      return "sink";
    case Errc::kState:
      return "state";
    case Errc::kCancelled:
      return "cancelled";
    case Errc::kInternal:
      return "internal";
  }
  return "unknown";
}

Error Error::At(std::string w) const& {
  Error copy = *this;
  return std::move(copy).At(std::move(w));
}

Error Error::At(std::string w) && {
  if (where_.empty()) where_ = std::move(w);
  return std::move(*this);
}

bool Error::IsRetryable() const {
  switch (code_) {
    case Errc::kDns:
    case Errc::kConnect:
    case Errc::kTls:
    case Errc::kTimeout:
    case Errc::kConnectionReset:
    case Errc::kEmptyBody:
    case Errc::kSink:
    case Errc::kCancelled:  // shutdown interrupted it; the next run retries
      return true;
    case Errc::kHttpStatus:
      return http_status_ == 408 || http_status_ == 429 || http_status_ >= 500;
    default:
      return false;
  }
}

std::string Error::ToString() const {
  if (where_.empty()) return message_;
  return where_ + ": " + message_;
}

void throw_exception_from_error(const Error& e,
                                const boost::source_location& /*loc*/) {
  throw std::runtime_error(e.ToString());
}

}  // namespace newsflow
