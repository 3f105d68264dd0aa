#include "connectors/sinks/jsonl/jsonl_sink.h"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
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
  sync_thread_.join();
  if (owns_ && out_ != nullptr) std::fclose(out_);
}

void JsonlSink::Publish(const Article& article,
                        const SinkDestination& /*destination*/,
                        DeliveryCallback done) {
  WriteLine(ArticleToJson(article), std::move(done));
}

void JsonlSink::PublishSerialized(const Article& /*article*/,
                                  SerializedArticle json,
                                  const SinkDestination& /*destination*/,
                                  DeliveryCallback done) {
  WriteLine(*json, std::move(done));
}

void JsonlSink::WriteLine(std::string_view json, DeliveryCallback done) {
  if (out_ == nullptr) {
    // The Sink contract: never call back from inside Publish().
    boost::asio::post(io_, [done = std::move(done)]() mutable {
      done({DeliveryOutcome::kRetry, "sink is closed"});
    });
    return;
  }
  if (std::fwrite(json.data(), 1, json.size(), out_) != json.size() ||
      std::fputc('\n', out_) == EOF) {
    write_error_ = options_.path + ": write failed: " + std::strerror(errno);
    std::clearerr(out_);
  }
  // Acked once the batch is flushed and fdatasync'd (SyncBatch).
  batch_.push_back(std::move(done));
  if (batch_.size() == 1 && !syncing_) {
    boost::asio::post(io_, [this] { SyncBatch(); });
  }
}

void JsonlSink::SyncBatch() {
  if (batch_.empty() || syncing_) return;  // Close() synced it, or one runs
  std::string error = std::move(write_error_);
  write_error_.clear();
  if (error.empty() && (out_ == nullptr || std::fflush(out_) != 0)) {
    error = options_.path + ": write failed: " + std::strerror(errno);
    if (out_ != nullptr) std::clearerr(out_);
  }
  auto batch =
      std::make_shared<std::vector<DeliveryCallback>>(std::move(batch_));
  batch_.clear();
  if (!error.empty()) {
    for (DeliveryCallback& done : *batch) {
      done({DeliveryOutcome::kRetry, error});
    }
    return;
  }
  // fdatasync may take long on a busy disk: on the sync thread, never on
  // the io_context. Lines written meanwhile form the next batch.
  syncing_ = true;
  const int fd = fileno(out_);
  // The work guard keeps io_.run() from returning while the sync runs.
  boost::asio::post(sync_thread_, [this, fd, batch,
                                   work = boost::asio::make_work_guard(io_)] {
    DeliveryReport report;
    if (::fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS) {
      // EINVAL/EROFS: stdout is a pipe or terminal, nothing to sync.
      report = {DeliveryOutcome::kRetry,
                options_.path + ": fdatasync failed: " + std::strerror(errno)};
    }
    boost::asio::post(io_, [this, batch, report] {
      syncing_ = false;
      for (DeliveryCallback& done : *batch) done(report);
      SyncBatch();  // what was written during the sync
    });
  });
}

Result<void> JsonlSink::Close(std::chrono::milliseconds /*timeout*/) {
  // A sync under way finishes (its callbacks are posted); what is still
  // unsynced is synced here. The caller polls the io_context once more.
  sync_thread_.join();
  if (!batch_.empty() && out_ != nullptr) {
    DeliveryReport report;
    if (std::fflush(out_) != 0 ||
        (::fdatasync(fileno(out_)) != 0 && errno != EINVAL && errno != EROFS)) {
      report = {DeliveryOutcome::kRetry,
                options_.path + ": sync failed: " + std::strerror(errno)};
    }
    std::vector<DeliveryCallback> batch = std::move(batch_);
    batch_.clear();
    boost::asio::post(io_, [batch = std::move(batch), report]() mutable {
      for (DeliveryCallback& done : batch) done(report);
    });
  }
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
