#pragma once

// The seed site ($NEWSFLOW_CORPUS_DIR/seed) served by a real loopback HTTP
// server, plus what every test asserts about the two seed articles. Tests
// using it start with NF_REQUIRE_CORPUS("seed") (tests/testing/corpus.h).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {

inline constexpr char kSeedFeedUrl[] =
    "http://frontier-ledger.example/category/world/feed/";
inline constexpr char kSeedArticlePath[] =
    "/2025/10/12/taliban-claims-killing-58-pakistani-soldiers/";

// The boilerplate strings of the corpus seed README.md.
inline const std::vector<std::string> kSeedBoilerplate = {
    "Leave a Reply",
    "Your email address will not be published",
    "Required fields are marked",
    "Share this",
    "Subscribe",
    "Related Posts",
    "appeared first on"};

std::string ReadFileOrDie(const std::string& path);
std::string SeedDir();

// Serves the seed feed and article page by path (host and query ignored),
// so it works as the origin and as an HTTP proxy for frontier-ledger.example.
std::unique_ptr<LoopbackHttpServer> StartSeedServer();

// Whitespace-insensitive form: words joined by single spaces.
std::string SquashWhitespace(const std::string& s);

}  // namespace newsflow::testing
