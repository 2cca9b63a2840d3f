// Helpers shared by the loaders of petit.yaml and job files: positions, strict keys, conversions.
//
// Every error these produce starts with "<file>:<line>:<column>:" (1-based) and names the key, so
// a user can jump straight to it. yaml-cpp exceptions never leave this layer.
#ifndef PETIT_HOST_CONFIG_YAML_SUPPORT_H_
#define PETIT_HOST_CONFIG_YAML_SUPPORT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "petit/core/suggest.h"

namespace petit::host {

// Collects the errors of one file so all of them can be reported in one pass.
class YamlErrors {
 public:
  explicit YamlErrors(std::string file) : file_(std::move(file)) {}

  void Add(const YAML::Mark& mark, std::string_view message);
  void AddAt(const YAML::Node& node, std::string_view message) { Add(node.Mark(), message); }

  const std::string& file() const { return file_; }
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::string file_;
  std::vector<std::string> messages_;
};

// Reports every key of `map` that is not in `allowed`, with the nearest allowed key suggested.
// `where` names the mapping in messages ("job", "task 'extract'").
void CheckKeys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
               std::string_view where, YamlErrors& errors);

// Typed reads of one field; on a wrong type they add an error naming `key` and return nullopt.
std::optional<std::string> ReadString(const YAML::Node& node, std::string_view key,
                                      YamlErrors& errors);
std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view key, int64_t min,
                               int64_t max, YamlErrors& errors);
std::optional<double> ReadNumber(const YAML::Node& node, std::string_view key, YamlErrors& errors);
std::optional<bool> ReadBool(const YAML::Node& node, std::string_view key, YamlErrors& errors);
std::optional<std::vector<std::string>> ReadStringList(const YAML::Node& node, std::string_view key,
                                                       YamlErrors& errors);

// Any YAML value as JSON: plain scalars that read as numbers, booleans or null keep that type,
// quoted scalars stay strings.
std::string YamlToJson(const YAML::Node& node);

// A config value as tasks see it: scalars as their text, maps and lists as JSON.
std::string YamlToConfigValue(const YAML::Node& node);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_YAML_SUPPORT_H_
