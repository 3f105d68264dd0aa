#include "tests/integration/seed_fixture.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/testing/corpus.h"

namespace newsflow::testing {

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string SeedDir() { return CorpusPath("seed"); }

std::unique_ptr<LoopbackHttpServer> StartSeedServer() {
  const std::map<std::string, std::pair<std::string, std::string>> routes = {
      {"/category/world/feed/",
       {ReadFileOrDie(SeedDir() + "/feed.xml"),
        "application/rss+xml; charset=UTF-8"}},
      {kSeedArticlePath,
       {ReadFileOrDie(SeedDir() + "/article.html"),
        "text/html; charset=UTF-8"}},
  };
  return std::make_unique<LoopbackHttpServer>([routes](const TestRequest& req) {
    TestResponse resp;
    auto it = routes.find(req.path);
    if (it == routes.end()) {
      resp.status = 404;
      resp.body = "not found";
      return resp;
    }
    resp.headers.emplace_back("Content-Type", it->second.second);
    resp.body = it->second.first;
    return resp;
  });
}

std::string SquashWhitespace(const std::string& s) {
  std::istringstream in(s);
  std::string word, out;
  while (in >> word) {
    if (!out.empty()) out.push_back(' ');
    out += word;
  }
  return out;
}

}  // namespace newsflow::testing
