#include "daemon/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

#include "daemon/core/json_writer.h"
#include "daemon/core/url.h"

namespace newsflow {
namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_pattern;

// Every http(s) URL in `text` with its query string (and any user:password@)
// replaced: feed URLs often carry tokens, and log lines come from every
// component, so redaction happens here once rather than at each call site.
std::string RedactUrlsIn(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find("://", i);
    if (start == std::string_view::npos) break;
    size_t scheme = start;
    while (scheme > i &&
           std::isalpha(static_cast<unsigned char>(text[scheme - 1])))
      --scheme;
    size_t end = start + 3;
    while (end < text.size() &&
           !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '"' && text[end] != '\'' && text[end] != '<' &&
           text[end] != '>') {
      ++end;
    }
    // Trailing punctuation belongs to the sentence, not the URL.
    while (end > start + 3 && std::string_view(":,.;)]").find(text[end - 1]) !=
                                  std::string_view::npos) {
      --end;
    }
    out.append(text.substr(i, scheme - i));
    out += RedactUrl(text.substr(scheme, end - scheme));
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

// %* : the (redacted) message escaped for use inside a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted;
    AppendJsonString(quoted,
                     RedactUrlsIn({msg.payload.data(), msg.payload.size()}));
    dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// Appends `text` with every control character escaped ("\n", "\t",
// "\r", "\xNN"; a backslash doubled), so a value taken from a feed (a link
// with a newline, an ANSI escape in a title) can neither start a forged log
// line, carry a journald "<N>" priority prefix nor repaint a terminal.
void AppendEscapedControls(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t plain = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0x20 && b != 0x7f && b != '\\') continue;
    dest.append(text.data() + plain, text.data() + i);
    char esc[4] = {'\\', 0, 0, 0};
    size_t len = 2;
    switch (b) {
      case '\n':
        esc[1] = 'n';
        break;
      case '\r':
        esc[1] = 'r';
        break;
      case '\t':
        esc[1] = 't';
        break;
      case '\\':
        esc[1] = '\\';
        break;
      default:
        esc[1] = 'x';
        esc[2] = kHex[b >> 4];
        esc[3] = kHex[b & 0xf];
        len = 4;
    }
    dest.append(esc, esc + len);
    plain = i + 1;
  }
  dest.append(text.data() + plain, text.data() + text.size());
}

// %Q : the message with URLs redacted and control characters escaped (text
// format).
class RedactedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string text =
        RedactUrlsIn({msg.payload.data(), msg.payload.size()});
    AppendEscapedControls(text, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RedactedMessage>();
  }
};

// %P : the syslog priority digit journald reads from a "<N>" line prefix
// (sd-daemon(3)), so `journalctl -p warning` works.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char digit = '6';
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        digit = '7';
        break;
      case spdlog::level::info:
        digit = '6';
        break;
      case spdlog::level::warn:
        digit = '4';
        break;
      case spdlog::level::err:
        digit = '3';
        break;
      case spdlog::level::critical:
        digit = '2';
        break;
      default:
        break;
    }
    dest.push_back(digit);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriority>();
  }
};

// %F : `,"feed":"NAME"` for loggers named "feed.NAME" (JSON format), so
// every line about a feed can be filtered on a field of its own.
class JsonFeedField final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    if (!name.starts_with("feed.")) return;
    std::string field = ",\"feed\":";
    AppendJsonString(field, name.substr(5));
    dest.append(field.data(), field.data() + field.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonFeedField>();
  }
};

void Apply(spdlog::logger& l) {
  l.set_level(g_level);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*')
      .add_flag<RedactedMessage>('Q')
      .add_flag<JsonFeedField>('F')
      .add_flag<SyslogPriority>('P')
      .set_pattern(g_pattern);
  l.set_formatter(std::move(formatter));
}

std::string PatternFor(const std::string& format) {
  // Under systemd stderr is a journal stream (JOURNAL_STREAM): journald adds
  // the time and reads the priority from the "<N>" prefix.
  const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  if (format == "json") {
    return std::string(journald ? "<%P>" : "") +
           R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n"%F,"message":"%*"})";
  }
  return journald ? "<%P>%l [%n] %Q" : "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %Q";
}

std::shared_ptr<spdlog::sinks::stderr_sink_mt> SharedSink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

}  // namespace

bool InitLogging(const LogOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") return false;
  if (options.format != "text" && options.format != "json") return false;
  std::lock_guard lock(g_mutex);
  g_level = level;
  g_pattern = PatternFor(options.format);
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& l) { Apply(*l); });
  return true;
}

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, SharedSink());
  if (g_pattern.empty()) g_pattern = PatternFor("text");
  Apply(*logger);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

std::string RedactUrl(std::string_view url) {
  Result<Url> u = Url::Parse(url);
  if (u && u->IsHttp()) {
    // Built from the parts a browser (and libcurl) would send: userinfo is
    // whatever precedes the last '@' of the authority as a browser reads it.
    std::string out = u->scheme() + "://";
    if (!u->username().empty() || !u->password().empty()) out += "…@";
    out += u->host();
    if (u->port() >= 0) out += ":" + std::to_string(u->port());
    out += u->path();
    if (u->has_query()) out += "?…";
    if (u->has_fragment()) out += "#…";
    return out;
  }
  // Not an http(s) URL a browser would load: cut at the first '?' and hide
  // anything before an '@' in what looks like the authority.
  std::string out(url.substr(0, url.find('?')));
  if (out.size() < url.size()) out += "?…";
  if (const size_t sep = out.find("://"); sep != std::string::npos) {
    const size_t at = out.rfind('@');
    if (at != std::string::npos && at > sep) {
      out.replace(sep + 3, at - sep - 3, "…");
    }
  }
  return out;
}

}  // namespace newsflow
