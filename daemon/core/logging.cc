#include "daemon/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#if NEWSFLOW_HAVE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

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

// The syslog priority digit of a level (journald's PRIORITY=, or the "<N>"
// line prefix of sd-daemon(3)), so `journalctl -p warning` works.
char PriorityDigit(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return '7';
    case spdlog::level::warn:
      return '4';
    case spdlog::level::err:
      return '3';
    case spdlog::level::critical:
      return '2';
    default:
      return '6';
  }
}

// The (redacted) value of the first url= field of a message, or "".
std::string UrlField(std::string_view payload) {
  size_t at = payload.find("url=");
  while (at != std::string_view::npos && at > 0 &&
         std::isalnum(static_cast<unsigned char>(payload[at - 1]))) {
    at = payload.find("url=", at + 4);  // e.g. "final_url=" is not it
  }
  if (at == std::string_view::npos) return "";
  size_t end = at + 4;
  while (end < payload.size() &&
         !std::isspace(static_cast<unsigned char>(payload[end]))) {
    ++end;
  }
  while (end > at + 4 && std::string_view(":,.;)]\"'").find(payload[end - 1]) !=
                             std::string_view::npos) {
    --end;
  }
  return RedactUrlsIn(payload.substr(at + 4, end - at - 4));
}

// The one sink every logger shares: stderr, or the journal with fields.
// Thread-safe (base_sink's mutex).
class LogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // stream: stderr is the journal ("<N>" prefixes); native: send with
  // sd_journal_sendv(3) and structured fields.
  void SetJournal(bool stream, bool native) {
    std::lock_guard lock(mutex_);
    stream_ = stream;
    native_ = native;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::string_view text(line.data(), line.size());
    if (native_ && SendToJournal(msg, text)) return;
    if (stream_) {
      const char prefix[] = {'<', PriorityDigit(msg.level), '>'};
      std::fwrite(prefix, 1, sizeof prefix, stderr);
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool SendToJournal(const spdlog::details::log_msg& msg,
                     std::string_view text) {
#if NEWSFLOW_HAVE_SYSTEMD
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    std::vector<std::string> fields;
    fields.reserve(6);
    fields.push_back("MESSAGE=" + std::string(text));
    fields.push_back(std::string("PRIORITY=") + PriorityDigit(msg.level));
    fields.push_back("SYSLOG_IDENTIFIER=newsflowd");
    fields.push_back("NEWSFLOW_COMPONENT=" + std::string(name));
    if (name.starts_with("feed.")) {
      fields.push_back("FEED=" + std::string(name.substr(5)));
    }
    if (std::string url = UrlField({msg.payload.data(), msg.payload.size()});
        !url.empty()) {
      fields.push_back("URL=" + url);
    }
    std::vector<iovec> iov;
    for (auto& f : fields) iov.push_back({f.data(), f.size()});
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
#else
    (void)msg;
    (void)text;
    return false;
#endif
  }

  bool stream_ = false;
  bool native_ = false;
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
      .set_pattern(g_pattern);
  l.set_formatter(std::move(formatter));
}

// Under the journal no timestamp: journald adds its own (the priority is
// the sink's business).
std::string PatternFor(const std::string& format, bool journal) {
  if (format == "json") {
    return R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n"%F,"message":"%*"})";
  }
  return journal ? "%l [%n] %Q" : "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %Q";
}

std::shared_ptr<LogSink> SharedSink() {
  static auto sink = [] {
    auto s = std::make_shared<LogSink>();
    s->SetJournal(StderrIsJournal(), false);
    return s;
  }();
  return sink;
}

}  // namespace

bool InitLogging(const LogOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") return false;
  if (options.format != "text" && options.format != "json") return false;
  std::lock_guard lock(g_mutex);
  g_level = level;
  const bool journal = StderrIsJournal();
  g_pattern = PatternFor(options.format, journal);
  SharedSink()->SetJournal(journal, journal && options.journal_fields);
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& l) { Apply(*l); });
  return true;
}

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, SharedSink());
  if (g_pattern.empty()) g_pattern = PatternFor("text", StderrIsJournal());
  Apply(*logger);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

const char* StderrErrorPrefix() { return StderrIsJournal() ? "<3>" : ""; }

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

std::string RedactUrlsInText(std::string_view text) {
  return RedactUrlsIn(text);
}

}  // namespace newsflow
