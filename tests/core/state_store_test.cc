// The run cursor's text form (state_store.h): what the HTTP API hands out as next_cursor and
// takes back as ?cursor=.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "petit/core/state_store.h"

namespace petit {
namespace {

using ::testing::HasSubstr;

// base64url without padding, for building payloads the encoder would never make.
std::string Encode64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

void ExpectRejected(const std::string& text) {
  Result<RunCursor> cursor = DecodeRunCursor(text);
  ASSERT_FALSE(cursor.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(cursor.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(cursor.status().message(), HasSubstr("invalid cursor"));
}

TEST(RunCursorTest, EveryCursorRoundTripsThroughItsText) {
  for (const int64_t created_us :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'700'000'000'123'456},
        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    const RunCursor cursor{created_us, RunId::Generate()};
    const std::string text = EncodeRunCursor(cursor);
    SCOPED_TRACE(text);
    // Safe in a URL query and a JSON string as it is.
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
              std::string::npos);
    Result<RunCursor> decoded = DecodeRunCursor(text);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, cursor);
  }
}

TEST(RunCursorTest, TextThatIsNotBase64UrlIsRejected) {
  const std::string good = EncodeRunCursor(RunCursor{42, RunId::Generate()});
  ExpectRejected("");
  ExpectRejected(good + "=");  // padding
  ExpectRejected(good + "A");  // a length no encoding has, or a wrong payload
  ExpectRejected(std::string(good).insert(5, " "));
  for (const char bad : std::string("+/=.%~!\"\\\n\t\x01\x7f\xc3\xa9")) {
    std::string text = good;
    text[3] = bad;
    ExpectRejected(text);
  }
  ExpectRejected(std::string(1000, 'A'));
}

TEST(RunCursorTest, EveryTruncationOfACursorIsRejected) {
  const std::string good = EncodeRunCursor(RunCursor{1'700'000'000'123'456, RunId::Generate()});
  for (size_t length = 0; length < good.size(); ++length) ExpectRejected(good.substr(0, length));
}

TEST(RunCursorTest, AlteredLowBitsOfTheLastCharacterAreRejected) {
  // A payload whose length leaves unused bits in the last character: setting them is not the
  // encoder's output.
  const std::string good = EncodeRunCursor(RunCursor{7, RunId::Generate()});
  ASSERT_NE(good.size() % 4, 0u);
  std::string altered = good;
  altered.back() = altered.back() == '_' ? '-' : '_';
  ExpectRejected(altered);
}

TEST(RunCursorTest, WellEncodedPayloadsThatNoCursorHasAreRejected) {
  const std::string id = RunId::Generate().str();
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<std::string> payloads = {
      "",
      ".",
      "42",
      id,
      "." + id,
      "42.",
      "42.." + id,
      "+42." + id,
      " 42." + id,
      "042." + id,
      "-0." + id,
      "4 2." + id,
      "0x2a." + id,
      "99999999999999999999." + id,  // beyond int64
      "42." + id + ".",
      "42." + id + " ",
      "42." + id.substr(1),
      "42." + upper,                              // not the text the encoder writes
      "42.00000000-0000-4000-8000-000000000000",  // a version 4 UUID
      "42.not-a-run-id",
      std::string("42.") + '\0' + id,
  };
  for (const std::string& payload : payloads) {
    SCOPED_TRACE(payload);
    ExpectRejected(Encode64(payload));
  }
  // The helper builds what the encoder builds, so the rejections above are about the payloads.
  EXPECT_TRUE(DecodeRunCursor(Encode64("42." + id)).ok());
}

}  // namespace
}  // namespace petit
