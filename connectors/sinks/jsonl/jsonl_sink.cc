#include "connectors/sinks/jsonl/jsonl_sink.h"

#include <unistd.h>

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
  if (out_ == nullptr) {
    // The Sink contract: never call back from inside Publish().
    boost::asio::post(io_, [done = std::move(done)]() mutable {
      done({DeliveryOutcome::kRetry, "sink is closed"});
    });
    return;
  }
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size()) {
    write_error_ = options_.path + ": write failed: " + std::strerror(errno);
    std::clearerr(out_);
  }
  // Acked once the batch is flushed and fdatasync'd (SyncBatch).
  batch_.push_back(std::move(done));
  if (batch_.size() == 1) {
    boost::asio::post(io_, [this] { SyncBatch(); });
  }
}

void JsonlSink::SyncBatch() {
  if (batch_.empty()) return;  // Close() synced it already
  DeliveryReport report;
  if (!write_error_.empty()) {
    report = {DeliveryOutcome::kRetry, write_error_};
  } else if (out_ == nullptr || std::fflush(out_) != 0) {
    report = {DeliveryOutcome::kRetry,
              options_.path + ": write failed: " + std::strerror(errno)};
    if (out_ != nullptr) std::clearerr(out_);
  } else if (::fdatasync(fileno(out_)) != 0 && errno != EINVAL &&
             errno != EROFS) {
    // EINVAL/EROFS: stdout is a pipe or terminal, nothing to sync.
    report = {DeliveryOutcome::kRetry,
              options_.path + ": fdatasync failed: " + std::strerror(errno)};
  }
  write_error_.clear();
  std::vector<DeliveryCallback> batch = std::move(batch_);
  batch_.clear();
  for (DeliveryCallback& done : batch) done(report);
}

Result<void> JsonlSink::Close(std::chrono::milliseconds /*timeout*/) {
  // A batch waiting for its sync is synced now; its callbacks run here,
  // after the io_context stopped (the caller polls it once more anyway).
  if (!batch_.empty()) SyncBatch();
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
