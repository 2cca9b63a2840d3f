// petit/plugin.hpp: a header-only C++17 layer over petit/plugin.h for writing task-type plugins.
//
// A plugin written with it is a set of classes derived from petit::sdk::Task and one line that
// declares the plugin:
//
//   class Noop final : public petit::sdk::Task {
//    public:
//     petit::sdk::Status Execute(petit::sdk::Context&) override { return {}; }
//   };
//   PETIT_PLUGIN("demo", "1.0.0",
//                petit::sdk::TaskType<Noop>("demo.noop", "Does nothing", nullptr,
//                                           PETIT_TASK_IDEMPOTENT));
//
// PETIT_PLUGIN defines the two exported entry points and builds the petit_task_type tables; every
// call from the host goes through trampolines that catch every exception (an exception becomes
// PETIT_ERROR with what() as the error message) so nothing but C types ever crosses the ABI.
//
// OWNERSHIP: the host owns the attempt (petit_exec_ctx) and everything it hands over; the SDK owns
// each Task instance (created by the host's create call, deleted by its destroy call).
// LIFETIME: string views the SDK hands out (ids, params, inputs, config) stay valid until the task
// instance is destroyed, unless stated otherwise.
// THREADS: Create and Execute run on host worker threads, several instances at once unless the type
// is PETIT_TASK_SERIAL; Cancel may run on another thread while Execute runs. A Context may be
// copied to and used from threads the task starts, until Execute returns.
//
// Depends only on the C++17 standard library and petit/plugin.h; compiles as C++17 and C++20.
#ifndef PETIT_PLUGIN_HPP_
#define PETIT_PLUGIN_HPP_

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if !(defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L)
#include <locale>
#include <sstream>
#endif

#include "petit/plugin.h"

namespace petit::sdk {

// ---------------------------------------------------------------------------------------------
// Status and Result

// The outcome of Create or Execute; the values are the ABI's PETIT_* status codes.
enum class StatusCode : int32_t {
  kOk = PETIT_OK,
  kError = PETIT_ERROR,
  kTransient = PETIT_ERROR_TRANSIENT,
  kCancelled = PETIT_CANCELLED,
  kTimedOut = PETIT_TIMED_OUT,
  kInvalidParams = PETIT_INVALID_PARAMS,
};

constexpr std::string_view StatusCodeName(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
    case StatusCode::kTransient:
      return "transient error";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kTimedOut:
      return "timed out";
    case StatusCode::kInvalidParams:
      return "invalid parameters";
  }
  return "unknown status";
}

// A status code plus a message for the user. The OK status carries no message and never
// allocates. A value type; not synchronised.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;

  static Status Ok() noexcept { return Status(); }
  // The task failed; the retry policy decides what happens next.
  static Status Error(std::string message) { return {StatusCode::kError, std::move(message)}; }
  // Failed for a reason that may pass (network, busy resource).
  static Status Transient(std::string message) {
    return {StatusCode::kTransient, std::move(message)};
  }
  static Status Cancelled(std::string message = "cancelled") {
    return {StatusCode::kCancelled, std::move(message)};
  }
  static Status TimedOut(std::string message) {
    return {StatusCode::kTimedOut, std::move(message)};
  }
  // The parameters are wrong; never retried. Meaningful from Create only: returned from Execute,
  // it is reported as kError (the ABI allows PETIT_INVALID_PARAMS from create alone).
  static Status InvalidParams(std::string message) {
    return {StatusCode::kInvalidParams, std::move(message)};
  }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  int32_t abi_code() const noexcept { return static_cast<int32_t>(code_); }
  const std::string& message() const noexcept { return message_; }

  // "invalid parameters: 'ms' must be an integer" (or "ok").
  std::string ToString() const {
    std::string text(StatusCodeName(code_));
    if (!message_.empty()) text.append(": ").append(message_);
    return text;
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A T or the non-OK Status that explains why there is none. Reading the value of a failed Result
// is a programmer error and throws std::logic_error (which the SDK boundary reports as
// PETIT_ERROR).
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "Result<Status> is ambiguous; return a Status");

 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT
  // An OK status has no value to go with it, so it becomes an error saying so.
  Result(Status status)  // NOLINT(google-explicit-constructor)
      : status_(status.ok() ? Status::Error("internal error: Result built from an OK Status")
                            : std::move(status)) {}

  bool ok() const noexcept { return value_.has_value(); }
  const Status& status() const noexcept { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!value_.has_value()) {
      throw std::logic_error("value of a failed Result read: " + status_.ToString());
    }
  }

  Status status_;
  std::optional<T> value_;
};

// ---------------------------------------------------------------------------------------------
// Json

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

// ---------------------------------------------------------------------------------------------
// Context

enum class LogLevel : int32_t {
  kDebug = PETIT_LOG_DEBUG,
  kInfo = PETIT_LOG_INFO,
  kWarn = PETIT_LOG_WARN,
  kError = PETIT_LOG_ERROR,
};

enum class Stream : int32_t {
  kStdout = PETIT_STREAM_STDOUT,
  kStderr = PETIT_STREAM_STDERR,
};

// What the host says about the attempt. Views borrow host memory and `params` is never null; all
// stay valid until the task is destroyed. Immutable; read from any thread.
struct TaskInfo {
  std::string_view job_id;
  std::string_view run_id;
  std::string_view task_id;
  uint32_t attempt = 0;                  // 1 for the first attempt
  std::chrono::milliseconds timeout{0};  // per attempt; 0 for none
  const Json* params = nullptr;          // always an object
};

class Context;
class Task;
struct CreateArgs;

namespace internal {

// One per task type and plugin init. OWNERSHIP: owned by the plugin state built at init.
// LIFETIME: until the plugin's shutdown hook. THREADS: immutable after init.
struct TypeState {
  const petit_host_services* host = nullptr;
  const char* name = nullptr;
};

// What a task instance knows about its attempt; a Context is a view of it.
struct Binding {
  const TypeState* type = nullptr;
  petit_exec_ctx* ctx = nullptr;
  TaskInfo info;
  std::unique_ptr<Json> owned_params;  // null when params were "{}": info.params is shared then
};

template <typename T>
struct TaskTrampolines;

inline petit_str ToStr(std::string_view text) noexcept { return {text.data(), text.size()}; }
inline std::string_view FromStr(petit_str text) noexcept {
  return text.size == 0 ? std::string_view() : std::string_view(text.data, text.size);
}

}  // namespace internal

// The attempt as a plugin sees it: task info plus the host services. A cheap handle (one pointer),
// copyable; copies may be used from threads the task starts, until the task is destroyed. The
// Context given to Create is valid only during Create.
class Context {
 public:
  const TaskInfo& info() const noexcept { return binding_->info; }
  const Json& params() const noexcept { return *binding_->info.params; }

  // An upstream output by its namespaced key, "<task_id>.<key>". The view stays valid until the
  // task is destroyed.
  std::optional<std::string_view> Input(std::string_view key) const {
    petit_str value{nullptr, 0};
    if (host().get_input(ctx(), internal::ToStr(key), &value) != 1) return std::nullopt;
    return internal::FromStr(value);
  }
  // A job config value (scalars as their text, maps and lists as JSON). Valid until destroy.
  std::optional<std::string_view> Config(std::string_view key) const {
    petit_str value{nullptr, 0};
    if (host().get_config(ctx(), internal::ToStr(key), &value) != 1) return std::nullopt;
    return internal::FromStr(value);
  }
  // Records an output, under "<this task's id>.<key>" for downstream tasks. Copied.
  Status SetOutput(std::string_view key, std::string_view value) const {
    if (host().set_output(ctx(), internal::ToStr(key), internal::ToStr(value)) == PETIT_OK) {
      return Status::Ok();
    }
    return Status::Error("the host refused output '" + std::string(key) +
                         "' (empty key, or the attempt is over)");
  }
  // True once the attempt has been cancelled or has timed out. Cheap.
  bool Cancelled() const { return host().is_cancelled(ctx()) != 0; }
  void Log(LogLevel level, std::string_view message) const {
    host().log(ctx(), static_cast<int32_t>(level), internal::ToStr(message));
  }
  // fraction in [0, 1].
  void Progress(double fraction, std::string_view message = {}) const {
    host().report_progress(ctx(), fraction, internal::ToStr(message));
  }
  // Appends to the attempt's captured stdout or stderr; the host streams and caps it. Copied.
  void Output(Stream stream, std::string_view data) const {
    host().emit_output(ctx(), static_cast<int32_t>(stream), internal::ToStr(data));
  }
  void SetExitCode(int32_t exit_code) const { host().set_exit_code(ctx(), exit_code); }

  // The raw ABI handles, for services this wrapper does not cover.
  petit_exec_ctx* ctx() const noexcept { return binding_->ctx; }
  const petit_host_services& host() const noexcept { return *binding_->type->host; }

 private:
  template <typename T>
  friend struct internal::TaskTrampolines;
  friend class Task;
  explicit Context(const internal::Binding* binding) noexcept : binding_(binding) {}

  const internal::Binding* binding_;
};

// What a task type's Create receives. References are valid during Create only; keep copies of
// what you need (views into info and params may be kept: they live until the task is destroyed).
struct CreateArgs {
  const TaskInfo& info;
  const Json& params;  // same as info.params; an object
  const Context& context;
};

// Base class of every task. One instance serves one attempt: the SDK creates it when the host
// calls create, runs Execute once, and deletes it when the host calls destroy.
//
// A task type T derives from Task and either
//  - provides `static petit::sdk::Result<std::unique_ptr<T>> Create(const CreateArgs&)`, which
//    checks the parameters (return Status::InvalidParams on bad ones); or
//  - is default-constructible and has no Create, meaning it takes no parameters (the SDK then
//    refuses any params other than {} without parsing "{}").
//
// THREADS: Execute runs on a host worker thread; Cancel may run concurrently with it on another
// thread, and before Execute starts or after it returns, so it must be thread-safe and quick.
// Exceptions thrown by Create, Execute or Cancel are caught at the ABI boundary.
class Task {
 public:
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  virtual ~Task() = default;

  // Runs the attempt to completion.
  virtual Status Execute(Context& context) = 0;
  // Asks a running Execute to stop soon. The host only wires this hook when T overrides it.
  virtual void Cancel() {}

 protected:
  // The attempt this instance serves, for code outside Execute (Cancel, helper threads). Valid
  // from the end of Create until the instance is destroyed; not inside Create or the constructor.
  Context context() const noexcept { return Context(&binding_); }

 private:
  template <typename T>
  friend struct internal::TaskTrampolines;
  internal::Binding binding_;
};

namespace internal {

// Plugin and task type names: 1 to kMaxNameLength characters of [a-z0-9_.-].
inline constexpr size_t kMaxNameLength = 128;

constexpr bool IsValidName(const char* name) noexcept {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    if (static_cast<size_t>(p - name) >= kMaxNameLength) return false;
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The prefix of each ABI 1.0 struct; a host may hand over longer ones (later minors), never
// shorter.
constexpr size_t kTaskInfoSize10 = offsetof(petit_task_info, timeout_ms) + sizeof(int64_t);
constexpr size_t kHostServicesSize10 =
    offsetof(petit_host_services, set_exit_code) + sizeof(void (*)(void));
constexpr size_t kInitArgsSize10 = offsetof(petit_init_args, host_version) + sizeof(petit_str);
constexpr size_t kDescriptorSize10 = offsetof(petit_plugin_descriptor, shutdown) + sizeof(void*);

template <typename T, typename = void>
struct HasCreate : std::false_type {};
template <typename T>
struct HasCreate<T, std::void_t<decltype(T::Create(std::declval<const CreateArgs&>()))>>
    : std::true_type {};

// Pointers to virtual members compare equal whenever they name the same slot, so the override is
// detected from the declaring class in the member pointer's type instead.
template <typename T>
constexpr bool kOverridesCancel = !std::is_same_v<decltype(&T::Cancel), void (Task::*)()>;

// params_json is "{}" for most tasks; recognising it spares a parse and an allocation.
inline bool IsEmptyObjectText(std::string_view text) noexcept {
  if (text.size() == 2) return text[0] == '{' && text[1] == '}';
  size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
  };
  skip();
  if (i == text.size()) return true;  // an absent parameter block means no parameters
  if (text[i++] != '{') return false;
  skip();
  if (i == text.size() || text[i++] != '}') return false;
  skip();
  return i == text.size();
}

inline const Json& EmptyObject() {
  static const Json kEmpty = Json::Object();
  return kEmpty;
}

// Sets the error message and returns the ABI code. Must not throw: it runs inside catch blocks.
inline int32_t Report(const TypeState& type, petit_exec_ctx* ctx, int32_t code,
                      std::string_view message) noexcept {
  type.host->set_error(ctx, ToStr(message));
  return code;
}

inline int32_t ReportStatus(const TypeState& type, petit_exec_ctx* ctx, const Status& status,
                            bool from_create) noexcept {
  int32_t code = status.abi_code();
  std::string_view message = status.message();
  if (message.empty()) message = StatusCodeName(status.code());
  if (status.code() == StatusCode::kInvalidParams && !from_create) {
    type.host->log(ctx, PETIT_LOG_WARN,
                   ToStr("Execute returned InvalidParams; reported as an error, as the ABI allows "
                         "PETIT_INVALID_PARAMS from create only"));
    code = PETIT_ERROR;
  }
  return Report(type, ctx, code, message);
}

inline int32_t ReportException(const TypeState& type, petit_exec_ctx* ctx, const char* hook,
                               const char* what) noexcept {
  char line[512];
  std::snprintf(line, sizeof line, "task type '%s': %s threw: %s", type.name, hook, what);
  type.host->log(ctx, PETIT_LOG_ERROR, ToStr(line));
  return Report(type, ctx, PETIT_ERROR, what);
}

inline constexpr const char* kUnknownException =
    "unknown exception (not derived from std::exception)";

// Fills binding.info from the host's struct; parses params unless they are "{}".
inline Status BindInfo(const petit_task_info& raw, Binding& binding) {
  if (raw.struct_size < kTaskInfoSize10) {
    return Status::Error("the host passed a petit_task_info of " + std::to_string(raw.struct_size) +
                         " bytes; ABI 1.0 needs at least " + std::to_string(kTaskInfoSize10));
  }
  TaskInfo& info = binding.info;
  info.job_id = FromStr(raw.job_id);
  info.run_id = FromStr(raw.run_id);
  info.task_id = FromStr(raw.task_id);
  info.attempt = raw.attempt;
  info.timeout = std::chrono::milliseconds(raw.timeout_ms);
  const std::string_view params = FromStr(raw.params_json);
  if (IsEmptyObjectText(params)) {
    info.params = &EmptyObject();
    return Status::Ok();
  }
  Result<Json> parsed = Json::Parse(params);
  if (!parsed.ok()) return Status::InvalidParams("params: " + parsed.status().message());
  if (!parsed->is_object()) {
    return Status::InvalidParams("params must be a JSON object, not " +
                                 std::string(Json::TypeName(parsed->type())));
  }
  binding.owned_params = std::make_unique<Json>(std::move(parsed).value());
  info.params = binding.owned_params.get();
  return Status::Ok();
}

// The C hooks of task type T. Each catches everything: no exception crosses the ABI.
template <typename T>
struct TaskTrampolines {
  static int32_t Create(void* type_state, const petit_task_info* raw_info, petit_exec_ctx* ctx,
                        void** out_instance) noexcept {
    const auto& type = *static_cast<const TypeState*>(type_state);
    if (raw_info == nullptr || out_instance == nullptr) {
      return Report(type, ctx, PETIT_ERROR, "create called with a null argument");
    }
    try {
      Binding binding;
      binding.type = &type;
      binding.ctx = ctx;
      if (Status bound = BindInfo(*raw_info, binding); !bound.ok()) {
        return ReportStatus(type, ctx, bound, true);
      }
      std::unique_ptr<T> task;
      if constexpr (HasCreate<T>::value) {
        const Context context(&binding);
        const CreateArgs args{binding.info, *binding.info.params, context};
        Result<std::unique_ptr<T>> created = T::Create(args);
        if (!created.ok()) return ReportStatus(type, ctx, created.status(), true);
        task = std::move(created).value();
        if (task == nullptr) return Report(type, ctx, PETIT_ERROR, "Create returned no instance");
      } else {
        if (Status keys = binding.info.params->CheckKeys({}); !keys.ok()) {
          return ReportStatus(type, ctx, keys, true);
        }
        task = std::make_unique<T>();
      }
      static_cast<Task&>(*task).binding_ = std::move(binding);
      *out_instance = task.release();
      return PETIT_OK;
    } catch (const std::exception& e) {
      return ReportException(type, ctx, "create", e.what());
    } catch (...) {
      return ReportException(type, ctx, "create", kUnknownException);
    }
  }

  static int32_t Execute(void* instance, petit_exec_ctx* ctx) noexcept {
    T* task = static_cast<T*>(instance);
    const Binding& binding = static_cast<Task&>(*task).binding_;
    try {
      Context context(&binding);
      const Status status = task->Execute(context);
      if (status.ok()) return PETIT_OK;
      return ReportStatus(*binding.type, ctx, status, false);
    } catch (const std::exception& e) {
      return ReportException(*binding.type, ctx, "execute", e.what());
    } catch (...) {
      return ReportException(*binding.type, ctx, "execute", kUnknownException);
    }
  }

  static void Cancel(void* instance) noexcept {
    T* task = static_cast<T*>(instance);
    const Binding& binding = static_cast<Task&>(*task).binding_;
    try {
      task->Cancel();
    } catch (const std::exception& e) {
      char line[512];
      std::snprintf(line, sizeof line, "task type '%s': cancel threw: %s", binding.type->name,
                    e.what());
      binding.type->host->log(binding.ctx, PETIT_LOG_ERROR, ToStr(line));
    } catch (...) {
      binding.type->host->log(binding.ctx, PETIT_LOG_ERROR, ToStr("cancel threw"));
    }
  }

  static void Destroy(void* instance) noexcept { delete static_cast<T*>(instance); }
};

}  // namespace internal

// Declares one task type of class T for PETIT_PLUGIN. name and summary must be NUL-terminated and
// outlive the plugin (string literals do); params_schema_json is a JSON Schema or nullptr.
// flags: PETIT_TASK_CANCELLABLE, PETIT_TASK_SERIAL, PETIT_TASK_IDEMPOTENT.
template <typename T>
class TaskType {
  static_assert(std::is_base_of_v<Task, T>,
                "a task type's class must derive from petit::sdk::Task");
  static_assert(internal::HasCreate<T>::value || std::is_default_constructible_v<T>,
                "a task class needs static Result<std::unique_ptr<T>> Create(const CreateArgs&) "
                "or a default constructor (then it takes no parameters)");

 public:
  constexpr TaskType(const char* name, const char* summary,
                     const char* params_schema_json = nullptr, uint32_t flags = 0) noexcept
      : name_(name), summary_(summary), params_schema_json_(params_schema_json), flags_(flags) {}

  const char* name() const noexcept { return name_; }

  // The ABI struct for this type; type_state must outlive it.
  petit_task_type Describe(internal::TypeState* type_state) const noexcept {
    if constexpr (internal::HasCreate<T>::value) {
      static_assert(std::is_convertible_v<decltype(T::Create(std::declval<const CreateArgs&>())),
                                          Result<std::unique_ptr<T>>>,
                    "T::Create must return petit::sdk::Result<std::unique_ptr<T>>");
    }
    petit_task_type type{};
    type.struct_size = sizeof(petit_task_type);
    type.flags = flags_;
    type.name = name_;
    type.summary = summary_;
    type.params_schema_json = params_schema_json_;
    type.type_state = type_state;
    type.create = &internal::TaskTrampolines<T>::Create;
    type.execute = &internal::TaskTrampolines<T>::Execute;
    type.cancel = internal::kOverridesCancel<T> ? &internal::TaskTrampolines<T>::Cancel : nullptr;
    type.destroy = &internal::TaskTrampolines<T>::Destroy;
    return type;
  }

 private:
  const char* name_;
  const char* summary_;
  const char* params_schema_json_;
  uint32_t flags_;
};

namespace internal {

// Everything one successful init hands to the host. OWNERSHIP: allocated by init, deleted by the
// shutdown hook. THREADS: immutable after init.
template <size_t N>
struct PluginState {
  std::array<TypeState, N> states{};
  std::array<petit_task_type, N> types{};
  std::array<const petit_task_type*, N> type_pointers{};
};

template <size_t N>
void ShutdownPlugin(void* state) noexcept {
  delete static_cast<PluginState<N>*>(state);
}

inline int32_t Refuse(char* error, size_t error_size, std::string_view reason) noexcept {
  if (error != nullptr && error_size > 0) {
    const size_t size = reason.size() < error_size - 1 ? reason.size() : error_size - 1;
    std::memcpy(error, reason.data(), size);
    error[size] = '\0';
  }
  return PETIT_ERROR;
}

// A function rather than an inline comparison: with PETIT_ABI_MINOR 0, `minor < 0` trips
// -Wtype-limits.
inline bool IsOlder(uint32_t minor, uint32_t than) noexcept { return minor < than; }

inline std::string CheckHost(const petit_init_args* args, const petit_plugin_descriptor* out) {
  if (args == nullptr || out == nullptr) return "init called with a null argument";
  if (args->struct_size < kInitArgsSize10) {
    return "petit_init_args is " + std::to_string(args->struct_size) + " bytes; ABI 1.0 needs " +
           std::to_string(kInitArgsSize10);
  }
  if (args->host_abi_major != PETIT_ABI_MAJOR || IsOlder(args->host_abi_minor, PETIT_ABI_MINOR)) {
    return "host ABI " + std::to_string(args->host_abi_major) + "." +
           std::to_string(args->host_abi_minor) + " cannot run a plugin built for ABI " +
           std::to_string(PETIT_ABI_MAJOR) + "." + std::to_string(PETIT_ABI_MINOR);
  }
  const petit_host_services* host = args->host;
  if (host == nullptr) return "the host passed no services table";
  if (host->struct_size < kHostServicesSize10) {
    return "petit_host_services is " + std::to_string(host->struct_size) +
           " bytes; ABI 1.0 needs " + std::to_string(kHostServicesSize10);
  }
  if (host->log == nullptr || host->get_input == nullptr || host->set_output == nullptr ||
      host->get_config == nullptr || host->is_cancelled == nullptr ||
      host->report_progress == nullptr || host->set_error == nullptr ||
      host->emit_output == nullptr || host->set_exit_code == nullptr) {
    return "the host services table has a null function";
  }
  if (out->struct_size < kDescriptorSize10) {
    return "petit_plugin_descriptor is " + std::to_string(out->struct_size) +
           " bytes; ABI 1.0 needs " + std::to_string(kDescriptorSize10);
  }
  return {};
}

template <typename... Ts>
int32_t InitPlugin(const petit_init_args* args, petit_plugin_descriptor* out, char* error,
                   size_t error_size, const TaskType<Ts>&... types) noexcept {
  constexpr size_t kCount = sizeof...(Ts);
  static_assert(kCount > 0, "PETIT_PLUGIN needs at least one task type");
  try {
    if (std::string problem = CheckHost(args, out); !problem.empty()) {
      return Refuse(error, error_size, problem);
    }
    const std::array<const char*, kCount> names = {types.name()...};
    for (size_t i = 0; i < kCount; ++i) {
      if (!IsValidName(names[i])) {
        return Refuse(error, error_size,
                      "invalid task type name '" + std::string(names[i] ? names[i] : "(null)") +
                          "': expected 1-128 characters of [a-z0-9_.-]");
      }
      for (size_t j = 0; j < i; ++j) {
        if (std::strcmp(names[i], names[j]) == 0) {
          return Refuse(error, error_size,
                        "task type '" + std::string(names[i]) + "' is declared twice");
        }
      }
    }
    auto state = std::make_unique<PluginState<kCount>>();
    size_t index = 0;
    const auto add = [&](const auto& type) {
      state->states[index] = TypeState{args->host, type.name()};
      state->types[index] = type.Describe(&state->states[index]);
      state->type_pointers[index] = &state->types[index];
      ++index;
    };
    (add(types), ...);
    out->struct_size = sizeof(petit_plugin_descriptor);
    out->task_type_count = static_cast<uint32_t>(kCount);
    out->task_types = state->type_pointers.data();
    out->shutdown = &ShutdownPlugin<kCount>;
    out->plugin_state = state.release();
    return PETIT_OK;
  } catch (const std::exception& e) {
    return Refuse(error, error_size, e.what());
  } catch (...) {
    return Refuse(error, error_size, kUnknownException);
  }
}

}  // namespace internal
}  // namespace petit::sdk

// Declares the plugin: its name (1-128 characters of [a-z0-9_.-]), its version, and one or more
// petit::sdk::TaskType<T>(...) expressions. Use once per plugin library, at global scope, followed
// by a semicolon. Defines petit_plugin_abi_info and petit_plugin_init with C linkage and default
// visibility.
#define PETIT_PLUGIN(plugin_name, plugin_version, ...)                                       \
  extern "C" PETIT_EXPORT const petit_abi_info* petit_plugin_abi_info(void) {                \
    static const petit_abi_info kPetitAbiInfo = {                                            \
        sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,                            \
        PETIT_ABI_MINOR,        plugin_name,     plugin_version};                            \
    return &kPetitAbiInfo;                                                                   \
  }                                                                                          \
  extern "C" PETIT_EXPORT int32_t petit_plugin_init(const petit_init_args* args,             \
                                                    petit_plugin_descriptor* out_descriptor, \
                                                    char* error, size_t error_size) {        \
    return ::petit::sdk::internal::InitPlugin(args, out_descriptor, error, error_size,       \
                                              __VA_ARGS__);                                  \
  }                                                                                          \
  static_assert(::petit::sdk::internal::IsValidName(plugin_name),                            \
                "PETIT_PLUGIN: the plugin name must be 1-128 characters of [a-z0-9_.-]")

#endif  // PETIT_PLUGIN_HPP_
