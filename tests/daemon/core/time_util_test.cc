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

TEST(ParseHttpDateTest, TheThreeRfc9110Forms) {
  const auto expected = MakeUtc(1994, 11, 6, 8, 49, 37);
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), expected);
}

TEST(ParseHttpDateTest, LenientZonesAndNoDayName) {
  const auto expected = MakeUtc(2025, 10, 9, 8, 0, 0);
  EXPECT_EQ(ParseHttpDate("Thu, 09 Oct 2025 08:00:00 UTC"), expected);
  EXPECT_EQ(ParseHttpDate("09 Oct 2025 08:00:00 GMT"), expected);
  EXPECT_EQ(ParseHttpDate("Thu, 09 Oct 2025 10:00:00 +0200"), expected);
  EXPECT_EQ(ParseHttpDate("thu, 09 oct 2025 08:00:00 gmt"), expected);
}

TEST(ParseHttpDateTest, RejectsWhatIsNoDate) {
  for (const char* bad :
       {"", "0", "-1", "soon", "120", "Thu, 32 Oct 2025 08:00:00 GMT",
        "Thu, 09 Foo 2025 08:00:00 GMT", "Thu, 09 Oct 2025 08:00 GMT",
        "Thu, 09 Oct 2025 08:00:00 EST5", "Thu, 09 Oct 2025 08:00:00 GMT x",
        "2025-10-09T08:00:00Z"}) {
    EXPECT_EQ(ParseHttpDate(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace newsflow
