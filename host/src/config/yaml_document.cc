#include "config/yaml_document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <yaml.h>

#include "config/yaml_limits.h"
#include "config/yaml_support.h"

namespace petit::host::internal {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

// At most kMaxYamlFileBytes + 1 bytes: enough to know a file is too long without reading a
// gigabyte (or /dev/zero) to find out. Sets `error` to the OS's reason when it returns nullopt.
std::optional<std::string> ReadBytes(const std::string& path, std::string& error) {
  // O_NONBLOCK: a FIFO must not hold petit until somebody writes to it; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::error_code(errno, std::system_category()).message();
    return std::nullopt;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = std::error_code(errno, std::system_category()).message();
    ::close(fd);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error =
        S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file (a FIFO, socket or device)";
    ::close(fd);
    return std::nullopt;
  }
  std::string text;
  char chunk[kReadChunkBytes];
  while (text.size() <= kMaxYamlFileBytes) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::error_code(errno, std::system_category()).message();
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

// The 0-based line and column of byte `pos` (the column in bytes).
YamlMark MarkAt(std::string_view text, size_t pos) {
  YamlMark mark;
  mark.pos = static_cast<int>(pos);
  mark.line = 0;
  mark.column = 0;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++mark.line;
      mark.column = 0;
    } else {
      ++mark.column;
    }
  }
  return mark;
}

// The byte offset of `mark` in `text`: libyaml counts columns in characters, so the line's
// start is found by its number and the column walked in UTF-8 characters.
size_t ByteOffset(std::string_view text, const YamlMark& mark) {
  size_t at = 0;
  for (int line = 0; line < mark.line; ++line) {
    at = text.find('\n', at);
    if (at == std::string_view::npos) return text.size();
    ++at;
  }
  for (int column = 0; column < mark.column && at < text.size(); ++column) {
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  }
  return std::min(at, text.size());
}

// libyaml's messages ("found character that cannot start any token", "did not find expected
// key") do not say that the cause is a tab in the indentation of the line where they fail, or of
// the line before.
std::string TabHint(std::string_view text, const YamlMark& mark) {
  if (mark.is_null()) return "";
  const size_t pos = ByteOffset(text, mark);
  size_t begin = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  begin = begin == std::string_view::npos || pos == 0 ? 0 : begin + 1;
  for (int line = 0; line < 2; ++line) {
    for (size_t i = begin; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
      if (text[i] == '\t') {
        return " (line " + std::to_string(mark.line + 1 - line) +
               " is indented with a tab; YAML indents with spaces only)";
      }
    }
    if (begin == 0) break;
    const size_t previous = begin >= 2 ? text.rfind('\n', begin - 2) : std::string_view::npos;
    begin = previous == std::string_view::npos ? 0 : previous + 1;
  }
  return "";
}

// What libyaml's message leaves out: a tab in the indentation, or (for "mapping values are not
// allowed in this context", as in `storage: memory:`) that a value holding ': ' or ending in ':'
// must be quoted.
std::string Hint(std::string_view text, const YamlMark& mark, std::string_view problem) {
  std::string hint = TabHint(text, mark);
  if (hint.empty() && problem == "mapping values are not allowed in this context") {
    hint = " (a value holding ': ' or ending in ':' must be quoted, as in key: 'memory:')";
  }
  return hint;
}

YamlMark ToMark(const yaml_mark_t& mark) {
  YamlMark converted;
  converted.pos = static_cast<int>(mark.index);
  converted.line = static_cast<int>(mark.line);
  converted.column = static_cast<int>(mark.column);
  return converted;
}

// Thrown from the event checks to ParseYamlDocument: the first limit broken ends the reading.
struct LimitBroken {
  YamlMark mark;
  std::string message;
};

// What makes a well-formed document still wrong, silently so for a YAML parser: a key written
// twice in one mapping (one of the two values would be dropped without a word), a merge key `<<`
// (YAML 1.1's, which Petit does not expand and would read as a key named "<<") or a tag such as
// !!binary (which stays on the node and nobody reads).
struct TreeProblem {
  YamlMark mark;     // of the second key, the merge key or the tagged node
  std::string path;  // "tasks.extract.retry.max_attempts"
  std::string message;
};

// Only shown in messages: a kilobyte-long key or anchor name must not make a kilobyte-long line.
std::string Shown(std::string_view name) {
  constexpr size_t kShownBytes = 64;
  return name.size() <= kShownBytes ? std::string(name)
                                    : std::string(name.substr(0, kShownBytes)) + "...";
}

// A node's anchor, numbered per document from 1 in the order anchors are defined (a name defined
// again is a new number); 0 is none.
using AnchorId = size_t;
constexpr AnchorId kNoAnchor = 0;

// Builds the YamlTree of the first document from the events that passed the checks, so the text
// is scanned once. The children of the open collections wait on one stack and are stored when
// their collection ends, as one range; an alias is the node its anchor names, shared.
class TreeBuilder {
 public:
  TreeBuilder() : tree_(std::make_shared<YamlTree>()) {}

  void OnNull(const YamlMark& mark, AnchorId anchor) { Place(tree_->AddNull(mark), anchor); }
  void OnAlias(AnchorId anchor) { Place(anchors_.at(anchor), kNoAnchor); }
  void OnScalar(const YamlMark& mark, std::string_view tag, AnchorId anchor,
                std::string_view value) {
    Place(tree_->AddScalar(mark, tag, value), anchor);
  }
  void OnCollectionStart(const YamlMark& mark, std::string_view tag, AnchorId anchor, bool map) {
    const YamlNode node = tree_->AddCollection(mark, tag, map);
    Place(node, anchor);
    open_.emplace_back(node, pending_.size());
  }
  void OnCollectionEnd() {
    const auto [node, first] = open_.back();
    open_.pop_back();
    tree_->SetChildren(node, pending_.data() + first, pending_.size() - first);
    pending_.resize(first);
  }

  // The tree, and its root: a null node without a position when the text holds no document.
  std::shared_ptr<YamlTree> tree() const { return tree_; }
  YamlNode root() const { return root_ ? root_ : tree_->NewNull(); }

 private:
  void Place(const YamlNode& node, AnchorId anchor) {
    if (anchor != kNoAnchor) {
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      anchors_[anchor] = node;
    }
    if (open_.empty()) {
      root_ = node;
    } else {
      pending_.push_back(YamlTree::IndexOf(node));
    }
  }

  std::shared_ptr<YamlTree> tree_;
  YamlNode root_;
  std::vector<std::pair<YamlNode, size_t>> open_;  // a collection, where its children start
  std::vector<uint32_t> pending_;                  // children of the open collections
  std::vector<YamlNode> anchors_;                  // by AnchorId
};

// The text of a libyaml string field, which is null when absent.
std::string_view Text(const yaml_char_t* text) {
  return text == nullptr ? std::string_view()
                         : std::string_view(reinterpret_cast<const char*>(text));
}

// A plain scalar that YAML's core schema reads as null, as every reader of the tree does
// (YamlNode::IsNull): empty, ~, null, Null, NULL.
bool IsNullText(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// Follows libyaml's events and throws LimitBroken at the first one that breaks a limit.
class LimitChecker {
 public:
  size_t documents() const { return documents_; }
  // Where the second document's first node is; meaningful when documents() > 1.
  const YamlMark& second_document() const { return second_document_; }
  // Where the current document's top-level value starts; null before it has.
  const YamlMark& top_level() const { return top_level_; }
  // Whether the parser is inside a [...] or {...}, where a ',' separates entries.
  bool InFlow() const { return flow_depth_ > 0; }
  // The first document's tree, built as its events passed the checks.
  std::shared_ptr<YamlTree> tree() const { return tree_.tree(); }
  YamlNode Root() const { return tree_.root(); }
  // The TreeProblems of the first document, in the order met.
  const std::vector<TreeProblem>& problems() const { return problems_; }

  void OnEvent(const yaml_event_t& event) {
    const YamlMark mark = ToMark(event.start_mark);
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        OnDocumentStart(mark);
        break;
      case YAML_SCALAR_EVENT: {
        const auto& scalar = event.data.scalar;
        const std::string_view value(reinterpret_cast<const char*>(scalar.value), scalar.length);
        // The tags of untagged nodes as Petit reads them: "?" a plain scalar (which may read as a
        // number, a boolean or null), "!" a quoted or block one (always text).
        std::string_view tag = Text(scalar.tag);
        if (tag.empty()) tag = scalar.style == YAML_PLAIN_SCALAR_STYLE ? "?" : "!";
        const AnchorId anchor = DefineAnchor(Text(scalar.anchor));
        if (tag == "?" && IsNullText(value)) {
          OnNull(mark, anchor);
        } else {
          OnScalar(mark, tag, anchor, value);
        }
        break;
      }
      case YAML_ALIAS_EVENT:
        OnAlias(mark, Text(event.data.alias.anchor));
        break;
      case YAML_SEQUENCE_START_EVENT: {
        const auto& start = event.data.sequence_start;
        OnCollectionStart(mark, start.tag, start.anchor, start.style == YAML_FLOW_SEQUENCE_STYLE,
                          /*map=*/false);
        break;
      }
      case YAML_MAPPING_START_EVENT: {
        const auto& start = event.data.mapping_start;
        OnCollectionStart(mark, start.tag, start.anchor, start.style == YAML_FLOW_MAPPING_STYLE,
                          /*map=*/true);
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        OnCollectionEnd();
        break;
      default:  // stream start and end, document end: nothing to check
        break;
    }
  }

 private:
  // An open list or mapping.
  struct Frame {
    bool map = false;
    bool flow = false;
    size_t children = 0;  // a mapping's keys and values both count
    size_t expanded = 1;  // nodes of the subtree once its aliases are expanded, itself included
    size_t bytes = 0;     // bytes of its scalars once its aliases are expanded
    AnchorId anchor = kNoAnchor;
    // A mapping of the first document: the line (0-based) of each scalar key, the text of the
    // key being read (for the path in messages) and the value of its `id`, if one came yet.
    std::unordered_map<std::string, int> keys;
    std::optional<int> null_key;  // `~:` or `? :`, the one key with no text
    std::string key;
    std::string id;
  };
  // What an anchor names, by AnchorId.
  struct Anchor {
    std::string name;
    size_t expanded = 0;
    size_t bytes = 0;
    bool open = false;  // its node is still being read: an alias to it would make a cycle
    std::optional<std::string> scalar;  // a scalar's text when short enough to be a key
  };

  void OnDocumentStart(const YamlMark& mark) {
    ++documents_;
    if (documents_ > kMaxYamlDocuments) {
      throw LimitBroken{mark, "more than " + std::to_string(kMaxYamlDocuments) +
                                  " YAML documents (separated by ---); a file holds one"};
    }
    frames_.clear();
    anchors_.clear();
    anchor_ids_.clear();
    flow_depth_ = 0;
    nodes_ = 0;
    alias_nodes_ = 0;
    alias_bytes_ = 0;
  }

  void OnNull(const YamlMark& mark, AnchorId anchor) {
    if (NextIsKey()) NoteKey(mark, std::nullopt);
    Leaf(mark, anchor, 0);
    if (Building()) tree_.OnNull(mark, anchor);
  }

  void OnScalar(const YamlMark& mark, std::string_view tag, AnchorId anchor,
                std::string_view value) {
    const bool key = NextIsKey();
    const size_t limit = key ? kMaxYamlKeyBytes : kMaxYamlScalarBytes;
    if (value.size() > limit) {
      throw LimitBroken{mark, std::string(key ? "a key" : "a value") + " of " +
                                  std::to_string(value.size()) + " bytes; the most is " +
                                  std::to_string(limit)};
    }
    CheckTag(mark, tag);
    if (key) {
      if (value == "<<" && tag == "?") NoteMergeKey(mark);
      NoteKey(mark, value);
    } else if (NextIsValue() && frames_.back().key == "id") {
      frames_.back().id = Shown(value);
    }
    Leaf(mark, anchor, value.size());
    if (anchor != kNoAnchor && value.size() <= kMaxYamlKeyBytes) {
      anchors_[anchor].scalar = std::string(value);
    }
    if (Building()) tree_.OnScalar(mark, tag, anchor, value);
  }

  void OnAlias(const YamlMark& mark, std::string_view name) {
    const auto found = anchor_ids_.find(std::string(name));
    if (found == anchor_ids_.end()) {
      throw LimitBroken{mark, "alias '*" + Shown(name) + "' names no anchor: an anchor (&" +
                                  Shown(name) +
                                  ") must come before its aliases, in the same document"};
    }
    const AnchorId anchor = found->second;
    const Anchor& target = anchors_[anchor];
    if (target.open) {
      throw LimitBroken{mark, "alias '*" + target.name +
                                  "' is used inside the node it names, which would contain itself"};
    }
    alias_nodes_ += target.expanded;
    if (alias_nodes_ > kMaxYamlAliasNodes) {
      throw LimitBroken{mark, "aliases expand to more than " + std::to_string(kMaxYamlAliasNodes) +
                                  " nodes (this '*" + target.name + "' stands for " +
                                  std::to_string(target.expanded) + ")"};
    }
    if (NextIsKey()) {
      // `*k: ...` is the key k names: a duplicate when k's text is already a key here.
      if (target.scalar) {
        NoteKey(mark, *target.scalar);
      } else {
        frames_.back().key.clear();
      }
    }
    alias_bytes_ += target.bytes;
    if (alias_bytes_ > kMaxYamlAliasBytes) {
      throw LimitBroken{mark, "aliases expand to more than " + std::to_string(kMaxYamlAliasBytes) +
                                  " bytes of text (this '*" + target.name + "' stands for " +
                                  std::to_string(target.bytes) + ")"};
    }
    Enter(mark);
    if (!frames_.empty()) {
      frames_.back().expanded += target.expanded;
      frames_.back().bytes += target.bytes;
    }
    if (Building()) tree_.OnAlias(anchor);
  }

  void OnCollectionStart(const YamlMark& mark, const yaml_char_t* tag_text,
                         const yaml_char_t* anchor_text, bool flow, bool map) {
    std::string_view tag = Text(tag_text);
    if (tag.empty()) tag = "?";
    const AnchorId anchor = DefineAnchor(Text(anchor_text));
    CheckTag(mark, tag);
    Open(mark, anchor, flow, map);
    if (Building()) tree_.OnCollectionStart(mark, tag, anchor, map);
  }

  void OnCollectionEnd() {
    Close();
    if (Building()) tree_.OnCollectionEnd();
  }

  // The number of an anchor being defined (kNoAnchor for an empty name); from now on its name
  // stands for this number.
  AnchorId DefineAnchor(std::string_view name) {
    if (name.empty()) return kNoAnchor;
    if (anchors_.empty()) anchors_.emplace_back();  // [0]: kNoAnchor
    const AnchorId anchor = anchors_.size();
    anchors_.emplace_back().name = Shown(name);
    anchor_ids_.insert_or_assign(std::string(name), anchor);
    return anchor;
  }

  // Only the first document becomes a tree; the others are only checked and counted.
  bool Building() const { return documents_ == 1; }

  bool NextIsKey() const {
    return !frames_.empty() && frames_.back().map && frames_.back().children % 2 == 0;
  }
  bool NextIsValue() const {
    return !frames_.empty() && frames_.back().map && frames_.back().children % 2 == 1;
  }

  // Records a scalar key (nullopt: a null one) of the innermost mapping, and a TreeProblem when
  // it has that key already. Keys compare as the text YAML gives them, quoting and escapes
  // resolved, as every reader of the tree compares them: "a", 'a' and a are one key.
  void NoteKey(const YamlMark& mark, const std::optional<std::string_view>& text) {
    if (!Building()) return;
    Frame& map = frames_.back();
    std::optional<int> first;
    if (text) {
      auto [it, fresh] = map.keys.emplace(std::string(*text), mark.line);
      if (!fresh) first = it->second;
      map.key = Shown(*text);
    } else {
      if (map.null_key) first = map.null_key;
      map.null_key = mark.line;
      map.key = "~";
    }
    if (!first) return;
    const std::string shown = text ? "'" + map.key + "'" : "null (~)";
    const std::string parent = ParentPath();
    problems_.push_back(TreeProblem{
        mark, parent.empty() ? map.key : parent + "." + map.key,
        "duplicate key " + shown + " in " + (parent.empty() ? "the top-level mapping" : parent) +
            ": first at line " + std::to_string(*first + 1) +
            "; a mapping holds each key once and one of the two values would be lost"});
  }

  // The path of the node about to be read.
  std::string NodePath() const {
    std::string path = ParentPath();
    if (frames_.empty()) return path;
    const Frame& frame = frames_.back();
    if (!frame.map) return path + "[" + std::to_string(frame.children) + "]";
    if (frame.children % 2 == 0) return path;  // a key: the mapping it is in
    return path.empty() ? frame.key : path + "." + frame.key;
  }

  // Petit resolves no tag: a value tagged !!binary or !!int stays the text written, so a tag
  // would only mislead. "?" (plain) and "!" (quoted) are the tags of untagged nodes.
  void CheckTag(const YamlMark& mark, std::string_view tag) {
    if (!Building() || tag.empty() || tag == "?" || tag == "!") return;
    constexpr std::string_view kCore = "tag:yaml.org,2002:";
    const std::string shown = tag.substr(0, kCore.size()) == kCore
                                  ? "!!" + std::string(tag.substr(kCore.size()))
                                  : Shown(tag);
    const std::string path = NodePath();
    problems_.push_back(TreeProblem{
        mark, path,
        "the YAML tag '" + shown + "'" + (path.empty() ? "" : " on " + path) +
            " is not supported: petit reads the value as written (a quoted value is text); "
            "remove the tag"});
  }

  void NoteMergeKey(const YamlMark& mark) {
    if (!Building()) return;
    const std::string parent = ParentPath();
    problems_.push_back(TreeProblem{
        mark, parent.empty() ? "<<" : parent + ".<<",
        "YAML merge keys ('<<') are not supported: write the keys out (an alias such as *name "
        "can stand for a whole value)"});
  }

  // The path to the innermost mapping, as Diagnostic::key spells it: a mapping's entry by its
  // key, a list's item by its `id` when it has come already ("tasks.extract"), else its index.
  std::string ParentPath() const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      if (frame.map) {
        if (!path.empty()) path += ".";
        path += frame.key;
      } else if (!frames_[i + 1].id.empty()) {
        path += "." + frames_[i + 1].id;
      } else {
        path += "[" + std::to_string(frame.children - 1) + "]";
      }
    }
    return path;
  }

  // Counts a new node and the room it takes in its parent.
  void Enter(const YamlMark& mark) {
    if (++nodes_ > kMaxYamlNodes) {
      throw LimitBroken{
          mark, "more than " + std::to_string(kMaxYamlNodes) + " YAML nodes in one document"};
    }
    if (frames_.empty()) {
      if (documents_ == 2) second_document_ = mark;
      top_level_ = mark;
      return;
    }
    Frame& parent = frames_.back();
    ++parent.children;
    if (parent.map && parent.children > 2 * kMaxYamlMapEntries) {
      throw LimitBroken{
          mark, "a mapping of more than " + std::to_string(kMaxYamlMapEntries) + " entries"};
    }
    if (!parent.map && parent.children > kMaxYamlListItems) {
      throw LimitBroken{mark,
                        "a list of more than " + std::to_string(kMaxYamlListItems) + " items"};
    }
  }

  void Leaf(const YamlMark& mark, AnchorId anchor, size_t bytes) {
    Enter(mark);
    if (!frames_.empty()) {
      ++frames_.back().expanded;
      frames_.back().bytes += bytes;
    }
    if (anchor != kNoAnchor) {
      anchors_[anchor].expanded = 1;
      anchors_[anchor].bytes = bytes;
    }
  }

  void Open(const YamlMark& mark, AnchorId anchor, bool flow, bool map) {
    if (NextIsKey()) frames_.back().key = "?";  // a list or mapping as a key: no text to name
    Enter(mark);
    if (frames_.size() >= kMaxYamlDepth) {
      throw LimitBroken{
          mark, "lists and mappings nested more than " + std::to_string(kMaxYamlDepth) + " deep"};
    }
    if (anchor != kNoAnchor) anchors_[anchor].open = true;
    flow_depth_ += flow ? 1 : 0;
    frames_.push_back(Frame{map, flow, 0, 1, 0, anchor, {}, std::nullopt, {}, {}});
  }

  void Close() {
    const Frame done = std::move(frames_.back());
    frames_.pop_back();
    flow_depth_ -= done.flow ? 1 : 0;
    if (done.anchor != kNoAnchor) {
      Anchor& named = anchors_[done.anchor];
      named.open = false;
      named.expanded = done.expanded;
      named.bytes = done.bytes;
    }
    if (!frames_.empty()) {
      frames_.back().expanded += done.expanded;
      frames_.back().bytes += done.bytes;
    }
  }

  TreeBuilder tree_;
  size_t documents_ = 0;
  YamlMark second_document_;
  YamlMark top_level_ = YamlMark::null_mark();
  std::vector<Frame> frames_;
  size_t flow_depth_ = 0;
  std::vector<Anchor> anchors_;                           // by AnchorId; [0] unused
  std::unordered_map<std::string, AnchorId> anchor_ids_;  // the newest definition of each name
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
  size_t alias_bytes_ = 0;
  std::vector<TreeProblem> problems_;
};

// libyaml's parser and its event, released however the reading ends.
class EventParser {
 public:
  explicit EventParser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~EventParser() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // The next event, or null when the text is not YAML (error() says why).
  const yaml_event_t* Next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = yaml_parser_parse(&parser_, &event_) != 0;
    return has_event_ ? &event_ : nullptr;
  }
  const yaml_parser_t& state() const { return parser_; }

 private:
  yaml_parser_t parser_;
  yaml_event_t event_;
  bool has_event_ = false;
};

// "0xE9" for a byte, "U+0001" for a character.
std::string Hex(int value, bool byte) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  std::string digits;
  for (int shift = byte ? 4 : 12; shift >= 0; shift -= 4) digits += kDigits[(value >> shift) & 15];
  return (byte ? "0x" : "U+") + digits;
}

// libyaml's error as Petit reports it: where, and what, in words a user can act on.
LimitBroken ParseError(std::string_view text, const yaml_parser_t& parser,
                       const LimitChecker& checker) {
  const std::string problem = parser.problem != nullptr ? parser.problem : "unreadable YAML";
  if (parser.error == YAML_MEMORY_ERROR) {
    return LimitBroken{YamlMark::null_mark(), "out of memory while reading the YAML"};
  }
  if (parser.error == YAML_READER_ERROR) {
    // Bytes that are not UTF-8 (a file saved as Latin-1) or a control character. libyaml names
    // the byte where a sequence went wrong; the user wrote the character its first byte starts.
    const bool character =
        problem == "control characters are not allowed" || problem == "invalid Unicode character";
    const size_t offset = std::min(parser.problem_offset, text.size());
    if (character) {
      return LimitBroken{MarkAt(text, offset),
                         problem + " (" + Hex(parser.problem_value, false) +
                             "); write it as an escape in a double-quoted string"};
    }
    size_t lead = offset;
    if (problem == "invalid trailing UTF-8 octet") {
      while (lead > 0 && offset - lead < 3) {
        --lead;
        if (static_cast<unsigned char>(text[lead]) >= 0xC0) break;
      }
    }
    std::string message = "the file is not UTF-8 text";
    if (lead < text.size())
      message += ": byte " + Hex(static_cast<unsigned char>(text[lead]), true);
    return LimitBroken{MarkAt(text, lead), message + " (" + problem + "); save it as UTF-8"};
  }
  YamlMark mark = ToMark(parser.problem_mark);
  // At the end of a text whose last line has no line break, libyaml reports the line after it,
  // which the file does not have: the end of the text is where the problem is.
  const YamlMark end = MarkAt(text, text.size());
  if (mark.line > end.line || (mark.line == end.line && mark.column > end.column)) mark = end;
  // A ',' outside any [...] or {...} where a value or a document should start: the one
  // misplacement whose cause libyaml's "did not find expected node content" does not name.
  const size_t at = ByteOffset(text, mark);
  if (!checker.InFlow() && at < text.size() && text[at] == ',' &&
      (problem == "did not find expected node content" ||
       problem == "did not find expected <document start>")) {
    return LimitBroken{
        mark, "',' cannot start a YAML value here (quote it, or put it inside [...] or {...})"};
  }
  // Text after the top-level value has ended, where only '---' may start another document: most
  // often the value's first line is indented more than the lines after it.
  const YamlMark& top = checker.top_level();
  if (problem == "did not find expected <document start>") {
    std::string message = "this line is outside the file's top-level value, which ended before it";
    if (!top.is_null() && top.column > mark.column) {
      message += " (that value starts at line " + std::to_string(top.line + 1) + ", column " +
                 std::to_string(top.column + 1) + ": indent its first line as this one)";
    } else {
      message += " (a file holds one YAML document)";
    }
    return LimitBroken{mark, message + TabHint(text, mark)};
  }
  std::string message = problem;
  if (parser.context != nullptr && (parser.context_mark.line != parser.problem_mark.line ||
                                    parser.context_mark.column != parser.problem_mark.column)) {
    message += std::string(" (") + parser.context + " that starts at line " +
               std::to_string(parser.context_mark.line + 1) + ", column " +
               std::to_string(parser.context_mark.column + 1) + ")";
  }
  return LimitBroken{mark, message + Hint(text, mark, problem)};
}

}  // namespace

YamlDocument ReadYamlDocument(const std::string& path) {
  std::string error;
  std::optional<std::string> text = ReadBytes(path, error);
  if (!text) {
    return YamlDocument{
        nullptr, YamlNode(), {{path, 0, 0, "", "cannot read the file: " + error}}, true, {}};
  }
  return ParseYamlDocument(*text, path);
}

YamlDocument ParseYamlDocument(std::string_view text, const std::string& name) {
  YamlErrors errors(name);
  if (text.size() > kMaxYamlFileBytes) {
    errors.Add(MarkAt(text, kMaxYamlFileBytes), "",
               "the file is longer than " + std::to_string(kMaxYamlFileBytes) +
                   " bytes, the most petit reads");
    return YamlDocument{nullptr, YamlNode(), errors.diagnostics(), false, {}};
  }
  LimitChecker checker;
  try {
    EventParser parser(text);
    for (;;) {
      const yaml_event_t* event = parser.Next();
      if (event == nullptr) throw ParseError(text, parser.state(), checker);
      if (event->type == YAML_STREAM_END_EVENT) break;
      checker.OnEvent(*event);
    }
  } catch (const LimitBroken& broken) {
    errors.Add(broken.mark, "", broken.message);
  }
  if (!errors.empty()) return YamlDocument{nullptr, YamlNode(), errors.diagnostics(), false, {}};
  if (checker.documents() > 1) {
    errors.Add(checker.second_document(), "",
               "a file holds one YAML document, but this one has " +
                   std::to_string(checker.documents()) + " YAML documents (separated by ---)");
    return YamlDocument{nullptr, YamlNode(), errors.diagnostics(), false, {}};
  }
  YamlDocument document{checker.tree(), checker.Root(), {}, false, {}};
  YamlErrors problems(name);
  for (const TreeProblem& problem : checker.problems()) {
    problems.Add(problem.mark, problem.path, problem.message);
  }
  document.problems = problems.diagnostics();
  return document;
}

}  // namespace petit::host::internal
