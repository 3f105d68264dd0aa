#pragma once

// HostileSite: the scratch directory and daemon config every hostile test
// needs — metrics off, the state store and a jsonl sink inside the
// directory — so each test only says what the attacker serves and which
// feeds point at it. Removed with everything in it when destroyed.

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/testing/daemon_process.h"

namespace newsflow::testing {

class HostileSite {
 public:
  // Creates (afresh) $TMPDIR/nf_hostile_<tag>_<pid>.
  explicit HostileSite(const std::string& tag);
  ~HostileSite();
  HostileSite(const HostileSite&) = delete;
  HostileSite& operator=(const HostileSite&) = delete;

  // (Re)writes newsflow.yaml: `sections` is extra top-level YAML (e.g.
  // "http:\n  proxy: ...\n"), `feeds` the body of the `feeds:` list.
  void WriteConfig(const std::string& feeds, const std::string& sections = "");
  // Writes `body` to `name` in the directory; returns its path.
  std::string Write(const std::string& name, const std::string& body) const;
  // `newsflowd run --config <config> --once`.
  CommandResult RunOnce(
      std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Everything the jsonl sink wrote so far.
  std::string Output() const;

  const std::filesystem::path& dir() const { return dir_; }
  std::string config() const { return (dir_ / "newsflow.yaml").string(); }
  std::filesystem::path state_db() const { return dir_ / "state.db"; }

 private:
  std::filesystem::path dir_;
};

// A one-channel RSS 2.0 document with one item per title (guid = title,
// link http://<host>/<title>, a short description).
std::string RssFeed(std::initializer_list<std::string> titles,
                    const std::string& host = "f.example");

}  // namespace newsflow::testing
