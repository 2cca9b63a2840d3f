#include "config/params_schema.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "config/json_document.h"
#include "config/yaml_document.h"
#include "petit/core/suggest.h"
#include "petit/core/template.h"

namespace petit::host {
namespace {

// libstdc++'s std::regex recurses about once per character of the string it matches, so a longer
// string is left to the plugin's own check rather than risk the stack of a loader thread.
constexpr size_t kMaxPatternInputBytes = 1024;

enum TypeBit : uint8_t {
  kNullBit = 1 << 0,
  kBooleanBit = 1 << 1,
  kIntegerBit = 1 << 2,
  kNumberBit = 1 << 3,  // always set together with kIntegerBit: every integer is a number
  kStringBit = 1 << 4,
  kArrayBit = 1 << 5,
  kObjectBit = 1 << 6,
};

std::optional<uint8_t> TypeBitOf(std::string_view name) {
  if (name == "null") return kNullBit;
  if (name == "boolean") return kBooleanBit;
  if (name == "integer") return kIntegerBit;
  if (name == "number") return kNumberBit | kIntegerBit;
  if (name == "string") return kStringBit;
  if (name == "array") return kArrayBit;
  if (name == "object") return kObjectBit;
  return std::nullopt;
}

std::string DescribeTypes(uint8_t types) {
  std::vector<const char*> names;
  if (types & kStringBit) names.push_back("a string");
  if (types & kNumberBit) {
    names.push_back("a number");
  } else if (types & kIntegerBit) {
    names.push_back("an integer");
  }
  if (types & kBooleanBit) names.push_back("a boolean");
  if (types & kArrayBit) names.push_back("a list");
  if (types & kObjectBit) names.push_back("a mapping");
  if (types & kNullBit) names.push_back("null");
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += names[i];
  }
  return text;
}

std::optional<double> NumberOf(const YamlNode& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string FormatNumber(double value) {
  char buffer[32];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(buffer, sizeof buffer, "%g", value);
  }
  return buffer;
}

// JSON Schema counts the length of a string in characters, which for UTF-8 are the bytes that do
// not continue a sequence.
uint64_t CodePoints(std::string_view text) {
  uint64_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string JoinQuoted(const std::vector<std::string>& names, std::string_view last_separator) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? std::string(last_separator) : ", ";
    text += "'" + names[i] + "'";
  }
  return text;
}

}  // namespace

namespace internal {

// A `pattern` is compiled when a value is first checked against it: libstdc++ spends about 300,000
// instructions compiling even "^[^=]+$" (its bracket matcher tabulates all 256 bytes), which every
// start of a host that loads the command plugin paid, for a job that may set no environment.
//
// The commonest form, an anchored negated class of single characters ("^[^=]+$", "^[^\x00]*$":
// text that holds none of them), is answered without std::regex: the command plugin's schema has
// five, which every load of command tasks compiled (0.5 ms for `petit validate examples`).
class LazyPattern {
 public:
  explicit LazyPattern(std::string text)
      : text_(std::move(text)), excluded_(ExcludedCharacters(text_)) {}
  const std::string& text() const { return text_; }

  // Whether the pattern is checked here: false when std::regex cannot compile it.
  bool Compiles() const { return excluded_.has_value() || Get() != nullptr; }

  // Whether `value` matches; true when std::regex cannot compile the pattern (the plugin checks).
  bool Matches(const std::string& value) const {
    if (excluded_) {
      return (!excluded_->nonempty || !value.empty()) &&
             value.find_first_of(excluded_->chars) == std::string::npos;
    }
    const std::regex* regex = Get();
    return regex == nullptr || std::regex_search(value, *regex);
  }
  // nullptr when std::regex cannot compile the text (valid for the plugin, see the header).
  const std::regex* Get() const {
    std::call_once(once_, [this] {
      try {
        regex_.emplace(text_, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        // Left empty: the pattern is ignored here and the plugin checks it.
      }
    });
    return regex_ ? &*regex_ : nullptr;
  }

 private:
  struct Excluded {
    std::string chars;  // none of these may appear
    bool nonempty;      // "+": at least one character
  };

  // "^[^...]*$" or "^[^...]+$" whose class lists plain characters and \xHH escapes only; nullopt
  // for any other pattern (a range, another escape: std::regex decides).
  static std::optional<Excluded> ExcludedCharacters(std::string_view pattern) {
    if (pattern.size() < 7 || !pattern.starts_with("^[^")) return std::nullopt;
    Excluded excluded;
    if (pattern.ends_with("]*$")) {
      excluded.nonempty = false;
    } else if (pattern.ends_with("]+$")) {
      excluded.nonempty = true;
    } else {
      return std::nullopt;
    }
    const std::string_view body = pattern.substr(3, pattern.size() - 6);
    for (size_t i = 0; i < body.size(); ++i) {
      const char c = body[i];
      if (c == '[' || c == ']' || c == '^' || c == '-') return std::nullopt;
      if (c != '\\') {
        excluded.chars += c;
        continue;
      }
      if (i + 3 >= body.size() || body[i + 1] != 'x' ||
          !std::isxdigit(static_cast<unsigned char>(body[i + 2])) ||
          !std::isxdigit(static_cast<unsigned char>(body[i + 3]))) {
        return std::nullopt;
      }
      excluded.chars +=
          static_cast<char>(std::stoi(std::string(body.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    }
    return excluded;
  }

  const std::string text_;
  const std::optional<Excluded> excluded_;
  mutable std::once_flag once_;
  mutable std::optional<std::regex> regex_;  // set once, under once_
};

struct SchemaNode {
  using Node = SchemaNode;

  struct Property {
    std::string name;
    std::unique_ptr<Node> schema;
  };

  uint8_t types = 0;  // TypeBit set; 0 = any type
  std::vector<Property> properties;
  std::vector<std::string> required;
  bool additional_forbidden = false;
  std::unique_ptr<Node> additional;  // schema of members not in properties
  std::unique_ptr<Node> items;
  std::vector<std::string> enum_json;  // each allowed value as YamlToJson writes it
  std::optional<std::string> const_json;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<double> exclusive_minimum;
  std::optional<double> exclusive_maximum;
  std::optional<uint64_t> min_length;
  std::optional<uint64_t> max_length;
  // ECMAScript, searched (unanchored) as JSON Schema says; null without the keyword.
  std::unique_ptr<LazyPattern> pattern;
  std::unique_ptr<Node> property_names;  // schema every member name of an object passes
  std::string description;
  std::optional<uint64_t> min_items;
  std::optional<uint64_t> max_items;
  std::vector<Node> all_of;
  std::vector<Node> any_of;
  std::vector<Node> one_of;
  std::unique_ptr<Node> not_schema;
  // True when `required` is the only keyword but for `pattern`: see OnlyRequired.
  bool required_alone = false;

  // True when `required` is the only keyword: such branches of anyOf/oneOf/not are described by
  // the names they require ("must include 'text' or 'input'") rather than as opaque alternatives.
  // A pattern std::regex cannot compile is ignored, so it is no keyword either.
  bool OnlyRequired() const {
    return required_alone && (pattern == nullptr || !pattern->Compiles());
  }

  const Node* FindProperty(std::string_view name) const {
    for (const Property& property : properties) {
      if (property.name == name) return property.schema.get();
    }
    return nullptr;
  }
};

}  // namespace internal

namespace {

using Node = internal::SchemaNode;

// Compiles the schema below `yaml`; `where` is the keyword path for messages.
class SchemaCompiler {
 public:
  static Status Compile(const YamlNode& yaml, const std::string& where, Node& out);

 private:
  static Status Fail(const std::string& where, std::string_view what) {
    return InvalidArgument("parameter schema: '" + where + "' " + std::string(what));
  }
  static std::string Below(const std::string& where, std::string_view keyword) {
    return where.empty() ? std::string(keyword) : where + "." + std::string(keyword);
  }
  static Status ReadCount(const YamlNode& yaml, const std::string& where,
                          std::optional<uint64_t>& out) {
    std::optional<double> value = NumberOf(yaml);
    if (!value || *value < 0 || *value != std::floor(*value)) {
      return Fail(where, "must be a non-negative integer");
    }
    out = static_cast<uint64_t>(*value);
    return Status::Ok();
  }
  static Status ReadBound(const YamlNode& yaml, const std::string& where,
                          std::optional<double>& out) {
    // Draft 4 wrote exclusiveMinimum as a boolean modifier; no plugin schema here uses it, and a
    // boolean bound is not a limit this checker can apply, so it is skipped rather than refused.
    if (yaml.IsScalar() && (yaml.Scalar() == "true" || yaml.Scalar() == "false")) {
      return Status::Ok();
    }
    out = NumberOf(yaml);
    if (!out) return Fail(where, "must be a number");
    return Status::Ok();
  }
  static Status ReadBranches(const YamlNode& yaml, const std::string& where,
                             std::vector<Node>& out) {
    if (!yaml.IsSequence() || yaml.size() == 0) return Fail(where, "must be a non-empty list");
    size_t index = 0;
    for (const YamlNode& branch : yaml) {
      out.emplace_back();
      Status status = Compile(branch, where + "[" + std::to_string(index++) + "]", out.back());
      if (!status.ok()) return status;
    }
    return Status::Ok();
  }
};

Status SchemaCompiler::Compile(const YamlNode& yaml, const std::string& where, Node& out) {
  if (yaml.IsScalar() && (yaml.Scalar() == "true" || yaml.Scalar() == "false")) {
    // Boolean schemas: `true` accepts anything; `false` nothing, which only makes sense for
    // additionalProperties and is handled there.
    if (yaml.Scalar() == "false")
      return Fail(where, "is the schema 'false', which no value passes");
    return Status::Ok();
  }
  if (!yaml.IsMap()) return Fail(where.empty() ? "(root)" : where, "must be a JSON object");
  size_t keywords = 0;
  bool has_required = false;
  for (auto it = yaml.begin(); it != yaml.end(); ++it) {
    const std::string& keyword = it->first.Scalar();
    const YamlNode value = it->second;
    const std::string here = Below(where, keyword);
    Status status = Status::Ok();
    if (keyword == "type") {
      std::vector<std::string> names;
      if (value.IsScalar()) {
        names.push_back(value.Scalar());
      } else if (value.IsSequence()) {
        for (const YamlNode& name : value) names.push_back(name.IsScalar() ? name.Scalar() : "");
      }
      if (names.empty()) return Fail(here, "must be a type name or a list of them");
      for (const std::string& name : names) {
        std::optional<uint8_t> bit = TypeBitOf(name);
        if (!bit) return Fail(here, "names unknown type '" + name + "'");
        out.types |= *bit;
      }
    } else if (keyword == "properties") {
      if (!value.IsMap()) return Fail(here, "must be an object of schemas");
      for (auto p = value.begin(); p != value.end(); ++p) {
        Node::Property property{p->first.Scalar(), std::make_unique<Node>()};
        status = Compile(p->second, Below(here, property.name), *property.schema);
        if (!status.ok()) return status;
        out.properties.push_back(std::move(property));
      }
    } else if (keyword == "required") {
      if (!value.IsSequence()) return Fail(here, "must be a list of strings");
      for (const YamlNode& name : value) {
        if (!name.IsScalar()) return Fail(here, "must be a list of strings");
        out.required.push_back(name.Scalar());
      }
      has_required = true;
    } else if (keyword == "propertyNames") {
      out.property_names = std::make_unique<Node>();
      status = Compile(value, here, *out.property_names);
    } else if (keyword == "pattern") {
      if (!value.IsScalar()) return Fail(here, "must be a string");
      out.pattern = std::make_unique<internal::LazyPattern>(value.Scalar());
      continue;  // counted by OnlyRequired, once it is known whether std::regex compiles it
    } else if (keyword == "description") {
      if (value.IsScalar()) out.description = value.Scalar();
      continue;  // an annotation: it does not count as a keyword for only_required
    } else if (keyword == "additionalProperties") {
      if (value.IsScalar() && value.Scalar() == "false") {
        out.additional_forbidden = true;
      } else if (!(value.IsScalar() && value.Scalar() == "true")) {
        out.additional = std::make_unique<Node>();
        status = Compile(value, here, *out.additional);
      }
    } else if (keyword == "items") {
      // The tuple form (a list of schemas) is not used by plugins; it is left unchecked.
      if (value.IsMap()) {
        out.items = std::make_unique<Node>();
        status = Compile(value, here, *out.items);
      }
    } else if (keyword == "enum") {
      if (!value.IsSequence() || value.size() == 0) return Fail(here, "must be a non-empty list");
      for (const YamlNode& allowed : value) out.enum_json.push_back(YamlToJson(allowed));
    } else if (keyword == "const") {
      out.const_json = YamlToJson(value);
    } else if (keyword == "minimum") {
      status = ReadBound(value, here, out.minimum);
    } else if (keyword == "maximum") {
      status = ReadBound(value, here, out.maximum);
    } else if (keyword == "exclusiveMinimum") {
      status = ReadBound(value, here, out.exclusive_minimum);
    } else if (keyword == "exclusiveMaximum") {
      status = ReadBound(value, here, out.exclusive_maximum);
    } else if (keyword == "minLength") {
      status = ReadCount(value, here, out.min_length);
    } else if (keyword == "maxLength") {
      status = ReadCount(value, here, out.max_length);
    } else if (keyword == "minItems") {
      status = ReadCount(value, here, out.min_items);
    } else if (keyword == "maxItems") {
      status = ReadCount(value, here, out.max_items);
    } else if (keyword == "allOf") {
      status = ReadBranches(value, here, out.all_of);
    } else if (keyword == "anyOf") {
      status = ReadBranches(value, here, out.any_of);
    } else if (keyword == "oneOf") {
      status = ReadBranches(value, here, out.one_of);
    } else if (keyword == "not") {
      out.not_schema = std::make_unique<Node>();
      status = Compile(value, here, *out.not_schema);
    } else {
      continue;  // an annotation or a keyword outside the subset (see the header)
    }
    if (!status.ok()) return status;
    ++keywords;
  }
  out.required_alone = has_required && keywords == 1;
  return Status::Ok();
}

// Checks one value; problems go to `errors` keyed under `key`, messages start with `subject`.
class SchemaChecker {
 public:
  SchemaChecker(YamlErrors& errors, std::string_view key, std::string_view subject,
                const YamlMark& owner, ScalarTyping typing)
      : errors_(errors), key_(key), subject_(subject), owner_(owner), typing_(typing) {}

  void Check(const Node& schema, const YamlNode& value, const std::string& path) {
    const JsonKind kind = JsonKindOf(value, typing_);
    if (schema.types != 0 && !Allows(schema.types, kind, value)) {
      Add(value, path,
          Display(path) + " must be " + DescribeTypes(schema.types) + ", not " +
              JsonKindName(kind) + " (for example " + ExampleLine(schema, path) + ")");
      return;
    }
    const bool templated = kind == JsonKind::kString && HasTemplates(value.Scalar());
    if (!templated) CheckConstants(schema, value, path);
    switch (kind) {
      case JsonKind::kInteger:
      case JsonKind::kNumber:
        CheckNumber(schema, value, path);
        break;
      case JsonKind::kString:
        if (!templated) CheckString(schema, value, path);
        break;
      case JsonKind::kArray:
        CheckArray(schema, value, path);
        break;
      case JsonKind::kObject:
        CheckObject(schema, value, path);
        break;
      case JsonKind::kNull:
      case JsonKind::kBoolean:
        break;
    }
    CheckCombinators(schema, value, path);
  }

 private:
  static bool Allows(uint8_t types, JsonKind kind, const YamlNode& value) {
    switch (kind) {
      case JsonKind::kNull:
        return types & kNullBit;
      case JsonKind::kBoolean:
        return types & kBooleanBit;
      case JsonKind::kInteger:
        return types & kIntegerBit;
      case JsonKind::kNumber: {
        if (types & kNumberBit) return true;
        std::optional<double> number = NumberOf(value);
        return (types & kIntegerBit) && number && *number == std::floor(*number);
      }
      case JsonKind::kString:
        return types & kStringBit;
      case JsonKind::kArray:
        return types & kArrayBit;
      case JsonKind::kObject:
        return types & kObjectBit;
    }
    return false;
  }

  static std::string Join(const std::string& path, std::string_view member) {
    return path.empty() ? std::string(member) : path + "." + std::string(member);
  }
  static const char* Agree(const std::string& path, const char* singular, const char* plural) {
    return path.empty() ? plural : singular;
  }
  // One line of YAML that passes `schema` where `path` is, built from the schema alone:
  // `command: "..."`, `args: ["...", "..."]`, `environment: {NAME: "..."}`, `"..."` for an item.
  std::string ExampleLine(const Node& schema, const std::string& path) const {
    std::string name = path.empty() ? std::string(key_) : path;
    if (!name.empty() && name.back() == ']') return Example(schema, 0);
    if (const size_t dot = name.rfind('.'); dot != std::string::npos) name.erase(0, dot + 1);
    return name.empty() ? Example(schema, 0) : name + ": " + Example(schema, 0);
  }
  static std::string Example(const Node& schema, int depth) {
    if (!schema.enum_json.empty()) return schema.enum_json.front();
    if (schema.const_json) return *schema.const_json;
    constexpr int kDepth = 2;  // one line: a nest of objects is cut short
    const uint8_t types = schema.types;
    if (types == 0 || (types & kStringBit) != 0) return "\"...\"";
    if ((types & kIntegerBit) != 0) {
      double at_least = 1;
      if (schema.minimum) at_least = std::ceil(*schema.minimum);
      if (schema.exclusive_minimum) at_least = std::floor(*schema.exclusive_minimum) + 1;
      if (schema.maximum && at_least > *schema.maximum) at_least = std::floor(*schema.maximum);
      return FormatNumber(at_least);
    }
    if ((types & kBooleanBit) != 0) return "true";
    if ((types & kArrayBit) != 0) {
      if (schema.items == nullptr) return "[]";
      if (depth >= kDepth) return "[...]";
      const std::string item = Example(*schema.items, depth + 1);
      return "[" + item + ", " + item + "]";
    }
    if ((types & kObjectBit) != 0) {
      if (depth >= kDepth) return "{...}";
      // The required members, else the first one the schema names, else any name.
      std::vector<const Node::Property*> shown;
      for (const std::string& required : schema.required) {
        for (const Node::Property& property : schema.properties) {
          if (property.name == required) shown.push_back(&property);
        }
      }
      if (shown.empty() && !schema.properties.empty()) shown.push_back(&schema.properties.front());
      std::string text;
      for (const Node::Property* property : shown) {
        text += (text.empty() ? "" : ", ") + property->name + ": " +
                Example(*property->schema, depth + 1);
      }
      if (text.empty() && schema.additional != nullptr) {
        text = "NAME: " + Example(*schema.additional, depth + 1);
      }
      return "{" + text + "}";
    }
    return "null";
  }

  static std::string Display(const std::string& path) {
    return path.empty() ? "parameters" : "parameter '" + path + "'";
  }
  std::string KeyOf(const std::string& path) const {
    if (path.empty()) return std::string(key_);
    if (key_.empty()) return path;
    return std::string(key_) + (path.front() == '[' ? "" : ".") + path;
  }
  void Add(const YamlNode& at, const std::string& path, const std::string& message) {
    YamlMark mark = at.IsDefined() ? at.Mark() : YamlMark::null_mark();
    if (mark.is_null()) mark = owner_;
    errors_.Add(mark, KeyOf(path), std::string(subject_) + ": " + message);
  }

  bool Matches(const Node& schema, const YamlNode& value, const std::string& path) const {
    YamlErrors scratch("");
    SchemaChecker checker(scratch, key_, subject_, owner_, typing_);
    checker.Check(schema, value, path);
    return scratch.empty();
  }

  void CheckConstants(const Node& schema, const YamlNode& value, const std::string& path) {
    if (schema.enum_json.empty() && !schema.const_json) return;
    const std::string json = YamlToJson(value, typing_);
    if (schema.const_json && json != *schema.const_json) {
      Add(value, path, Display(path) + " must be " + *schema.const_json + ", not " + json);
    }
    if (schema.enum_json.empty()) return;
    for (const std::string& allowed : schema.enum_json) {
      if (allowed == json) return;
    }
    std::string message = Display(path) + " must be one of ";
    std::vector<std::string_view> candidates;
    for (size_t i = 0; i < schema.enum_json.size(); ++i) {
      if (i > 0) message += ", ";
      message += schema.enum_json[i];
      candidates.push_back(schema.enum_json[i]);
    }
    message += ", not " + json;
    if (auto close = ClosestMatch(json, candidates)) message += " (did you mean " + *close + "?)";
    Add(value, path, message);
  }

  void CheckNumber(const Node& schema, const YamlNode& value, const std::string& path) {
    std::optional<double> number = NumberOf(value);
    if (!number) return;
    auto fail = [&](std::string_view relation, double bound) {
      Add(value, path,
          Display(path) + " must be " + std::string(relation) + " " + FormatNumber(bound) +
              ", not " + value.Scalar());
    };
    if (schema.minimum && *number < *schema.minimum) fail("at least", *schema.minimum);
    if (schema.maximum && *number > *schema.maximum) fail("at most", *schema.maximum);
    if (schema.exclusive_minimum && *number <= *schema.exclusive_minimum) {
      fail("greater than", *schema.exclusive_minimum);
    }
    if (schema.exclusive_maximum && *number >= *schema.exclusive_maximum) {
      fail("less than", *schema.exclusive_maximum);
    }
  }

  void CheckString(const Node& schema, const YamlNode& value, const std::string& path) {
    const uint64_t length = CodePoints(value.Scalar());
    if (schema.min_length && length < *schema.min_length) {
      Add(value, path,
          Display(path) + (*schema.min_length == 1
                               ? std::string(" must not be empty")
                               : " must be at least " + std::to_string(*schema.min_length) +
                                     " characters long"));
    }
    if (schema.max_length && length > *schema.max_length) {
      Add(value, path,
          Display(path) + " must be at most " + std::to_string(*schema.max_length) +
              " characters long");
    }
    if (schema.pattern && !MatchesPattern(*schema.pattern, value.Scalar())) {
      Add(value, path, Display(path) + " must match the pattern '" + schema.pattern->text() + "'");
    }
  }

  // True when `text` matches, or is too long to be matched here (see kMaxPatternInputBytes).
  static bool MatchesPattern(const internal::LazyPattern& pattern, const std::string& text) {
    if (text.size() > kMaxPatternInputBytes) return true;
    return pattern.Matches(text);
  }

  // A member name is a string whatever it looks like, so it is checked as a quoted scalar.
  void CheckName(const Node& names, const YamlNode& key, const std::string& path,
                 const std::string& child) {
    YamlTree scratch;
    const YamlNode name = scratch.NewScalar(key.Scalar(), /*quoted=*/true);
    if (Matches(names, name, child)) return;
    Add(key, child,
        Display(path) + " has an invalid name '" + key.Scalar() + "'" +
            (names.description.empty() ? "" : " (" + names.description + ")"));
  }

  void CheckArray(const Node& schema, const YamlNode& value, const std::string& path) {
    const uint64_t size = value.size();
    if (schema.min_items && size < *schema.min_items) {
      Add(value, path,
          Display(path) + " must have at least " + std::to_string(*schema.min_items) + " items");
    }
    if (schema.max_items && size > *schema.max_items) {
      Add(value, path,
          Display(path) + " must have at most " + std::to_string(*schema.max_items) + " items");
    }
    if (!schema.items) return;
    size_t index = 0;
    for (const YamlNode& item : value) {
      Check(*schema.items, item, path + "[" + std::to_string(index++) + "]");
    }
  }

  void CheckObject(const Node& schema, const YamlNode& value, const std::string& path) {
    for (const std::string& name : schema.required) {
      bool present = false;
      for (auto it = value.begin(); it != value.end() && !present; ++it) {
        present = it->first.IsScalar() && it->first.Scalar() == name;
      }
      if (!present) {
        Add(value, path, "missing required parameter '" + Join(path, name) + "'");
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->first.IsScalar()) {
        Add(it->first, path, Display(path) + " must have string keys");
        continue;
      }
      const std::string& name = it->first.Scalar();
      const std::string child = Join(path, name);
      if (schema.property_names) CheckName(*schema.property_names, it->first, path, child);
      if (const Node* property = schema.FindProperty(name)) {
        Check(*property, it->second, child);
      } else if (schema.additional) {
        Check(*schema.additional, it->second, child);
      } else if (schema.additional_forbidden) {
        std::string message = "unknown parameter '" + child + "'";
        std::vector<std::string_view> names;
        for (const Node::Property& p : schema.properties) names.push_back(p.name);
        if (auto guess = GuessName(name, names)) {
          message += " (did you mean '" + guess->name + "'?)";
        } else if (!names.empty()) {
          message += " (expected " + JoinNames(names) + ")";
        } else {
          message += " (this task takes none)";
        }
        Add(it->first, child, message);
      }
    }
  }

  static std::string JoinNames(const std::vector<std::string_view>& names) {
    std::vector<std::string> copies(names.begin(), names.end());
    return JoinQuoted(copies, " or ");
  }

  // The names every branch requires, when each branch only requires names.
  static std::optional<std::vector<std::string>> RequiredNames(const std::vector<Node>& branches) {
    std::vector<std::string> names;
    for (const Node& branch : branches) {
      if (!branch.OnlyRequired() || branch.required.size() != 1) return std::nullopt;
      names.push_back(branch.required.front());
    }
    return names;
  }

  void CheckCombinators(const Node& schema, const YamlNode& value, const std::string& path) {
    for (const Node& branch : schema.all_of) Check(branch, value, path);
    if (!schema.any_of.empty()) {
      bool any = false;
      for (const Node& branch : schema.any_of) any = any || Matches(branch, value, path);
      if (!any) {
        std::optional<std::vector<std::string>> names = RequiredNames(schema.any_of);
        Add(value, path,
            names ? Display(path) + " must include " + JoinQuoted(*names, " or ")
                  : Display(path) + Agree(path, " matches", " match") +
                        " none of the alternatives (anyOf) of the schema");
      }
    }
    if (!schema.one_of.empty()) {
      size_t matched = 0;
      for (const Node& branch : schema.one_of) matched += Matches(branch, value, path) ? 1 : 0;
      if (matched != 1) {
        std::optional<std::vector<std::string>> names = RequiredNames(schema.one_of);
        Add(value, path,
            names ? Display(path) + " must include exactly one of " + JoinQuoted(*names, " or ")
                  : Display(path) + " must match exactly one of the " +
                        std::to_string(schema.one_of.size()) +
                        " alternatives (oneOf) of the schema, not " + std::to_string(matched));
      }
    }
    if (schema.not_schema && Matches(*schema.not_schema, value, path)) {
      const Node& forbidden = *schema.not_schema;
      Add(value, path,
          forbidden.OnlyRequired()
              ? Display(path) + " must not include " + JoinQuoted(forbidden.required, " and ") +
                    (forbidden.required.size() > 1 ? " together" : "")
              : Display(path) + Agree(path, " matches", " match") +
                    " what the schema forbids (not)");
    }
  }

  YamlErrors& errors_;
  std::string_view key_;
  std::string_view subject_;
  YamlMark owner_;
  ScalarTyping typing_;
};

}  // namespace

Result<ParamsSchema> ParamsSchema::Parse(std::string_view json) {
  // JSON is a subset of YAML's flow style, and the host's one checked YAML parser reads it; plain
  // JSON, as plugins write it, is read to the same tree without it (json_document.h).
  std::optional<internal::YamlDocument> fast = internal::ParseStrictJson(json);
  internal::YamlDocument document =
      fast ? std::move(*fast) : internal::ParseYamlDocument(json, "parameter schema");
  if (!document.errors.empty() || !document.problems.empty()) {
    const Diagnostic& error =
        document.errors.empty() ? document.problems.front() : document.errors.front();
    return InvalidArgument("parameter schema is not valid JSON (line " +
                           std::to_string(error.line) + "): " + error.message);
  }
  const YamlNode yaml = document.root;
  auto root = std::make_shared<Node>();
  Status status = SchemaCompiler::Compile(yaml, "", *root);
  if (!status.ok()) return status;
  return ParamsSchema(std::move(root));
}

void ParamsSchema::Check(const YamlNode& params, const YamlNode& owner, std::string_view key,
                         std::string_view subject, YamlErrors& errors, ScalarTyping typing) const {
  const YamlMark owner_mark = owner.IsDefined() ? owner.Mark() : YamlMark::null_mark();
  SchemaChecker checker(errors, key, subject, owner_mark, typing);
  if (!params.IsDefined() || params.IsNull()) {
    // No `params` is the same as `params: {}` for the plugin: check it as an empty mapping.
    YamlTree scratch;
    checker.Check(*root_, scratch.NewMap(), "");
    return;
  }
  checker.Check(*root_, params, "");
}

}  // namespace petit::host
