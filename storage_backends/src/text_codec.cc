#include "src/text_codec.h"

#include "petit/core/json.h"
#include "petit/core/utf8.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace petit::storage::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent reader for the JSON subset EncodeOutputs writes.
class OutputsParser {
 public:
  explicit OutputsParser(std::string_view json) : json_(json) {}

  Result<ValueMap> Parse() {
    ValueMap outputs;
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    if (Consume('}')) return Finish(std::move(outputs));
    while (true) {
      SkipSpace();
      std::string key;
      PETIT_RETURN_IF_ERROR(ParseString(key));
      SkipSpace();
      if (!Consume(':')) return Error("expected ':'");
      SkipSpace();
      std::string value;
      PETIT_RETURN_IF_ERROR(ParseValue(value));
      outputs.insert_or_assign(std::move(key), std::move(value));
      SkipSpace();
      if (Consume('}')) return Finish(std::move(outputs));
      if (!Consume(',')) return Error("expected ',' or '}'");
    }
  }

 private:
  Result<ValueMap> Finish(ValueMap outputs) {
    SkipSpace();
    if (pos_ != json_.size()) return Error("unexpected text after the object");
    return outputs;
  }

  Status ParseValue(std::string& value) {
    if (Peek() == '"') return ParseString(value);
    if (!Consume('{')) return Error("expected a string or {\"hex\": ...}");
    SkipSpace();
    std::string tag;
    PETIT_RETURN_IF_ERROR(ParseString(tag));
    if (tag != "hex") return Error("expected the key \"hex\"");
    SkipSpace();
    if (!Consume(':')) return Error("expected ':'");
    SkipSpace();
    std::string hex;
    PETIT_RETURN_IF_ERROR(ParseString(hex));
    SkipSpace();
    if (!Consume('}')) return Error("expected '}'");
    Result<std::string> bytes = HexDecode(hex);
    if (!bytes.ok()) return Error("bad hex value");
    value = std::move(bytes).value();
    return Status::Ok();
  }

  Status ParseString(std::string& out) {
    if (!Consume('"')) return Error("expected '\"'");
    while (pos_ < json_.size()) {
      const char c = json_[pos_++];
      if (c == '"') return Status::Ok();
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ == json_.size()) break;
      const char escape = json_[pos_++];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out.push_back(escape);
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
        case 'u': {
          uint32_t code_point = 0;
          PETIT_RETURN_IF_ERROR(ParseHex4(code_point));
          if (code_point >= 0xD800 && code_point <= 0xDBFF) {
            uint32_t low = 0;
            if (!Consume('\\') || !Consume('u')) return Error("unpaired surrogate");
            PETIT_RETURN_IF_ERROR(ParseHex4(low));
            if (low < 0xDC00 || low > 0xDFFF) return Error("unpaired surrogate");
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
          } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(code_point, out);
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
    return Error("unterminated string");
  }

  Status ParseHex4(uint32_t& value) {
    if (json_.size() - pos_ < 4) return Error("truncated \\u escape");
    for (int i = 0; i < 4; ++i) {
      const int digit = HexValue(json_[pos_++]);
      if (digit < 0) return Error("bad \\u escape");
      value = (value << 4) | static_cast<uint32_t>(digit);
    }
    return Status::Ok();
  }

  char Peek() const { return pos_ < json_.size() ? json_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || pos_ == json_.size()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < json_.size() && (json_[pos_] == ' ' || json_[pos_] == '\n' ||
                                   json_[pos_] == '\t' || json_[pos_] == '\r')) {
      ++pos_;
    }
  }
  Status Error(std::string_view what) const {
    return Internal("stored outputs are not valid JSON (" + std::string(what) + " at offset " +
                    std::to_string(pos_) + ")");
  }

  std::string_view json_;
  size_t pos_ = 0;
};

bool IsCaretLine(std::string_view line) {
  bool caret = false;
  for (const char c : line) {
    if (c == '^') {
      caret = true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return caret;
}

}  // namespace

namespace {

// Plain ASCII without NUL, the common case for ids, errors and outputs: kept as it is.
bool IsCleanAscii(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == 0 || byte >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string SanitizeText(std::string_view text) {
  if (IsCleanAscii(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0 || text[i] == '\0') {
      out.append(kUtf8ReplacementCharacter);
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kHexDigits[byte >> 4]);
    out.push_back(kHexDigits[byte & 0xF]);
  }
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Internal("stored hex data has an odd length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = HexValue(hex[i]);
    const int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return Internal("stored hex data has a non-hex digit");
    out.push_back(static_cast<char>((high << 4) | low));
  }
  return out;
}

std::string EncodeOutputs(const ValueMap& outputs) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : outputs) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, SanitizeText(key));
    out.push_back(':');
    if (IsValidUtf8(value)) {
      AppendJsonString(out, value);
    } else {
      out.append("{\"hex\":\"").append(HexEncode(value)).append("\"}");
    }
  }
  out.push_back('}');
  return out;
}

Result<ValueMap> DecodeOutputs(std::string_view json) { return OutputsParser(json).Parse(); }

std::string OneLine(std::string_view text) {
  std::string out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (IsCaretLine(line)) continue;
    if (out.empty() || out.back() != ' ') out.push_back(' ');
    for (const char c : line) {
      const char normalised = (c == '\t' || c == '\r') ? ' ' : c;
      if (normalised == ' ' && !out.empty() && out.back() == ' ') continue;
      out.push_back(normalised);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  size_t first = 0;
  while (first < out.size() && out[first] == ' ') ++first;
  return out.substr(first);
}

}  // namespace petit::storage::internal
