#include "daemon/core/time_util.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

TEST(TimeUtilTest, FormatsWholeSecondsWithoutFraction) {
  auto t = MakeUtc(2025, 10, 12, 1, 40, 0);
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2025-10-12T01:40:00Z");
}

TEST(TimeUtilTest, FormatsMilliseconds) {
  auto t = MakeUtc(2003, 12, 31, 10, 14, 55, 520);
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2003-12-31T10:14:55.520Z");
}

TEST(TimeUtilTest, AppliesZoneOffset) {
  // 2002-10-02T10:00:00-05:00 is 15:00 UTC.
  auto t = MakeUtc(2002, 10, 2, 10, 0, 0, 0, -300);
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2002-10-02T15:00:00Z");
}

TEST(TimeUtilTest, RejectsImpossibleDates) {
  EXPECT_FALSE(MakeUtc(2023, 2, 29, 0, 0, 0));
  EXPECT_FALSE(MakeUtc(2023, 13, 1, 0, 0, 0));
  EXPECT_FALSE(MakeUtc(2023, 1, 1, 25, 0, 0));
  EXPECT_TRUE(MakeUtc(2024, 2, 29, 0, 0, 0));
}

}  // namespace
}  // namespace newsflow
