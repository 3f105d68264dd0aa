#include "daemon/core/timezone.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

TEST(TimeZoneTest, UtcForms) {
  for (const char* name : {"", "UTC", "Z"}) {
    auto tz = TimeZone::Load(name);
    ASSERT_TRUE(tz) << name;
    EXPECT_EQ(tz->OffsetMinutesForLocal(2018, 9, 18, 10, 11, 12), 0);
  }
}

TEST(TimeZoneTest, FixedOffsets) {
  auto a = TimeZone::Load("+05:30");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->OffsetMinutesForLocal(2018, 9, 18, 10, 11, 12), 330);
  auto b = TimeZone::Load("-0800");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->OffsetMinutesForLocal(2018, 1, 1, 0, 0, 0), -480);
  EXPECT_FALSE(TimeZone::Load("+25:00"));
  EXPECT_FALSE(TimeZone::Load("+5:3"));
}

TEST(TimeZoneTest, BerlinWinterAndSummer) {
  auto tz = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(tz) << tz.error().message();
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 1, 15, 12, 0, 0), 60);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 7, 15, 12, 0, 0), 120);
  // Around the 2025-03-30 switch (02:00 CET -> 03:00 CEST).
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 3, 30, 1, 59, 0), 60);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 3, 30, 3, 0, 0), 120);
}

TEST(TimeZoneTest, NewYork) {
  auto tz = TimeZone::Load("America/New_York");
  ASSERT_TRUE(tz) << tz.error().message();
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 1, 15, 12, 0, 0), -300);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 7, 15, 12, 0, 0), -240);
}

TEST(TimeZoneTest, ShanghaiHasNoDst) {
  auto tz = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(tz) << tz.error().message();
  EXPECT_EQ(tz->OffsetMinutesForLocal(2018, 9, 18, 10, 11, 12), 480);
}

TEST(TimeZoneTest, BadNamesAreConfigErrors) {
  for (const char* name : {"Mars/Olympus_Mons", "../etc/passwd", "/etc/passwd",
                           "Europe/../../etc/passwd"}) {
    auto tz = TimeZone::Load(name);
    ASSERT_FALSE(tz) << name;
    EXPECT_EQ(tz.error().code(), Errc::kConfig) << name;
  }
  auto tz = TimeZone::Load("Mars/Olympus_Mons");
  EXPECT_NE(tz.error().message().find("Mars/Olympus_Mons"), std::string::npos);
}

TEST(TimeZoneTest, NonTzifFileIsRejected) {
  // Real files under /usr/share/zoneinfo that are not TZif.
  for (const char* name : {"zone.tab", "iso3166.tab"}) {
    auto tz = TimeZone::Load(name);
    EXPECT_FALSE(tz) << name;
  }
  EXPECT_FALSE(TimeZone::Load("libc:localtime"));
}

// The TZif files list transitions up to 2037 at most ("fat") or only up to
// the last rule change ("slim", Debian's default since 2020b: New York's
// last listed transition is 2007); after that the POSIX TZ footer
// ("EST5EDT,M3.2.0,M11.1.0") decides. The hand-written reader ignored it.
TEST(TimeZoneTest, NewYorkAfterTheLastListedTransitionFollowsTheFooter) {
  auto tz = TimeZone::Load("America/New_York");
  ASSERT_TRUE(tz) << tz.error().message();
  // 2030: DST from 2030-03-10 02:00 to 2030-11-03 02:00.
  EXPECT_EQ(tz->OffsetMinutesForLocal(2030, 1, 15, 12, 0, 0), -300);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2030, 7, 15, 12, 0, 0), -240);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2030, 3, 10, 1, 59, 0), -300);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2030, 3, 10, 3, 0, 0), -240);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2030, 11, 3, 3, 0, 0), -300);
  // After 2037.
  EXPECT_EQ(tz->OffsetMinutesForLocal(2040, 7, 4, 12, 0, 0), -240);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2040, 12, 25, 12, 0, 0), -300);
  EXPECT_EQ(tz->OffsetMinutesForLocal(2099, 8, 1, 0, 0, 0), -240);
  // By instant: 2040-07-06T16:00:00Z is EDT.
  EXPECT_EQ(tz->OffsetMinutesAtUtc(2225203200), -240);
}

TEST(TimeZoneTest, GapAndOverlapAreDeterministic) {
  auto tz = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(tz) << tz.error().message();
  // 2025-03-30 02:30 never happened: the offset before the gap.
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 3, 30, 2, 30, 0), 60);
  // 2025-10-26 02:30 happened twice: the first occurrence (CEST).
  EXPECT_EQ(tz->OffsetMinutesForLocal(2025, 10, 26, 2, 30, 0), 120);
}

}  // namespace
}  // namespace newsflow
