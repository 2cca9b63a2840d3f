// ParseStrictJson (json_document.h): for every text it takes, the very tree ParseYamlDocument
// builds; every text it cannot read that way is left to ParseYamlDocument.
#include "config/json_document.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "command_spec.h"
#include "config/yaml_document.h"

namespace petit::host::internal {
namespace {

// Node for node: type, tag, scalar, mark, then the children in order.
void ExpectSameTree(const YamlNode& fast, const YamlNode& yaml, const std::string& where) {
  ASSERT_EQ(fast.Type(), yaml.Type()) << where;
  EXPECT_EQ(fast.Tag(), yaml.Tag()) << where;
  EXPECT_EQ(fast.Mark().line, yaml.Mark().line) << where;
  EXPECT_EQ(fast.Mark().column, yaml.Mark().column) << where;
  if (fast.IsScalar()) {
    EXPECT_EQ(fast.Scalar(), yaml.Scalar()) << where;
  }
  ASSERT_EQ(fast.size(), yaml.size()) << where;
  if (fast.IsMap()) {
    auto f = fast.begin();
    auto y = yaml.begin();
    for (size_t i = 0; i < fast.size(); ++i, ++f, ++y) {
      const std::string at = where + "." + std::string((*y).first.Scalar());
      ExpectSameTree((*f).first, (*y).first, at + " (key)");
      ExpectSameTree((*f).second, (*y).second, at);
    }
  } else if (fast.IsSequence()) {
    for (size_t i = 0; i < fast.size(); ++i) {
      ExpectSameTree(fast[i], yaml[i], where + "[" + std::to_string(i) + "]");
    }
  }
}

void ExpectAsYaml(const std::string& text) {
  std::optional<YamlDocument> fast = ParseStrictJson(text);
  ASSERT_TRUE(fast.has_value()) << text;
  const YamlDocument yaml = ParseYamlDocument(text, "schema");
  ASSERT_TRUE(yaml.errors.empty()) << text;
  ASSERT_TRUE(yaml.problems.empty()) << text;
  EXPECT_TRUE(fast->errors.empty());
  EXPECT_TRUE(fast->problems.empty());
  ExpectSameTree(fast->root, yaml.root, "$");
}

TEST(ParseStrictJsonTest, BuildsTheTreeYamlBuildsForTheCommandPluginsSchema) {
  ExpectAsYaml(petit::command::kCommandParamsSchema);
}

TEST(ParseStrictJsonTest, BuildsTheTreeYamlBuildsForEveryKindOfValue) {
  for (const std::string& text : std::vector<std::string>{
           R"({})",
           R"([])",
           R"("text")",
           R"(-12.5e+3)",
           R"(null)",
           R"({"a": 1, "b": [true, false, null], "c": {"d": "e f", "g": []}, "h": {}})",
           "{\n  \"a\": [1, 2,\n        3],\n  \"b\":\n    {\"c\": \"\"}\n}\n",
           R"([0, -0, 10, 1.5, 2E5, 3e-2, "5", "true", "null", "", "a: b", "#x", "{"])",
           R"([[[["deep"]]], {"k": {"k": {"k": null}}}])",
           "  {\"padded\": \"value\"}  \n\n",
           R"({"type":"object","additionalProperties":false})",  // compact, as serialisers write
           R"({"a":1,"b":[1,"x",true,null,-2.5e3],"c":{"d":null},"e":"f","g":{}})",
           // A value's \\ and \" (a pattern's backslash), decoded as YAML decodes them.
           R"({"pattern": "^[^=\\x00]+$", "quote": "say \"hi\"", "both": "\\\"", "end": "\\"})",
       }) {
    ExpectAsYaml(text);
  }
}

TEST(ParseStrictJsonTest, LeavesToYamlWhatItCannotReadExactlyAsYamlDoes) {
  for (const std::string& text : std::vector<std::string>{
           R"({"a": 1, "a": 2})",               // a key twice: a problem the YAML path reports
           R"({"a" : 1})",                      // a space before the colon
           R"({"e\"sc": "ab"})",                // an escape in a key
           R"({"esc": "a\nb"})",                // an escape other than \\ and \"
           R"({"esc": "a\u0041"})",             //
           "{\"tab\":\t1}",                     // a tab
           "{\"crlf\": 1}\r\n",                 // a carriage return
           "{\"utf8\": \"\xc3\xa9\"}",          // beyond ASCII
           R"({a: 1})",                         // YAML, not JSON
           R"({"a": 1,})",                      // a trailing comma
           R"({"a": 01})",                      // not a JSON number
           R"({"a": tru})",                     //
           R"({"a": 1} {"b": 2})",              // two values
           R"({"a": 1)",                        // unclosed
           "",                                  // nothing
           std::string(40 * 1024, ' ') + "{}",  // longer than it reads
           std::string(40, '[') + std::string(40, ']'),  // deeper
       }) {
    EXPECT_FALSE(ParseStrictJson(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace petit::host::internal
