#include "config/json_document.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/yaml_limits.h"
#include "config/yaml_support.h"

namespace petit::host::internal {
namespace {

// Well inside yaml_limits.h, so that no limit ParseYamlDocument applies can break on a text read
// here; a text beyond these is left to it (and is then slow, or refused as it always was).
constexpr size_t kMaxFastBytes = 32 * 1024;  // below kMaxYamlScalarBytes
constexpr size_t kMaxFastDepth = 32;         // below kMaxYamlDepth
constexpr size_t kMaxFastKeyBytes = 256;     // below kMaxYamlKeyBytes
static_assert(kMaxFastBytes < kMaxYamlScalarBytes && kMaxFastDepth < kMaxYamlDepth &&
              kMaxFastKeyBytes < kMaxYamlKeyBytes);

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), tree_(std::make_shared<YamlTree>()) {}

  std::optional<YamlDocument> Parse() {
    SkipSpace();
    std::optional<uint32_t> root = Value(0);
    if (!root) return std::nullopt;
    SkipSpace();
    if (at_ != text_.size()) return std::nullopt;
    YamlDocument document;
    document.tree = tree_;
    document.root = nodes_[*root];
    return document;
  }

 private:
  // Only spaces and line feeds: a tab or a carriage return is left to ParseYamlDocument.
  void SkipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) {
      if (text_[at_] == '\n') {
        ++line_;
        line_start_ = at_ + 1;
      }
      ++at_;
    }
  }

  YamlMark Here() const {
    YamlMark mark;
    mark.pos = static_cast<int>(at_);
    mark.line = line_;
    mark.column = static_cast<int>(at_ - line_start_);
    return mark;
  }

  // Keeps `node` and returns its handle in nodes_ (SetChildren takes the tree's indices).
  uint32_t Keep(const YamlNode& node) {
    nodes_.push_back(node);
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  std::optional<uint32_t> Value(size_t depth) {
    if (at_ >= text_.size()) return std::nullopt;
    const char c = text_[at_];
    if (c == '{' || c == '[') return Collection(depth, c == '{');
    if (c == '"') {
      const YamlMark mark = Here();
      std::optional<std::string_view> text = String(/*escapes=*/true);
      if (!text) return std::nullopt;
      return Keep(tree_->AddScalar(mark, "!", *text));
    }
    return Plain();
  }

  // A string of printable ASCII only: its text is what is between the quotes, or with
  // `escapes`, that with \\ and \" decoded (a schema's pattern writes a backslash so; any other
  // escape is left to the YAML parser). The view lasts until the next call.
  std::optional<std::string_view> String(bool escapes) {
    const size_t begin = ++at_;
    bool escaped = false;
    while (at_ < text_.size() && text_[at_] != '"') {
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c < 0x20 || c > 0x7E) return std::nullopt;
      if (c == '\\') {
        const char next = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
        if (!escapes || (next != '\\' && next != '"')) return std::nullopt;
        escaped = true;
        ++at_;
      }
      ++at_;
    }
    if (at_ >= text_.size()) return std::nullopt;
    const std::string_view raw = text_.substr(begin, at_++ - begin);
    if (!escaped) return raw;
    decoded_.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\') ++i;
      decoded_ += raw[i];
    }
    return std::string_view(decoded_);
  }

  // true, false, null or a number as JSON writes it.
  std::optional<uint32_t> Plain() {
    const YamlMark mark = Here();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_, word.size()) == word && Ends(at_ + word.size())) {
        at_ += word.size();
        return Keep(word == "null" ? tree_->AddNull(mark) : tree_->AddScalar(mark, "?", word));
      }
    }
    const size_t begin = at_;
    if (!Number()) return std::nullopt;
    return Keep(tree_->AddScalar(mark, "?", text_.substr(begin, at_ - begin)));
  }

  bool Number() {
    const size_t length = JsonNumberLength(text_.substr(at_));
    if (length == 0) return false;
    at_ += length;
    return Ends(at_);
  }

  // Whether a plain scalar ends at `at` for YAML as for JSON.
  bool Ends(size_t at) const {
    if (at >= text_.size()) return true;
    const char c = text_[at];
    return c == ' ' || c == '\n' || c == ',' || c == ']' || c == '}';
  }

  // An object's members or an array's items. A member is `"key": value` or `"key":value`, the colon
  // right after the key: YAML reads a colon after a quoted key in a flow mapping as JSON does.
  std::optional<uint32_t> Collection(size_t depth, bool map) {
    if (depth >= kMaxFastDepth) return std::nullopt;
    const YamlMark mark = Here();
    const uint32_t node = Keep(tree_->AddCollection(mark, "?", map));
    const char close = map ? '}' : ']';
    ++at_;
    std::vector<uint32_t> children;
    std::vector<std::string_view> keys;
    SkipSpace();
    if (at_ < text_.size() && text_[at_] == close) {
      ++at_;
      tree_->SetChildren(nodes_[node], children.data(), 0);
      return node;
    }
    while (true) {
      if (map) {
        if (at_ >= text_.size() || text_[at_] != '"') return std::nullopt;
        const YamlMark key_mark = Here();
        // Keys are kept as views of the text (to find duplicates), so never decoded.
        std::optional<std::string_view> key = String(/*escapes=*/false);
        if (!key || key->size() > kMaxFastKeyBytes) return std::nullopt;
        // A key written twice is a problem ParseYamlDocument reports.
        if (std::find(keys.begin(), keys.end(), *key) != keys.end()) return std::nullopt;
        keys.push_back(*key);
        if (at_ >= text_.size() || text_[at_] != ':') return std::nullopt;
        ++at_;
        children.push_back(YamlTree::IndexOf(tree_->AddScalar(key_mark, "!", *key)));
        SkipSpace();
      }
      std::optional<uint32_t> value = Value(depth + 1);
      if (!value) return std::nullopt;
      children.push_back(YamlTree::IndexOf(nodes_[*value]));
      SkipSpace();
      if (at_ >= text_.size()) return std::nullopt;
      if (text_[at_] == close) break;
      if (text_[at_] != ',') return std::nullopt;
      ++at_;
      SkipSpace();
    }
    ++at_;
    if (children.size() > (map ? 2 * kMaxYamlMapEntries : kMaxYamlListItems)) return std::nullopt;
    tree_->SetChildren(nodes_[node], children.data(), children.size());
    return node;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string decoded_;  // the last string String() decoded
  int line_ = 0;
  size_t line_start_ = 0;
  std::shared_ptr<YamlTree> tree_;
  std::vector<YamlNode> nodes_;  // the values made, so a collection can name its children
};

}  // namespace

std::optional<YamlDocument> ParseStrictJson(std::string_view text) {
  if (text.size() > kMaxFastBytes) return std::nullopt;
  return Parser(text).Parse();
}

}  // namespace petit::host::internal
