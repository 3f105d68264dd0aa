#include "connectors/sinks/jsonl/jsonl_sink.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace newsflow {

Result<std::unique_ptr<JsonlSink>> JsonlSink::Create(
    boost::asio::io_context& io, JsonlSinkOptions options) {
  FILE* out = stdout;
  bool owns = false;
  if (options.path != "-") {
    out = std::fopen(options.path.c_str(), "ae");
    if (out == nullptr) {
      return Error::Io(
          std::string("cannot open for appending: ") + std::strerror(errno),
          options.path);
    }
    owns = true;
  }
  return std::unique_ptr<JsonlSink>(
      new JsonlSink(io, std::move(options), out, owns));
}

JsonlSink::JsonlSink(boost::asio::io_context& io, JsonlSinkOptions options,
                     FILE* out, bool owns)
    : io_(io), options_(std::move(options)), out_(out), owns_(owns) {}

JsonlSink::~JsonlSink() {
  if (owns_ && out_ != nullptr) std::fclose(out_);
}

void JsonlSink::Publish(const Article& article,
                        const SinkDestination& /*destination*/,
                        DeliveryCallback done) {
  std::string line = ArticleToJson(article);
  line.push_back('\n');
  DeliveryReport report;
  if (out_ == nullptr) {
    report = {DeliveryOutcome::kRetry, "sink is closed"};
  } else if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() ||
             std::fflush(out_) != 0) {
    report = {DeliveryOutcome::kRetry,
              options_.path + ": write failed: " + std::strerror(errno)};
    std::clearerr(out_);
  }
  // The Sink contract: never call back from inside Publish().
  boost::asio::post(
      io_, [done = std::move(done), report = std::move(report)]() mutable {
        done(std::move(report));
      });
}

Result<void> JsonlSink::Close(std::chrono::milliseconds /*timeout*/) {
  if (out_ != nullptr && std::fflush(out_) != 0) {
    return Error::Io(std::string("flush failed: ") + std::strerror(errno),
                     options_.path);
  }
  if (owns_ && out_ != nullptr) {
    std::fclose(out_);
    out_ = nullptr;
  }
  return {};
}

}  // namespace newsflow
