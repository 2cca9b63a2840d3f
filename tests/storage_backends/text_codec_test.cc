// The encodings every backend shares (storage_backends/src/text_codec.h).
#include "src/text_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace petit::storage::internal {
namespace {

using ::testing::HasSubstr;

TEST(TextCodecTest, Utf8ValidationRejectsMalformedSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("é 日本 🚀"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST(TextCodecTest, SanitizeReplacesEachBadByteAndNul) {
  EXPECT_EQ(SanitizeText("fine é"), "fine é");
  EXPECT_EQ(SanitizeText(std::string("a\0b", 3)), "a\uFFFDb");
  EXPECT_EQ(SanitizeText("x\xc0\xafy"), "x\uFFFD\uFFFDy");
  EXPECT_EQ(SanitizeText("\xe6\x97"), "\uFFFD\uFFFD");
}

TEST(TextCodecTest, HexRoundTripsAndRejectsGarbage) {
  EXPECT_EQ(HexEncode(std::string("\x00\x7f\xff", 3)), "007fff");
  Result<std::string> bytes = HexDecode("007FfF");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("\x00\x7f\xff", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(TextCodecTest, OutputsAreJsonWithHexForNonUtf8Values) {
  EXPECT_EQ(EncodeOutputs({}), "{}");
  EXPECT_EQ(EncodeOutputs({{"a", "x\"y\\z\n\x01"}, {"b", "\xff"}}),
            "{\"a\":\"x\\\"y\\\\z\\n\\u0001\",\"b\":{\"hex\":\"ff\"}}");
}

TEST(TextCodecTest, DecodeAcceptsStandardEscapesAndWhitespace) {
  Result<ValueMap> decoded = DecodeOutputs(
      " { \"k\" : \"\\u00e9\\ud83d\\ude80\\/\\b\\f\\r\\t\" ,\n \"h\": {\"hex\": \"00\"} } ");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->at("k"), "é🚀/\b\f\r\t");
  EXPECT_EQ(decoded->at("h"), std::string(1, '\0'));
}

TEST(TextCodecTest, DecodeRejectsWhatEncodeNeverWrites) {
  for (const char* bad :
       {"", "[]", "{", "{\"a\"}", "{\"a\":1}", "{\"a\":\"x\"", "{\"a\":\"x\",}", "{\"a\":\"\\q\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":{\"b64\":\"AA\"}}", "{\"a\":{\"hex\":\"0\"}}", "{} extra"}) {
    Result<ValueMap> decoded = DecodeOutputs(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_THAT(decoded.status().message(), HasSubstr("stored outputs")) << bad;
  }
}

TEST(TextCodecTest, OneLineJoinsLinesAndDropsCaretLines) {
  EXPECT_EQ(OneLine("ERROR:  relation \"x\" does not exist\nLINE 1: select * from x\n"
                    "                      ^\n while executing \"select\"."),
            "ERROR: relation \"x\" does not exist LINE 1: select * from x while executing "
            "\"select\".");
  EXPECT_EQ(OneLine("  a\tb\r\n\n c  "), "a b c");
  EXPECT_EQ(OneLine(""), "");
}

}  // namespace
}  // namespace petit::storage::internal
