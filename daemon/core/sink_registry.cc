#include "daemon/core/sink_registry.h"

#include <cassert>

namespace newsflow {

void SinkRegistry::Add(std::string type, SinkFactory factory) {
  const bool inserted =
      factories_.emplace(std::move(type), std::move(factory)).second;
  assert(inserted && "sink type registered twice");
  (void)inserted;
}

Result<std::unique_ptr<Sink>> SinkRegistry::Create(
    std::string_view type, const SinkFactoryContext& context) const {
  auto it = factories_.find(type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [name, f] : factories_)
      known += (known.empty() ? "" : ", ") + name;
    return Error::Config("unknown sink type \"" + std::string(type) +
                         "\" (known: " + known + ")");
  }
  return it->second(context);
}

std::vector<std::string> SinkRegistry::Types() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

}  // namespace newsflow
