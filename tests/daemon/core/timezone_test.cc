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
  // A real file under the directory that is not TZif.
  auto tz = TimeZone::LoadFrom("timezone_test.cc",
                               NEWSFLOW_SOURCE_DIR "/tests/daemon/core");
  EXPECT_FALSE(tz);
}

}  // namespace
}  // namespace newsflow
