// JSON string literals (petit/core/json.h): the byte-preserving escaper for petit's own layers, and
// the one for other programs, whose output is valid UTF-8 whatever the input bytes.
#include "petit/core/json.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "petit/core/utf8.h"

namespace petit {
namespace {

using namespace std::string_literals;

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string Replaced(int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += kFffd;
  return out;
}

TEST(JsonUtf8StringTest, ValidUtf8IsKeptAndWhatJsonRequiresIsEscaped) {
  EXPECT_EQ(JsonUtf8String("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(JsonUtf8String("a\"b\\c\nd\te\r\b\f"), "\"a\\\"b\\\\c\\nd\\te\\r\\b\\f\"");
}

TEST(JsonUtf8StringTest, NulAndControlCharactersAreUnicodeEscapes) {
  EXPECT_EQ(JsonUtf8String("a\0b"s), "\"a\\u0000b\"");
  EXPECT_EQ(JsonUtf8String("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
}

TEST(JsonUtf8StringTest, EveryKindOfInvalidSequenceBecomesReplacementCharacters) {
  struct Case {
    std::string input;
    std::string expected;  // inside the quotes
  };
  const Case cases[] = {
      {"\xFF", Replaced(1)},                                // never a UTF-8 byte
      {"\x80x", Replaced(1) + "x"},                         // stray continuation byte
      {"\xC3", Replaced(1)},                                // truncated at the end
      {"\xE2\x82x", Replaced(2) + "x"},                     // truncated in the middle
      {"\xC0\xAF", Replaced(2)},                            // overlong '/'
      {"\xE0\x80\xAF", Replaced(3)},                        // overlong, three bytes
      {"\xF0\x80\x80\xAF", Replaced(4)},                    // overlong, four bytes
      {"\xED\xA0\x80", Replaced(3)},                        // high surrogate U+D800
      {"\xED\xBF\xBF", Replaced(3)},                        // low surrogate U+DFFF
      {"\xF4\x90\x80\x80", Replaced(4)},                    // beyond U+10FFFF
      {"\xF8\x88\x80\x80\x80", Replaced(5)},                // five-byte form
      {"ok\xFE\xC3\xA9", "ok" + Replaced(1) + "\xC3\xA9"},  // valid after invalid is kept
  };
  for (const Case& c : cases) {
    const std::string json = JsonUtf8String(c.input);
    EXPECT_EQ(json, "\"" + c.expected + "\"") << "input bytes: " << c.input.size();
    EXPECT_TRUE(IsValidUtf8(json));
  }
}

TEST(JsonUtf8StringTest, EveryByteValueAloneGivesValidUtf8) {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string json = JsonUtf8String(std::string(1, static_cast<char>(byte)));
    EXPECT_TRUE(IsValidUtf8(json)) << byte;
    EXPECT_EQ(json.find('\0'), std::string::npos) << byte;
  }
}

TEST(JsonStringTest, KeepsBytesAsTheyAreForPetitsOwnLayers) {
  EXPECT_EQ(JsonString("\xFF\x80"), "\"\xFF\x80\"");
  EXPECT_EQ(JsonString("a\0b"s), "\"a\\u0000b\"");
}

TEST(Utf8Test, SequenceLengthsOfValidAndInvalidSequences) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\0"s, 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xEF\xBF\xBD", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xC1\xBF", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xC3", 0), 0u);              // truncated
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_FALSE(IsValidUtf8("abc\x80"));
}

}  // namespace
}  // namespace petit
