// `newsflowd cluster status --config FILE` (issue 15): which instance owns
// which feed, from the group's state as its coordinator describes it
// (SinkDescriptor::describe_cluster of the one listed sink) and the same
// feed → partition mapping every daemon computes (feed_partition.h).

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "config/config.h"
#include "config/sink_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/core/logging.h"
#include "daemon/runtime/feed_partition.h"

namespace newsflow {

std::string FormatClusterStatus(const DaemonConfig& config,
                                const ClusterDescription& description) {
  const int partitions = description.partitions > 0
                             ? description.partitions
                             : (config.cluster && config.cluster->partitions > 0
                                    ? config.cluster->partitions
                                    : kDefaultClusterPartitions);
  std::map<int, std::string> owner;  // partition -> instance
  for (const ClusterMember& m : description.members) {
    const std::string name = m.instance.empty() ? m.member_id : m.instance;
    for (int p : m.partitions) owner[p] = name;
  }
  std::vector<std::string> names;
  size_t width = 4;
  for (const FeedConfig& f : config.feeds) {
    names.push_back(f.name);
    width = std::max(width, f.name.size());
  }
  const auto mapping = AssignFeedPartitions(names, partitions);
  std::string out = "group " + description.group + ": " +
                    (description.state.empty() ? "-" : description.state) +
                    ", " + std::to_string(description.members.size()) +
                    " members, " + std::to_string(partitions) + " partitions\n";
  auto pad = [width](const std::string& s) {
    return s + std::string(width + 2 - std::min(width + 1, s.size()), ' ');
  };
  out += pad("FEED") + "PARTITION  OWNER\n";
  size_t owned = 0;
  std::set<std::string> owners;
  for (const FeedConfig& f : config.feeds) {
    const int p = mapping.at(f.name);
    auto it = owner.find(p);
    const std::string who = it == owner.end() ? "-" : it->second;
    if (it != owner.end()) {
      ++owned;
      owners.insert(who);
    }
    std::string part = std::to_string(p);
    part += std::string(part.size() < 11 ? 11 - part.size() : 1, ' ');
    out += pad(f.name) + part + who + "\n";
  }
  out += std::to_string(config.feeds.size()) +
         " feeds: " + std::to_string(owned) + " owned by " +
         std::to_string(owners.size()) + " instances, " +
         std::to_string(config.feeds.size() - owned) + " unowned\n";
  return out;
}

int RunClusterStatusCommand(const std::string& config_path,
                            const SinkRegistry& sinks) {
  auto config = LoadConfigFile(config_path, sinks);
  if (!config) {
    std::fprintf(stderr, "%s%s\n", StderrErrorPrefix(),
                 config.error().ToString().c_str());
    return kExitBadInput;
  }
  if (!config->cluster) {
    std::fprintf(stderr, "%snewsflowd: %s: no cluster: section\n",
                 StderrErrorPrefix(), config_path.c_str());
    return kExitBadInput;
  }
  // The loader allows `cluster:` only with one listed sink that has
  // create_cluster, and describe_cluster comes with it.
  const SinkDescriptor* d = sinks.Find(config->sinks.front());
  if (d == nullptr || !d->describe_cluster) {
    std::fprintf(stderr,
                 "%snewsflowd: cluster status: sink %s cannot "
                 "describe a cluster\n",
                 StderrErrorPrefix(), config->sinks.front().c_str());
    return kExitBadInput;
  }
  constexpr std::chrono::seconds kTimeout{10};
  auto description = d->describe_cluster(config->SinkSettingsFor(d->type),
                                         *config->cluster, kTimeout);
  if (!description) {
    std::fprintf(stderr, "%snewsflowd: cluster status: %s\n",
                 StderrErrorPrefix(), description.error().ToString().c_str());
    return kExitBadInput;
  }
  std::fputs(FormatClusterStatus(*config, *description).c_str(), stdout);
  return kExitOk;
}

}  // namespace newsflow
