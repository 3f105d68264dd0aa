// Fetch and scheduling behaviours of a real FeedPoller (real HttpClient,
// SQLite state store, Publisher and JSONL sink) against a real HTTP server
// on 127.0.0.1 that misbehaves in the ways feed servers do.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "config/config.h"
#include "connectors/builtin.h"
#include "connectors/common/http/http_client.h"
#include "connectors/sinks/jsonl/jsonl_sink.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/feed_poller.h"
#include "daemon/runtime/publisher.h"
#include "daemon/runtime/scheduler.h"
#include "daemon/state/state_store.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

std::string Rss(const std::string& tag, int items = 2, int ttl_minutes = 0) {
  std::string xml =
      "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
      "<title>Loopback " +
      tag + "</title><link>http://example.org/</link>";
  if (ttl_minutes > 0) xml += "<ttl>" + std::to_string(ttl_minutes) + "</ttl>";
  for (int i = 0; i < items; ++i) {
    const std::string id = tag + "-" + std::to_string(i);
    xml += "<item><title>Story " + id + "</title><guid>urn:" + id +
           "</guid><link>http://example.org/" + id +
           "</link>"
           "<pubDate>Thu, 09 Oct 2025 0" +
           std::to_string(i % 10) + ":00:00 GMT</pubDate><description>" +
           std::string(40, 'x') + " body of story " + id +
           " with enough words to stand on its own as an article text."
           "</description></item>";
  }
  return xml + "</channel></rss>";
}

TestResponse Feed(const std::string& body) {
  TestResponse r;
  r.headers.emplace_back("Content-Type", "application/rss+xml");
  r.body = body;
  return r;
}

uint64_t FetchCount(const std::string& feed, const std::string& outcome) {
  return MetricsRegistry::Global()
      .GetCounter("newsflow_feed_fetches_total", "",
                  {{"feed", feed}, {"outcome", outcome}})
      .value();
}

class FetchBehaviourTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nf_fetch_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto store = StateStore::Open(":memory:");
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    JsonlSinkOptions sink_options;
    sink_options.path = (dir_ / "out.jsonl").string();
    auto sink = JsonlSink::Create(io_, sink_options);
    ASSERT_TRUE(sink) << sink.error().ToString();
    sink_ = std::move(*sink);
    publisher_ =
        std::make_unique<Publisher>(io_.get_executor(), *sink_, *store_, 100);
    config_.scheduler.min_interval = 1s;
    config_.scheduler.max_interval = 3600s;
    config_.scheduler.unconditional_every = 0;
    config_.http.total_timeout = 5s;
    // The host-wide Retry-After pause is HttpClient's (its own tests); here
    // it would hold the next poll of the same loopback host for minutes.
    http_ = std::make_unique<HttpClient>(
        io_, HttpClientOptions{.max_host_throttle = std::chrono::seconds(0)});
  }

  void TearDown() override {
    http_.reset();
    publisher_.reset();
    if (sink_) (void)sink_->Close(1s);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::shared_ptr<FeedPoller> Poller(
      const std::string& name, const std::string& url,
      FullArticleMode mode = FullArticleMode::kNever) {
    FeedConfig feed;
    feed.name = name;
    feed.url = url;
    feed.interval = 60s;
    feed.full_article = mode;
    return Poller(feed);
  }
  std::shared_ptr<FeedPoller> Poller(const FeedConfig& feed) {
    PollerEnv env;
    env.http = http_.get();
    env.store = store_.get();
    env.publisher = publisher_.get();
    env.outage = &outage_;
    return std::make_shared<FeedPoller>(io_.get_executor(), env, feed, config_);
  }

  Result<PollSummary> Poll(FeedPoller& poller) {
    std::optional<Result<PollSummary>> out;
    boost::asio::co_spawn(io_, poller.PollOnce(),
                          [&](std::exception_ptr e, Result<PollSummary> r) {
                            if (e) {
                              out = Error::Internal("exception");
                            } else {
                              out = std::move(r);
                            }
                          });
    // A poll ends when its articles are durable in the outbox; wait for
    // the sink too, so Output() has them (the jsonl sink writes on its own
    // thread).
    const auto delivered = [&] {
      return publisher_->outbox_articles() == 0 && publisher_->in_flight() == 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((!out || !delivered()) &&
           std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(20ms);
      if (io_.stopped()) io_.restart();
    }
    if (!out) return Error::Internal("poll did not finish");
    return std::move(*out);
  }

  FeedState State(const std::string& name) { return *store_->LoadFeed(name); }

  // What the JSONL sink wrote so far.
  std::string Output() {
    std::ifstream in(dir_ / "out.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
  boost::asio::io_context io_;
  DaemonConfig config_;
  OutageDetector outage_{120s, 3};
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<JsonlSink> sink_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<HttpClient> http_;
};

// --- validators ------------------------------------------------------------

TEST_F(FetchBehaviourTest, EtagRoundTripGives304AndNotModified) {
  LoopbackHttpServer server([](const TestRequest& req) {
    if (req.Header("if-none-match") == "\"v1\"") {
      TestResponse r;
      r.status = 304;
      return r;
    }
    TestResponse r = Feed(Rss("etag"));
    r.headers.emplace_back("ETag", "\"v1\"");
    r.headers.emplace_back("Last-Modified", "Thu, 09 Oct 2025 08:00:00 GMT");
    return r;
  });
  auto poller = Poller("etag", server.base_url() + "/feed");
  auto first = Poll(*poller);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->status, FeedPollStatus::kNew);
  EXPECT_EQ(first->published, 2u);
  EXPECT_EQ(State("etag").etag, "\"v1\"");
  auto second = Poll(*poller);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->status, FeedPollStatus::kNotModified);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("if-none-match"), "\"v1\"");
  EXPECT_EQ(reqs[1].Header("if-modified-since"),
            "Thu, 09 Oct 2025 08:00:00 GMT");
  EXPECT_EQ(FetchCount("etag", "new"), 1u);
  EXPECT_EQ(FetchCount("etag", "not_modified"), 1u);
}

TEST_F(FetchBehaviourTest,
       WrongThreeOhFourIsCaughtByThePeriodicUnconditionalFetch) {
  // The server answers 304 to any If-None-Match, even after it changed.
  std::atomic<int> version{1};
  LoopbackHttpServer server([&](const TestRequest& req) {
    if (!req.Header("if-none-match").empty()) {
      TestResponse r;
      r.status = 304;
      return r;
    }
    TestResponse r = Feed(Rss("v" + std::to_string(version.load())));
    r.headers.emplace_back("ETag", "\"static\"");
    return r;
  });
  config_.scheduler.unconditional_every = 3;
  auto poller = Poller("wrong304", server.base_url() + "/feed");
  auto p1 = Poll(*poller);
  ASSERT_TRUE(p1) << p1.error().ToString();
  EXPECT_EQ(p1->published, 2u);
  version = 2;  // new stories; the server keeps lying with 304
  auto p2 = Poll(*poller);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->status, FeedPollStatus::kNotModified);
  // Third poll: no validators, so the change is finally seen.
  auto p3 = Poll(*poller);
  ASSERT_TRUE(p3) << p3.error().ToString();
  EXPECT_EQ(p3->status, FeedPollStatus::kNew);
  EXPECT_EQ(p3->published, 2u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].Header("if-none-match"), "");
}

TEST_F(FetchBehaviourTest, ThreeOhFourWithoutValidatorsIsAnError) {
  LoopbackHttpServer server([](const TestRequest&) {
    TestResponse r;
    r.status = 304;
    return r;
  });
  auto poller = Poller("bare304", server.base_url() + "/feed");
  auto r = Poll(*poller);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status(), 304);
  EXPECT_EQ(FetchCount("bare304", "http_304_unsolicited"), 1u);
}

TEST_F(FetchBehaviourTest, ChangingEtagWithSameBodyIsUnchangedBody) {
  std::atomic<int> n{0};
  const std::string body = Rss("same");
  LoopbackHttpServer server([&](const TestRequest&) {
    TestResponse r = Feed(body);
    r.headers.emplace_back("ETag", "\"e" + std::to_string(++n) + "\"");
    return r;
  });
  auto poller = Poller("rotating", server.base_url() + "/feed");
  ASSERT_TRUE(Poll(*poller));
  auto second = Poll(*poller);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->status, FeedPollStatus::kUnchangedBody);
  EXPECT_EQ(second->published, 0u);
  EXPECT_EQ(FetchCount("rotating", "unchanged_body"), 1u);
}

TEST_F(FetchBehaviourTest, StaticEtagOnChangingBodyIsDistrusted) {
  // ETag never changes but the content does: the 200 is processed and the
  // lying validator is not sent again.
  std::atomic<int> version{1};
  LoopbackHttpServer server([&](const TestRequest&) {
    TestResponse r = Feed(Rss("s" + std::to_string(version.load())));
    r.headers.emplace_back("ETag", "\"forever\"");
    return r;
  });
  auto poller = Poller("static-etag", server.base_url() + "/feed");
  ASSERT_TRUE(Poll(*poller));
  version = 2;
  auto second = Poll(*poller);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->status, FeedPollStatus::kNew);
  EXPECT_EQ(second->published, 2u);
  EXPECT_EQ(State("static-etag").etag, "");
  ASSERT_TRUE(Poll(*poller));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].Header("if-none-match"), "\"forever\"");
  EXPECT_EQ(reqs[2].Header("if-none-match"), "");
}

TEST_F(FetchBehaviourTest, ExpiresZeroValidatorsAreNotSent) {
  LoopbackHttpServer server([](const TestRequest&) {
    TestResponse r = Feed(Rss("exp0"));
    r.headers.emplace_back("ETag", "\"x\"");
    r.headers.emplace_back("Expires", "0");
    return r;
  });
  auto poller = Poller("exp0", server.base_url() + "/feed");
  ASSERT_TRUE(Poll(*poller));
  ASSERT_TRUE(Poll(*poller));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("if-none-match"), "");
}

// --- redirects ---------------------------------------------------------------

TEST_F(FetchBehaviourTest, PermanentRedirectMovesTheFeedAfterThreeHits) {
  LoopbackHttpServer server([](const TestRequest& req) {
    if (req.path == "/old") {
      TestResponse r;
      r.status = 301;
      r.headers.emplace_back("Location", "/new");
      return r;
    }
    return Feed(Rss("moved"));
  });
  config_.scheduler.redirect_move_hits = 3;
  const std::string old_url = server.base_url() + "/old";
  const std::string new_url = server.base_url() + "/new";
  auto poller = Poller("mover", old_url);
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(Poll(*poller));
    EXPECT_EQ(State("mover").moved_hits, i);
    EXPECT_EQ(State("mover").url, old_url);
  }
  ASSERT_TRUE(Poll(*poller));
  EXPECT_EQ(State("mover").url, new_url);
  ASSERT_TRUE(Poll(*poller));
  EXPECT_EQ(poller->current_url(), new_url);
  auto reqs = server.requests();
  EXPECT_EQ(reqs.back().path, "/new");
  EXPECT_EQ(reqs[reqs.size() - 2].path, "/new");  // no /old hop any more
  // A new poller (restart) keeps the move.
  auto again = Poller("mover", old_url);
  ASSERT_TRUE(Poll(*again));
  EXPECT_EQ(again->current_url(), new_url);
}

TEST_F(FetchBehaviourTest,
       TemporaryRedirectNeverMovesAndInconsistentHitsReset) {
  std::atomic<int> n{0};
  LoopbackHttpServer server([&](const TestRequest& req) {
    if (req.path == "/feed") {
      TestResponse r;
      // 301, 302, 301, 302...: never three consistent permanent answers.
      r.status = (n++ % 2 == 0) ? 301 : 302;
      r.headers.emplace_back("Location", "/elsewhere");
      return r;
    }
    return Feed(Rss("temp"));
  });
  const std::string url = server.base_url() + "/feed";
  auto poller = Poller("temp", url);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Poll(*poller));
  EXPECT_EQ(State("temp").url, url);
  EXPECT_LT(State("temp").moved_hits, 3);
  EXPECT_EQ(poller->current_url(), url);
}

// --- failures and their names
// --------------------------------------------------

TEST_F(FetchBehaviourTest, RetryAfterOn429And503IsALowerBound) {
  std::atomic<int> status{429};
  LoopbackHttpServer server([&](const TestRequest&) {
    TestResponse r;
    r.status = status;
    r.headers.emplace_back("Retry-After", "1200");
    return r;
  });
  auto poller = Poller("throttled", server.base_url() + "/feed");
  auto r = Poll(*poller);
  ASSERT_FALSE(r);
  EXPECT_EQ(FetchCount("throttled", "http_429"), 1u);
  // interval 60 s, one failure → 120 s backoff, but Retry-After says 1200.
  EXPECT_GE(poller->PlannedDelay(), 1200s);
  status = 503;
  ASSERT_FALSE(Poll(*poller));
  EXPECT_EQ(FetchCount("throttled", "http_5xx"), 1u);
  EXPECT_GE(poller->PlannedDelay(), 1200s);
  EXPECT_EQ(State("throttled").consecutive_failures, 2);
}

TEST_F(FetchBehaviourTest, BackoffDoublesPerFailureAndResetsOnSuccess) {
  std::atomic<bool> broken{true};
  LoopbackHttpServer server([&](const TestRequest&) {
    if (broken) {
      TestResponse r;
      r.status = 500;
      return r;
    }
    return Feed(Rss("backoff"));
  });
  auto poller = Poller("backoff", server.base_url() + "/feed");
  ASSERT_FALSE(Poll(*poller));
  EXPECT_EQ(poller->PlannedDelay(), 120s);
  ASSERT_FALSE(Poll(*poller));
  EXPECT_EQ(poller->PlannedDelay(), 240s);
  for (int i = 0; i < 8; ++i) ASSERT_FALSE(Poll(*poller));
  EXPECT_EQ(poller->PlannedDelay(), 3600s);  // capped, still polled
  broken = false;
  ASSERT_TRUE(Poll(*poller));
  EXPECT_EQ(State("backoff").consecutive_failures, 0);
  EXPECT_LE(poller->PlannedDelay(), 3600s);
  EXPECT_EQ(FetchCount("backoff", "http_5xx"), 10u);
}

TEST_F(FetchBehaviourTest, NamedFailures) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/401") r.status = 401;
    if (req.path == "/403") r.status = 403;
    if (req.path == "/404") r.status = 404;
    if (req.path == "/410") r.status = 410;
    if (req.path == "/wall") {
      r.status = 403;
      r.headers.emplace_back("cf-mitigated", "challenge");
      r.body = "<html>Just a moment...</html>";
    }
    if (req.path == "/empty") r.body = "";
    if (req.path == "/html") r.body = "<html><body><p>hello</p></body></html>";
    if (req.path == "/big") r.body = std::string(64 << 10, 'x');
    if (req.path == "/reset") {
      r.body = std::string(16 << 10, 'y');
      r.reset_after_headers = true;
    }
    if (req.path == "/slow") {
      r = Feed(Rss("slow"));
      r.chunk_size = 64;
      r.chunk_delay = 100ms;
    }
    return r;
  });
  config_.http.max_body_bytes = 32 << 10;
  config_.http.total_timeout = 500ms;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/401", "http_401"},           {"/403", "http_403"},
      {"/404", "http_404"},           {"/410", "http_410"},
      {"/wall", "bot_wall"},          {"/empty", "empty_body"},
      {"/html", "not_a_feed"},        {"/big", "too_large"},
      {"/reset", "connection_reset"}, {"/slow", "timeout"},
  };
  for (const auto& [path, outcome] : cases) {
    const std::string name = "named" + path.substr(1);
    auto poller = Poller(name, server.base_url() + path);
    auto r = Poll(*poller);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(FetchCount(name, outcome), 1u)
        << path << ": " << r.error().ToString();
    // The feed's name is in the error (and thus in the log line).
    EXPECT_NE(r.error().ToString().find(name), std::string::npos) << path;
  }
  // Connection refused and DNS.
  auto refused = Poller("named-connect", "http://127.0.0.1:1/feed");
  ASSERT_FALSE(Poll(*refused));
  EXPECT_EQ(FetchCount("named-connect", "connect"), 1u);
  auto dns = Poller("named-dns", "http://nonexistent.invalid/feed");
  ASSERT_FALSE(Poll(*dns));
  EXPECT_EQ(FetchCount("named-dns", "dns"), 1u);
  // TLS: a peer that answers the ClientHello with plain text fails the
  // handshake.
  {
    int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(lfd, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    std::thread plain([lfd] {
      int c = ::accept(lfd, nullptr, nullptr);
      if (c < 0) return;
      const char kReply[] =
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
      (void)!::write(c, kReply, sizeof kReply - 1);
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    });
    auto tls = Poller(
        "named-tls",
        "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/feed");
    auto r = Poll(*tls);
    plain.join();
    ::close(lfd);
    ASSERT_FALSE(r);
    EXPECT_EQ(FetchCount("named-tls", "tls"), 1u) << r.error().ToString();
  }
  // Too large is a clear message.
  auto big = Poller("named-big2", server.base_url() + "/big");
  auto r = Poll(*big);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("max_body_bytes"), std::string::npos);
  const std::string text = MetricsRegistry::Global().RenderPrometheus();
  EXPECT_NE(text.find("newsflow_feed_fetches_total{feed=\"namedwall\",outcome="
                      "\"bot_wall\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("newsflow_feed_consecutive_failures{feed=\"named404\"} 1"),
      std::string::npos);
  // The stored last error starts with the same outcome label (/metrics
  // reports it as newsflow_feed_last_error_info{kind}; scraped from the real
  // endpoint by OpsTest.FailingFeedReportsItsErrorKindOnMetrics).
  EXPECT_EQ(State("named404").last_error.rfind("http_404: ", 0), 0u)
      << State("named404").last_error;
}

TEST_F(FetchBehaviourTest, CompressedBodyIsParsed) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r = Feed(Rss("gz", 3));
    r.gzip = !req.Header("accept-encoding").empty();
    return r;
  });
  auto poller = Poller("gz", server.base_url() + "/feed");
  auto r = Poll(*poller);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->published, 3u);
  auto accept = server.requests().at(0).Header("accept-encoding");
  for (const char* enc : {"gzip", "deflate", "br", "zstd"}) {
    EXPECT_NE(accept.find(enc), std::string::npos) << accept;
  }
}

// --- scheduling hints
// ----------------------------------------------------------

TEST_F(FetchBehaviourTest, TtlAndCacheControlAreLowerBounds) {
  LoopbackHttpServer server([](const TestRequest& req) {
    if (req.path == "/ttl") return Feed(Rss("ttl", 2, 45));
    TestResponse r = Feed(Rss("cc"));
    r.headers.emplace_back("Cache-Control", "max-age=1800");
    return r;
  });
  config_.scheduler.adaptive = false;
  auto ttl = Poller("ttl", server.base_url() + "/ttl");
  ASSERT_TRUE(Poll(*ttl));
  EXPECT_EQ(ttl->PlannedDelay(), 45min);
  auto cc = Poller("cc", server.base_url() + "/cc");
  ASSERT_TRUE(Poll(*cc));
  EXPECT_EQ(cc->PlannedDelay(), 1800s);
}

TEST_F(FetchBehaviourTest, SyndicationUpdatePeriodAndExpiresAreLowerBounds) {
  LoopbackHttpServer server([](const TestRequest& req) {
    if (req.path == "/sy") {
      return Feed(
          "<?xml version=\"1.0\"?><rss version=\"2.0\" "
          "xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">"
          "<channel><title>S</title><link>http://example.org/</link>"
          "<sy:updatePeriod>hourly</sy:updatePeriod>"
          "<sy:updateFrequency>2</sy:updateFrequency>"
          "<item><guid>urn:sy</guid><title>t</title>"
          "<link>http://example.org/sy</link><description>words</description>"
          "</item></channel></rss>");
    }
    TestResponse r = Feed(Rss("expires"));
    r.headers.emplace_back("Date", "Thu, 09 Oct 2025 08:00:00 GMT");
    r.headers.emplace_back("Expires", "Thu, 09 Oct 2025 08:40:00 GMT");
    return r;
  });
  config_.scheduler.adaptive = false;
  auto sy = Poller("sy", server.base_url() + "/sy");
  ASSERT_TRUE(Poll(*sy));
  EXPECT_EQ(sy->PlannedDelay(), 30min);  // twice an hour
  auto expires = Poller("expires", server.base_url() + "/expires");
  ASSERT_TRUE(Poll(*expires));
  EXPECT_EQ(expires->PlannedDelay(), 40min);
}

TEST_F(FetchBehaviourTest, AdaptiveIntervalFollowsItemDates) {
  // Items one hour apart, newest just now: poll about every 30 minutes
  // instead of the configured minute.
  LoopbackHttpServer server([](const TestRequest&) {
    std::string xml =
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>A</title>"
        "<link>http://example.org/</link>";
    const time_t now = ::time(nullptr);
    for (int i = 0; i < 5; ++i) {
      const time_t t = now - 3600 * i;
      struct tm tm {};
      ::gmtime_r(&t, &tm);
      char date[64];
      ::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      xml += "<item><guid>urn:a" + std::to_string(i) +
             "</guid><title>t</title><link>http://example.org/a" +
             std::to_string(i) + "</link><pubDate>" + date +
             "</pubDate><description>some words here</description></item>";
    }
    return Feed(xml + "</channel></rss>");
  });
  auto poller = Poller("adaptive", server.base_url() + "/feed");
  ASSERT_TRUE(Poll(*poller));
  EXPECT_GE(poller->PlannedDelay(), 29min);
  EXPECT_LE(poller->PlannedDelay(), 31min);
}

TEST_F(FetchBehaviourTest, RunLoopHonoursRetryAfterThenResumes) {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> hits;
  LoopbackHttpServer server([&](const TestRequest&) {
    std::lock_guard lock(mu);
    hits.push_back(std::chrono::steady_clock::now());
    if (hits.size() == 1) {
      TestResponse r;
      r.status = 429;
      r.headers.emplace_back("Retry-After", "3");
      return r;
    }
    return Feed(Rss("run"));
  });
  config_.scheduler.adaptive = false;
  FeedConfig feed;
  feed.name = "run-loop";
  feed.url = server.base_url() + "/feed";
  feed.interval = 1s;
  feed.full_article = FullArticleMode::kNever;
  auto poller = Poller(feed);
  boost::asio::co_spawn(io_, FeedPoller::Run(poller, false),
                        boost::asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  auto count = [&] {
    std::lock_guard lock(mu);
    return hits.size();
  };
  while (count() < 3 && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(20ms);
  }
  poller->Stop();
  while (!poller->finished() && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(20ms);
  }
  ASSERT_GE(count(), 3u);
  std::lock_guard lock(mu);
  // 1 s interval (2 s with one failure's backoff), but Retry-After says 3 s.
  EXPECT_GE(hits[1] - hits[0], 2900ms);
  // After the success the 1 s interval (±10 %) is back.
  EXPECT_LT(hits[2] - hits[1], 2s);
  EXPECT_GE(hits[2] - hits[1], 850ms);
  const std::string text = MetricsRegistry::Global().RenderPrometheus();
  EXPECT_NE(text.find("newsflow_feed_next_poll_seconds{feed=\"run-loop\"}"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "newsflow_feed_last_success_timestamp_seconds{feed=\"run-loop\"}"),
      std::string::npos);
}

// --- outage detector
// -------------------------------------------------------------

TEST_F(FetchBehaviourTest, LocalOutageDoesNotPushEveryFeedIntoBackoff) {
  // Three distinct hosts, all refusing connections: our network is down.
  std::vector<std::shared_ptr<FeedPoller>> pollers;
  for (const char* host : {"127.0.0.1", "localhost", "127.0.0.2"}) {
    pollers.push_back(Poller(std::string("down-") + host,
                             std::string("http://") + host + ":1/feed"));
  }
  for (auto& p : pollers) ASSERT_FALSE(Poll(*p));
  // The first two were counted before the pattern was clear...
  EXPECT_EQ(State("down-127.0.0.1").consecutive_failures, 1);
  EXPECT_EQ(State("down-localhost").consecutive_failures, 1);
  // ...from the third on, failures during the outage are not held against
  // the feeds: no backoff growth.
  EXPECT_EQ(State("down-127.0.0.2").consecutive_failures, 0);
  for (int round = 0; round < 3; ++round) {
    for (auto& p : pollers) ASSERT_FALSE(Poll(*p));
  }
  EXPECT_EQ(State("down-127.0.0.1").consecutive_failures, 1);
  EXPECT_EQ(pollers[0]->PlannedDelay(), 120s);
  EXPECT_EQ(pollers[2]->PlannedDelay(), 60s);
}

TEST_F(FetchBehaviourTest, OneBrokenHostStillBacksOff) {
  auto p = Poller("alone", "http://127.0.0.1:1/feed");
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Poll(*p));
  EXPECT_EQ(State("alone").consecutive_failures, 4);
  EXPECT_EQ(p->PlannedDelay(), 960s);
}

// --- politeness, credentials and the SSRF guard
// -----------------------------------

TEST_F(FetchBehaviourTest, PerFeedCookiesAuthAndUserAgent) {
  LoopbackHttpServer server(
      [](const TestRequest&) { return Feed(Rss("auth")); });
  FeedConfig feed;
  feed.name = "auth";
  feed.url = server.base_url() + "/feed";
  feed.full_article = FullArticleMode::kNever;
  feed.cookies = "sid=42";
  feed.user_agent = "custom-agent/1";
  // What `auth: {type: basic, username: u, password: p}` loads as.
  feed.headers = {{"X-Token", "t"}, {"Authorization", "Basic dTpw"}};
  auto poller = Poller(feed);
  ASSERT_TRUE(Poll(*poller));
  auto req = server.requests().at(0);
  EXPECT_EQ(req.Header("cookie"), "sid=42");
  EXPECT_EQ(req.Header("authorization"), "Basic dTpw");
  EXPECT_EQ(req.Header("user-agent"), "custom-agent/1");
  EXPECT_EQ(req.Header("x-token"), "t");
}

std::string TeaserFeed(const std::string& page_url) {
  return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
         "<link>http://example.org/</link><item><guid>urn:teaser</guid>"
         "<title>Teaser</title><link>" +
         page_url +
         "</link><description>Read more</description></item></channel></rss>";
}

TEST_F(FetchBehaviourTest, FeedCredentialsNeverReachLinkedPages) {
  LoopbackHttpServer proxy([](const TestRequest& req) {
    if (req.path == "/feed") {
      return Feed(TeaserFeed("http://other-site.example/story"));
    }
    TestResponse r;
    r.headers.emplace_back("Content-Type", "text/html");
    r.body = "<html><body><article><p>" + std::string(500, 'q') +
             " page</p></article></body></html>";
    return r;
  });
  FeedConfig feed;
  feed.name = "creds";
  feed.url = "http://private-feed.example/feed";
  feed.full_article = FullArticleMode::kAlways;
  feed.proxy = proxy.base_url();
  feed.cookies = "sid=1";
  feed.headers = {{"Authorization", "Bearer secret"}, {"X-Keep", "yes"}};
  auto poller = Poller(feed);
  ASSERT_TRUE(Poll(*poller));
  auto reqs = proxy.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer secret");
  EXPECT_EQ(reqs[0].Header("cookie"), "sid=1");
  EXPECT_EQ(reqs[1].host, "other-site.example");
  EXPECT_EQ(reqs[1].Header("authorization"), "");
  EXPECT_EQ(reqs[1].Header("cookie"), "");
  // Configured headers are credentials too (issue 11 item 2).
  EXPECT_EQ(reqs[1].Header("x-keep"), "");
}

TEST_F(FetchBehaviourTest, DefaultUserAgentIsHonest) {
  LoopbackHttpServer server([](const TestRequest&) { return Feed(Rss("ua")); });
  auto poller = Poller("ua", server.base_url() + "/feed");
  ASSERT_TRUE(Poll(*poller));
  EXPECT_NE(server.requests().at(0).Header("user-agent").find("newsflowd/"),
            std::string::npos);
}

TEST_F(FetchBehaviourTest, FeedLinkToLoopbackIsRefusedUnlessAllowed) {
  std::atomic<int> page_hits{0};
  std::unique_ptr<LoopbackHttpServer> server;
  server = std::make_unique<LoopbackHttpServer>([&](const TestRequest& req) {
    if (req.path == "/feed") {
      return Feed(TeaserFeed(
          "http://127.0.0.1:" + std::to_string(server->port()) + "/internal"));
    }
    ++page_hits;
    TestResponse r;
    r.headers.emplace_back("Content-Type", "text/html");
    r.body = "<html><body><article><p>" + std::string(500, 'z') +
             " secret admin page</p></article></body></html>";
    return r;
  });
  // The operator's feed URL is on loopback: that is allowed.
  auto poller =
      Poller("ssrf", server->base_url() + "/feed", FullArticleMode::kAlways);
  auto r = Poll(*poller);
  ASSERT_TRUE(r) << r.error().ToString();
  // The page was never requested; the article falls back to the teaser.
  EXPECT_EQ(page_hits.load(), 0);
  EXPECT_EQ(r->published, 1u);
  EXPECT_EQ(Output().find("secret admin page"), std::string::npos);

  config_.http.allow_private_targets = true;
  auto allowed = Poller("ssrf-allowed", server->base_url() + "/feed",
                        FullArticleMode::kAlways);
  auto a = Poll(*allowed);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(page_hits.load(), 1);
  EXPECT_EQ(a->incomplete, 0u);
  EXPECT_NE(Output().find("secret admin page"), std::string::npos);
}

TEST_F(FetchBehaviourTest, ProxiedFeedAndPagesStillWork) {
  // The integration set-up: every host routed to the loopback server via an
  // operator-configured proxy; the guard must not break it.
  LoopbackHttpServer proxy([](const TestRequest& req) {
    if (req.path == "/feed") {
      return Feed(TeaserFeed("http://frontier-ledger.example/story"));
    }
    TestResponse r;
    r.headers.emplace_back("Content-Type", "text/html");
    r.body = "<html><body><article><p>" + std::string(500, 'w') +
             " the story</p></article></body></html>";
    return r;
  });
  config_.http.proxy = proxy.base_url();
  auto poller = Poller("proxied", "http://frontier-ledger.example/feed",
                       FullArticleMode::kAlways);
  auto r = Poll(*poller);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->incomplete, 0u);
  EXPECT_EQ(proxy.request_count(), 2u);
}

TEST(FetchConfigTest, NewKeysLoad) {
  auto cfg = LoadConfigString(R"(
http:
  min_host_interval: 250ms
  allow_private_targets: true
scheduler:
  min_interval: 1s
  adaptive: false
  unconditional_every: 5
  redirect_move_hits: 2
feeds:
  - name: a
    url: http://example.org/feed
    cookies: "a=1"
    auth: {type: basic, username: me, password: pw}
)",
                              "test.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->http.min_host_interval, 250ms);
  EXPECT_TRUE(cfg->http.allow_private_targets);
  EXPECT_FALSE(cfg->scheduler.adaptive);
  EXPECT_EQ(cfg->scheduler.unconditional_every, 5);
  EXPECT_EQ(cfg->scheduler.redirect_move_hits, 2);
  EXPECT_EQ(cfg->feeds.at(0).cookies, "a=1");
  const auto& headers = cfg->feeds.at(0).headers;
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      std::pair<std::string, std::string>{"Authorization",
                                                          "Basic bWU6cHc="}),
            headers.end());
  auto defaults = LoadConfigString("feeds: []\n", "d.yaml", BuiltinSinks());
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->http.allow_private_targets);
  auto bad = LoadConfigString(
      "feeds:\n  - {name: a, url: http://e.org/, "
      "auth: {type: basic, password: x, username: \"\"}}\n",
      "b.yaml", BuiltinSinks());
  EXPECT_FALSE(bad);
}

}  // namespace
}  // namespace newsflow
