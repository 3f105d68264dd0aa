// nf_fixture_server: serves files over HTTP on 127.0.0.1 for the demo script
// and the daemon's integration test.
//
//   nf_fixture_server --route PATH=FILE [--route PATH=FILE ...] [--port N]
//
// Routes match the request path, ignoring the query string and the host, so
// the server works both as the origin and as an HTTP proxy. Answers 404 for
// unknown paths and 304 when If-None-Match matches the file's ETag. The first
// stdout line is "listening 127.0.0.1:PORT"; one stderr line per request.
// Runs until SIGTERM or SIGINT.

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/testing/loopback_http_server.h"

namespace {

using newsflow::testing::LoopbackHttpServer;
using newsflow::testing::TestRequest;
using newsflow::testing::TestResponse;

std::string ContentType(const std::string& file) {
  auto ends_with = [&](const char* ext) {
    std::string e(ext);
    return file.size() >= e.size() &&
           file.compare(file.size() - e.size(), e.size(), e) == 0;
  };
  if (ends_with(".xml") || ends_with(".rss")) {
    return "application/rss+xml; charset=utf-8";
  }
  if (ends_with(".atom")) return "application/atom+xml; charset=utf-8";
  if (ends_with(".html") || ends_with(".htm")) {
    return "text/html; charset=utf-8";
  }
  if (ends_with(".json")) return "application/feed+json";
  return "application/octet-stream";
}

// FNV-1a 64: a stable content hash, enough for a test ETag.
std::string ETagOf(const std::string& data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"",
                static_cast<unsigned long long>(h));
  return buf;
}

std::string HttpDate(time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

int Usage() {
  std::fprintf(stderr,
               "usage: nf_fixture_server --route PATH=FILE [--route ...] "
               "[--port N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> routes;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--route" && i + 1 < argc) {
      std::string spec = argv[++i];
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) return Usage();
      routes[spec.substr(0, eq)] = spec.substr(eq + 1);
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
      if (port < 0 || port > 65535) return Usage();
    } else {
      return Usage();
    }
  }
  for (const auto& [path, file] : routes) {
    std::ifstream probe(file, std::ios::binary);
    if (!probe) {
      std::fprintf(stderr, "nf_fixture_server: cannot read %s\n", file.c_str());
      return 1;
    }
  }

  // Block the stop signals before any thread starts so that only sigwait()
  // below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto handler = [&routes](const TestRequest& req) {
    TestResponse resp;
    auto it = routes.find(req.path);
    std::string body;
    struct stat st {};
    if (it != routes.end() && ::stat(it->second.c_str(), &st) == 0) {
      std::ifstream in(it->second, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      body = ss.str();
    } else {
      it = routes.end();
    }
    if (it == routes.end()) {
      resp.status = 404;
      resp.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      resp.body = "not found\n";
    } else {
      std::string etag = ETagOf(body);
      std::string last_modified = HttpDate(st.st_mtime);
      resp.headers.emplace_back("ETag", etag);
      resp.headers.emplace_back("Last-Modified", last_modified);
      std::string inm = req.Header("if-none-match");
      std::string ims = req.Header("if-modified-since");
      if ((!inm.empty() && (inm == etag || inm == "*")) ||
          (inm.empty() && !ims.empty() && ims == last_modified)) {
        resp.status = 304;
      } else {
        resp.headers.emplace_back("Content-Type", ContentType(it->second));
        resp.body = std::move(body);
      }
    }
    std::fprintf(stderr, "%s %s host=%s -> %d %zu\n", req.method.c_str(),
                 req.target.c_str(), req.host.c_str(), resp.status,
                 resp.body.size());
    return resp;
  };

  try {
    LoopbackHttpServer server(handler, static_cast<uint16_t>(port));
    std::printf("listening 127.0.0.1:%u\n", server.port());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "nf_fixture_server: signal %d, stopping\n", sig);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nf_fixture_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
