// Fetch benchmark: one full poll cycle and one cycle of 304s over N
// distinct feeds served by a loopback server, through newsflow's HttpClient
// (libcurl multi on Asio) + PollFeed (classification and parsing).
//
//   bench_fetch serve FEEDS PORT_FILE [adversarial]
//                                       loopback HTTP/1.1 server (keep-alive,
//                                       bench/common),
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

#include <sys/resource.h>
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
#include <vector>

#include "bench/common/loopback_http_server.h"
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

bool g_adversarial = false;

newsflow::bench::LoopbackReply Respond(const std::string& request, int feeds) {
  // Request line: GET /feed/<i> HTTP/1.1
  int feed = -1;
  const size_t p = request.find("/feed/");
  if (p != std::string::npos && p < request.find('\n'))
    feed = std::atoi(request.c_str() + p + 6);
  if (feed < 0 || feed >= feeds) {
    return {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"};
  }
  const std::string etag = "\"f" + std::to_string(feed) + "\"";
  size_t inm = request.find("If-None-Match: ");
  if (inm == std::string::npos) inm = request.find("if-none-match: ");
  if (inm != std::string::npos &&
      request.compare(inm + 15, etag.size(), etag) == 0) {
    return {"HTTP/1.1 304 Not Modified\r\nETag: " + etag + "\r\n\r\n"};
  }
  std::string body;
  std::string encoding;
  bool slow = false;
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
        slow = true;
        break;
    }
  }
  return {
      "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: " + etag +
          "\r\n" + encoding + "Content-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body,
      slow};
}

int Serve(int feeds, const char* port_file) {
  newsflow::bench::LoopbackServerOptions options;
  options.port_file = port_file;
  return newsflow::bench::ServeLoopbackHttp(
      options,
      [feeds](const std::string& request) { return Respond(request, feeds); });
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
