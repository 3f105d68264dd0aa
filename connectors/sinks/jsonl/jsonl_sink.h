#pragma once

// JsonlSink writes each article as one line of JSON to a file or stdout.
// Needs no broker: for debugging a feed, for `newsflowd fetch`-style
// pipelines and for consumers that tail a file.
//
// Delivery: an article is "delivered" once its line was written, flushed
// and fdatasync'd (durable, like a broker's acks=all): lines published in
// one io_context turn form a batch with one fdatasync. For stdout (a pipe or
// terminal, which cannot be synced) "delivered" means written to the OS. A
// failed write or sync reports kRetry with the OS error for the batch. The
// fdatasync runs on the sink's own thread, never on the io_context.
// Threading: as every Sink (daemon/core/sink.h): io_context thread only.

#include <boost/asio/thread_pool.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/sinks/jsonl/jsonl_sink_config.h"
#include "daemon/core/error.h"
#include "daemon/core/sink.h"

namespace boost::asio {
class io_context;
}

namespace newsflow {

class JsonlSink final : public Sink {
 public:
  // Opens (creates, appends to) options.path. Errors: kIo naming the path.
  static Result<std::unique_ptr<JsonlSink>> Create(boost::asio::io_context& io,
                                                   JsonlSinkOptions options);
  ~JsonlSink() override;

  std::string_view Name() const override { return "sink.jsonl"; }
  // One file receives every article: `destination` is ignored.
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override;
  // Writes `json` (the same line Publish() writes) without serializing.
  void PublishSerialized(const Article& article, SerializedArticle json,
                         const SinkDestination& destination,
                         DeliveryCallback done) override;
  Result<void> Close(std::chrono::milliseconds timeout) override;

 private:
  JsonlSink(boost::asio::io_context& io, JsonlSinkOptions options, FILE* out,
            bool owns);

  // Writes `json` and a line feed; `done` joins the batch.
  void WriteLine(std::string_view json, DeliveryCallback done);

  // Flushes what was written and hands the batch to the sync thread, which
  // fdatasyncs and posts the reports back (one sync at a time).
  void SyncBatch();

  boost::asio::io_context& io_;
  const JsonlSinkOptions options_;
  FILE* out_;
  bool owns_;                            // false for stdout
  std::vector<DeliveryCallback> batch_;  // written, not yet synced
  std::string write_error_;              // first failed write of the batch
  bool syncing_ = false;                 // a batch is on the sync thread
  boost::asio::thread_pool sync_thread_{1};
};

}  // namespace newsflow
