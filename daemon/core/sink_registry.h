#pragma once

// SinkRegistry: sink type name ("kafka", "jsonl") → factory. Filled by one
// explicit call, RegisterBuiltinConnectors() in connectors/builtin.cc — no
// self-registering static objects (dropped when linked from static
// libraries, no defined initialisation order).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/error.h"
#include "daemon/core/sink.h"

namespace boost::asio {
class io_context;
}

namespace newsflow {

struct DaemonConfig;

// What a sink factory may use. Both outlive the sink.
struct SinkFactoryContext {
  boost::asio::io_context& io;
  const DaemonConfig& config;
};

using SinkFactory =
    std::function<Result<std::unique_ptr<Sink>>(const SinkFactoryContext&)>;

class SinkRegistry {
 public:
  SinkRegistry() = default;
  SinkRegistry(const SinkRegistry&) = delete;
  SinkRegistry& operator=(const SinkRegistry&) = delete;

  // REQUIRES: `type` not registered yet.
  void Add(std::string type, SinkFactory factory);

  // Errors: kConfig for an unknown type (listing the known ones), or the
  // factory's own error.
  Result<std::unique_ptr<Sink>> Create(std::string_view type,
                                       const SinkFactoryContext& context) const;

  std::vector<std::string> Types() const;

 private:
  std::map<std::string, SinkFactory, std::less<>> factories_;
};

}  // namespace newsflow
