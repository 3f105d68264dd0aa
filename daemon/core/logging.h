#pragma once

// Logging: one spdlog logger per component instance, named after it
// ("daemon", "feed.<name>", "sink.<type>", "http"), all writing to stderr.
// When stderr is the journal (JOURNAL_STREAM names stderr's device and
// inode, systemd.exec(5)) lines carry no timestamp (journald adds its own)
// and are sent with sd_journal_send(3) instead, with structured fields:
// PRIORITY, SYSLOG_IDENTIFIER=newsflowd, NEWSFLOW_COMPONENT=<logger>,
// FEED=<name> for "feed.<name>" loggers and URL=<redacted> when the message
// has a url= field, so `journalctl FEED=bbc-world` works. Should the
// journal socket refuse a message, it goes to stderr with a "<N>" priority
// prefix (sd-daemon(3)). Messages follow vector's style: a capitalised
// sentence ending with a period, then key=value fields.
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
  // Under the journal, send lines natively with fields (else as a stream
  // with "<N>" prefixes only).
  bool journal_fields = true;
};

// Sets level and format for every logger, existing and future. Returns
// false (and changes nothing) for an unknown level or format.
bool InitLogging(const LogOptions& options);

// The logger for component instance `name`, created on first use.
// Thread-safe.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

// True when stderr is connected to the journal: JOURNAL_STREAM is set and
// names the device:inode of file descriptor 2 (a JOURNAL_STREAM inherited
// through a redirection does not count), as systemd.exec(5) says.
bool StderrIsJournal();

// "<3>" when stderr is the journal, else "": the sd-daemon(3) prefix that
// makes a line written to stderr by hand (not through a logger) an error
// for `journalctl -p err`.
const char* StderrErrorPrefix();

// `url` as the URL model reads it (daemon/core/url.h) with userinfo, query
// and fragment replaced by "…" (feed URLs often carry tokens); for logs and
// error messages. Text that is not an http(s) URL is cut at its first '?'
// and anything before an '@' after "://" is hidden.
std::string RedactUrl(std::string_view url);

// `text` with every http(s) URL in it passed through RedactUrl (what every
// log line gets; also for texts that leave the process another way, such as
// feed events).
std::string RedactUrlsInText(std::string_view text);

}  // namespace newsflow
