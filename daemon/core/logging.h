#pragma once

// Logging: one spdlog logger per component instance, named after it
// ("daemon", "feed.<name>", "sink.kafka", "http"), all writing to stderr.
// Under systemd (JOURNAL_STREAM set) lines carry no timestamp: journald adds
// its own. Messages follow vector's style: a capitalised sentence ending
// with a period, then key=value fields.
//
// Include <spdlog/spdlog.h> in the .cc that logs; this header stays light.

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace newsflow {

struct LogOptions {
  std::string level = "info";   // trace|debug|info|warn|error|off
  std::string format = "text";  // text|json
};

// Sets level and format for every logger, existing and future. Returns
// false (and changes nothing) for an unknown level or format.
bool InitLogging(const LogOptions& options);

// The logger for component instance `name`, created on first use.
// Thread-safe.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

// `url` as the URL model reads it (daemon/core/url.h) with userinfo, query
// and fragment replaced by "…" (feed URLs often carry tokens); for logs and
// error messages. Text that is not an http(s) URL is cut at its first '?'
// and anything before an '@' after "://" is hidden.
std::string RedactUrl(std::string_view url);

}  // namespace newsflow
