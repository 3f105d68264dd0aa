#pragma once

// Prose: deterministic news-like filler text (30 common words, sentences
// of random length) for the benchmarks' loopback site and the story
// benchmark, so both measure the same texts.

#include <cstddef>
#include <string>

namespace newsflow::bench {

// At least `bytes` bytes of words; the same `seed` gives the same text.
std::string Prose(size_t bytes, unsigned seed);

}  // namespace newsflow::bench
