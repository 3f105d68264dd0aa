#pragma once

// The `newsflowd` command line (the stable contract of DESIGN.md):
//
//   newsflowd run [--config FILE] [--once]
//   newsflowd check-config FILE
//   newsflowd fetch URL [--full-article] [--config FILE] [--proxy URL]
//   newsflowd parse FILE [--url URL] [--content-type CT]
//   newsflowd extract FILE... [--url URL] [--jsonl]
//   newsflowd --version | --help
//
// Exit codes: 0 ok, 1 bad input or config, 2 usage, 3 internal error.
// Every failure prints one line on stderr saying what and where.

#include <string>
#include <vector>

namespace newsflow {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;

// Dispatches argv (without the program name) to a command.
int RunCommandLine(const std::vector<std::string>& args);

// `fetch`: in its own file because it needs the Asio runtime.
int RunFetchCommand(const std::string& url, bool full_article,
                    const std::string& config_path, const std::string& proxy);

}  // namespace newsflow
