// Operating the real newsflowd binary: SIGHUP reloads (feeds added and
// removed while a real Kafka broker receives, a bad file rejected), the
// sd_notify protocol through a NOTIFY_SOCKET this test owns, the metrics and
// health endpoints scraped over HTTP, SIGTERM exiting 0.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/testing/daemon_process.h"
#include "tests/testing/http_probe.h"
#include "tests/testing/kafka_test_util.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The receiving end of sd_notify(3): an AF_UNIX datagram socket bound at a
// path, read by a thread; every line of every datagram is kept in order.
class NotifyListener {
 public:
  explicit NotifyListener(std::string path) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { Loop(); });
  }
  ~NotifyListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // Waits until a line equal to `line` (or, with prefix, starting with it)
  // appears at index >= `from`; returns its index or -1 on timeout.
  int WaitFor(const std::string& line, size_t from,
              std::chrono::milliseconds timeout, bool prefix = false) {
    std::unique_lock lock(mu_);
    int found = -1;
    cv_.wait_for(lock, timeout, [&] {
      for (size_t i = from; i < lines_.size(); ++i) {
        if (prefix ? lines_[i].rfind(line, 0) == 0 : lines_[i] == line) {
          found = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return lines_.size();
  }

 private:
  void Loop() {
    char buf[4096];
    while (!stop_) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string msg(buf, static_cast<size_t>(n));
      std::lock_guard lock(mu_);
      size_t start = 0;
      while (start < msg.size()) {
        size_t end = msg.find('\n', start);
        if (end == std::string::npos) end = msg.size();
        if (end > start) lines_.push_back(msg.substr(start, end - start));
        start = end + 1;
      }
      cv_.notify_all();
    }
  }

  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::thread thread_;
};

std::string Rss(const std::string& feed) {
  std::string items;
  for (int i = 1; i <= 2; ++i) {
    const std::string id = feed + "-" + std::to_string(i);
    items +=
        "<item><title>Story " + id + "</title><link>http://news.test/" + id +
        "</link><guid>urn:test:" + id +
        "</guid><pubDate>Mon, 12 Oct 2025 01:40:00 GMT</pubDate><description>"
        "&lt;p&gt;The full text of story " +
        id +
        ", long enough to be a real article body for the pipeline. It has two "
        "sentences so the cleaner keeps it as a "
        "paragraph.&lt;/p&gt;</description></item>";
  }
  return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed " +
         feed +
         "</title><link>http://news.test/</link><description>d</description>" +
         items + "</channel></rss>";
}

// Waits until `done()` holds, polling every 100 ms, for at most `timeout`.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bootstrap = TestBrokerBootstrap();
    ASSERT_TRUE(bootstrap) << bootstrap.error().ToString();
    bootstrap_ = *bootstrap;
    topic_ = UniqueTopicName("ops");
    auto created = CreateTopic(bootstrap_, topic_, 1);
    ASSERT_TRUE(created) << created.error().ToString();
    server_ =
        std::make_unique<LoopbackHttpServer>([this](const TestRequest& r) {
          {
            std::lock_guard lock(mu_);
            polls_.push_back({r.path, Clock::now(), r.Header("user-agent")});
          }
          TestResponse res;
          if (r.path.rfind("/feed/", 0) != 0 || r.path == "/feed/gone") {
            res.status = 404;
            return res;
          }
          res.headers = {{"Content-Type", "application/rss+xml"}};
          res.body = Rss(r.path.substr(6));
          return res;
        });
    dir_ = fs::temp_directory_path() /
           ("nf_ops_" + std::to_string(::getpid()) + "_" + topic_);
    fs::create_directories(dir_);
    config_path_ = (dir_ / "newsflow.yaml").string();
    metrics_port_ = FreeLoopbackPort();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `user_agents`: per-feed user_agent keys (a visible per-feed change);
  // feeds in `hourly` are polled every hour instead of every second.
  void WriteConfig(const std::vector<std::string>& feeds,
                   const std::string& extra = "",
                   const std::map<std::string, std::string>& user_agents = {},
                   const std::set<std::string>& hourly = {}) {
    std::ofstream out(config_path_ + ".tmp");
    out << "kafka:\n  brokers: \"" << bootstrap_ << "\"\n  topic: " << topic_
        << "\n  librdkafka: { linger.ms: \"5\" }\n"
        << "state:\n  path: " << (dir_ / "state.db").string() << "\n"
        << "metrics:\n  listen: \"127.0.0.1:" << metrics_port_ << "\"\n"
        << "scheduler:\n  min_interval: 1s\n"
        << "log:\n  format: json\n"
        << "sinks: [kafka]\n"
        << extra << "feeds:\n";
    for (const auto& f : feeds) {
      out << "  - name: " << f << "\n    url: " << server_->base_url()
          << "/feed/" << f << "?token=secret-" << f
          << "\n    interval: " << (hourly.contains(f) ? "1h" : "1s")
          << "\n    full_article: never\n";
      if (auto ua = user_agents.find(f); ua != user_agents.end()) {
        out << "    user_agent: \"" << ua->second << "\"\n";
      }
    }
    out.close();
    fs::rename(config_path_ + ".tmp", config_path_);  // atomic, like an editor
  }

  // Feed ids of the articles in the topic, waiting for `want` of them.
  std::multiset<std::string> Articles(size_t want,
                                      std::chrono::seconds timeout) {
    std::multiset<std::string> feeds;
    for (const auto& m :
         ConsumeAll(bootstrap_, topic_, want, timeout, 1500ms)) {
      feeds.insert(
          nlohmann::json::parse(m.value)["feed"]["id"].get<std::string>());
    }
    return feeds;
  }

  // Polls of `feed` at or after `since` (with User-Agent `ua` when given).
  size_t PollsOf(const std::string& feed, Clock::time_point since,
                 const std::string& ua = "") {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& p : polls_) {
      n += p.path == "/feed/" + feed && p.at >= since &&
           (ua.empty() || p.user_agent == ua);
    }
    return n;
  }

  std::string bootstrap_, topic_, config_path_;
  fs::path dir_;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<LoopbackHttpServer> server_;
  std::mutex mu_;
  struct Poll {
    std::string path;
    Clock::time_point at;
    std::string user_agent;
  };
  std::vector<Poll> polls_;
};

TEST_F(OpsTest, ReloadAddsAndRemovesFeedsRejectsBadConfigAndSpeaksSdNotify) {
  NotifyListener notify((dir_ / "notify.sock").string());
  ASSERT_TRUE(notify.bound());
  // "steady" (hourly) is in both configs, unchanged: the reload must leave
  // its poller alone (a new poller would poll at once).
  WriteConfig({"alpha", "beta", "steady"}, "", {}, {"steady"});
  const auto test_start = Clock::now();
  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "1000000", 1);  // WATCHDOG=1 every 0.5 s
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "daemon.log").string());
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  // Start: READY=1 only once the broker answered, with a STATUS= line.
  const int ready = notify.WaitFor("READY=1", 0, 20s);
  ASSERT_GE(ready, 0) << daemon.Log();
  EXPECT_GE(notify.WaitFor("STATUS=Polling 3 feeds", 0, 1s, true), 0);
  for (const auto& l : notify.Lines()) {
    EXPECT_EQ(l.find("unreachable"), std::string::npos) << l;
  }
  EXPECT_GE(notify.WaitFor("WATCHDOG=1", 0, 3s), 0) << "no watchdog keep-alive";

  auto first = Articles(6, 60s);
  EXPECT_EQ(first.count("alpha"), 2u) << daemon.Log();
  EXPECT_EQ(first.count("beta"), 2u) << daemon.Log();
  EXPECT_EQ(first.count("steady"), 2u) << daemon.Log();

  // Endpoints, scraped over HTTP.
  auto healthz = HttpGet(metrics_port_, "/healthz");
  EXPECT_EQ(healthz.status, 200) << healthz.body;
  auto readyz = HttpGet(metrics_port_, "/readyz");
  EXPECT_EQ(readyz.status, 200) << readyz.body;
  auto metrics = HttpGet(metrics_port_, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("newsflow_feeds 3\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("newsflow_feed_up{feed=\"beta\"} 1\n"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                "newsflow_feed_last_success_timestamp_seconds{feed=\"alpha\"}"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("newsflow_ready 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("newsflow_articles_in_flight "),
            std::string::npos);
  EXPECT_NE(
      metrics.body.find("newsflow_feed_next_poll_seconds{feed=\"alpha\"}"),
      std::string::npos);
  // Valid exposition: every family is declared exactly once.
  {
    std::istringstream lines(metrics.body);
    std::set<std::string> families;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("# TYPE ", 0) != 0) continue;
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(name).second)
          << "metric family declared twice: " << name;
    }
  }
  EXPECT_NE(metrics.body.find("newsflow_sink_healthy 1\n"), std::string::npos);

  // Reload: beta removed, gamma added, alpha changed (its User-Agent).
  WriteConfig({"alpha", "gamma", "steady"}, "", {{"alpha", "ops-test-agent/2"}},
              {"steady"});
  size_t mark = notify.size();
  daemon.Signal(SIGHUP);
  const int reloading = notify.WaitFor("RELOADING=1", mark, 10s);
  ASSERT_GE(reloading, 0) << daemon.Log();
  const int reready =
      notify.WaitFor("READY=1", static_cast<size_t>(reloading), 10s);
  ASSERT_GT(reready, reloading) << daemon.Log();
  EXPECT_GE(notify.WaitFor("STATUS=Polling 3 feeds",
                           static_cast<size_t>(reloading), 1s, true),
            0);
  const auto reloaded_at = Clock::now();

  auto second = Articles(8, 60s);
  EXPECT_EQ(second.count("gamma"), 2u) << daemon.Log();
  EXPECT_EQ(second.count("beta"), 2u) << "beta republished?";
  EXPECT_EQ(second.count("steady"), 2u) << "steady republished?";
  // Polls continue every second: alpha is still polled (with its new
  // settings: wait, bounded, for two such polls after the old poller's
  // last possible one), beta no more.
  EXPECT_TRUE(WaitFor(
      [&] {
        return PollsOf("alpha", reloaded_at + 1500ms, "ops-test-agent/2") >= 2;
      },
      15s))
      << "changed feed did not apply its new settings";
  EXPECT_EQ(PollsOf("alpha", reloaded_at + 1500ms) -
                PollsOf("alpha", reloaded_at + 1500ms, "ops-test-agent/2"),
            0u)
      << "old alpha poller still running";
  EXPECT_EQ(PollsOf("beta", reloaded_at + 500ms), 0u)
      << "removed feed still polled";
  // The unchanged hourly feed was polled once, at start: not restarted and
  // not re-polled by the reload.
  EXPECT_EQ(PollsOf("steady", test_start), 1u)
      << "unchanged feed restarted or re-polled by the reload";
  metrics = HttpGet(metrics_port_, "/metrics");
  EXPECT_NE(metrics.body.find("{feed=\"gamma\"}"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(metrics.body.find("newsflow_feed_up{feed=\"beta\"}"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(
      metrics.body.find("newsflow_config_reloads_total{result=\"ok\"} 1\n"),
      std::string::npos);

  EXPECT_NE(daemon.Log().find(
                "Configuration reloaded. feeds=3 added=1 removed=1 changed=1"),
            std::string::npos)
      << daemon.Log();

  // A bad file is rejected with FILE:LINE:COL; the old config keeps running.
  {
    std::ofstream(config_path_, std::ios::app)
        << "  - name: delta\n    urll: http://x/\n";
  }
  mark = notify.size();
  const auto bad_at = Clock::now();
  daemon.Signal(SIGHUP);
  const int bad_reloading = notify.WaitFor("RELOADING=1", mark, 10s);
  ASSERT_GE(bad_reloading, 0);
  EXPECT_GT(notify.WaitFor("READY=1", static_cast<size_t>(bad_reloading), 10s),
            bad_reloading);
  const int rejected =
      notify.WaitFor("STATUS=", static_cast<size_t>(bad_reloading), 5s, true);
  ASSERT_GE(rejected, 0);
  const std::string status = notify.Lines()[static_cast<size_t>(rejected)];
  EXPECT_NE(status.find("last reload rejected: " + config_path_ + ":"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("unknown key \"urll\""), std::string::npos) << status;
  EXPECT_TRUE(
      WaitFor([&] { return PollsOf("gamma", bad_at + 500ms) >= 2; }, 15s))
      << "old config stopped after a bad reload";
  auto readyz_after = HttpGet(metrics_port_, "/readyz");
  EXPECT_EQ(readyz_after.status, 200) << readyz_after.body << daemon.Log();
  EXPECT_NE(
      HttpGet(metrics_port_, "/metrics")
          .body.find("newsflow_config_reloads_total{result=\"rejected\"} 1\n"),
      std::string::npos);

  // Reload table: a live global field (http.user_agent) reaches the running,
  // unchanged gamma poller; a restart-only one (pipeline.max_in_flight) is
  // named in the log and STATUS=. Two SIGHUPs in a burst make one reload.
  WriteConfig({"alpha", "gamma"},
              "http:\n  user_agent: ops-global/3\n"
              "pipeline:\n  max_in_flight: 7\n",
              {{"alpha", "ops-test-agent/2"}});
  mark = notify.size();
  daemon.Signal(SIGHUP);
  daemon.Signal(SIGHUP);
  const int live_reloading = notify.WaitFor("RELOADING=1", mark, 10s);
  ASSERT_GE(live_reloading, 0) << daemon.Log();
  const auto live_at = Clock::now();
  const int live_status =
      notify.WaitFor("STATUS=", static_cast<size_t>(live_reloading), 5s, true);
  ASSERT_GE(live_status, 0);
  EXPECT_NE(notify.Lines()[static_cast<size_t>(live_status)].find(
                "restart needed for pipeline.max_in_flight"),
            std::string::npos)
      << notify.Lines()[static_cast<size_t>(live_status)];
  std::this_thread::sleep_for(3s);
  EXPECT_GE(PollsOf("gamma", live_at + 1500ms, "ops-global/3"), 1u)
      << "a live field did not reach the running poller";
  EXPECT_EQ(PollsOf("gamma", live_at + 1500ms) -
                PollsOf("gamma", live_at + 1500ms, "ops-global/3"),
            0u);
  EXPECT_NE(daemon.Log().find("apply only after a restart. "
                              "fields=pipeline.max_in_flight"),
            std::string::npos)
      << daemon.Log();
  EXPECT_NE(HttpGet(metrics_port_, "/metrics")
                .body.find("newsflow_config_reloads_total{result=\"ok\"} 2\n"),
            std::string::npos)
      << "a SIGHUP burst made more than one reload";

  // SIGTERM: STOPPING=1, exit 0.
  mark = notify.size();
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(45s);
  ASSERT_TRUE(code.has_value()) << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
  EXPECT_GE(notify.WaitFor("STOPPING=1", mark, 1s), 0);

  // Every log line is JSON naming its component; feed lines name the feed;
  // the token in the feed URLs never appears.
  const std::string log = daemon.Log();
  std::istringstream lines(log);
  size_t n = 0, feed_lines = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.contains("component")) << line;
    if (j["component"].get<std::string>().rfind("feed.", 0) == 0) {
      ++feed_lines;
      EXPECT_TRUE(j.contains("feed")) << line;
    }
  }
  EXPECT_GT(n, 3u);
  EXPECT_EQ(log.find("secret-"), std::string::npos) << log;
}

// A failing feed's error kind, scraped from the real endpoint: the label
// /metrics derives from the stored last error.
TEST_F(OpsTest, FailingFeedReportsItsErrorKindOnMetrics) {
  WriteConfig({"gone", "alpha"});
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "daemon.log").string());
  const std::string series =
      "newsflow_feed_last_error_info{feed=\"gone\",kind=\"http_404\"}";
  HttpResult metrics;
  const bool seen = WaitFor(
      [&] {
        metrics = HttpGet(metrics_port_, "/metrics");
        return PrometheusValue(metrics.body, series).has_value();
      },
      30s);
  ASSERT_TRUE(seen) << metrics.body << daemon.Log();
  EXPECT_EQ(PrometheusValue(metrics.body, series), 1.0);
  EXPECT_EQ(PrometheusValue(metrics.body, "newsflow_feed_up{feed=\"gone\"}"),
            0.0);
  // Exactly one kind per failing feed, none for the healthy one.
  EXPECT_EQ(metrics.body.find("newsflow_feed_last_error_info{feed=\"alpha\""),
            std::string::npos)
      << metrics.body;
  size_t kinds = 0;
  for (size_t at = 0;
       (at = metrics.body.find("newsflow_feed_last_error_info{feed=\"gone\"",
                               at)) != std::string::npos;
       ++at) {
    ++kinds;
  }
  EXPECT_EQ(kinds, 1u) << metrics.body;
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(30s);
  ASSERT_TRUE(code.has_value()) << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
}

TEST_F(OpsTest, ReadyAnywayWithStatusWhenTheBrokerIsUnreachable) {
  NotifyListener notify((dir_ / "notify.sock").string());
  ASSERT_TRUE(notify.bound());
  bootstrap_ =
      "127.0.0.1:" + std::to_string(FreeLoopbackPort());  // nothing listens
  WriteConfig({"alpha"}, "pipeline:\n  drain_timeout: 2s\n");
  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  const auto started = Clock::now();
  DaemonProcess daemon({"run", "--config", config_path_},
                       (dir_ / "daemon.log").string());
  ::unsetenv("NOTIFY_SOCKET");
  const int ready = notify.WaitFor("READY=1", 0, 20s);
  ASSERT_GE(ready, 0) << daemon.Log();
  EXPECT_GE(Clock::now() - started, 4s)
      << "READY before the probe window ended";
  const int status = notify.WaitFor("STATUS=", 0, 1s, true);
  ASSERT_GE(status, 0);
  EXPECT_NE(
      notify.Lines()[static_cast<size_t>(status)].find("Kafka unreachable"),
      std::string::npos)
      << notify.Lines()[static_cast<size_t>(status)];
  EXPECT_EQ(HttpGet(metrics_port_, "/readyz").status, 503);
  daemon.Signal(SIGTERM);
  auto code = daemon.Wait(30s);
  ASSERT_TRUE(code.has_value()) << daemon.Log();
  EXPECT_EQ(*code, 0) << daemon.Log();
}

}  // namespace
}  // namespace newsflow::testing
