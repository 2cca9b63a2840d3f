#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "petit/plugin_json.hpp"

namespace {

using petit::sdk::Json;
using petit::sdk::StatusCode;

Json MustParse(std::string_view text) {
  petit::sdk::Result<Json> result = Json::Parse(text);
  EXPECT_TRUE(result.ok()) << text << " -> " << result.status().message();
  return result.ok() ? std::move(result).value() : Json();
}

std::string ParseError(std::string_view text) {
  petit::sdk::Result<Json> result = Json::Parse(text);
  EXPECT_FALSE(result.ok()) << text << " parsed";
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidParams);
  return result.status().message();
}

TEST(JsonParseTest, ParsesScalars) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse("true").bool_value());
  EXPECT_FALSE(MustParse(" false ").bool_value());
  EXPECT_EQ(MustParse("\"hi\"").string_value(), "hi");
  EXPECT_DOUBLE_EQ(MustParse("-12.5e1").number_value(), -125.0);
  EXPECT_DOUBLE_EQ(MustParse("0.25").number_value(), 0.25);
}

TEST(JsonParseTest, KeepsIntegersExact) {
  EXPECT_EQ(MustParse("9007199254740993").integer_value(), int64_t{9007199254740993});
  EXPECT_EQ(MustParse("-9223372036854775808").integer_value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustParse("0").integer_value(), 0);
  EXPECT_EQ(MustParse("-0").integer_value(), 0);
}

TEST(JsonParseTest, IntegralDoublesConvertAndFractionsDoNot) {
  EXPECT_EQ(MustParse("1e3").integer_value(), 1000);
  EXPECT_EQ(MustParse("2.0").integer_value(), 2);
  EXPECT_EQ(MustParse("2.5").integer_value(), std::nullopt);
  EXPECT_EQ(MustParse("1e300").integer_value(), std::nullopt);
  // Too big for int64_t, but a fine double.
  EXPECT_DOUBLE_EQ(MustParse("9223372036854775808").number_value(), 9223372036854775808.0);
  EXPECT_EQ(MustParse("9223372036854775808").integer_value(), std::nullopt);
}

TEST(JsonParseTest, ParsesNestedContainersInOrder) {
  const Json json = MustParse(R"( {"a": [1, {"b": null}, []], "c": {}, "d": "x"} )");
  ASSERT_TRUE(json.is_object());
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json.object_items()[0].first, "a");
  EXPECT_EQ(json.object_items()[1].first, "c");
  EXPECT_EQ(json.object_items()[2].first, "d");
  const Json* a = json.Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ(a->array_items()[0].integer_value(), 1);
  EXPECT_TRUE(a->array_items()[1].Find("b")->is_null());
  EXPECT_TRUE(a->array_items()[2].is_array());
  EXPECT_EQ(json.Find("missing"), nullptr);
}

TEST(JsonParseTest, DecodesEscapes) {
  EXPECT_EQ(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").string_value(), "a\"b\\c/d\b\f\n\r\t");
}

TEST(JsonParseTest, DecodesUnicodeEscapesToUtf8) {
  EXPECT_EQ(MustParse(R"("\u0041")").string_value(), "A");
  EXPECT_EQ(MustParse(R"("\u00e9")").string_value(), "\xC3\xA9");
  EXPECT_EQ(MustParse(R"("\u20AC")").string_value(), "\xE2\x82\xAC");
  EXPECT_EQ(MustParse(R"("\ud83d\ude00")").string_value(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(MustParse(R"("\u0000")").string_value(), std::string(1, '\0'));
}

TEST(JsonParseTest, PassesRawUtf8Through) {
  EXPECT_EQ(MustParse("\"caf\xC3\xA9\"").string_value(), "caf\xC3\xA9");
}

TEST(JsonParseTest, ErrorsNameLineColumnAndByte) {
  EXPECT_EQ(ParseError("{\"a\" 1}"),
            "invalid JSON at line 1, column 6 (byte 5): expected ':' after an object key");
  EXPECT_EQ(ParseError("{\n  \"a\": 1,\n  \"b\": tru\n}"),
            "invalid JSON at line 3, column 8 (byte 19): invalid literal, expected true, false or "
            "null");
}

TEST(JsonParseTest, RejectsMalformedDocumentsWithAReason) {
  EXPECT_NE(ParseError("").find("unexpected end of input"), std::string::npos);
  EXPECT_NE(ParseError("{").find("expected an object key"), std::string::npos);
  EXPECT_NE(ParseError("[1,]").find("expected a value"), std::string::npos);
  EXPECT_NE(ParseError("[1 2]").find("expected ',' or ']'"), std::string::npos);
  EXPECT_NE(ParseError("{\"a\":1,}").find("expected '\"' to start an object key"),
            std::string::npos);
  EXPECT_NE(ParseError("{\"a\":1 \"b\":2}").find("expected ',' or '}'"), std::string::npos);
  EXPECT_NE(ParseError("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(ParseError("\"a\nb\"").find("control character"), std::string::npos);
  EXPECT_NE(ParseError(R"("\x")").find("invalid escape '\\x'"), std::string::npos);
  EXPECT_NE(ParseError(R"("\u12G4")").find("4 hex digits"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ud800")").find("not followed by a low surrogate"), std::string::npos);
  EXPECT_NE(ParseError(R"("\ud800\u0041")").find("not followed by a low surrogate"),
            std::string::npos);
  EXPECT_NE(ParseError(R"("\udc00")").find("unpaired low surrogate"), std::string::npos);
  EXPECT_NE(ParseError("01").find("leading zero"), std::string::npos);
  EXPECT_NE(ParseError("1.").find("digit after '.'"), std::string::npos);
  EXPECT_NE(ParseError("1e+").find("exponent"), std::string::npos);
  EXPECT_NE(ParseError("-").find("expected a digit"), std::string::npos);
  EXPECT_NE(ParseError("+1").find("expected a value"), std::string::npos);
  EXPECT_NE(ParseError("1e999").find("out of range"), std::string::npos);
  EXPECT_NE(ParseError("nul").find("invalid literal"), std::string::npos);
  EXPECT_NE(ParseError("{} x").find("after the JSON value"), std::string::npos);
  EXPECT_NE(ParseError("{\"a\":1,\"a\":2}").find("duplicate object key \"a\""), std::string::npos);
}

TEST(JsonParseTest, RefusesNestingDeeperThanTheLimit) {
  const std::string ok = std::string(Json::kMaxDepth, '[') + std::string(Json::kMaxDepth, ']');
  EXPECT_TRUE(Json::Parse(ok).ok());
  const std::string deep =
      std::string(Json::kMaxDepth + 1, '[') + std::string(Json::kMaxDepth + 1, ']');
  EXPECT_NE(ParseError(deep).find("nesting deeper than 256"), std::string::npos);
}

TEST(JsonParseTest, ShowsUnprintableBytesInHex) {
  EXPECT_NE(ParseError("\x01").find("unexpected '\\x01'"), std::string::npos);
}

TEST(JsonDumpTest, RoundTrips) {
  const std::string text =
      R"({"s":"a\"\\\n\u0001","n":-1.5,"i":42,"b":true,"z":null,"a":[1,[2],{}],"o":{"k":"v"}})";
  const Json json = MustParse(text);
  EXPECT_EQ(json.Dump(), text);
  EXPECT_EQ(MustParse(json.Dump()), json);
}

TEST(JsonDumpTest, WritesDoublesThatParseBackExactly) {
  EXPECT_EQ(MustParse(Json::Number(0.1).Dump()).number_value(), 0.1);
  EXPECT_EQ(Json::Number(std::numeric_limits<double>::infinity()).Dump(), "null");
}

// Found by fuzz/sdk_json_fuzzer.cc: -0.0 was written "-0", which reads back as the integer 0, so
// Dump(Parse(Dump(x))) differed from Dump(x). Every spelling of a negative zero double stays one.
TEST(JsonDumpTest, NegativeZeroKeepsItsSignThroughARoundTrip) {
  for (const char* text : {"-0.0", "-0e-315", "-0E+3", "-0.000"}) {
    const Json once = MustParse(text);
    ASSERT_TRUE(std::signbit(once.number_value())) << text;
    const Json twice = MustParse(once.Dump());
    EXPECT_TRUE(std::signbit(twice.number_value())) << text << " dumped as " << once.Dump();
    EXPECT_EQ(twice.Dump(), once.Dump()) << text;
  }
  EXPECT_EQ(Json::Number(-0.0).Dump(), "-0.0");
  // The integer -0 is the integer 0, as JSON readers take it.
  EXPECT_EQ(MustParse("-0").Dump(), "0");
}

TEST(JsonEqualityTest, IgnoresMemberOrderButNotValues) {
  EXPECT_EQ(MustParse(R"({"a":1,"b":[true]})"), MustParse(R"({"b":[true],"a":1})"));
  EXPECT_NE(MustParse(R"({"a":1})"), MustParse(R"({"a":2})"));
  EXPECT_NE(MustParse(R"({"a":1})"), MustParse(R"({"a":1,"b":1})"));
  EXPECT_NE(MustParse("[1,2]"), MustParse("[2,1]"));
  EXPECT_NE(MustParse("1"), MustParse("\"1\""));
}

TEST(JsonAccessorTest, WrongTypeAccessThrowsLogicError) {
  const Json json = MustParse("\"x\"");
  EXPECT_THROW(static_cast<void>(json.bool_value()), std::logic_error);
  EXPECT_THROW(static_cast<void>(json.array_items()), std::logic_error);
}

TEST(JsonGetTest, ReturnsValuesAndDefaults) {
  const Json params = MustParse(
      R"({"s":"text","i":7,"d":0.5,"b":true,"arr":["x","y"],"map":{"k1":"v1","k2":"v2"}})");
  EXPECT_EQ(*params.GetString("s"), "text");
  EXPECT_EQ(*params.GetString("nope", "fallback"), "fallback");
  EXPECT_EQ(*params.GetInt("i"), 7);
  EXPECT_EQ(*params.GetInt("nope", -3), -3);
  EXPECT_DOUBLE_EQ(*params.GetNumber("d"), 0.5);
  EXPECT_DOUBLE_EQ(*params.GetNumber("i"), 7.0);
  EXPECT_DOUBLE_EQ(*params.GetNumber("nope", 1.5), 1.5);
  EXPECT_TRUE(*params.GetBool("b"));
  EXPECT_FALSE(*params.GetBool("nope", false));
  EXPECT_EQ(*params.GetStringArray("arr"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(params.GetStringArray("nope")->empty());
  const auto map = *params.GetStringMap("map");
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map.at("k1"), "v1");
  EXPECT_EQ(map.at("k2"), "v2");
  EXPECT_TRUE(params.GetStringMap("nope")->empty());
  EXPECT_TRUE(params.Has("s"));
  EXPECT_FALSE(params.Has("nope"));
}

TEST(JsonGetTest, MissingRequiredKeyIsInvalidParams) {
  const Json params = MustParse("{}");
  const auto result = params.GetString("command");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidParams);
  EXPECT_EQ(result.status().message(), "missing required parameter 'command'");
}

TEST(JsonGetTest, WrongTypesNameTheParameterAndBothTypes) {
  const Json params =
      MustParse(R"({"s":1,"i":"7","f":1.5,"b":"yes","arr":["x",2],"map":{"k":false}})");
  EXPECT_EQ(params.GetString("s").status().message(),
            "parameter 's' must be a string, not a number");
  EXPECT_EQ(params.GetInt("i", 0).status().message(),
            "parameter 'i' must be an integer, not a string");
  EXPECT_EQ(params.GetInt("f").status().message(), "parameter 'f' must be an integer, not 1.5");
  EXPECT_EQ(params.GetBool("b", false).status().message(),
            "parameter 'b' must be a boolean, not a string");
  EXPECT_EQ(params.GetStringArray("arr").status().message(),
            "parameter 'arr[1]' must be a string, not a number");
  EXPECT_EQ(params.GetStringMap("map").status().message(),
            "parameter 'map.k' must be a string, not a boolean");
  EXPECT_EQ(params.GetStringArray("s").status().message(),
            "parameter 's' must be an array of strings, not a number");
}

TEST(JsonGetTest, LookupsOnANonObjectFail) {
  const Json array = MustParse("[]");
  EXPECT_EQ(array.GetString("x", "").status().message(),
            "parameters must be a JSON object, not an array");
}

TEST(JsonCheckKeysTest, AcceptsKnownKeysAndNamesTheFirstUnknownOne) {
  const Json params = MustParse(R"({"ms":1,"msec":2})");
  EXPECT_TRUE(MustParse(R"({"ms":1})").CheckKeys({"ms"}).ok());
  const petit::sdk::Status status = params.CheckKeys({"ms", "other"});
  EXPECT_EQ(status.code(), StatusCode::kInvalidParams);
  EXPECT_EQ(status.message(), "unknown parameter 'msec' (expected one of: ms, other)");
  EXPECT_EQ(params.CheckKeys({}).message(), "unknown parameter 'ms' (this task takes none)");
}

}  // namespace
