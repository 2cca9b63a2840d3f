// petit/plugin_json.hpp: the C++ SDK's JSON reader, for the params_json a task receives (RFC 8259
// parsing with positioned errors, typed getters whose failures are InvalidParams statuses naming
// the parameter, CheckKeys against misspelt parameters, Dump).
//
// OWNERSHIP: Json is a value type that owns its members; views it returns point into it.
// LIFETIME: a view or pointer from a Json is valid while that Json lives unmodified.
// THREADS: not synchronised; a const Json may be read from several threads at once.
//
// Depends only on the C++17 standard library and petit/plugin_status.hpp; compiles as C++17 and
// C++20. petit/plugin.hpp includes it, so plugin code need not include it directly.
#ifndef PETIT_PLUGIN_JSON_HPP_
#define PETIT_PLUGIN_JSON_HPP_

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if !(defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L)
#include <locale>
#include <sstream>
#endif

#include "petit/plugin_status.hpp"

namespace petit::sdk {

namespace internal {
class JsonParser;
}  // namespace internal

// A parsed JSON value: null, bool, number, string, array or object. Objects keep their members in
// document order and never hold duplicate keys (the parser refuses them). Numbers are doubles;
// those written without fraction or exponent that fit in int64_t are also kept exactly.
// A value type; a const Json may be read from several threads at once.
class Json {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Elements = std::vector<Json>;
  using Members = std::vector<std::pair<std::string, Json>>;

  // Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
  static constexpr int kMaxDepth = 256;

  Json() noexcept = default;  // null

  static Json Boolean(bool value) {
    Json json(Type::kBool);
    json.bool_ = value;
    return json;
  }
  static Json Number(double value) {
    Json json(Type::kNumber);
    json.number_ = value;
    return json;
  }
  static Json Integer(int64_t value) {
    Json json(Type::kNumber);
    json.number_ = static_cast<double>(value);
    json.integer_ = value;
    json.is_integer_ = true;
    return json;
  }
  static Json String(std::string value) {
    Json json(Type::kString);
    json.string_ = std::move(value);
    return json;
  }
  static Json Array(Elements elements = {}) {
    Json json(Type::kArray);
    json.array_ = std::move(elements);
    return json;
  }
  // Duplicate keys are the caller's bug; Find returns the first.
  static Json Object(Members members = {}) {
    Json json(Type::kObject);
    json.object_ = std::move(members);
    return json;
  }

  // Parses one JSON document (RFC 8259; leading and trailing whitespace allowed). Errors are
  // kInvalidParams and name the line, column and byte offset: "invalid JSON at line 1, column 9
  // (byte 8): expected ':' after an object key". Strings may hold any bytes >= 0x20; \uXXXX
  // escapes (surrogate pairs included) become UTF-8.
  static Result<Json> Parse(std::string_view text);

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::kNull; }
  bool is_bool() const noexcept { return type_ == Type::kBool; }
  bool is_number() const noexcept { return type_ == Type::kNumber; }
  bool is_string() const noexcept { return type_ == Type::kString; }
  bool is_array() const noexcept { return type_ == Type::kArray; }
  bool is_object() const noexcept { return type_ == Type::kObject; }

  // Each throws std::logic_error when the value has another type.
  bool bool_value() const {
    Expect(Type::kBool);
    return bool_;
  }
  double number_value() const {
    Expect(Type::kNumber);
    return number_;
  }
  // The exact integer, when the number was written as one (or is a double with an integral value
  // in int64_t range); nullopt otherwise.
  std::optional<int64_t> integer_value() const;
  const std::string& string_value() const {
    Expect(Type::kString);
    return string_;
  }
  const Elements& array_items() const {
    Expect(Type::kArray);
    return array_;
  }
  const Members& object_items() const {
    Expect(Type::kObject);
    return object_;
  }
  // Elements of an array or members of an object; 0 for anything else.
  size_t size() const noexcept {
    return type_ == Type::kArray ? array_.size() : type_ == Type::kObject ? object_.size() : 0;
  }

  // The member named `key`, or nullptr when absent or when this is not an object.
  // The pointer is valid while this Json is alive and unmodified.
  const Json* Find(std::string_view key) const noexcept {
    if (type_ != Type::kObject) return nullptr;
    for (const auto& member : object_) {
      if (member.first == key) return &member.second;
    }
    return nullptr;
  }
  bool Has(std::string_view key) const noexcept { return Find(key) != nullptr; }

  // Typed member lookups for parameter objects. The overloads without a default fail when the key
  // is missing ("missing required parameter 'command'"); the others return the default. A present
  // member of the wrong type fails ("parameter 'ms' must be an integer, not a string"). Failures
  // are kInvalidParams. Returned views point into this Json.
  Result<std::string_view> GetString(std::string_view key) const;
  Result<std::string_view> GetString(std::string_view key, std::string_view default_value) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key, int64_t default_value) const;
  Result<double> GetNumber(std::string_view key) const;
  Result<double> GetNumber(std::string_view key, double default_value) const;
  Result<bool> GetBool(std::string_view key) const;
  Result<bool> GetBool(std::string_view key, bool default_value) const;
  // An array of strings; missing means empty.
  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;
  // An object whose values are all strings; missing means empty.
  Result<std::map<std::string, std::string, std::less<>>> GetStringMap(std::string_view key) const;

  // Fails with kInvalidParams naming the first member not in `allowed`, since a misspelt optional
  // parameter silently ignored is a bug the user never sees. A non-object fails too.
  Status CheckKeys(std::initializer_list<std::string_view> allowed) const;

  // Compact JSON text; Parse(Dump()) gives an equal value. Non-finite numbers print as null.
  std::string Dump() const;

  // Structural equality; object member order does not matter.
  friend bool operator==(const Json& a, const Json& b);
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

  static std::string_view TypeName(Type type) noexcept {
    switch (type) {
      case Type::kNull:
        return "null";
      case Type::kBool:
        return "a boolean";
      case Type::kNumber:
        return "a number";
      case Type::kString:
        return "a string";
      case Type::kArray:
        return "an array";
      case Type::kObject:
        return "an object";
    }
    return "unknown";
  }

 private:
  friend class internal::JsonParser;

  explicit Json(Type type) noexcept : type_(type) {}

  void Expect(Type type) const {
    if (type_ != type) {
      throw std::logic_error("JSON value is " + std::string(TypeName(type_)) + ", not " +
                             std::string(TypeName(type)));
    }
  }
  // The member, nullptr when absent; fails when this is not an object.
  Result<const Json*> Member(std::string_view key) const;
  static Status WrongType(std::string_view key, std::string_view wanted, const Json& got) {
    return Status::InvalidParams("parameter '" + std::string(key) + "' must be " +
                                 std::string(wanted) + ", not " + std::string(TypeName(got.type_)));
  }
  static Status Missing(std::string_view key) {
    return Status::InvalidParams("missing required parameter '" + std::string(key) + "'");
  }
  void DumpTo(std::string& out) const;
  static void DumpString(std::string_view text, std::string& out);

  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  int64_t integer_ = 0;
  double number_ = 0;
  std::string string_;
  Elements array_;
  Members object_;
};

namespace internal {

// Recursive-descent parser behind Json::Parse. One instance parses one document.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) noexcept : text_(text) {}

  Result<Json> ParseDocument() {
    Json value;
    SkipWhitespace();
    if (!ParseValue(value, 0)) return Error();
    SkipWhitespace();
    if (pos_ != text_.size()) {
      Fail("unexpected '" + Printable(text_[pos_]) + "' after the JSON value");
      return Error();
    }
    return Result<Json>(std::move(value));
  }

 private:
  bool ParseValue(Json& out, int depth) {
    if (pos_ >= text_.size()) return Fail("unexpected end of input, expected a value");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"':
        out = Json(Json::Type::kString);
        return ParseString(out.string_);
      case 't':
        return ParseLiteral("true", Json::Boolean(true), out);
      case 'f':
        return ParseLiteral("false", Json::Boolean(false), out);
      case 'n':
        return ParseLiteral("null", Json(), out);
      default:
        if (text_[pos_] == '-' || IsDigit(text_[pos_])) return ParseNumber(out);
        return Fail("unexpected '" + Printable(text_[pos_]) + "', expected a value");
    }
  }

  bool ParseObject(Json& out, int depth) {
    if (depth > Json::kMaxDepth) return Fail("nesting deeper than 256 levels");
    out = Json(Json::Type::kObject);
    ++pos_;  // '{'
    SkipWhitespace();
    if (Consume('}')) return true;
    while (true) {
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Fail(pos_ >= text_.size() ? "unexpected end of input, expected an object key"
                                         : "expected '\"' to start an object key");
      }
      const size_t key_pos = pos_;
      std::string key;
      if (!ParseString(key)) return false;
      for (const auto& member : out.object_) {
        if (member.first == key) {
          pos_ = key_pos;
          return Fail("duplicate object key \"" + key + "\"");
        }
      }
      SkipWhitespace();
      if (!Consume(':')) return Fail("expected ':' after an object key");
      SkipWhitespace();
      Json value;
      if (!ParseValue(value, depth)) return false;
      out.object_.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Consume('}')) return true;
      if (!Consume(',')) return Fail("expected ',' or '}' after an object member");
    }
  }

  bool ParseArray(Json& out, int depth) {
    if (depth > Json::kMaxDepth) return Fail("nesting deeper than 256 levels");
    out = Json(Json::Type::kArray);
    ++pos_;  // '['
    SkipWhitespace();
    if (Consume(']')) return true;
    while (true) {
      SkipWhitespace();
      Json value;
      if (!ParseValue(value, depth)) return false;
      out.array_.push_back(std::move(value));
      SkipWhitespace();
      if (Consume(']')) return true;
      if (!Consume(',')) return Fail("expected ',' or ']' after an array element");
    }
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      const size_t run_start = pos_;
      while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\' &&
             static_cast<unsigned char>(text_[pos_]) >= 0x20) {
        ++pos_;
      }
      out.append(text_.data() + run_start, pos_ - run_start);
      if (pos_ >= text_.size()) return Fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c != '\\') return Fail("control character in a string (escape it)");
      if (++pos_ >= text_.size()) return Fail("unterminated string");
      switch (text_[pos_++]) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u':
          if (!ParseUnicodeEscape(out)) return false;
          break;
        default:
          --pos_;
          return Fail("invalid escape '\\" + Printable(text_[pos_]) + "' in a string");
      }
    }
  }

  // After "\u": four hex digits, and a second escape when the first is a high surrogate.
  bool ParseUnicodeEscape(std::string& out) {
    const size_t escape_pos = pos_ - 2;
    uint32_t code = 0;
    if (!ParseHex4(code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) {
      pos_ = escape_pos;
      return Fail("unpaired low surrogate in a \\u escape");
    }
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
        pos_ = escape_pos;
        return Fail("high surrogate in a \\u escape not followed by a low surrogate");
      }
      pos_ += 2;
      uint32_t low = 0;
      if (!ParseHex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = escape_pos;
        return Fail("high surrogate in a \\u escape not followed by a low surrogate");
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(code, out);
    return true;
  }

  bool ParseHex4(uint32_t& code) {
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= text_.size()) return Fail("unterminated \\u escape");
      const char c = text_[pos_];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("expected 4 hex digits after \\u");
      }
      code = code * 16 + digit;
      ++pos_;
    }
    return true;
  }

  static void AppendUtf8(uint32_t code, std::string& out) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  bool ParseNumber(Json& out) {
    const size_t start = pos_;
    Consume('-');
    if (Consume('0')) {
      if (pos_ < text_.size() && IsDigit(text_[pos_])) return Fail("leading zero in a number");
    } else if (pos_ < text_.size() && IsDigit(text_[pos_])) {
      SkipDigits();
    } else {
      return Fail("expected a digit in a number");
    }
    bool integral = true;
    if (Consume('.')) {
      integral = false;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("expected a digit after '.'");
      SkipDigits();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (!Consume('+')) Consume('-');
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
        return Fail("expected a digit in the exponent");
      }
      SkipDigits();
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    double value = 0;
    if (!ToDouble(first, last, value) || !std::isfinite(value)) {
      pos_ = start;
      return Fail("number out of range");
    }
    out = Json::Number(value);
    if (integral) {
      int64_t integer = 0;
      const auto [end, ec] = std::from_chars(first, last, integer);
      if (ec == std::errc() && end == last) out = Json::Integer(integer);
    }
    return true;
  }

  static bool ToDouble(const char* first, const char* last, double& value) {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    const auto [end, ec] = std::from_chars(first, last, value);
    return ec == std::errc() && end == last;
#else
    // strtod follows the global locale's decimal point; a classic-locale stream does not.
    std::istringstream stream(std::string(first, last));
    stream.imbue(std::locale::classic());
    stream >> value;
    return !stream.fail();
#endif
  }

  bool ParseLiteral(std::string_view word, Json value, Json& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return Fail("invalid literal, expected true, false or null");
    }
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  void SkipWhitespace() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void SkipDigits() noexcept {
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
  }
  bool Consume(char c) noexcept {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

  static std::string Printable(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) return std::string(1, c);
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", byte);
    return hex;
  }

  bool Fail(std::string message) {
    if (message_.empty()) {
      message_ = std::move(message);
      error_pos_ = pos_;
    }
    return false;
  }

  Status Error() const {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < error_pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status::InvalidParams("invalid JSON at line " + std::to_string(line) + ", column " +
                                 std::to_string(column) + " (byte " + std::to_string(error_pos_) +
                                 "): " + message_);
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string message_;
  size_t error_pos_ = 0;
};

}  // namespace internal

inline Result<Json> Json::Parse(std::string_view text) {
  return internal::JsonParser(text).ParseDocument();
}

inline std::optional<int64_t> Json::integer_value() const {
  Expect(Type::kNumber);
  if (is_integer_) return integer_;
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  constexpr double kLimit = 9223372036854775808.0;
  if (std::trunc(number_) == number_ && number_ >= -kLimit && number_ < kLimit) {
    return static_cast<int64_t>(number_);
  }
  return std::nullopt;
}

inline Result<const Json*> Json::Member(std::string_view key) const {
  if (type_ != Type::kObject) {
    return Status::InvalidParams("parameters must be a JSON object, not " +
                                 std::string(TypeName(type_)));
  }
  return Find(key);
}

inline Result<std::string_view> Json::GetString(std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return Missing(key);
  if (!(*member)->is_string()) return WrongType(key, "a string", **member);
  return std::string_view((*member)->string_);
}

inline Result<std::string_view> Json::GetString(std::string_view key,
                                                std::string_view default_value) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return default_value;
  return GetString(key);
}

inline Result<int64_t> Json::GetInt(std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return Missing(key);
  if (!(*member)->is_number()) return WrongType(key, "an integer", **member);
  std::optional<int64_t> value = (*member)->integer_value();
  if (!value) {
    return Status::InvalidParams("parameter '" + std::string(key) + "' must be an integer, not " +
                                 (*member)->Dump());
  }
  return *value;
}

inline Result<int64_t> Json::GetInt(std::string_view key, int64_t default_value) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return default_value;
  return GetInt(key);
}

inline Result<double> Json::GetNumber(std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return Missing(key);
  if (!(*member)->is_number()) return WrongType(key, "a number", **member);
  return (*member)->number_;
}

inline Result<double> Json::GetNumber(std::string_view key, double default_value) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return default_value;
  return GetNumber(key);
}

inline Result<bool> Json::GetBool(std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return Missing(key);
  if (!(*member)->is_bool()) return WrongType(key, "a boolean", **member);
  return (*member)->bool_;
}

inline Result<bool> Json::GetBool(std::string_view key, bool default_value) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  if (*member == nullptr) return default_value;
  return GetBool(key);
}

inline Result<std::vector<std::string>> Json::GetStringArray(std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  std::vector<std::string> items;
  if (*member == nullptr) return Result<std::vector<std::string>>(items);
  if (!(*member)->is_array()) return WrongType(key, "an array of strings", **member);
  items.reserve((*member)->array_.size());
  for (size_t i = 0; i < (*member)->array_.size(); ++i) {
    const Json& item = (*member)->array_[i];
    if (!item.is_string()) {
      return Status::InvalidParams("parameter '" + std::string(key) + "[" + std::to_string(i) +
                                   "]' must be a string, not " + std::string(TypeName(item.type_)));
    }
    items.push_back(item.string_);
  }
  return Result<std::vector<std::string>>(std::move(items));
}

inline Result<std::map<std::string, std::string, std::less<>>> Json::GetStringMap(
    std::string_view key) const {
  Result<const Json*> member = Member(key);
  if (!member.ok()) return member.status();
  std::map<std::string, std::string, std::less<>> items;
  if (*member == nullptr) return Result<std::map<std::string, std::string, std::less<>>>(items);
  if (!(*member)->is_object()) return WrongType(key, "an object of strings", **member);
  for (const auto& [name, value] : (*member)->object_) {
    if (!value.is_string()) {
      return Status::InvalidParams("parameter '" + std::string(key) + "." + name +
                                   "' must be a string, not " + std::string(TypeName(value.type_)));
    }
    items.emplace(name, value.string_);
  }
  return Result<std::map<std::string, std::string, std::less<>>>(std::move(items));
}

inline Status Json::CheckKeys(std::initializer_list<std::string_view> allowed) const {
  if (type_ != Type::kObject) {
    return Status::InvalidParams("parameters must be a JSON object, not " +
                                 std::string(TypeName(type_)));
  }
  for (const auto& member : object_) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == member.first;
    if (known) continue;
    std::string message = "unknown parameter '" + member.first + "'";
    if (allowed.size() == 0) return Status::InvalidParams(message + " (this task takes none)");
    message += " (expected one of: ";
    bool first = true;
    for (std::string_view name : allowed) {
      message.append(first ? "" : ", ").append(name);
      first = false;
    }
    return Status::InvalidParams(message + ")");
  }
  return Status::Ok();
}

inline std::string Json::Dump() const {
  std::string out;
  DumpTo(out);
  return out;
}

inline void Json::DumpTo(std::string& out) const {
  switch (type_) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBool:
      out += bool_ ? "true" : "false";
      return;
    case Type::kNumber: {
      if (is_integer_) {
        out += std::to_string(integer_);
      } else if (!std::isfinite(number_)) {
        out += "null";
      } else if (number_ == 0 && std::signbit(number_)) {
        // %g writes "-0", which parses back as the integer 0: the fraction keeps the sign.
        out += "-0.0";
      } else {
        char buffer[32];
        // %.17g round-trips every double.
        const int size = std::snprintf(buffer, sizeof buffer, "%.17g", number_);
        for (int i = 0; i < size; ++i) {
          // A locale with a decimal comma would otherwise write invalid JSON.
          out.push_back(buffer[i] == ',' ? '.' : buffer[i]);
        }
      }
      return;
    }
    case Type::kString:
      DumpString(string_, out);
      return;
    case Type::kArray:
      out.push_back('[');
      for (size_t i = 0; i < array_.size(); ++i) {
        if (i > 0) out.push_back(',');
        array_[i].DumpTo(out);
      }
      out.push_back(']');
      return;
    case Type::kObject:
      out.push_back('{');
      for (size_t i = 0; i < object_.size(); ++i) {
        if (i > 0) out.push_back(',');
        DumpString(object_[i].first, out);
        out.push_back(':');
        object_[i].second.DumpTo(out);
      }
      out.push_back('}');
      return;
  }
}

inline void Json::DumpString(std::string_view text, std::string& out) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(c));
          out += escape;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

inline bool operator==(const Json& a, const Json& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return a.bool_ == b.bool_;
    case Json::Type::kNumber:
      if (a.is_integer_ && b.is_integer_) return a.integer_ == b.integer_;
      return a.number_ == b.number_;
    case Json::Type::kString:
      return a.string_ == b.string_;
    case Json::Type::kArray:
      return a.array_ == b.array_;
    case Json::Type::kObject:
      if (a.object_.size() != b.object_.size()) return false;
      for (const auto& member : a.object_) {
        const Json* other = b.Find(member.first);
        if (other == nullptr || !(member.second == *other)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace petit::sdk

#endif  // PETIT_PLUGIN_JSON_HPP_
