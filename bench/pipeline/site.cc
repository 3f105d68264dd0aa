// bench_pipeline_site: the loopback news site of bench/pipeline, served by
// bench/common's ServeLoopbackHttp (one epoll thread, keep-alive, answers
// from memory).
//
//   bench_pipeline_site PAGES_DIR FEEDS PORT_FILE
//
// Listens on 0.0.0.0:<ephemeral> (so every 127.x.y.z reaches it: one host
// name per feed without DNS) and writes the port to PORT_FILE.
//   /f/<i>.xml     feed i, RSS 2.0, 20 items. Even i: full-text feed (each
//                  item's content:encoded is a ~3 KB article with a share
//                  bar and a "The post ... appeared first on" footer). Odd
//                  i: teaser feed (one-sentence description; the item's
//                  link is its page).
//   /p/<i>/<j>     page of item j of feed i: the corpus page number
//                  (20 * i + j) mod (pages in PAGES_DIR), each under its
//                  own URL.
// Item links use the request's Host, so a feed on 127.0.3.7 links pages on
// 127.0.3.7. Timings are never measured here.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/loopback_http_server.h"
#include "bench/common/prose.h"

namespace {

using newsflow::bench::Prose;

constexpr int kItems = 20;

std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

std::string FeedBody(int feed, const std::string& host) {
  const bool full = feed % 2 == 0;
  const std::string n = std::to_string(feed);
  const std::string base = "http://" + host;
  std::string xml;
  xml.reserve(full ? 80 << 10 : 8 << 10);
  xml +=
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" "
      "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Site " +
      n + "</title><link>" + base + "/</link><description>Loopback " +
      (full ? "full-text" : "teaser") + " feed " + n +
      "</description><language>en</language>\n";
  for (int j = 0; j < kItems; ++j) {
    const std::string id = n + "/" + std::to_string(j);
    const unsigned seed = static_cast<unsigned>(feed * kItems + j);
    xml += "<item><title>Story " + id + ": " + Prose(40, seed + 11) +
           "</title><link>" + base + "/p/" + id + "</link><guid " +
           "isPermaLink=\"false\">urn:bench:" + id +
           "</guid><dc:creator>Staff " +
           "Reporter</dc:creator><pubDate>Thu, 09 Oct 2025 " +
           std::to_string(10 + j % 10) + ":" + std::to_string(10 + j) +
           ":00 GMT</pubDate>";
    if (full) {
      std::string html =
          "<div class=\"share\"><a href=\"/share?fb\">Share on "
          "Facebook</a> <a href=\"/share?x\">Share on X</a></div>";
      for (int p = 0; p < 6; ++p) {
        html += "<p>" + Prose(420 + (seed * 37 + p * 101) % 260, seed * 7 + p) +
                "</p>";
      }
      html += "<p>The post <a href=\"" + base + "/p/" + id + "\">Story " + id +
              "</a> appeared first on <a href=\"" + base + "/\">Site " + n +
              "</a>.</p>";
      xml += "<description>" + Escape("<p>" + Prose(160, seed) + "</p>") +
             "</description><content:encoded><![CDATA[" + html +
             "]]></content:encoded>";
    } else {
      xml += "<description>" + Escape(Prose(120, seed) + " [&#8230;]") +
             "</description>";
    }
    xml += "</item>\n";
  }
  xml += "</channel></rss>\n";
  return xml;
}

std::string Response(int status, const char* type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         (status == 200 ? " OK" : " Not Found") + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

std::string Respond(const std::string& request, int feeds,
                    const std::vector<std::string>& pages) {
  const size_t sp = request.find(' ');
  const std::string path =
      request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
  int a = -1, b = -1;
  if (std::sscanf(path.c_str(), "/f/%d.xml", &a) == 1 && a >= 0 && a < feeds) {
    return Response(
        200, "application/rss+xml; charset=utf-8",
        FeedBody(a, newsflow::bench::RequestHeader(request, "Host")));
  }
  if (std::sscanf(path.c_str(), "/p/%d/%d", &a, &b) == 2 && a >= 0 &&
      a < feeds && b >= 0 && b < kItems) {
    const size_t k = (static_cast<size_t>(a) * kItems + b) % pages.size();
    return Response(200, "text/html; charset=utf-8", pages[k]);
  }
  return Response(404, "text/plain", "not found\n");
}

int Serve(const std::vector<std::string>& pages, int feeds,
          const char* port_file) {
  newsflow::bench::LoopbackServerOptions options;
  options.listen_any = true;
  options.port_file = port_file;
  return newsflow::bench::ServeLoopbackHttp(
      options, [&pages, feeds](const std::string& request) {
        return newsflow::bench::LoopbackReply{Respond(request, feeds, pages)};
      });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: bench_pipeline_site PAGES_DIR FEEDS PORT_FILE\n");
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    if (e.path().extension() == ".html") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> pages;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    pages.push_back(s.str());
  }
  if (pages.empty()) {
    std::fprintf(stderr, "no .html pages in %s\n", argv[1]);
    return 1;
  }
  return Serve(pages, std::atoi(argv[2]), argv[3]);
}
