#include "tests/hostile/hostile_site.h"

#include <unistd.h>

#include <fstream>
#include <iterator>

namespace newsflow::testing {

namespace fs = std::filesystem;

HostileSite::HostileSite(const std::string& tag)
    : dir_(fs::temp_directory_path() /
           ("nf_hostile_" + tag + "_" + std::to_string(::getpid()))) {
  fs::remove_all(dir_);
  fs::create_directories(dir_);
}

HostileSite::~HostileSite() {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void HostileSite::WriteConfig(const std::string& feeds,
                              const std::string& sections) {
  std::ofstream(config()) << "metrics:\n  listen: \"\"\nstate:\n  path: "
                          << state_db().string() << "\n"
                          << sections << "sinks: [jsonl]\njsonl_path: "
                          << (dir_ / "out.jsonl").string() << "\nfeeds:\n"
                          << feeds;
}

std::string HostileSite::Write(const std::string& name,
                               const std::string& body) const {
  const fs::path p = dir_ / name;
  std::ofstream(p, std::ios::binary) << body;
  return p.string();
}

CommandResult HostileSite::RunOnce(std::chrono::milliseconds timeout) const {
  return RunDaemonCommand({"run", "--config", config(), "--once"}, timeout);
}

std::string HostileSite::Output() const {
  std::ifstream in(dir_ / "out.jsonl");
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::string RssFeed(std::initializer_list<std::string> titles,
                    const std::string& host) {
  std::string out =
      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>F"
      "</title><link>http://" +
      host + "/</link>";
  for (const std::string& t : titles) {
    out += "<item><title>" + t + "</title><guid>" + t + "</guid><link>http://" +
           host + "/" + t + "</link><description>Words of the story." +
           "</description></item>";
  }
  return out + "</channel></rss>\n";
}

}  // namespace newsflow::testing
