#pragma once

// LoopbackHttpServer: a real HTTP/1.1 server on 127.0.0.1 for tests, built
// on POSIX sockets and one thread per connection (no Asio). It serves
// keep-alive connections, `Connection: close`, and requests in origin form
// (`GET /path`) as well as absolute form (`GET http://host/path`, i.e. the
// server used as an HTTP proxy), so a test can route any host name to it.
//
// Threading: `handler` runs on the connection threads, possibly several at
// once; it must be thread-safe. All public methods are thread-safe.
// The destructor stops accepting, unblocks and joins every connection
// thread (slow bodies and idle keep-alive clients included).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace newsflow::testing {

struct TestRequest {
  std::string method;
  std::string target;   // as sent: path?query, or absolute URI via a proxy
  std::string path;     // without query (and without scheme/authority)
  std::string query;    // after '?', without it
  std::string host;     // authority of an absolute target, else Host header
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // as sent
  std::string body;

  // First value of the header (case-insensitive), or "" when absent.
  std::string Header(std::string_view lower_name) const;
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Compress the body with gzip and add Content-Encoding: gzip.
  bool gzip = false;
  // Compress with brotli / zstd instead (Content-Encoding: br / zstd).
  bool brotli = false;
  bool zstd = false;
  // Send the body with Transfer-Encoding: chunked (no Content-Length).
  bool chunked = false;
  // Slow body: when chunk_size > 0 the body goes out in pieces of
  // chunk_size bytes, each preceded by chunk_delay.
  std::chrono::milliseconds chunk_delay{0};
  size_t chunk_size = 0;
  // Send the headers and half of the body, then reset (RST via SO_LINGER 0).
  bool reset_after_headers = false;
  // Read the request, then close the connection without answering.
  bool close_without_response = false;
  // Close the connection after this response even if the client keeps alive.
  bool close_after = false;
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class LoopbackHttpServer {
 public:
  // Listens on `address`:`port` (0: an ephemeral port). `address` is any
  // of 127/8, all loopback (127.0.0.2 etc. give distinct hosts). Throws
  // std::system_error when the socket cannot be bound, std::invalid_argument
  // for an address outside 127/8 (test edge only).
  explicit LoopbackHttpServer(TestHandler handler, uint16_t port = 0,
                              std::string address = "127.0.0.1");
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string base_url() const;  // "http://ADDRESS:PORT"
  size_t request_count() const;
  std::vector<TestRequest> requests() const;
  // Connections accepted so far.
  size_t connection_count() const;

  // Upper bound on connections served at once; more get a 503 and close.
  static constexpr size_t kMaxConnections = 128;

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    bool done = false;
  };

  void AcceptLoop();
  void Serve(Connection* conn);
  // Sleeps for `d` unless the server stops; false when stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds d);
  void CloseConnection(Connection* conn, bool reset);
  void ReapFinished();

  TestHandler handler_;
  std::string address_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::list<Connection> connections_;
  std::vector<TestRequest> requests_;
  size_t connection_count_ = 0;
};

}  // namespace newsflow::testing
