// SSRF guard, per-host politeness (connection cap, request rate) and
// per-request credentials of HttpClient, against a real loopback server.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "connectors/common/http/http_client.h"
#include "daemon/core/text_util.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;
using Clock = std::chrono::steady_clock;

template <class Pred>
bool RunUntil(boost::asio::io_context& io, Pred done,
              std::chrono::milliseconds limit = 10s) {
  auto deadline = Clock::now() + limit;
  while (!done() && Clock::now() < deadline) {
    io.run_one_for(20ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

Result<HttpResponse> Get(boost::asio::io_context& io, HttpClient& client,
                         HttpRequest req) {
  std::optional<Result<HttpResponse>> out;
  client.Fetch(std::move(req),
               [&](Result<HttpResponse> r) { out = std::move(r); });
  EXPECT_TRUE(RunUntil(io, [&] { return out.has_value(); }));
  if (!out) return Error(Errc::kInternal, "test: no callback");
  return std::move(*out);
}

HttpRequest Req(std::string url) {
  HttpRequest r;
  r.url = std::move(url);
  // The test servers are on loopback; the SSRF guard is on by default.
  r.allow_private_targets = true;
  return r;
}

TestResponse Ok(const TestRequest&) {
  TestResponse r;
  r.body = "hello";
  return r;
}

TEST(IsPrivateAddressTest, ClassifiesAddresses) {
  for (const char* ip :
       {"127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
        "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
        "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1",
        // IPv4-compatible, 6to4 and Teredo forms of
        // private IPv4 (hostile issue 11 item 3).
        "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",
        "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::5",
        "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:db8::1", "100::1",
        "not-an-ip"}) {
    EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
  }
  for (const char* ip :
       {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34",
        "2606:4700::1111", "::ffff:8.8.8.8", "::8.8.8.8", "2002:808:808::1",
        "2001:4860:4860::8888"}) {
    EXPECT_FALSE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(SsrfGuardTest, LoopbackTargetIsBlockedBeforeAnyRequest) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  HttpRequest req = Req(server.base_url() + "/admin");
  req.allow_private_targets = false;
  auto r = Get(io, client, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kBlocked) << r.error().ToString();
  EXPECT_NE(r.error().message().find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(server.connection_count(), 0u);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(SsrfGuardTest, NameResolvingToLoopbackIsBlockedAfterDns) {
  // "localhost" is checked by the address it resolves to, not by name.
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  HttpRequest req =
      Req("http://localhost:" + std::to_string(server.port()) + "/x");
  req.allow_private_targets = false;
  auto r = Get(io, client, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kBlocked) << r.error().ToString();
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(SsrfGuardTest, ReusedConnectionToPrivatePeerIsStillBlocked) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  // An operator-configured fetch opens a keep-alive connection...
  auto first = Get(io, client, Req(server.base_url() + "/feed"));
  ASSERT_TRUE(first) << first.error().ToString();
  // ...which a feed link to the same host must not ride on.
  HttpRequest req = Req(server.base_url() + "/internal");
  req.allow_private_targets = false;
  auto r = Get(io, client, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kBlocked) << r.error().ToString();
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(SsrfGuardTest, RedirectToPrivatePeerIsBlocked) {
  // A public-looking name behind the proxy redirects to a literal loopback
  // address; the hop is refused before its request is sent.
  LoopbackHttpServer proxy([](const TestRequest& req) {
    TestResponse r;
    if (req.host == "news.example") {
      r.status = 302;
      r.headers.emplace_back("Location", "http://127.0.0.1:9/secret");
    } else {
      r.body = "secret";
    }
    return r;
  });
  boost::asio::io_context io;
  HttpClient client(io);
  HttpRequest req = Req("http://news.example/story");
  req.proxy = proxy.base_url();
  req.allow_private_targets = false;
  auto r = Get(io, client, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kBlocked) << r.error().ToString();
  EXPECT_EQ(proxy.request_count(), 1u);
}

TEST(SsrfGuardTest, ProxiedHostNameIsAllowedAndGuardCanBeDisabled) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  // Through the operator's proxy (itself on loopback) a host name passes.
  HttpRequest proxied = Req("http://frontier-ledger.example/a");
  proxied.proxy = server.base_url();
  proxied.allow_private_targets = false;
  auto a = Get(io, client, proxied);
  ASSERT_TRUE(a) << a.error().ToString();
  // With the guard off (operator allows private targets) loopback works.
  auto b = Get(io, client, Req(server.base_url() + "/b"));
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(b->body, "hello");
}

TEST(PolitenessTest, PerHostConnectionCapHoldsUnderLoad) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  LoopbackHttpServer server([&](const TestRequest&) {
    int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(50ms);
    --in_flight;
    return Ok({});
  });
  boost::asio::io_context io;
  HttpClient client(io, {.max_concurrent = 64, .max_host_connections = 2});
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    client.Fetch(Req(server.base_url() + "/" + std::to_string(i)),
                 [&](Result<HttpResponse> r) {
                   EXPECT_TRUE(r);
                   ++done;
                 });
  }
  ASSERT_TRUE(RunUntil(
      io, [&] { return done == 10; }, 20s));
  EXPECT_LE(max_in_flight.load(), 2);
  EXPECT_LE(server.connection_count(), 2u);
}

TEST(PolitenessTest, PerHostRateSpacesRequestStarts) {
  std::mutex mu;
  std::vector<Clock::time_point> starts;
  LoopbackHttpServer server([&](const TestRequest&) {
    std::lock_guard lock(mu);
    starts.push_back(Clock::now());
    return Ok({});
  });
  boost::asio::io_context io;
  HttpClient client(io, {.max_concurrent = 64,
                         .max_host_connections = 4,
                         .min_host_interval = 150ms});
  int done = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) {
    client.Fetch(Req(server.base_url() + "/" + std::to_string(i)),
                 [&](Result<HttpResponse> r) {
                   EXPECT_TRUE(r);
                   ++done;
                 });
  }
  EXPECT_EQ(client.Active(), 4u);
  ASSERT_TRUE(RunUntil(io, [&] { return done == 4; }));
  EXPECT_GE(Clock::now() - t0, 440ms);
  std::lock_guard lock(mu);
  ASSERT_EQ(starts.size(), 4u);
  std::sort(starts.begin(), starts.end());
  // The i-th request may not reach the server before t0 + i x 150 ms. (Gaps
  // between arrivals are not compared: under load one late arrival makes
  // the next gap short although the client spaced its sends.)
  for (size_t i = 1; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - t0, i * 150ms) << i;
  }
}

// total_timeout caps the time on the wire: a request queued for its host's
// politeness slot (a feed behind hundreds of others on one host) must not
// time out before it was sent. Before the fix the third request here got a
// 1 ms budget after waiting 1 s for its slot.
TEST(PolitenessTest, WaitingForTheSlotDoesNotCountAgainstTheTimeout) {
  LoopbackHttpServer server([](const TestRequest&) {
    std::this_thread::sleep_for(50ms);
    return Ok({});
  });
  boost::asio::io_context io;
  HttpClient client(io, {.max_concurrent = 64,
                         .max_host_connections = 4,
                         .min_host_interval = 500ms});
  int ok = 0, done = 0;
  std::string last_error;
  for (int i = 0; i < 3; ++i) {
    HttpRequest r = Req(server.base_url() + "/" + std::to_string(i));
    r.total_timeout = 400ms;
    client.Fetch(std::move(r), [&](Result<HttpResponse> res) {
      ++done;
      if (res && res->status == 200) {
        ++ok;
      } else if (!res) {
        last_error = res.error().ToString();
      }
    });
  }
  ASSERT_TRUE(RunUntil(io, [&] { return done == 3; }));
  EXPECT_EQ(ok, 3) << last_error;
}

TEST(PolitenessTest, RateIsPerHostNotGlobal) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io, {.min_host_interval = 2s});
  int done = 0;
  const auto t0 = Clock::now();
  client.Fetch(Req(server.base_url() + "/a"), [&](auto) { ++done; });
  client.Fetch(Req("http://localhost:" + std::to_string(server.port()) + "/b"),
               [&](auto) { ++done; });
  ASSERT_TRUE(RunUntil(io, [&] { return done == 2; }));
  EXPECT_LT(Clock::now() - t0, 1500ms);
}

TEST(PolitenessTest, OneHostKeyForEverySpellingOfAHost) {
  // A browser reads all of these as 127.0.0.1 (URL model, daemon/core/url.h);
  // the client fetches that host and spaces the requests as one host.
  std::mutex mu;
  std::vector<Clock::time_point> starts;
  LoopbackHttpServer server([&](const TestRequest&) {
    std::lock_guard lock(mu);
    starts.push_back(Clock::now());
    return Ok({});
  });
  boost::asio::io_context io;
  HttpClient client(io, {.max_concurrent = 64,
                         .max_host_connections = 4,
                         .min_host_interval = 200ms});
  const std::string port = std::to_string(server.port());
  int done = 0;
  const auto t0 = Clock::now();
  for (const char* host :
       {"127.0.0.1", "127.0.0.1.", "%31%32%37.0.0.1", "0x7f.1"}) {
    client.Fetch(Req(std::string("http://") + host + ":" + port + "/x"),
                 [&, host](Result<HttpResponse> r) {
                   EXPECT_TRUE(r) << host << ": " << r.error().message();
                   ++done;
                 });
  }
  ASSERT_TRUE(RunUntil(io, [&] { return done == 4; }));
  std::lock_guard lock(mu);
  ASSERT_EQ(starts.size(), 4u);
  std::sort(starts.begin(), starts.end());
  // The i-th request may not reach the server before t0 + i x 200 ms (less
  // a timer's slack). Gaps between arrivals are not compared: under load one
  // arrival can be late and the next on time, which says nothing about the
  // client's spacing.
  for (size_t i = 1; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - t0, i * 195ms) << i;
  }
}

TEST(PolitenessTest, RetryAfterPausesTheWholeHost) {
  std::mutex mu;
  std::vector<std::pair<std::string, Clock::time_point>> seen;
  LoopbackHttpServer server([&](const TestRequest& req) {
    {
      std::lock_guard lock(mu);
      seen.emplace_back(req.path, Clock::now());
    }
    TestResponse r;
    if (req.path == "/limited") {
      r.status = 429;
      r.headers.emplace_back("Retry-After", "1");
    }
    return r;
  });
  boost::asio::io_context io;
  HttpClient client(io);  // no per-host rate: only the throttle applies
  auto first = Get(io, client, Req(server.base_url() + "/limited"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 429);
  const auto t0 = Clock::now();
  // Another host is not held back...
  auto other =
      Get(io, client,
          Req("http://localhost:" + std::to_string(server.port()) + "/x"));
  ASSERT_TRUE(other);
  EXPECT_LT(Clock::now() - t0, 500ms);
  // ...but any URL on the throttled host waits for the Retry-After.
  auto second = Get(io, client, Req(server.base_url() + "/other"));
  ASSERT_TRUE(second);
  EXPECT_GE(Clock::now() - t0, 900ms);
  // Capped: a server cannot park a host for longer than max_host_throttle.
  HttpClient capped(io, {.max_host_throttle = std::chrono::seconds(0)});
  auto a = Get(io, capped, Req(server.base_url() + "/limited"));
  const auto t1 = Clock::now();
  auto b = Get(io, capped, Req(server.base_url() + "/other"));
  ASSERT_TRUE(b);
  EXPECT_LT(Clock::now() - t1, 500ms);
}

TEST(PolitenessTest, CancelAllReachesRateDeferredRequests) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io, {.min_host_interval = 10s});
  std::vector<Errc> codes;
  for (int i = 0; i < 3; ++i) {
    client.Fetch(Req(server.base_url() + "/"), [&](Result<HttpResponse> r) {
      codes.push_back(r ? Errc::kInternal : r.error().code());
    });
  }
  client.CancelAll();
  ASSERT_TRUE(RunUntil(
      io, [&] { return codes.size() == 3; }, 3s));
  for (Errc c : codes) EXPECT_EQ(c, Errc::kCancelled);
  EXPECT_EQ(client.Active(), 0u);
}

TEST(CredentialsTest, CookieIsSent) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  HttpRequest req = Req(server.base_url() + "/private");
  req.cookie = "session=abc; theme=dark";
  req.headers = {{"Authorization", "Basic cmVhZGVyOnMzY3JldA=="}};
  auto r = Get(io, client, req);
  ASSERT_TRUE(r) << r.error().ToString();
  TestRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.Header("cookie"), "session=abc; theme=dark");
  EXPECT_EQ(seen.Header("authorization"), "Basic cmVhZGVyOnMzY3JldA==");
}

// A Cookie entry in `headers` and the `cookie` field make one Cookie
// header (RFC 6265 allows only one), not two.
TEST(CredentialsTest, CookieHeaderAndCookieFieldAreOneHeader) {
  LoopbackHttpServer server(Ok);
  boost::asio::io_context io;
  HttpClient client(io);
  HttpRequest req = Req(server.base_url() + "/private");
  req.headers = {{"Cookie", "a=1"}};
  req.cookie = "b=2";
  auto r = Get(io, client, req);
  ASSERT_TRUE(r) << r.error().ToString();
  TestRequest seen = server.requests().at(0);
  size_t cookies = 0;
  for (const auto& [name, value] : seen.headers) {
    cookies += EqualsIgnoreCaseAscii(name, "cookie");
  }
  EXPECT_EQ(cookies, 1u);
  EXPECT_EQ(seen.Header("cookie"), "a=1; b=2");
}

// Credentials belong to the origin they were configured for: a redirect to
// another port (another origin) carries neither the cookie nor the
// Authorization header; a redirect within the origin keeps both.
TEST(CredentialsTest, CookieAndAuthorizationStayWithTheirOrigin) {
  LoopbackHttpServer other(Ok);
  LoopbackHttpServer server([&](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/away") {
      r.status = 302;
      r.headers.emplace_back("Location", other.base_url() + "/landing");
    } else if (req.path == "/here") {
      r.status = 301;
      r.headers.emplace_back("Location", "/landing");
    } else {
      r.body = "home";
    }
    return r;
  });
  boost::asio::io_context io;
  HttpClient client(io);
  for (const char* path : {"/away", "/here"}) {
    HttpRequest req = Req(server.base_url() + path);
    req.cookie = "sid=1";
    req.headers = {{"Authorization", "Bearer secret"}};
    auto r = Get(io, client, req);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_EQ(other.requests()[0].Header("cookie"), "");
  EXPECT_EQ(other.requests()[0].Header("authorization"), "");
  auto same = server.requests();
  ASSERT_EQ(same.size(), 3u);
  EXPECT_EQ(same[2].path, "/landing");
  EXPECT_EQ(same[2].Header("cookie"), "sid=1");
  EXPECT_EQ(same[2].Header("authorization"), "Bearer secret");
}

}  // namespace
}  // namespace newsflow
