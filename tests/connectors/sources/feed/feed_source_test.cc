#include "connectors/sources/feed/feed_source.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

constexpr char kFeed[] =
    "<rss version=\"2.0\"><channel><title>T</title><link>/</link>"
    "<item><guid>g1</guid><title>A</title><link>a.html</link></item>"
    "</channel></rss>";

// A real fetch (curl against a loopback server): the response's
// Content-Location header, not only the request URL, is the parser's base.
TEST(FeedSourceTest, ContentLocationHeaderSetsTheBaseOfARealFetch) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    r.headers.emplace_back("Content-Type", "application/rss+xml");
    if (req.path == "/feed") {
      r.headers.emplace_back("Content-Location", "/news/rss.xml");
    }
    r.body = kFeed;
    return r;
  });
  boost::asio::io_context io(1);
  HttpClient http(io);
  auto poll = [&](const std::string& path) {
    FeedPollRequest request;
    request.feed_name = "cl";
    request.http.url = server.base_url() + path;
    request.http.allow_private_targets = true;  // loopback
    std::optional<Result<FeedPollResult>> out;
    io.restart();  // the previous poll may have run it out of work
    PollFeed(http, request,
             [&](Result<FeedPollResult> r) { out = std::move(r); });
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return out;
  };

  auto with_header = poll("/feed?x=1");
  ASSERT_TRUE(with_header && *with_header)
      << (with_header ? with_header->error().ToString() : "timeout");
  ASSERT_EQ((*with_header)->feed.items.size(), 1u);
  EXPECT_EQ((*with_header)->feed.items[0].link,
            server.base_url() + "/news/a.html");

  auto without = poll("/plain/feed");
  ASSERT_TRUE(without && *without);
  ASSERT_EQ((*without)->feed.items.size(), 1u);
  EXPECT_EQ((*without)->feed.items[0].link,
            server.base_url() + "/plain/a.html");
}

}  // namespace
}  // namespace newsflow
