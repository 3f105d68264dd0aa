// pipeline.max_polls_in_progress with the real newsflowd binary, the jsonl
// sink and real HTTP servers on distinct loopback hosts (127.0.0.N, all of
// 127/8 is loopback): the bound on feed requests in progress, fairness
// between hosts, and stop/reload while polls wait for a slot.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/daemon_process.h"
#include "tests/testing/http_probe.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A full-text RSS document with two items unique to `feed`.
std::string Rss(const std::string& feed) {
  std::string out =
      "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>" + feed +
      "</title><link>http://example.org/</link>";
  for (int i = 0; i < 2; ++i) {
    const std::string id = feed + "-" + std::to_string(i);
    out += "<item><guid>urn:" + id + "</guid><title>Story " + id +
           "</title><link>http://example.org/" + id +
           "</link><description>The full text of story " + id +
           ", long enough to be an article of its own.</description></item>";
  }
  return out + "</channel></rss>";
}

// Feed servers on loopback hosts; counts feed requests in progress (all
// hosts together and per host) while each answer is held `hold`.
class FeedHosts {
 public:
  FeedHosts(const std::vector<std::string>& addresses,
            std::chrono::milliseconds hold)
      : hold_(hold) {
    for (const std::string& address : addresses) {
      servers_.push_back(std::make_unique<LoopbackHttpServer>(
          [this, address](const TestRequest& req) {
            return Serve(address, req);
          },
          0, address));
    }
  }
  // Base URL of the server on addresses[i].
  std::string base_url(size_t i) const { return servers_[i]->base_url(); }
  int peak() const { return peak_; }
  int peak_of(const std::string& address) {
    std::lock_guard lock(mu_);
    return host_peak_[address];
  }
  int requests() const { return requests_; }
  std::set<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }

 private:
  TestResponse Serve(const std::string& address, const TestRequest& req) {
    ++requests_;
    const int now = ++in_progress_;
    for (int p = peak_; now > p && !peak_.compare_exchange_weak(p, now);) {
    }
    {
      std::lock_guard lock(mu_);
      paths_.insert(req.path);
      host_peak_[address] = std::max(host_peak_[address], ++host_now_[address]);
    }
    std::this_thread::sleep_for(hold_);
    {
      std::lock_guard lock(mu_);
      --host_now_[address];
    }
    --in_progress_;
    TestResponse r;
    r.headers.emplace_back("Content-Type", "application/rss+xml");
    r.body = Rss(req.path.substr(1));
    return r;
  }

  const std::chrono::milliseconds hold_;
  std::atomic<int> in_progress_{0};
  std::atomic<int> peak_{0};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::map<std::string, int> host_now_;
  std::map<std::string, int> host_peak_;
  std::set<std::string> paths_;
  std::vector<std::unique_ptr<LoopbackHttpServer>> servers_;
};

// A scratch directory with a jsonl config; removed when done.
class Scratch {
 public:
  explicit Scratch(const std::string& tag)
      : dir_(fs::temp_directory_path() /
             ("nf_polls_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() { fs::remove_all(dir_); }
  // `settings` go before `sinks:`; `feeds` are (name, url).
  std::string Write(
      const std::string& settings,
      const std::vector<std::pair<std::string, std::string>>& feeds,
      const std::string& metrics = "") const {
    const std::string path = (dir_ / "newsflow.yaml").string();
    std::ofstream out(path + ".tmp");
    out << "metrics:\n  listen: \"" << metrics << "\"\n"
        << "state:\n  path: " << (dir_ / "state.db").string() << "\n"
        << settings << "sinks: [jsonl]\n"
        << "jsonl_path: " << (dir_ / "out.jsonl").string() << "\n"
        << "defaults:\n  full_article: never\n  interval: 1h\nfeeds:\n";
    for (const auto& [name, url] : feeds) {
      out << "  - name: " << name << "\n    url: " << url << "\n";
    }
    out.close();
    fs::rename(path + ".tmp", path);
    return path;
  }
  // The feed id of every published article, in publish order.
  std::vector<std::string> PublishedFeeds() const {
    std::vector<std::string> out;
    std::ifstream in(dir_ / "out.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      out.push_back(nlohmann::json::parse(line)["feed"]["id"]);
    }
    return out;
  }

 private:
  fs::path dir_;
};

std::string Address(int n) { return "127.0.0." + std::to_string(n); }

// 12 feeds, each on its own host (127.0.0.2..13), each answer held 100 ms.
int PeakFeedRequests(const std::string& tag, const std::string& settings) {
  std::vector<std::string> addresses;
  for (int n = 2; n <= 13; ++n) addresses.push_back(Address(n));
  FeedHosts hosts(addresses, 100ms);
  Scratch scratch(tag);
  std::vector<std::pair<std::string, std::string>> feeds;
  for (size_t i = 0; i < addresses.size(); ++i) {
    feeds.emplace_back("f" + std::to_string(i),
                       hosts.base_url(i) + "/f" + std::to_string(i));
  }
  const std::string config = scratch.Write(settings, feeds);
  auto run = RunDaemonCommand({"run", "--config", config, "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const auto published = scratch.PublishedFeeds();
  EXPECT_EQ(published.size(), 24u) << "every feed's two articles";
  EXPECT_EQ(std::set<std::string>(published.begin(), published.end()).size(),
            12u);
  return hosts.peak();
}

TEST(PollsInProgressTest, AtMostTheBoundOfFeedRequestsAtOnce) {
  const int peak =
      PeakFeedRequests("bound", "pipeline:\n  max_polls_in_progress: 2\n");
  EXPECT_GE(peak, 1);
  EXPECT_LE(peak, 2) << "more feed polls in progress than the bound";
}

// The same load with the default bound (256): the 12 polls overlap, so the
// test above can fail.
TEST(PollsInProgressTest, DefaultBoundLetsThemOverlap) {
  const int peak = PeakFeedRequests("default", "");
  EXPECT_GT(peak, 2);
}

// 8 feeds on host A listed first, then one each on B..E; 3 polls in
// progress, 1 per host, 200 ms between requests to a host: A never has two
// feed requests at once and B..E are not starved behind A's queue — they
// are all published before A's second feed (without the per-host slot A's
// feeds would hold every global slot while waiting for A's spacing).
TEST(PollsInProgressTest, OneHostDoesNotStarveTheOthers) {
  const std::vector<std::string> addresses = {
      Address(20), Address(21), Address(22), Address(23), Address(24)};
  FeedHosts hosts(addresses, 50ms);
  Scratch scratch("fair");
  std::vector<std::pair<std::string, std::string>> feeds;
  for (int i = 0; i < 8; ++i) {
    feeds.emplace_back("a" + std::to_string(i),
                       hosts.base_url(0) + "/a" + std::to_string(i));
  }
  for (size_t h = 1; h < addresses.size(); ++h) {
    feeds.emplace_back("other" + std::to_string(h),
                       hosts.base_url(h) + "/o" + std::to_string(h));
  }
  const std::string config = scratch.Write(
      "http:\n  max_host_connections: 1\n  min_host_interval: 200ms\n"
      "pipeline:\n  max_polls_in_progress: 3\n",
      feeds);
  auto run = RunDaemonCommand({"run", "--config", config, "--once"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto published = scratch.PublishedFeeds();
  ASSERT_EQ(published.size(), 24u);
  EXPECT_EQ(hosts.peak_of(Address(20)), 1);
  size_t last_other = 0;
  for (size_t i = 0; i < published.size(); ++i) {
    if (published[i].starts_with("other")) last_other = i;
  }
  std::set<std::string> a_before;
  for (size_t i = 0; i < last_other; ++i) {
    if (published[i].starts_with("a")) a_before.insert(published[i]);
  }
  // Expected 1 (A's first poll runs beside B..E); without fairness 5 or more.
  EXPECT_LE(a_before.size(), 2u)
      << "host A's feeds were published before B..E finished";
}

std::optional<double> Gauge(uint16_t port, const std::string& series) {
  return PrometheusValue(HttpGet(port, "/metrics").body, series);
}

// A long-running daemon with one poll slot and six feeds held 1.5 s each:
// a reload that removes feeds waiting for a slot retires them without a
// fetch and without a leaked slot (gauge back to 0 once the rest are done);
// SIGTERM while polls wait stops the daemon promptly, exit 0.
TEST(PollsInProgressTest, ReloadAndStopWhilePollsWait) {
  std::vector<std::string> addresses;
  for (int n = 30; n < 36; ++n) addresses.push_back(Address(n));
  FeedHosts hosts(addresses, 1500ms);
  Scratch scratch("stop");
  const uint16_t port = FreeLoopbackPort();
  const std::string metrics = "127.0.0.1:" + std::to_string(port);
  std::vector<std::pair<std::string, std::string>> feeds;
  for (size_t i = 0; i < addresses.size(); ++i) {
    feeds.emplace_back("s" + std::to_string(i),
                       hosts.base_url(i) + "/s" + std::to_string(i));
  }
  const std::string settings = "pipeline:\n  max_polls_in_progress: 1\n";
  const std::string config = scratch.Write(settings, feeds, metrics);
  DaemonProcess daemon(
      {"run", "--config", config},
      (fs::temp_directory_path() /
       ("nf_polls_stop_" + std::to_string(::getpid()) + ".log"))
          .string());
  auto deadline = Clock::now() + 10s;
  while (hosts.requests() < 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(hosts.requests(), 1) << daemon.Log();
  EXPECT_EQ(Gauge(port, "newsflow_polls_in_progress"), 1.0);
  EXPECT_GE(Gauge(port, "newsflow_poll_slot_waits_total").value_or(0), 5.0);
  // Keep the feed being fetched and one waiting one; drop the rest.
  const std::string first = hosts.paths().begin()->substr(1);  // its name
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto& f : feeds) {
    if (f.first == first) kept.push_back(f);
  }
  for (const auto& f : feeds) {
    if (f.first != first && kept.size() < 2) kept.push_back(f);
  }
  ASSERT_EQ(kept.size(), 2u);
  scratch.Write(settings, kept, metrics);
  daemon.Signal(SIGHUP);
  // The kept feeds are polled (1.5 s each, one at a time); the removed ones
  // never are; then nothing is in progress and no slot is left taken.
  deadline = Clock::now() + 15s;
  while (Clock::now() < deadline &&
         !(hosts.requests() >= 2 &&
           Gauge(port, "newsflow_polls_in_progress") == 0.0)) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(Gauge(port, "newsflow_polls_in_progress"), 0.0) << daemon.Log();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(hosts.requests(), 2) << "a removed feed was fetched";
  for (const auto& f : kept) EXPECT_TRUE(hosts.paths().contains("/" + f.first));

  // Back to six feeds: one in progress, three waiting; SIGTERM now.
  scratch.Write(settings, feeds, metrics);
  daemon.Signal(SIGHUP);
  deadline = Clock::now() + 10s;
  while (hosts.requests() < 3 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(hosts.requests(), 3) << daemon.Log();
  const auto signalled = Clock::now();
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(10s);
  ASSERT_TRUE(code.has_value()) << "daemon hung on shutdown\n" << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
  EXPECT_LT(Clock::now() - signalled, 3s);
  EXPECT_EQ(hosts.requests(), 3) << "a waiting poll fetched after SIGTERM";
}

}  // namespace
}  // namespace newsflow::testing
