#pragma once

// The articles the delivery benchmarks publish (deliver_bench, outbox_bench):
// realistic 2-8 KB JSON values, deterministic per index.

#include <string>

#include "daemon/core/article.h"

namespace newsflow::bench {

// Prose with a realistic word distribution; deterministic per seed.
std::string Prose(size_t bytes, unsigned seed);

// Article `i`; `salt` prefixes its id (distinct ids across runs that share
// a state file).
Article MakeArticle(int i, const std::string& salt = "");

}  // namespace newsflow::bench
