// Fetch benchmark: one full poll cycle and one cycle of 304s over N
// distinct feeds served by a loopback server, through newsflow's HttpClient
// (libcurl multi on Asio) + PollFeed (classification and parsing).
//
//   bench_fetch serve FEEDS PORT_FILE   epoll HTTP/1.1 server (keep-alive),
//                                       /feed/<i> = a distinct ~50 KB RSS
//                                       document with ETag "f<i>"; 304 when
//                                       If-None-Match matches.
//   bench_fetch client BASE FEEDS CONCURRENCY HOST_CONNECTIONS
//                                       prints one JSON line per cycle.
//
// The server runs in its own process so the client's RSS and CPU are its
// own. Timings are printed, never asserted.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/common/http/http_client.h"
#include "connectors/sources/feed/feed_source.h"

namespace {

// --- server -----------------------------------------------------------------

std::string Filler() {
  static const char* kWords[] = {"market",   "council", "report",   "river",
                                 "season",   "budget",  "station",  "harvest",
                                 "engineer", "archive", "frontier", "ledger"};
  std::string s;
  for (int i = 0; s.size() < 2300; ++i) {
    s += kWords[(i * 7) % 12];
    s += (i % 13 == 12) ? ". " : " ";
  }
  return s;
}

std::string FeedBody(int feed) {
  static const std::string filler = Filler();
  const std::string n = std::to_string(feed);
  std::string xml;
  xml.reserve(52 << 10);
  xml +=
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss "
      "version=\"2.0\"><channel><title>Feed " +
      n + "</title><link>http://example.org/" + n +
      "/</link><description>Loopback feed " + n + "</description>\n";
  for (int i = 0; i < 20; ++i) {
    const std::string id = n + "/" + std::to_string(i);
    xml += "<item><title>Story " + id + "</title><link>http://example.org/" +
           id + "</link><guid isPermaLink=\"false\">urn:bench:" + id +
           "</guid><pubDate>Thu, 09 Oct 2025 " + std::to_string(10 + i % 10) +
           ":00:00 GMT</pubDate><description>&lt;p&gt;Story " + id + ": " +
           filler + "&lt;/p&gt;</description></item>\n";
  }
  xml += "</channel></rss>\n";
  return xml;
}

struct Conn {
  std::string in;
  std::string out;
  size_t out_pos = 0;
};

std::string Respond(const std::string& request, int feeds) {
  // Request line: GET /feed/<i> HTTP/1.1
  int feed = -1;
  const size_t p = request.find("/feed/");
  if (p != std::string::npos && p < request.find('\n'))
    feed = std::atoi(request.c_str() + p + 6);
  if (feed < 0 || feed >= feeds) {
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  }
  const std::string etag = "\"f" + std::to_string(feed) + "\"";
  size_t inm = request.find("If-None-Match: ");
  if (inm == std::string::npos) inm = request.find("if-none-match: ");
  if (inm != std::string::npos &&
      request.compare(inm + 15, etag.size(), etag) == 0) {
    return "HTTP/1.1 304 Not Modified\r\nETag: " + etag + "\r\n\r\n";
  }
  const std::string body = FeedBody(feed);
  return "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: " +
         etag + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

int Serve(int feeds, const char* port_file) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 4096) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  {
    std::ofstream(std::string(port_file) + ".tmp")
        << ntohs(addr.sin_port) << "\n";
    std::rename((std::string(port_file) + ".tmp").c_str(), port_file);
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
  for (;;) {
    int n =
        ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
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
        c.out += Respond(c.in.substr(0, end + 4), feeds);
        c.in.erase(0, end + 4);
      }
      while (c.out_pos < c.out.size()) {
        ssize_t w =
            ::write(fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos);
        if (w <= 0) break;
        c.out_pos += static_cast<size_t>(w);
      }
      if (c.out_pos == c.out.size()) {
        c.out.clear();
        c.out_pos = 0;
        c.out.shrink_to_fit();
      }
      if (dead && c.out.empty()) close_conn(fd);
    }
  }
}

// --- client
// -------------------------------------------------------------------

double CpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double PeakRssMb() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

int Client(const std::string& base, int feeds, size_t concurrency,
           long host_connections) {
  using namespace newsflow;
  boost::asio::io_context io(1);
  HttpClientOptions options;
  options.max_concurrent = concurrency;
  options.max_host_connections = host_connections;
  options.min_host_interval = std::chrono::milliseconds(0);
  HttpClient client(io, options);
  std::vector<FeedValidators> validators(static_cast<size_t>(feeds));

  for (int cycle = 1; cycle <= 2; ++cycle) {
    int next = 0, done = 0, ok = 0, not_modified = 0, failed = 0;
    size_t items = 0, bytes = 0;
    std::string first_error;
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = CpuSeconds();
    // Keep `concurrency` polls outstanding: the client's FIFO would hold
    // all of them otherwise (bounded memory is part of what we measure).
    std::function<void()> launch = [&] {
      while (next < feeds && next - done < static_cast<int>(concurrency)) {
        const int i = next++;
        FeedPollRequest req;
        req.feed_name = "f" + std::to_string(i);
        req.http.url = base + "/feed/" + std::to_string(i);
        req.http.allow_private_targets = true;  // loopback server
        req.previous = validators[static_cast<size_t>(i)];
        PollFeed(client, std::move(req), [&, i](Result<FeedPollResult> r) {
          ++done;
          if (!r) {
            ++failed;
            if (first_error.empty()) first_error = r.error().ToString();
          } else {
            validators[static_cast<size_t>(i)] = r->validators;
            bytes += r->body_bytes;
            if (r->status == FeedPollStatus::kNew) {
              ++ok;
              items += r->feed.items.size();
            } else {
              ++not_modified;
            }
          }
          launch();
        });
      }
    };
    launch();
    while (done < feeds) {
      io.run_one_for(std::chrono::milliseconds(100));
      if (io.stopped()) io.restart();  // ran out of work between cycles
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    const double cpu = CpuSeconds() - cpu0;
    std::printf(
        "{\"tool\":\"newsflow\",\"cycle\":%d,\"feeds\":%d,\"parsed\":%d,\"not_"
        "modified\":%d,"
        "\"failed\":%d,\"items\":%zu,\"bytes\":%zu,\"wall_s\":%.3f,\"cpu_s\":%."
        "3f,"
        "\"feeds_per_s\":%.1f,\"peak_rss_mb\":%.1f,\"first_error\":\"%s\"}\n",
        cycle, feeds, ok, not_modified, failed, items, bytes, wall, cpu,
        feeds / wall, PeakRssMb(), first_error.substr(0, 120).c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "serve") == 0) {
    return Serve(std::atoi(argv[2]), argv[3]);
  }
  if (argc == 6 && std::strcmp(argv[1], "client") == 0) {
    return Client(argv[2], std::atoi(argv[3]),
                  static_cast<size_t>(std::atoi(argv[4])), std::atol(argv[5]));
  }
  std::fprintf(
      stderr,
      "usage: bench_fetch serve FEEDS PORT_FILE\n"
      "       bench_fetch client BASE FEEDS CONCURRENCY HOST_CONNECTIONS\n");
  return 2;
}
