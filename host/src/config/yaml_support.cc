#include "config/yaml_support.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "petit/core/json.h"

namespace petit::host {
namespace {

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "undefined";
  }
}

// A plain (unquoted) scalar: the only kind that may stand for a number, a boolean or null.
bool IsPlain(const YAML::Node& node) { return node.Tag() != "!"; }

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

// RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

bool IsNullText(std::string_view text) {
  return text == "~" || text == "null" || text == "Null" || text == "NULL";
}

}  // namespace

void YamlErrors::Add(const YAML::Mark& mark, std::string_view message) {
  std::string line = file_;
  if (!mark.is_null()) {
    line += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  line += ": ";
  line += message;
  messages_.push_back(std::move(line));
}

void CheckKeys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
               std::string_view where, YamlErrors& errors) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors.AddAt(key, "keys of " + std::string(where) + " must be strings");
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string message = "unknown key '" + name + "' in " + std::string(where);
    if (auto suggestion = ClosestMatch(name, allowed)) {
      message += " (did you mean '" + *suggestion + "'?)";
    }
    errors.AddAt(key, message);
  }
}

std::optional<std::string> ReadString(const YAML::Node& node, std::string_view key,
                                      YamlErrors& errors) {
  if (!node.IsScalar()) {
    errors.AddAt(node, "'" + std::string(key) + "' must be a string, not " + KindName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view key, int64_t min,
                               int64_t max, YamlErrors& errors) {
  std::optional<int64_t> value;
  if (node.IsScalar()) value = ParseInt(node.Scalar());
  if (!value) {
    errors.AddAt(node, "'" + std::string(key) + "' must be an integer");
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    errors.AddAt(node, "'" + std::string(key) + "' must be between " + std::to_string(min) +
                           " and " + std::to_string(max) + ", not " + node.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<double> ReadNumber(const YAML::Node& node, std::string_view key, YamlErrors& errors) {
  std::optional<double> value;
  if (node.IsScalar()) value = ParseDouble(node.Scalar());
  if (!value) errors.AddAt(node, "'" + std::string(key) + "' must be a number");
  return value;
}

std::optional<bool> ReadBool(const YAML::Node& node, std::string_view key, YamlErrors& errors) {
  std::optional<bool> value;
  if (node.IsScalar()) value = ParseBool(node.Scalar());
  if (!value) errors.AddAt(node, "'" + std::string(key) + "' must be true or false");
  return value;
}

std::optional<std::vector<std::string>> ReadStringList(const YAML::Node& node, std::string_view key,
                                                       YamlErrors& errors) {
  if (!node.IsSequence()) {
    errors.AddAt(node, "'" + std::string(key) + "' must be a list, not " + KindName(node));
    return std::nullopt;
  }
  std::vector<std::string> items;
  bool ok = true;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      errors.AddAt(item,
                   "items of '" + std::string(key) + "' must be strings, not " + KindName(item));
      ok = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return items;
}

std::string YamlToJson(const YAML::Node& node) {
  std::string out;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out.push_back('{');
      bool first = true;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, it->first.IsScalar() ? it->first.Scalar() : YamlToJson(it->first));
        out.push_back(':');
        out += YamlToJson(it->second);
      }
      out.push_back('}');
      return out;
    }
    case YAML::NodeType::Sequence: {
      out.push_back('[');
      bool first = true;
      for (const YAML::Node& item : node) {
        if (!first) out.push_back(',');
        first = false;
        out += YamlToJson(item);
      }
      out.push_back(']');
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (IsPlain(node)) {
        if (IsJsonNumber(text)) return text;
        if (auto b = ParseBool(text)) return *b ? "true" : "false";
        if (IsNullText(text)) return "null";
      }
      return JsonString(text);
    }
    default:
      return "null";
  }
}

std::string YamlToConfigValue(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsNull()) return "";
  return YamlToJson(node);
}

}  // namespace petit::host
