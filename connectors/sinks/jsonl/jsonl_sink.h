#pragma once

// JsonlSink writes each article as one line of JSON to a file or stdout.
// Needs no broker: for debugging a feed, for `newsflowd fetch`-style
// pipelines and for consumers that tail a file.
//
// Delivery: an article is "delivered" once its line was written and flushed
// to the OS. A failed write reports kRetry with the OS error.
// Threading: as every Sink (daemon/core/sink.h): io_context thread only.

#include <cstdio>
#include <memory>

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
  Result<void> Close(std::chrono::milliseconds timeout) override;

 private:
  JsonlSink(boost::asio::io_context& io, JsonlSinkOptions options, FILE* out,
            bool owns);

  boost::asio::io_context& io_;
  const JsonlSinkOptions options_;
  FILE* out_;
  bool owns_;  // false for stdout
};

}  // namespace newsflow
