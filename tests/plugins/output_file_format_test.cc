// The $PETIT_OUTPUT file's format (plugins/command/src/output_file_format.h) without a process:
// both line forms, the file cut short, and each class of line that is skipped with a warning.
#include "output_file_format.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::command {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct Parsed {
  std::vector<std::pair<std::string, std::string>> outputs;
  std::vector<std::string> warnings;
};

Parsed Parse(std::string_view text, bool truncated = false) {
  Parsed parsed;
  ParseOutputFile(
      text, truncated, [&](const std::string& message) { parsed.warnings.push_back(message); },
      [&](std::string_view key, std::string_view value) {
        parsed.outputs.emplace_back(std::string(key), std::string(value));
      });
  return parsed;
}

TEST(OutputFileFormatTest, ReadsKeyValueLinesAndDelimitedBlocks) {
  const Parsed parsed = Parse("rows=42\nreport<<EOF\nline 1\n\nline=3\nEOF\nempty=\nlast=x");
  EXPECT_THAT(parsed.outputs, ElementsAre(Pair("rows", "42"), Pair("report", "line 1\n\nline=3"),
                                          Pair("empty", ""), Pair("last", "x")));
  EXPECT_THAT(parsed.warnings, ::testing::IsEmpty());
}

TEST(OutputFileFormatTest, AFileCutShortLosesOnlyItsUnfinishedLine) {
  EXPECT_THAT(Parse("a=1\nb=2", /*truncated=*/true).outputs, ElementsAre(Pair("a", "1")));
  EXPECT_THAT(Parse("a=1\nb=2", /*truncated=*/false).outputs,
              ElementsAre(Pair("a", "1"), Pair("b", "2")));
}

TEST(OutputFileFormatTest, SkipsEachKindOfBadLineWithAWarningNamingIt) {
  const Parsed parsed =
      Parse("ok=1\nno equals\n=v\na.b=1\nexit_code=3\nsp ace=1\nc\x01=1\nk<<\ngood=2\nx<<END\nv\n");
  EXPECT_THAT(parsed.outputs, ElementsAre(Pair("ok", "1"), Pair("good", "2")));
  ASSERT_EQ(parsed.warnings.size(), 8u);
  EXPECT_THAT(parsed.warnings[0], HasSubstr("line 2: expected key=value or key<<DELIMITER"));
  EXPECT_THAT(parsed.warnings[1], HasSubstr("line 3: empty output key"));
  EXPECT_THAT(parsed.warnings[2], HasSubstr("contains '.'"));
  EXPECT_THAT(parsed.warnings[3], HasSubstr("is set by the plugin itself"));
  EXPECT_THAT(parsed.warnings[4], HasSubstr("contains a space"));
  EXPECT_THAT(parsed.warnings[5], HasSubstr("'c\\x01' contains a control character"));
  EXPECT_THAT(parsed.warnings[6], HasSubstr("line 8: no delimiter"));
  EXPECT_THAT(parsed.warnings[7], HasSubstr("line 10: no line 'END' ends the value of 'x'"));
}

TEST(OutputFileFormatTest, RefusesAValueBeyondItsBound) {
  const std::string big = "big=" + std::string(kMaxOutputValueBytes + 1, 'v') + "\nok=1\n";
  const Parsed parsed = Parse(big);
  EXPECT_THAT(parsed.outputs, ElementsAre(Pair("ok", "1")));
  ASSERT_EQ(parsed.warnings.size(), 1u);
  EXPECT_THAT(parsed.warnings[0], HasSubstr("the value of 'big' is 1048577 bytes"));
}

}  // namespace
}  // namespace petit::command
