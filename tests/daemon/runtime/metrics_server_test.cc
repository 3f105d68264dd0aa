// MetricsServer against a real socket: a plain POSIX client on 127.0.0.1
// talks HTTP/1.1 to the server running on an io_context thread.

#include "daemon/runtime/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

// Sends `request` verbatim and reads until the server closes.
std::string RawExchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Get(uint16_t port, const std::string& path) {
  return RawExchange(
      port,
      "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void StartServer(MetricsServerProbes probes,
                   const std::string& listen = "127.0.0.1:0") {
    auto s = MetricsServer::Start(io_, listen, registry_, std::move(probes));
    ASSERT_TRUE(s) << s.error().ToString();
    server_ = std::move(*s);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      if (server_) server_->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    work_.reset();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_{io_.get_executor()};
  MetricsRegistry registry_;
  std::unique_ptr<MetricsServer> server_;
  std::thread thread_;
};

TEST_F(MetricsServerTest, ServesPrometheusTextAfterCollect) {
  std::atomic<int> collects{0};
  MetricsServerProbes probes;
  probes.collect = [&] {
    ++collects;
    registry_.GetGauge("newsflow_test_gauge", "A test gauge.").Set(42);
  };
  registry_
      .GetCounter("newsflow_test_total", "A test counter.", {{"feed", "a"}})
      .Inc(3);
  StartServer(probes);
  const std::string r = Get(server_->port(), "/metrics");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("newsflow_test_total{feed=\"a\"} 3\n"), std::string::npos)
      << r;
  EXPECT_NE(r.find("newsflow_test_gauge 42\n"), std::string::npos) << r;
  EXPECT_EQ(collects.load(), 1);
}

TEST_F(MetricsServerTest, HealthAndReadinessFollowProbes) {
  std::atomic<bool> live{true};
  std::atomic<bool> ready{false};
  MetricsServerProbes probes;
  probes.live = [&] { return live.load(); };
  probes.ready = [&]() -> std::optional<std::string> {
    if (ready) return std::nullopt;
    return "sink unhealthy";
  };
  StartServer(probes);
  const uint16_t port = server_->port();
  EXPECT_EQ(Get(port, "/healthz").rfind("HTTP/1.1 200 OK", 0), 0u);
  std::string r = Get(port, "/readyz");
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable", 0), 0u) << r;
  EXPECT_NE(r.find("not ready: sink unhealthy"), std::string::npos) << r;
  ready = true;
  r = Get(port, "/readyz");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nready\n"), std::string::npos) << r;
  live = false;
  r = Get(port, "/healthz");
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
}

TEST_F(MetricsServerTest, UnknownPathsMethodsAndGarbage) {
  StartServer({});
  const uint16_t port = server_->port();
  EXPECT_EQ(Get(port, "/nope").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(RawExchange(port,
                        "POST /metrics HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 0\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 405", 0),
            0u);
  // Malformed request: the connection is closed without a crash, and the
  // server keeps answering.
  EXPECT_EQ(RawExchange(port, "\x01\x02 garbage\r\n\r\n"), "");
  EXPECT_EQ(Get(port, "/healthz").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(MetricsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer({});
  const std::string two =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string r = RawExchange(server_->port(), two);
  EXPECT_NE(r.find("ok\n"), std::string::npos) << r;
  EXPECT_NE(r.find("ready\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("HTTP/1.1 200"), 0u);
  EXPECT_NE(r.find("HTTP/1.1 200", 1), std::string::npos) << r;
}

TEST(MetricsServerStartTest, BadAddressesFail) {
  boost::asio::io_context io;
  MetricsRegistry registry;
  EXPECT_FALSE(MetricsServer::Start(io, "no-port", registry, {}));
  // An address that is in use cannot be bound twice.
  auto first = MetricsServer::Start(io, "127.0.0.1:0", registry, {});
  ASSERT_TRUE(first);
  auto second = MetricsServer::Start(
      io, "127.0.0.1:" + std::to_string((*first)->port()), registry, {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace newsflow
