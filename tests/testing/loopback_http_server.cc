#include "tests/testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <brotli/encode.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "daemon/core/text_util.h"

namespace newsflow::testing {

namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Brotli(const std::string& in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()), '\0');
  size_t size = out.size();
  if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW,
                             BROTLI_MODE_TEXT, in.size(),
                             reinterpret_cast<const uint8_t*>(in.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data()))) {
    return in;
  }
  out.resize(size);
  return out;
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t size =
      ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(size)) return in;
  out.resize(size);
  return out;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
               Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string ToHex(size_t n) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
  return std::string(buf, p);
}

// Parses the request head (request line + headers, without the blank line).
bool ParseHead(std::string_view head, TestRequest& req) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  std::string_view rest =
      eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest =
        e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    req.headers.emplace_back(std::string(Trim(h.substr(0, colon))),
                             std::string(Trim(h.substr(colon + 1))));
  }
  std::string_view path = req.target;
  req.host = req.Header("host");
  size_t scheme = path.find("://");
  if (scheme != std::string_view::npos && path.find('/') > scheme) {
    std::string_view after = path.substr(scheme + 3);
    size_t slash = after.find_first_of("/?");
    req.host = std::string(after.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view("/")
                                           : after.substr(slash);
  }
  size_t q = path.find('?');
  req.path = std::string(path.substr(0, q));
  if (req.path.empty()) req.path = "/";
  req.query =
      q == std::string_view::npos ? "" : std::string(path.substr(q + 1));
  return true;
}

}  // namespace

std::string TestRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCaseAscii(name, lower_name)) return value;
  }
  return {};
}

LoopbackHttpServer::LoopbackHttpServer(TestHandler handler, uint16_t port,
                                       std::string address)
    : handler_(std::move(handler)), address_(std::move(address)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category());
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address_.c_str(), &addr.sin_addr) != 1 ||
      (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
    ::close(listen_fd_);
    throw std::invalid_argument("not a 127/8 address: " + address_);
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
          0 ||
      ::listen(listen_fd_, 512) != 0) {
    int err = errno;
    ::close(listen_fd_);
    throw std::system_error(err, std::generic_category(),
                            "bind " + address_ + ":" + std::to_string(port));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(listen_fd_);
    throw std::system_error(err, std::generic_category(), "pipe");
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  char byte = 1;
  (void)!::write(wake_pipe_[1], &byte, 1);
  accept_thread_.join();
  {
    // Unblock connection threads stuck in recv()/send(); each thread closes
    // its own fd (under mu_) so an fd number is never shut down after reuse.
    std::lock_guard lock(mu_);
    for (Connection& c : connections_) {
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
  for (Connection& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string LoopbackHttpServer::base_url() const {
  return "http://" + address_ + ":" + std::to_string(port_);
}

size_t LoopbackHttpServer::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

std::vector<TestRequest> LoopbackHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t LoopbackHttpServer::connection_count() const {
  std::lock_guard lock(mu_);
  return connection_count_;
}

void LoopbackHttpServer::ReapFinished() {
  std::list<Connection> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& c : finished) c.thread.join();
}

void LoopbackHttpServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, 200);
    ReapFinished();
    if (n < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (n <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    size_t active = 0;
    for (const Connection& c : connections_) active += c.done ? 0 : 1;
    if (stopping_ || active >= kMaxConnections) {
      SendAll(fd,
              "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
      ::close(fd);
      continue;
    }
    ++connection_count_;
    Connection& c = connections_.emplace_back();
    c.fd = fd;
    c.thread = std::thread([this, conn = &c] { Serve(conn); });
  }
}

bool LoopbackHttpServer::SleepUnlessStopping(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void LoopbackHttpServer::CloseConnection(Connection* conn, bool reset) {
  std::lock_guard lock(mu_);
  if (conn->fd < 0) return;
  if (reset) {
    linger lg{1, 0};
    ::setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  ::close(conn->fd);
  conn->fd = -1;
}

void LoopbackHttpServer::Serve(Connection* conn) {
  const int fd = conn->fd;
  std::string buf;
  auto finish = [&](bool reset) {
    CloseConnection(conn, reset);
    std::lock_guard lock(mu_);
    conn->done = true;
  };
  // Reads until `buf` holds at least `want` bytes; false on EOF/error.
  auto fill = [&](size_t want) {
    char tmp[16384];
    while (buf.size() < want) {
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
    return true;
  };

  for (;;) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxHeaderBytes) {
        SendAll(fd,
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n");
        return finish(false);
      }
      if (!fill(buf.size() + 1)) return finish(false);
    }
    TestRequest req;
    if (!ParseHead(std::string_view(buf).substr(0, end), req)) {
      SendAll(fd,
              "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
      return finish(false);
    }
    buf.erase(0, end + 4);
    size_t body_len = 0;
    std::string cl = req.Header("content-length");
    std::from_chars(cl.data(), cl.data() + cl.size(), body_len);
    if (body_len > 0) {
      if (!fill(body_len)) return finish(false);
      req.body = buf.substr(0, body_len);
      buf.erase(0, body_len);
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }

    TestResponse resp = handler_(req);
    if (resp.close_without_response) return finish(false);

    std::string connection = req.Header("connection");
    bool keep_alive = req.version == "HTTP/1.1"
                          ? !EqualsIgnoreCaseAscii(connection, "close")
                          : EqualsIgnoreCaseAscii(connection, "keep-alive");
    keep_alive = keep_alive && !resp.close_after && !resp.reset_after_headers;

    std::string body = resp.gzip     ? Gzip(resp.body)
                       : resp.brotli ? Brotli(resp.body)
                       : resp.zstd   ? Zstd(resp.body)
                                     : std::move(resp.body);
    const bool no_body = req.method == "HEAD" || resp.status == 204 ||
                         resp.status == 304 || resp.status < 200;
    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                       Reason(resp.status) + "\r\n";
    for (const auto& [name, value] : resp.headers) {
      head += name + ": " + value + "\r\n";
    }
    if (resp.gzip) head += "Content-Encoding: gzip\r\n";
    if (resp.brotli) head += "Content-Encoding: br\r\n";
    if (resp.zstd) head += "Content-Encoding: zstd\r\n";
    if (resp.status != 204 && resp.status != 304 && resp.status >= 200) {
      head += resp.chunked
                  ? std::string("Transfer-Encoding: chunked\r\n")
                  : "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    if (!keep_alive) head += "Connection: close\r\n";
    head += "\r\n";
    if (!SendAll(fd, head)) return finish(false);
    if (no_body) body.clear();

    if (resp.reset_after_headers) {
      SendAll(fd, std::string_view(body).substr(0, body.size() / 2));
      // Give the client a moment to read what was sent, then RST.
      SleepUnlessStopping(std::chrono::milliseconds(20));
      return finish(true);
    }

    const bool chunked = resp.chunked && !no_body;
    size_t piece = resp.chunk_size == 0 ? body.size() : resp.chunk_size;
    std::string_view rest = body;
    bool ok = true;
    while (ok && !rest.empty()) {
      if (resp.chunk_size > 0 && resp.chunk_delay.count() > 0 &&
          !SleepUnlessStopping(resp.chunk_delay)) {
        return finish(false);
      }
      std::string_view part = rest.substr(0, piece);
      rest.remove_prefix(part.size());
      ok = chunked ? SendAll(fd, ToHex(part.size()) + "\r\n") &&
                         SendAll(fd, part) && SendAll(fd, "\r\n")
                   : SendAll(fd, part);
    }
    if (ok && chunked) ok = SendAll(fd, "0\r\n\r\n");
    if (!ok || !keep_alive) return finish(false);
  }
}

}  // namespace newsflow::testing
