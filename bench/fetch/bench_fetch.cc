// Fetch benchmark: one full poll cycle and one cycle of 304s over N
// distinct feeds served by a loopback server, through newsflow's HttpClient
// (libcurl multi on Asio) + PollFeed (classification and parsing).
//
//   bench_fetch serve FEEDS PORT_FILE [adversarial]
//                                       epoll HTTP/1.1 server (keep-alive),
//                                       /feed/<i> = a distinct ~50 KB RSS
//                                       document with ETag "f<i>"; 304 when
//                                       If-None-Match matches. With
//                                       `adversarial` (bench/memory): the
//                                       size mix of AdversarialKind().
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
#include <zlib.h>

#include <algorithm>
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

// bench/memory's mix, by feed number (per 100 feeds): 80 tiny (one item,
// ~0.5 KB), 14 of ~1 MiB, 1 just under max_body_bytes' default (15.5 MiB),
// 2 gzip bombs (~16 KB on the wire, 64 MiB inflated: past the 16 MiB cap),
// 3 slow bodies (64 KB in 4 KB pieces 50 ms apart, ~0.8 s each).
enum class Kind { kTiny, kMiB, kNearMax, kBomb, kSlow };

Kind AdversarialKind(int feed) {
  const int k = feed % 100;
  if (k < 80) return Kind::kTiny;
  if (k < 94) return Kind::kMiB;
  if (k < 95) return Kind::kNearMax;
  if (k < 97) return Kind::kBomb;
  return Kind::kSlow;
}

// One item, then `pad` bytes of an XML comment (skipped by the parser).
std::string PaddedFeed(int feed, size_t pad) {
  const std::string n = std::to_string(feed);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss "
      "version=\"2.0\"><channel><title>Feed " +
      n + "</title><link>http://example.org/" + n +
      "/</link><item><title>Story " + n + "</title><link>http://example.org/" +
      n + "/1</link><guid isPermaLink=\"false\">urn:adv:" + n +
      "</guid><description>Story " + n +
      " in a few words.</description></item>";
  if (pad > 0) {
    xml.reserve(xml.size() + pad + 32);
    xml += "<!-- ";
    xml.append(pad, 'x');
    xml += " -->";
  }
  return xml + "</channel></rss>\n";
}

// A valid feed whose gzip (~64 KB) inflates to 64 MiB.
const std::string& GzipBomb() {
  static const std::string bomb = [] {
    std::string plain = PaddedFeed(0, 0);
    plain.insert(plain.find("</channel>"), std::string(size_t{64} << 20, ' '));
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, plain.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }();
  return bomb;
}

struct Conn {
  std::string in;
  std::string out;
  size_t out_pos = 0;
  // Slow body: at most 4 KB per write, the next one 50 ms later.
  bool slow = false;
  std::chrono::steady_clock::time_point next_write{};
};

bool g_adversarial = false;

std::string Respond(const std::string& request, int feeds, bool* slow) {
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
  std::string body;
  std::string encoding;
  if (!g_adversarial) {
    body = FeedBody(feed);
  } else {
    switch (AdversarialKind(feed)) {
      case Kind::kTiny:
        body = PaddedFeed(feed, 0);
        break;
      case Kind::kMiB:
        body = PaddedFeed(feed, size_t{1} << 20);
        break;
      case Kind::kNearMax:
        body = PaddedFeed(feed, (size_t{31} << 19) - 512);  // ~15.5 MiB
        break;
      case Kind::kBomb:
        body = GzipBomb();
        encoding = "Content-Encoding: gzip\r\n";
        break;
      case Kind::kSlow:
        body = PaddedFeed(feed, size_t{64} << 10);
        *slow = true;
        break;
    }
  }
  return "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: " +
         etag + "\r\n" + encoding +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Writes what `c` may send now; false when the peer is gone.
bool Flush(int fd, Conn& c) {
  const auto now = std::chrono::steady_clock::now();
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
    // Slow bodies go out on a timer; others on readiness.
    int timeout = -1;
    const auto now = std::chrono::steady_clock::now();
    std::vector<int> gone;
    for (auto& [fd, c] : conns) {
      if (!c.slow || c.out_pos == c.out.size()) continue;
      if (c.next_write <= now && !Flush(fd, c)) {
        gone.push_back(fd);
        continue;
      }
      if (!c.slow) continue;  // finished by that write
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                            c.next_write - now)
                            .count();
      timeout =
          timeout < 0
              ? static_cast<int>(std::max<int64_t>(1, wait))
              : std::min(timeout, static_cast<int>(std::max<int64_t>(1, wait)));
    }
    for (int fd : gone) close_conn(fd);
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
        bool slow = false;
        c.out += Respond(c.in.substr(0, end + 4), feeds, &slow);
        c.slow = c.slow || slow;
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
  if ((argc == 4 || argc == 5) && std::strcmp(argv[1], "serve") == 0) {
    g_adversarial = argc == 5 && std::strcmp(argv[4], "adversarial") == 0;
    if (g_adversarial) (void)GzipBomb();  // built once, before serving
    return Serve(std::atoi(argv[2]), argv[3]);
  }
  if (argc == 6 && std::strcmp(argv[1], "client") == 0) {
    return Client(argv[2], std::atoi(argv[3]),
                  static_cast<size_t>(std::atoi(argv[4])), std::atol(argv[5]));
  }
  std::fprintf(
      stderr,
      "usage: bench_fetch serve FEEDS PORT_FILE [adversarial]\n"
      "       bench_fetch client BASE FEEDS CONCURRENCY HOST_CONNECTIONS\n");
  return 2;
}
