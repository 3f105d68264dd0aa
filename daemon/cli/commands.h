#pragma once

// The `newsflowd` command line (the stable contract of DESIGN.md):
//
//   newsflowd run [--config FILE] [--once]
//   newsflowd check-config FILE
//   newsflowd fetch URL [--full-article] [--config FILE] [--proxy URL]
//   newsflowd parse FILE [--url URL] [--content-type CT]
//   newsflowd extract FILE... [--url URL] [--jsonl]
//   newsflowd cluster status [--config FILE]
//   newsflowd --version | --help
//
// Exit codes: 0 ok, 1 bad input or config, 2 usage, 3 internal error.
// Every failure prints one line on stderr saying what and where.

#include <string>
#include <vector>

#include "daemon/core/cluster.h"

namespace newsflow {

class SinkRegistry;
struct DaemonConfig;

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;

// Dispatches argv (without the program name) to a command.
int RunCommandLine(const std::vector<std::string>& args);

// `fetch`: in its own file because it needs the Asio runtime.
int RunFetchCommand(const std::string& url, bool full_article,
                    const std::string& config_path, const std::string& proxy);

// `cluster status` (cluster_command.cc): describe_cluster of the config's
// one sink, then per feed its partition and owning instance ("-" when
// unowned) and a summary line on stdout; exit 0. A config without
// `cluster:` or an unreachable group: one line on stderr, exit 1.
int RunClusterStatusCommand(const std::string& config_path,
                            const SinkRegistry& sinks);
// The table it prints (partitions: the description's, else the config's).
std::string FormatClusterStatus(const DaemonConfig& config,
                                const ClusterDescription& description);

}  // namespace newsflow
