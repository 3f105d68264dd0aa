#include "daemon/core/error.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error::InvalidArgument("odd number", "input:1:1");
  return x / 2;
}

TEST(ErrorTest, ResultCarriesValueOrError) {
  auto ok = Half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = Half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(bad.error().ToString(), "input:1:1: odd number");
  EXPECT_THROW((void)bad.value(), std::runtime_error);
}

TEST(ErrorTest, RetryableKinds) {
  EXPECT_TRUE(Error(Errc::kTimeout, "t").IsRetryable());
  EXPECT_TRUE(Error(Errc::kHttpStatus, "s", "", 503).IsRetryable());
  EXPECT_TRUE(Error(Errc::kHttpStatus, "s", "", 429).IsRetryable());
  EXPECT_FALSE(Error(Errc::kHttpStatus, "s", "", 404).IsRetryable());
  EXPECT_FALSE(Error(Errc::kParse, "p").IsRetryable());
}

TEST(ErrorTest, AtKeepsTheMorePreciseExistingPlace) {
  Error e = Error::Parse("bad", "feed.xml:3:4").At("feed example");
  EXPECT_EQ(e.where(), "feed.xml:3:4");
  EXPECT_EQ(Error::Parse("bad").At("feed example").where(), "feed example");
  EXPECT_EQ(ErrcName(Errc::kTooLarge), "too_large");
}

}  // namespace
}  // namespace newsflow
