// ParamsSchema (config/params_schema.h) on its own: the keywords beyond what the job tests reach,
// text typing, and keys when the params are a task's own keys.
#include "config/params_schema.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace petit::host {
namespace {

using ::testing::HasSubstr;

ParamsSchema Parsed(const std::string& json) {
  Result<ParamsSchema> schema = ParamsSchema::Parse(json);
  EXPECT_TRUE(schema.ok()) << schema.status().message();
  return schema.ok() ? std::move(schema).value() : ParamsSchema::Parse("{}").value();
}

// The problems of checking `yaml` (a mapping) under the key "params".
std::string Check(const ParamsSchema& schema, const std::string& yaml,
                  ScalarTyping typing = ScalarTyping::kTyped, const std::string& key = "params") {
  const YAML::Node params = YAML::Load(yaml);
  YamlErrors errors("p.yaml");
  schema.Check(params, params, key, "task 't' (type x)", errors, typing);
  std::string all;
  for (const Diagnostic& problem : errors.diagnostics()) {
    all += problem.ToString() + " [" + problem.key + "]\n";
  }
  return all;
}

// A plugin's schema is read by the same checked parser as job files: broken or hostile JSON is
// an error naming the line, not a hang.
TEST(ParamsSchemaTest, AMalformedSchemaIsAnErrorNamingItsLine) {
  for (const auto& [json, line] : std::vector<std::pair<std::string, std::string>>{
           {",", "line 1"},
           {"{\"type\": \"object\"},", "line 1"},
           {"{\"type\":\n \"object\"", "line 2"},
           {std::string(100, '[') + std::string(100, ']'), "line 1"}}) {
    Result<ParamsSchema> schema = ParamsSchema::Parse(json);
    ASSERT_FALSE(schema.ok()) << json;
    EXPECT_THAT(schema.status().message(),
                HasSubstr("parameter schema is not valid JSON (" + line + "): "));
  }
}

TEST(ParamsSchemaTest, APatternIsSearchedForInTheString) {
  const ParamsSchema schema =
      Parsed(R"({"properties": {"tag": {"type": "string", "pattern": "^v[0-9]+$"}}})");
  EXPECT_EQ(Check(schema, "{tag: v12}"), "");
  EXPECT_EQ(Check(schema, "{tag: v1.2}"),
            "p.yaml:1:7: task 't' (type x): parameter 'tag' must match the pattern '^v[0-9]+$' "
            "[params.tag]\n");
  EXPECT_EQ(Check(schema, R"({tag: "${{ config.tag }}"})"), "") << "known only when it runs";
}

TEST(ParamsSchemaTest, APatternStdRegexCannotCompileIsLeftToThePlugin) {
  const ParamsSchema schema =
      Parsed(R"({"properties": {"tag": {"type": "string", "pattern": "(?<=v)1"}}})");
  EXPECT_EQ(Check(schema, "{tag: x}"), "");
  EXPECT_THAT(Check(schema, "{tag: 5}"), HasSubstr("must be a string")) << "the rest still holds";
}

TEST(ParamsSchemaTest, PropertyNamesCheckEveryNameAndItsDescriptionExplains) {
  const ParamsSchema schema = Parsed(R"({"properties": {"env": {"type": "object",
      "propertyNames": {"pattern": "^[A-Z]+$", "description": "capitals only"}}}})");
  EXPECT_EQ(Check(schema, "{env: {ABC: 1}}"), "");
  EXPECT_EQ(Check(schema, "{env: {ABC: 1, abc: 2}}"),
            "p.yaml:1:16: task 't' (type x): parameter 'env' has an invalid name 'abc' (capitals "
            "only) [params.env.abc]\n");
  const ParamsSchema plain = Parsed(R"({"type": "object", "propertyNames": {"maxLength": 2}})");
  EXPECT_EQ(Check(plain, "{ab: 1, 123: 2}"),
            "p.yaml:1:9: task 't' (type x): parameters has an invalid name '123' [params.123]\n")
      << "a name is a string, whatever it looks like";
}

TEST(ParamsSchemaTest, AsTextEveryScalarIsAString) {
  const ParamsSchema schema = Parsed(R"({"properties": {
      "args": {"type": "array", "items": {"type": "string"}},
      "n": {"type": "integer"}}})");
  EXPECT_THAT(Check(schema, "{args: [a, 5, true]}"),
              HasSubstr("parameter 'args[1]' must be a string, not an integer"));
  EXPECT_EQ(Check(schema, "{args: [a, 5, true]}", ScalarTyping::kText), "");
  EXPECT_THAT(Check(schema, "{n: 5}", ScalarTyping::kText),
              HasSubstr("parameter 'n' must be an integer, not a string"));
}

TEST(ParamsSchemaTest, WithoutAKeyProblemsAreKeyedByTheParametersPath) {
  const ParamsSchema schema = Parsed(R"({"type": "object", "required": ["url"],
      "properties": {"args": {"type": "array", "items": {"type": "string"}}}})");
  EXPECT_EQ(Check(schema, "{args: [[x]]}", ScalarTyping::kTyped, ""),
            "p.yaml:1:1: task 't' (type x): missing required parameter 'url' []\n"
            "p.yaml:1:9: task 't' (type x): parameter 'args[0]' must be a string, not a list "
            "[args[0]]\n");
}

}  // namespace
}  // namespace petit::host
