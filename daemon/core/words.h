#pragma once

// Word counting for every script: the one rule behind an article's
// `word_count` and the teaser test (LooksLikeTeaser).

#include <string_view>

namespace newsflow {

// Number of words in UTF-8 text by ICU word segmentation
// (icu::BreakIterator::createWordInstance, root locale: UAX #29 plus ICU's
// dictionaries for Chinese, Japanese, Thai, Lao, Khmer, Burmese): the
// segments whose rule status is not UBRK_WORD_NONE (letters, numbers, kana,
// ideographs; not spaces or punctuation). "don't", "U.S", "3.14" and
// "1,000" are one word each; 日本語の記事 is 3 (日本語 / の / 記事).
// Thread-safe: each thread reuses its own BreakIterator. Whitespace-
// separated chunks that are ASCII-only without '_' are counted by a scanner
// that gives the same result without ICU; the rest goes to ICU
// (tests/daemon/core/words_test.cc compares the two on random text).
// Invalid UTF-8 is read with U+FFFD for the bad bytes.
int CountWords(std::string_view utf8);

// The same count, always through ICU (for tests and benchmarks).
int CountWordsIcu(std::string_view utf8);

}  // namespace newsflow
