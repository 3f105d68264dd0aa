#include "bench/common/loopback_http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <vector>

namespace newsflow::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  std::string in;
  std::string out;
  size_t out_pos = 0;
  // Slow reply: at most 4 KB per write, the next one 50 ms later.
  bool slow = false;
  Clock::time_point next_write{};
};

// Writes what `c` may send now; false when the peer is gone.
bool Flush(int fd, Conn& c) {
  const auto now = Clock::now();
  while (c.out_pos < c.out.size()) {
    if (c.slow && now < c.next_write) break;
    size_t n = c.out.size() - c.out_pos;
    if (c.slow) n = std::min<size_t>(n, 4096);
    ssize_t w = ::send(fd, c.out.data() + c.out_pos, n, MSG_NOSIGNAL);
    if (w <= 0) return w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    c.out_pos += static_cast<size_t>(w);
    if (c.slow) c.next_write = now + std::chrono::milliseconds(50);
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
    c.out.shrink_to_fit();
    c.slow = false;
  }
  return true;
}

}  // namespace

std::string RequestHeader(const std::string& request, const char* name) {
  // Case-insensitive search of "\r\nName:" in the request head.
  const size_t len = std::strlen(name);
  for (size_t p = request.find("\r\n"); p != std::string::npos;
       p = request.find("\r\n", p + 2)) {
    if (p + 2 + len < request.size() && request[p + 2 + len] == ':' &&
        strncasecmp(request.c_str() + p + 2, name, len) == 0) {
      size_t v = p + 3 + len;
      while (v < request.size() && request[v] == ' ') ++v;
      return request.substr(v, request.find("\r\n", v) - v);
    }
  }
  return "";
}

int ServeLoopbackHttp(const LoopbackServerOptions& options,
                      const LoopbackResponder& respond) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr =
      htonl(options.listen_any ? INADDR_ANY : INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 4096) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  {
    std::ofstream(options.port_file + ".tmp") << ntohs(addr.sin_port) << "\n";
    std::rename((options.port_file + ".tmp").c_str(),
                options.port_file.c_str());
  }
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, Conn> conns;
  std::vector<epoll_event> events(1024);
  char buf[16384];
  auto close_conn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  size_t slow_conns = 0;  // connections with a slow reply pending
  for (;;) {
    // Slow replies go out on a timer; others on readiness.
    int timeout = -1;
    if (slow_conns > 0) {
      const auto now = Clock::now();
      std::vector<int> gone;
      slow_conns = 0;
      for (auto& [fd, c] : conns) {
        if (!c.slow || c.out_pos == c.out.size()) continue;
        if (c.next_write <= now && !Flush(fd, c)) {
          gone.push_back(fd);
          continue;
        }
        if (!c.slow) continue;  // finished by that write
        ++slow_conns;
        const int wait = static_cast<int>(std::max<int64_t>(
            1, std::chrono::duration_cast<std::chrono::milliseconds>(
                   c.next_write - now)
                   .count()));
        timeout = timeout < 0 ? wait : std::min(timeout, wait);
      }
      for (int fd : gone) close_conn(fd);
    }
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()),
                         timeout);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
          if (c < 0) break;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          conns.emplace(c, Conn{});
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      bool dead = false;
      for (;;) {  // edge-triggered: drain
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) dead = true;
        break;
      }
      size_t end;
      while ((end = c.in.find("\r\n\r\n")) != std::string::npos) {
        if (c.out_pos == c.out.size()) {
          c.out.clear();
          c.out_pos = 0;
        }
        LoopbackReply reply = respond(c.in.substr(0, end + 4));
        c.out += reply.bytes;
        if (reply.slow && !c.slow) {
          c.slow = true;
          ++slow_conns;
        }
        c.in.erase(0, end + 4);
      }
      if (!Flush(fd, c)) {
        close_conn(fd);
        continue;
      }
      if (dead && c.out.empty()) close_conn(fd);
    }
  }
}

}  // namespace newsflow::bench
