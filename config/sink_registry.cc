#include "config/sink_registry.h"

#include <cassert>

namespace newsflow {

void SinkRegistry::Add(SinkDescriptor descriptor) {
#ifndef NDEBUG
  for (const SinkDescriptor& d : descriptors_) {
    assert(d.type != descriptor.type && "sink type registered twice");
    for (const std::string& key : descriptor.keys) {
      for (const std::string& k : d.keys) assert(k != key && "key taken");
    }
    for (const std::string& key : descriptor.feed_keys) {
      for (const std::string& k : d.feed_keys) assert(k != key && "key taken");
    }
  }
#endif
  descriptors_.push_back(std::move(descriptor));
}

const SinkDescriptor* SinkRegistry::Find(std::string_view type) const {
  for (const SinkDescriptor& d : descriptors_) {
    if (d.type == type) return &d;
  }
  return nullptr;
}

}  // namespace newsflow
