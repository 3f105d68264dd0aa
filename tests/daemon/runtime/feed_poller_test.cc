// A real FeedPoller (real HttpClient, SQLite store, Publisher, JSONL sink,
// worker pool) and the real metrics endpoint on one io_context, against a
// loopback server whose feed has a teaser item linking to a 16 MiB page.
// While that page is extracted, /healthz must keep answering within 100 ms:
// the io_context thread only does I/O.

#include "daemon/runtime/feed_poller.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/sinks/jsonl/jsonl_sink.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/metrics_server.h"
#include "daemon/runtime/worker_pool.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

// Valid HTML that is expensive to clean: a short real story, then ~16 MiB
// of comment threads, tag lists, nested sections and tables that the
// extractor has to parse, score and throw away.
std::string HugeHostilePage() {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Big page</title></head><body><article><h1>The story</h1>";
  for (int i = 0; i < 40; ++i) {
    html += "<p>Paragraph " + std::to_string(i) +
            " of the real story, with enough ordinary words to be read as "
            "article text by any extractor.</p>";
  }
  html += "</article>";
  const size_t limit = (size_t{16} << 20) - 64;
  for (int i = 0; html.size() < limit; ++i) {
    std::string block = "<div class=\"comment share related sidebar\"><ul>";
    for (int j = 0; j < 8; ++j) {
      block += "<li><a href=\"/tag/" + std::to_string(i) + "-" +
               std::to_string(j) + "\">tag</a> <span>reply</span></li>";
    }
    block += "</ul>";
    for (int d = 0; d < 20; ++d) block += "<div><section>";
    block += "<p>Comment " + std::to_string(i) +
             " lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>";
    for (int d = 0; d < 20; ++d) block += "</section></div>";
    block += "<table><tr>";
    for (int c = 0; c < 10; ++c) block += "<td>x</td>";
    block += "</tr></table></div>";
    if (html.size() + block.size() > limit) break;
    html += block;
  }
  return html + "</body></html>";
}

// One blocking GET /healthz; its latency, or nullopt when it failed.
std::optional<std::chrono::milliseconds> TimeHealthz(uint16_t port) {
  const auto start = Clock::now();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), 0) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        reply.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  if (!reply.starts_with("HTTP/1.1 200")) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                               start);
}

class FeedPollerLatencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nf_poller_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    page_ = HugeHostilePage();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  struct Run {
    std::vector<std::chrono::milliseconds> during;  // probes while cleaning
    std::chrono::milliseconds cleaning{0};          // page served → poll done
    bool published = false;
  };

  // Polls the feed once with `workers` (null: CPU work on the io thread)
  // while another thread probes /healthz every 10 ms.
  Run PollWhileProbing(size_t workers) {
    std::atomic<bool> page_served{false};
    LoopbackHttpServer server([&](const TestRequest& req) {
      TestResponse r;
      if (req.path == "/feed") {
        r.headers.emplace_back("Content-Type", "application/rss+xml");
        r.body =
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
            "<title>Big</title><link>http://example.org/</link><item>"
            "<guid>urn:big</guid><title>Big story</title><link>" +
            base_url_ +
            "/page</link><description>Read more</description></item>"
            "</channel></rss>";
      } else {
        r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        r.body = page_;
        page_served = true;
      }
      return r;
    });
    base_url_ = server.base_url();

    boost::asio::io_context io(1);
    auto store = StateStore::Open(":memory:");
    EXPECT_TRUE(store);
    JsonlSinkOptions sink_options;
    sink_options.path = (dir_ / ("out" + std::to_string(workers))).string();
    auto sink = JsonlSink::Create(io, sink_options);
    EXPECT_TRUE(sink);
    Publisher publisher(io.get_executor(), **sink, **store, 10);
    HttpClient http(io);
    MetricsServerProbes probes;
    probes.live = [] { return true; };
    probes.ready = [] { return std::optional<std::string>(); };
    auto metrics = MetricsServer::Start(io, "127.0.0.1:0",
                                        MetricsRegistry::Global(), probes);
    EXPECT_TRUE(metrics) << metrics.error().ToString();
    const uint16_t metrics_port = (*metrics)->port();
    std::unique_ptr<WorkerPool> pool;
    if (workers > 0) {
      pool = std::make_unique<WorkerPool>(
          io.get_executor(), WorkerPoolOptions{.threads = workers});
    }

    DaemonConfig config;
    config.http.allow_private_targets = true;  // the page is on loopback
    config.http.max_body_bytes = 32 << 20;
    config.http.total_timeout = 60s;
    FeedConfig feed;
    feed.name = "big" + std::to_string(workers);
    feed.url = base_url_ + "/feed";
    feed.full_article = FullArticleMode::kAlways;
    PollerEnv env;
    env.http = &http;
    env.store = store->get();
    env.publisher = &publisher;
    env.workers = pool.get();
    auto poller =
        std::make_shared<FeedPoller>(io.get_executor(), env, feed, config);

    Run run;
    std::atomic<bool> done{false};
    Clock::time_point served_at{}, done_at{};
    std::thread prober([&] {
      while (!done) {
        if (!page_served) {
          std::this_thread::sleep_for(1ms);
          continue;
        }
        if (served_at == Clock::time_point{}) served_at = Clock::now();
        const bool during = !done;  // started while the poll ran
        auto latency = TimeHealthz(metrics_port);
        if (during) {
          // A failed probe counts as the worst latency.
          run.during.push_back(latency.value_or(std::chrono::hours(1)));
        }
        std::this_thread::sleep_for(10ms);
      }
    });
    std::optional<Result<PollSummary>> out;
    boost::asio::co_spawn(io, poller->PollOnce(),
                          [&](std::exception_ptr e, Result<PollSummary> r) {
                            if (e) {
                              out = Error::Internal("exception");
                            } else {
                              out = std::move(r);
                            }
                            done_at = Clock::now();
                            done = true;
                          });
    const auto deadline = Clock::now() + 120s;
    while (!out && Clock::now() < deadline) io.run_one_for(20ms);
    done = true;
    // A probe started just before the poll ended is answered by the loop:
    // keep it turning until the prober is gone.
    std::atomic<bool> prober_gone{false};
    std::thread joiner([&] {
      prober.join();
      prober_gone = true;
    });
    while (!prober_gone) io.run_one_for(20ms);
    joiner.join();
    EXPECT_TRUE(out && *out) << (out ? out->error().ToString() : "timeout");
    if (out && *out) run.published = (*out)->published == 1;
    if (served_at != Clock::time_point{}) {
      run.cleaning = std::chrono::duration_cast<std::chrono::milliseconds>(
          done_at - served_at);
    }
    (*metrics)->Stop();
    (void)(*sink)->Close(1s);
    return run;
  }

  std::filesystem::path dir_;
  std::string page_;
  std::string base_url_;
};

TEST_F(FeedPollerLatencyTest, HealthzStaysFastWhileA16MiBPageIsCleaned) {
  ASSERT_GE(page_.size(), (size_t{16} << 20) - 1024);
  Run run = PollWhileProbing(2);
  EXPECT_TRUE(run.published);
  // The work must be big enough that doing it on the io thread would show:
  // several probes fall inside the transfer + extraction window.
  EXPECT_GE(run.cleaning, 200ms) << "page cleaned too fast to measure";
  ASSERT_FALSE(run.during.empty());
  std::chrono::milliseconds worst{0};
  for (auto l : run.during) worst = std::max(worst, l);
  std::printf(
      "%zu /healthz probes over %lld ms of transfer + cleaning, "
      "worst %lld ms\n",
      run.during.size(), static_cast<long long>(run.cleaning.count()),
      static_cast<long long>(worst.count()));
  EXPECT_LT(worst, 100ms) << run.during.size() << " probes over "
                          << run.cleaning.count() << " ms";
  // A free io thread answers every 10 ms probe; a blocked one only a few.
  EXPECT_GE(run.during.size(), 10u);
}

}  // namespace
}  // namespace newsflow
