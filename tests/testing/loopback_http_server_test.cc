#include "tests/testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace newsflow::testing {
namespace {

using namespace std::chrono_literals;

// A blocking client socket connected to the server.
int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until EOF (or the 5 s receive timeout).
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, n);
  return out;
}

TEST(LoopbackHttpServerTest, KeepAliveAbsoluteFormAndClose) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    r.body = req.host + "|" + req.path + "|" + req.query;
    return r;
  });
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  std::string two =
      "GET /a?x=1 HTTP/1.1\r\nHost: origin.test\r\n\r\n"
      "GET http://proxied.example/b/c?y=2 HTTP/1.1\r\nHost: proxied.example"
      "\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, two.data(), two.size(), 0),
            static_cast<ssize_t>(two.size()));
  // Both answers arrive on the one connection, then the server closes it.
  std::string got = ReadAll(fd);
  ::close(fd);
  EXPECT_NE(got.find("Content-Length: 18\r\n\r\norigin.test|/a|x=1"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("Connection: close\r\n\r\nproxied.example|/b/c|y=2"),
            std::string::npos)
      << got;
  EXPECT_EQ(server.request_count(), 2u);
  EXPECT_EQ(server.connection_count(), 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "http://proxied.example/b/c?y=2");
  EXPECT_EQ(reqs[1].Header("CONNECTION"), "close");
}

TEST(LoopbackHttpServerTest, ShutsDownPromptlyWithSlowAndIdleClients) {
  auto server = std::make_unique<LoopbackHttpServer>([](const TestRequest&) {
    TestResponse r;
    r.body = std::string(100, 'x');
    r.chunk_size = 1;
    r.chunk_delay = 1s;  // would take 100 s
    return r;
  });
  int slow = Connect(server->port());
  int idle = Connect(server->port());
  ASSERT_GE(slow, 0);
  ASSERT_GE(idle, 0);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(slow, req.data(), req.size(), 0);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server->request_count() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(server->request_count(), 1u);
  auto start = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ::close(slow);
  ::close(idle);
}

}  // namespace
}  // namespace newsflow::testing
