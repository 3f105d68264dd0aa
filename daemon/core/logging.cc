#include "daemon/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon/core/json_writer.h"

#include <cstdlib>
#include <mutex>

namespace newsflow {
namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_pattern;

// %* : the message escaped for use inside a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted;
    AppendJsonString(quoted, {msg.payload.data(), msg.payload.size()});
    dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

void Apply(spdlog::logger& l) {
  l.set_level(g_level);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*').set_pattern(g_pattern);
  l.set_formatter(std::move(formatter));
}

std::string PatternFor(const std::string& format) {
  const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  if (format == "json") {
    return R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","component":"%n","message":"%*"})";
  }
  return journald ? "<%l> [%n] %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v";
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
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + "?…";
}

}  // namespace newsflow
