// ParamsSchema (config/params_schema.h) on its own: the keywords beyond what the job tests reach,
// text typing, and keys when the params are a task's own keys.
#include "config/params_schema.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/yaml_document.h"

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
  const internal::YamlDocument document = internal::ParseYamlDocument(yaml, "p.yaml");
  EXPECT_TRUE(document.errors.empty()) << yaml;
  const YamlNode params = document.root;
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

// A negated class of characters ("none of these") is answered without std::regex, as it would be.
TEST(ParamsSchemaTest, ANegatedClassOfCharactersMatchesAsTheRegexWould) {
  const ParamsSchema schema = Parsed(R"({"properties": {
      "name": {"type": "string", "pattern": "^[^=\\x00]+$"},
      "text": {"type": "string", "pattern": "^[^\\x00]*$"},
      "range": {"type": "string", "pattern": "^[^a-c]+$"}}})");
  for (const std::string value : {"A", "a b", "\\u00e9t\\u00e9", "1"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(Check(schema, "{name: \"" + value + "\", text: \"" + value + "\"}"), "");
  }
  EXPECT_THAT(Check(schema, R"({name: "A=B"})"), HasSubstr("parameter 'name' must match"));
  EXPECT_THAT(Check(schema, R"({name: ""})"), HasSubstr("parameter 'name' must match"));
  EXPECT_THAT(Check(schema, R"({name: "A\0B"})"), HasSubstr("parameter 'name' must match"));
  EXPECT_EQ(Check(schema, R"({text: ""})"), "");
  EXPECT_THAT(Check(schema, R"({text: "x\0"})"), HasSubstr("parameter 'text' must match"));
  // A range is std::regex's to match: 'b' is in a-c.
  EXPECT_EQ(Check(schema, R"({range: "xyz"})"), "");
  EXPECT_THAT(Check(schema, R"({range: "xbz"})"), HasSubstr("parameter 'range' must match"));
}

TEST(ParamsSchemaTest, APatternStdRegexCannotCompileIsLeftToThePlugin) {
  const ParamsSchema schema =
      Parsed(R"({"properties": {"tag": {"type": "string", "pattern": "(?<=v)1"}}})");
  EXPECT_EQ(Check(schema, "{tag: x}"), "");
  EXPECT_THAT(Check(schema, "{tag: 5}"), HasSubstr("must be a string")) << "the rest still holds";
}

// A pattern is compiled on first use; whether it compiles still decides, as when it was compiled
// with the schema, if a branch beside `required` is described by the names it requires.
TEST(ParamsSchemaTest, ABranchWithAPatternStdRegexCannotCompileIsDescribedByItsNames) {
  const ParamsSchema ignored = Parsed(R"({"type": "object",
      "anyOf": [{"required": ["a"], "pattern": "(?<=v)1"}, {"required": ["b"]}]})");
  EXPECT_THAT(Check(ignored, "{c: 1}"), HasSubstr("must include 'a' or 'b'"));
  const ParamsSchema kept = Parsed(R"({"type": "object",
      "anyOf": [{"required": ["a"], "pattern": "^x"}, {"required": ["b"]}]})");
  EXPECT_THAT(Check(kept, "{c: 1}"), HasSubstr("none of the alternatives (anyOf)"));
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

// Any type mismatch shows one line of YAML of the right form, built from the schema: its type,
// items, members (required first), bounds and enums.
TEST(ParamsSchemaTest, AWrongTypeShowsAnExampleOfTheRightFormBuiltFromTheSchema) {
  const ParamsSchema schema = Parsed(R"({"type": "object", "properties": {
      "command": {"type": "string", "minLength": 1},
      "args": {"type": "array", "items": {"type": "string"}},
      "environment": {"type": "object",
                      "additionalProperties": {"type": ["string", "number", "boolean"]}},
      "env_clear": {"type": "boolean"},
      "timeout_secs": {"type": "number", "exclusiveMinimum": 0},
      "kill_grace_ms": {"type": "integer", "minimum": 100},
      "mode": {"enum": ["fast", "slow"], "type": "string"},
      "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
      "server": {"type": "object", "required": ["host", "port"], "properties": {
          "tls": {"type": "boolean"}, "host": {"type": "string"},
          "port": {"type": "integer", "minimum": 1, "maximum": 65535}}},
      "deep": {"type": "object", "properties": {"a": {"type": "object", "properties": {
          "b": {"type": "object", "properties": {"c": {"type": "string"}}}}}}}}})");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{command: [echo, hi]}",
       "parameter 'command' must be a string, not a list (for example command: \"...\")"},
      {"{args: \"a b\"}",
       "parameter 'args' must be a list, not a string (for example args: [\"...\", \"...\"])"},
      {"{args: [[a]]}", "parameter 'args[0]' must be a string, not a list (for example \"...\")"},
      {"{environment: [A=b]}",
       "parameter 'environment' must be a mapping, not a list (for example environment: {NAME: "
       "\"...\"})"},
      {"{environment: {A: [b]}}",
       "parameter 'environment.A' must be a string, a number or a boolean, not a list (for "
       "example A: \"...\")"},
      {"{env_clear: [yes]}", "(for example env_clear: true)"},
      {"{timeout_secs: soon}", "(for example timeout_secs: 1)"},
      {"{kill_grace_ms: 1.5}", "must be an integer, not a number (for example kill_grace_ms: 100)"},
      {"{mode: [fast]}", "(for example mode: \"fast\")"},
      {"{matrix: 1}", "(for example matrix: [[1, 1], [1, 1]])"},
      {"{server: on}", "(for example server: {host: \"...\", port: 1})"},
      {"{deep: 1}", "(for example deep: {a: {b: {...}}})"},
  };
  for (const auto& [yaml, message] : cases) {
    const std::string problems = Check(schema, yaml);
    EXPECT_THAT(problems, HasSubstr(message)) << yaml;
    EXPECT_EQ(std::count(problems.begin(), problems.end(), '\n'), 1) << problems;
  }
  EXPECT_THAT(Check(schema, "[a]"),
              HasSubstr("parameters must be a mapping, not a list (for example params: "
                        "{command: \"...\"})"));
}

TEST(ParamsSchemaTest, WithoutAKeyProblemsAreKeyedByTheParametersPath) {
  const ParamsSchema schema = Parsed(R"({"type": "object", "required": ["url"],
      "properties": {"args": {"type": "array", "items": {"type": "string"}}}})");
  EXPECT_EQ(Check(schema, "{args: [[x]]}", ScalarTyping::kTyped, ""),
            "p.yaml:1:1: task 't' (type x): missing required parameter 'url' []\n"
            "p.yaml:1:9: task 't' (type x): parameter 'args[0]' must be a string, not a list "
            "(for example \"...\") [args[0]]\n");
}

}  // namespace
}  // namespace petit::host
