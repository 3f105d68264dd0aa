#include "connectors/sources/feed/date_parser.h"

#include <gtest/gtest.h>

namespace newsflow::feed_internal {
namespace {

std::string P(std::string_view s) {
  auto t = ParseFeedDate(s);
  return t ? FormatRfc3339(*t) : "none";
}

TEST(DateParserTest, Rfc822Zones) {
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 +0000"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 GMT"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 UT"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 Z"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 EST"), "2025-10-12T06:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 EDT"), "2025-10-12T05:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 CEST"), "2025-10-11T23:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 -0530"), "2025-10-12T07:10:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 2025 01:40:00 +05:30"), "2025-10-11T20:10:00Z");
  EXPECT_EQ(P("12 Oct 2025 01:40 PDT"), "2025-10-12T08:40:00Z");
  EXPECT_EQ(P("Sun, 12 Oct 25 01:40:00 GMT"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("Mon Jan  2 15:04:05 MST 2006"), "2006-01-02T22:04:05Z");
}

TEST(DateParserTest, Iso8601) {
  EXPECT_EQ(P("2025-10-12T01:40:00Z"), "2025-10-12T01:40:00Z");
  EXPECT_EQ(P("1985-04-12T23:20:50.52Z"), "1985-04-12T23:20:50.520Z");
  EXPECT_EQ(P("2003-12-13T18:30:02+01:00"), "2003-12-13T17:30:02Z");
  EXPECT_EQ(P("2003-12-13T18:30:02-0500"), "2003-12-13T23:30:02Z");
  EXPECT_EQ(P("2018-09-18 10:11:12"), "2018-09-18T10:11:12Z");
  EXPECT_EQ(P("2003-12-13"), "2003-12-13T00:00:00Z");
  EXPECT_EQ(P("2003-12"), "2003-12-01T00:00:00Z");
  EXPECT_EQ(P("20040105T10:30:00Z"), "2004-01-05T10:30:00Z");
}

TEST(DateParserTest, Localized) {
  EXPECT_EQ(P("Seg, 17 Set 2018 10:00:00 -0300"), "2018-09-17T13:00:00Z");
  EXPECT_EQ(P("Mar, 18 Dic 2018 10:00:00 +0100"), "2018-12-18T09:00:00Z");
  EXPECT_EQ(P("Di, 18 Mär 2025 10:00:00 +0100"), "2025-03-18T09:00:00Z");
  // Greek (corpus: feedparser/illformed/http_high_bit_date.xml) and Russian.
  EXPECT_EQ(P("Τρι, 29 Ιούν 2004 12:53:00 GMT"), "2004-06-29T12:53:00Z");
  EXPECT_EQ(P("29 ιουλίου 2004 12:53"), "2004-07-29T12:53:00Z");
  EXPECT_EQ(P("Пт, 05 янв 2024 08:00:00 +0300"), "2024-01-05T05:00:00Z");
  EXPECT_EQ(P("5 Мая 2024 08:00"), "2024-05-05T08:00:00Z");
}

TEST(DateParserTest, Rejects) {
  EXPECT_EQ(P(""), "none");
  EXPECT_EQ(P("yesterday"), "none");
  EXPECT_EQ(P("2025-13-45T00:00:00Z"), "none");
  EXPECT_EQ(P("Sun, 32 Oct 2025 01:40:00 GMT"), "none");
}

std::string Pz(std::string_view s, const TimeZone& zone) {
  auto t = ParseFeedDate(s, &zone);
  return t ? FormatRfc3339(*t) : "none";
}

TEST(DateParserTest, AssumedZoneShiftsZonelessDates) {
  auto shanghai = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(shanghai) << shanghai.error().message();
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin) << berlin.error().message();
  auto fixed = TimeZone::Load("-0800");
  ASSERT_TRUE(fixed);
  // ISO without offset (the QQ form) and RFC 822 without zone.
  EXPECT_EQ(Pz("2018-09-18 10:11:12", *shanghai), "2018-09-18T02:11:12Z");
  EXPECT_EQ(Pz("2018-09-18T10:11:12", *berlin), "2018-09-18T08:11:12Z");
  EXPECT_EQ(Pz("2018-01-18T10:11:12", *berlin), "2018-01-18T09:11:12Z");
  EXPECT_EQ(Pz("20180918T101112", *fixed), "2018-09-18T18:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 10:11:12", *shanghai), "2018-09-18T02:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 10:11:12", *berlin), "2018-09-18T08:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 23:30", *fixed), "2018-09-19T07:30:00Z");
  // Without a zone argument nothing changes.
  EXPECT_EQ(P("2018-09-18 10:11:12"), "2018-09-18T10:11:12Z");
}

TEST(DateParserTest, AssumedZoneLeavesZonedAndDateOnlyValuesAlone) {
  auto shanghai = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(shanghai) << shanghai.error().message();
  EXPECT_EQ(Pz("2018-09-18T10:11:12Z", *shanghai), "2018-09-18T10:11:12Z");
  EXPECT_EQ(Pz("2018-09-18T10:11:12+02:00", *shanghai), "2018-09-18T08:11:12Z");
  EXPECT_EQ(Pz("2018-09-18 10:11:12 GMT", *shanghai), "2018-09-18T10:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 10:11:12 +0000", *shanghai),
            "2018-09-18T10:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 10:11:12 GMT", *shanghai),
            "2018-09-18T10:11:12Z");
  EXPECT_EQ(Pz("Tue, 18 Sep 2018 10:11:12 EST", *shanghai),
            "2018-09-18T15:11:12Z");
  EXPECT_EQ(Pz("2018-09-18", *shanghai), "2018-09-18T00:00:00Z");
}

}  // namespace
}  // namespace newsflow::feed_internal
