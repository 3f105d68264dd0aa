// Hostile publishers, item 10: files handed to `parse`/`extract` are capped
// like HTTP bodies. A small .gz that inflates to 1 GiB used to end in
// bad_alloc (exit 3 or a kill); now it is one clear error line.

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/testing/daemon_process.h"

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
  const fs::path dir = fs::temp_directory_path() /
                       ("nf_hostile_gz_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path bomb = dir / "bomb.html.gz";
  WriteGzipBomb(bomb, size_t{128} << 20);  // 8x the cap
  EXPECT_LT(fs::file_size(bomb), 1u << 20);
  for (const char* command : {"extract", "parse"}) {
    auto r = RunDaemonCommand({command, bomb.string()});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
    EXPECT_NE(r.err.find("inflates past"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bomb.string()), std::string::npos) << r.err;
  }
  fs::remove_all(dir);
}

TEST(HostileCliInputTest, OversizedPlainFileIsRefused) {
  const fs::path dir = fs::temp_directory_path() /
                       ("nf_hostile_big_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path big = dir / "big.xml";
  {
    std::ofstream out(big, std::ios::binary);
    std::string block(1 << 20, ' ');
    for (int i = 0; i < 40; ++i) out << block;
  }
  auto r = RunDaemonCommand({"parse", big.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("larger than"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace newsflow::testing
