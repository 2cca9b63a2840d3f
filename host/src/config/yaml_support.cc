#include "config/yaml_support.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "petit/core/json.h"

namespace petit::host {
namespace {

const char* KindName(const YamlNode& node) {
  switch (node.Type()) {
    case YamlNodeType::Map:
      return "a mapping";
    case YamlNodeType::Sequence:
      return "a list";
    case YamlNodeType::Scalar:
      return "a scalar";
    case YamlNodeType::Null:
      return "null";
    default:
      return "undefined";
  }
}

// A plain (unquoted) scalar read as typed: the only kind that may stand for a number, a boolean
// or null.
bool IsPlain(const YamlNode& node, ScalarTyping typing) {
  return typing == ScalarTyping::kTyped && node.Tag() != "!";
}

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

bool IsJsonNumber(std::string_view t) { return !t.empty() && JsonNumberLength(t) == t.size(); }

bool IsNullText(std::string_view text) {
  return text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// What follows "'<key>' must be a number": the value written, converted when it is a quantity
// with a unit, and an example.
std::string ValueHint(const YamlNode& node, std::string_view key, bool integer,
                      std::string_view example) {
  if (!node.IsScalar()) return std::string(", not ") + KindName(node);
  // A value too long to quote is named by its kind.
  if (node.Scalar().size() > 64)
    return ", not a string of " + std::to_string(node.Scalar().size()) + " bytes";
  return NumberHint(key, node.Scalar(), integer, example);
}

std::string ToJson(const YamlNode& node, ScalarTyping typing) {
  std::string out;
  switch (node.Type()) {
    case YamlNodeType::Map: {
      out.push_back('{');
      bool first = true;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, it->first.IsScalar() ? it->first.Scalar()
                                                   : ToJson(it->first, ScalarTyping::kTyped));
        out.push_back(':');
        out += ToJson(it->second, typing);
      }
      out.push_back('}');
      return out;
    }
    case YamlNodeType::Sequence: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : node) {
        if (!first) out.push_back(',');
        first = false;
        out += ToJson(item, typing);
      }
      out.push_back(']');
      return out;
    }
    case YamlNodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (IsPlain(node, typing)) {
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

}  // namespace

// RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
size_t JsonNumberLength(std::string_view t) {
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
    return 0;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return 0;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return 0;
  }
  return i;
}

YamlErrors::KeyScope::KeyScope(YamlErrors& errors, std::string_view segment)
    : errors_(errors), restore_(errors.scope_.size()) {
  if (!errors_.scope_.empty() && !segment.empty() && segment.front() != '[') {
    errors_.scope_.push_back('.');
  }
  errors_.scope_.append(segment);
}

YamlErrors::KeyScope::~KeyScope() { errors_.scope_.resize(restore_); }

std::string YamlErrors::Path(std::string_view key) const {
  std::string path = scope_;
  if (!path.empty() && !key.empty() && key.front() != '[') path.push_back('.');
  path.append(key);
  return path;
}

void YamlErrors::Add(const YamlMark& mark, std::string_view key, std::string_view message) {
  Diagnostic diagnostic;
  diagnostic.file = file_;
  if (!mark.is_null()) {
    diagnostic.line = static_cast<uint32_t>(mark.line + 1);
    diagnostic.column = static_cast<uint32_t>(mark.column + 1);
  }
  diagnostic.key = Path(key);
  diagnostic.message = std::string(message);
  diagnostics_.push_back(std::move(diagnostic));
}

std::string YamlErrors::Joined() const {
  std::string joined;
  for (const Diagnostic& diagnostic : diagnostics_) {
    if (!joined.empty()) joined += "\n";
    joined += diagnostic.ToString();
  }
  return joined;
}

void CheckKeys(const YamlNode& map, const std::vector<std::string_view>& allowed,
               std::string_view where, YamlErrors& errors, std::optional<KeyLevel> level) {
  std::optional<KeyHinter> hinter;  // made at the first unknown key, for all of them
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YamlNode key = it->first;
    if (!key.IsScalar()) {
      errors.AddAt(key, "", "keys of " + std::string(where) + " must be strings");
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    // A merge key is reported where the document is read (yaml_document.h), once.
    if (name == "<<" && key.Tag() == "?") continue;
    // A key of a kilobyte must not make a kilobyte-long line.
    constexpr size_t kShownKeyBytes = 64;
    const std::string shown =
        name.size() <= kShownKeyBytes ? name : name.substr(0, kShownKeyBytes) + "...";
    std::string message = "unknown key '" + shown + "' in " + std::string(where);
    if (errors.size() >= kMaxHintedProblems) {
      // A file this wrong was not written by hand; its problems are listed, not guessed at.
    } else if (level) {
      if (!hinter) hinter.emplace(allowed, *level);
      message += hinter->Hint(name);
    } else if (auto guess = GuessName(name, allowed)) {
      message += " (did you mean '" + guess->name + "'?)";
    }
    errors.AddAt(key, name, message);
  }
}

std::optional<std::string> ReadString(const YamlNode& node, std::string_view key,
                                      YamlErrors& errors) {
  if (!node.IsScalar()) {
    errors.AddAt(node, key, "'" + std::string(key) + "' must be a string, not " + KindName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> ReadInt(const YamlNode& node, std::string_view key, int64_t min, int64_t max,
                               YamlErrors& errors) {
  std::optional<int64_t> value;
  if (node.IsScalar()) value = ParseInt(node.Scalar());
  if (!value) {
    errors.AddAt(node, key,
                 "'" + std::string(key) + "' must be an integer" +
                     ValueHint(node, key, true, std::to_string(std::clamp<int64_t>(1, min, max))));
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    errors.AddAt(node, key,
                 "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", not " + node.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<double> ReadNumber(const YamlNode& node, std::string_view key, YamlErrors& errors,
                                 std::string_view example) {
  std::optional<double> value;
  if (node.IsScalar()) value = ParseDouble(node.Scalar());
  if (!value) {
    errors.AddAt(
        node, key,
        "'" + std::string(key) + "' must be a number" + ValueHint(node, key, false, example));
  }
  return value;
}

std::optional<bool> ReadBool(const YamlNode& node, std::string_view key, YamlErrors& errors) {
  std::optional<bool> value;
  if (node.IsScalar()) value = ParseBool(node.Scalar());
  if (!value) {
    errors.AddAt(node, key,
                 "'" + std::string(key) + "' must be true or false, not " +
                     (node.IsScalar() ? "'" + node.Scalar().substr(0, 64) + "'"
                                      : std::string(KindName(node))));
  }
  return value;
}

std::optional<std::vector<std::string>> ReadStringList(const YamlNode& node, std::string_view key,
                                                       YamlErrors& errors) {
  if (!node.IsSequence()) {
    errors.AddAt(node, key, "'" + std::string(key) + "' must be a list, not " + KindName(node));
    return std::nullopt;
  }
  std::vector<std::string> items;
  bool ok = true;
  size_t index = 0;
  for (const YamlNode& item : node) {
    const std::string item_key = std::string(key) + "[" + std::to_string(index++) + "]";
    if (!item.IsScalar()) {
      errors.AddAt(item, item_key,
                   "items of '" + std::string(key) + "' must be strings, not " + KindName(item));
      ok = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return items;
}

JsonKind JsonKindOf(const YamlNode& node, ScalarTyping typing) {
  switch (node.Type()) {
    case YamlNodeType::Map:
      return JsonKind::kObject;
    case YamlNodeType::Sequence:
      return JsonKind::kArray;
    case YamlNodeType::Scalar:
      break;
    default:
      return JsonKind::kNull;
  }
  const std::string& text = node.Scalar();
  if (!IsPlain(node, typing)) return JsonKind::kString;
  if (IsJsonNumber(text)) {
    return text.find_first_of(".eE") == std::string::npos ? JsonKind::kInteger : JsonKind::kNumber;
  }
  if (ParseBool(text)) return JsonKind::kBoolean;
  if (IsNullText(text)) return JsonKind::kNull;
  return JsonKind::kString;
}

const char* JsonKindName(JsonKind kind) {
  switch (kind) {
    case JsonKind::kNull:
      return "null";
    case JsonKind::kBoolean:
      return "a boolean";
    case JsonKind::kInteger:
      return "an integer";
    case JsonKind::kNumber:
      return "a number";
    case JsonKind::kString:
      return "a string";
    case JsonKind::kArray:
      return "a list";
    case JsonKind::kObject:
      return "a mapping";
  }
  return "unknown";
}

MapFields::MapFields(const YamlNode& map) {
  if (!map.IsMap()) return;
  fields_.reserve(map.size());
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar()) fields_.emplace_back(it->first.Scalar(), it->second);
  }
}

YamlNode MapFields::operator[](std::string_view key) const {
  for (const auto& [name, value] : fields_) {
    if (name == key) return value;
  }
  return YamlNode();
}

std::optional<std::string> ReadRequiredString(const MapFields& fields, const YamlNode& owner,
                                              std::string_view key, std::string_view where,
                                              YamlErrors& errors) {
  const YamlNode node = fields[key];
  if (!node) {
    errors.AddAt(owner, key,
                 std::string(where) + " is missing required key '" + std::string(key) + "'");
    return std::nullopt;
  }
  return ReadString(node, key, errors);
}

bool MapFields::Has(std::string_view key) const {
  for (const auto& field : fields_) {
    if (field.first == key) return true;
  }
  return false;
}

std::string YamlToJson(const YamlNode& node, ScalarTyping typing) { return ToJson(node, typing); }

std::string YamlToConfigValue(const YamlNode& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsNull()) return "";
  return YamlToJson(node);
}

}  // namespace petit::host
