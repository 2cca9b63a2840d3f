// Helpers shared by the loaders of petit.yaml and job files: positions, strict keys, conversions.
//
// Every error these produce starts with "<file>:<line>:<column>:" (1-based) and names the key, so
// a user can jump straight to it.
#ifndef PETIT_HOST_CONFIG_YAML_SUPPORT_H_
#define PETIT_HOST_CONFIG_YAML_SUPPORT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.h"
#include "config/key_hints.h"
#include "config/yaml_tree.h"
#include "petit/core/suggest.h"

namespace petit::host {

// Collects the problems of one file so all of them can be reported in one pass.
//
// Keys: every problem names the key it is about as a path from the top of the file. The `key`
// given to Add() is relative to the innermost live KeyScope, so a parser says "delay_secs" inside
// the scope "tasks.extract.retry" and the problem reads "tasks.extract.retry.delay_secs".
class YamlErrors {
 public:
  explicit YamlErrors(std::string file) : file_(std::move(file)) {}

  // Pushes `segment` ("tasks.extract", "[2]", "schedule") for its lifetime. Scopes nest and must
  // be destroyed in reverse order of creation, which block scoping gives.
  class KeyScope {
   public:
    KeyScope(YamlErrors& errors, std::string_view segment);
    ~KeyScope();
    KeyScope(const KeyScope&) = delete;
    KeyScope& operator=(const KeyScope&) = delete;

   private:
    YamlErrors& errors_;
    size_t restore_;
  };

  void Add(const YamlMark& mark, std::string_view key, std::string_view message);
  // A problem found elsewhere (YamlDocument::problems), kept as it is.
  void Append(Diagnostic diagnostic) { diagnostics_.push_back(std::move(diagnostic)); }
  // At `node`; a node that does not exist (a missing key) gives a problem without a position.
  void AddAt(const YamlNode& node, std::string_view key, std::string_view message) {
    Add(node.IsDefined() ? node.Mark() : YamlMark::null_mark(), key, message);
  }
  // `key` under the current scope.
  std::string Path(std::string_view key) const;

  const std::string& file() const { return file_; }
  bool empty() const { return diagnostics_.empty(); }
  size_t size() const { return diagnostics_.size(); }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // "<file>:<line>:<col>: message" lines, one per problem.
  std::string Joined() const;

 private:
  std::string file_;
  std::string scope_;
  std::vector<Diagnostic> diagnostics_;
};

// Problems of a file after which unknown keys get no suggestion: nobody writes a thousand wrong
// keys by hand, and a generated file must not cost a guess for each of its 10,000 keys.
inline constexpr size_t kMaxHintedProblems = 1000;

// Reports every key of `map` that is not in `allowed`, with the nearest allowed key suggested.
// `where` names the mapping in messages ("job", "task 'extract'"). Problems are keyed by the
// unknown key itself, under the current scope.
// With `level`, the suggestion also knows the keys of the levels around it and the words other
// formats use (key_hints.h); without, it is the closest of `allowed` (GuessName).
void CheckKeys(const YamlNode& map, const std::vector<std::string_view>& allowed,
               std::string_view where, YamlErrors& errors,
               std::optional<KeyLevel> level = std::nullopt);

// Typed reads of one field; on a wrong type they add an error naming `key` (relative to the
// current scope) and return nullopt.
std::optional<std::string> ReadString(const YamlNode& node, std::string_view key,
                                      YamlErrors& errors);
std::optional<int64_t> ReadInt(const YamlNode& node, std::string_view key, int64_t min, int64_t max,
                               YamlErrors& errors);
// `example` is the value the error suggests: one the key accepts.
std::optional<double> ReadNumber(const YamlNode& node, std::string_view key, YamlErrors& errors,
                                 std::string_view example = "10");
std::optional<bool> ReadBool(const YamlNode& node, std::string_view key, YamlErrors& errors);
std::optional<std::vector<std::string>> ReadStringList(const YamlNode& node, std::string_view key,
                                                       YamlErrors& errors);

// The length of the JSON number (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) that
// `text` starts with, or 0 when it starts with none.
size_t JsonNumberLength(std::string_view text);

// How scalars read when a YAML value is taken as JSON. kTyped: a plain (unquoted) scalar that reads
// as a number, boolean or null keeps that type, as in a task's `params`. kText: every scalar is a
// string, as in the original Petit's command and python forms, whose fields are all text.
enum class ScalarTyping : uint8_t { kTyped, kText };

// What a YAML value is once written as JSON (YamlToJson) with the same typing.
enum class JsonKind : uint8_t { kNull, kBoolean, kInteger, kNumber, kString, kArray, kObject };
JsonKind JsonKindOf(const YamlNode& node, ScalarTyping typing = ScalarTyping::kTyped);
// "an integer", "a string", ...
const char* JsonKindName(JsonKind kind);

// A mapping's keys, when the mapping is read many times: one pass over it instead of a linear
// lookup per field. Non-scalar keys are left out (CheckKeys reports them).
class MapFields {
 public:
  explicit MapFields(const YamlNode& map);
  // The value of `key`, or an undefined node (false in a boolean context).
  YamlNode operator[](std::string_view key) const;
  bool Has(std::string_view key) const;

 private:
  std::vector<std::pair<std::string_view, YamlNode>> fields_;  // keys in the tree's strings
};

// The string at `key` of a mapping that must have it. A missing key is one error at `owner`:
// "<where> is missing required key '<key>'"; a value that is not a scalar is ReadString's error.
std::optional<std::string> ReadRequiredString(const MapFields& fields, const YamlNode& owner,
                                              std::string_view key, std::string_view where,
                                              YamlErrors& errors);

// Any YAML value as JSON. Typed: plain scalars that read as numbers, booleans or null keep that
// type, quoted scalars stay strings. Text: every scalar is a string.
std::string YamlToJson(const YamlNode& node, ScalarTyping typing = ScalarTyping::kTyped);

// A config value as tasks see it: scalars as their text, maps and lists as JSON.
std::string YamlToConfigValue(const YamlNode& node);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_YAML_SUPPORT_H_
