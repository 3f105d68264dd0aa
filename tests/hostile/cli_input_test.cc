// Hostile publishers, item 10: files handed to `parse`/`extract` are capped
// like HTTP bodies. A small .gz that inflates to 1 GiB used to end in
// bad_alloc (exit 3 or a kill); now it is one clear error line.

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/hostile/hostile_site.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

// Writes a gzip file that inflates to `bytes` zero bytes (about 1 MiB of
// compressed data per GiB).
void WriteGzipBomb(const fs::path& path, size_t bytes) {
  gzFile gz = gzopen(path.c_str(), "wb9");
  ASSERT_NE(gz, nullptr);
  std::string block(1 << 20, '\0');
  for (size_t done = 0; done < bytes; done += block.size()) {
    ASSERT_EQ(gzwrite(gz, block.data(), static_cast<unsigned>(block.size())),
              static_cast<int>(block.size()));
  }
  gzclose(gz);
}

TEST(HostileCliInputTest, GzipBombIsRefusedWithOneLine) {
  HostileSite site("gz");
  const fs::path bomb = site.dir() / "bomb.html.gz";
  WriteGzipBomb(bomb, size_t{128} << 20);  // 8x the cap
  EXPECT_LT(fs::file_size(bomb), 1u << 20);
  for (const char* command : {"extract", "parse"}) {
    auto r = RunDaemonCommand({command, bomb.string()});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
    EXPECT_NE(r.err.find("inflates past"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bomb.string()), std::string::npos) << r.err;
  }
}

TEST(HostileCliInputTest, OversizedPlainFileIsRefused) {
  HostileSite site("big");
  const fs::path big = site.dir() / "big.xml";
  {
    std::ofstream out(big, std::ios::binary);
    std::string block(1 << 20, ' ');
    for (int i = 0; i < 40; ++i) out << block;
  }
  auto r = RunDaemonCommand({"parse", big.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("larger than"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace newsflow::testing
