#include "config/yaml_document.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/yaml_limits.h"
#include "config/yaml_support.h"

namespace petit::host::internal {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

// At most kMaxYamlFileBytes + 1 bytes: enough to know a file is too long without reading a
// gigabyte (or /dev/zero) to find out. Sets `error` to the OS's reason when it returns nullopt.
std::optional<std::string> ReadBytes(const std::string& path, std::string& error) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    error = errno != 0 ? std::error_code(errno, std::system_category()).message() : "cannot open";
    return std::nullopt;
  }
  std::string text;
  char chunk[kReadChunkBytes];
  while (text.size() <= kMaxYamlFileBytes && (in.read(chunk, sizeof chunk) || in.gcount() > 0)) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) {
    error = errno != 0 ? std::error_code(errno, std::system_category()).message() : "read error";
    return std::nullopt;
  }
  return text;
}

// The 0-based line and column of byte `pos`, as yaml-cpp would give them.
YAML::Mark MarkAt(std::string_view text, size_t pos) {
  YAML::Mark mark;
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

// yaml-cpp's own messages ("illegal block entry", "end of map not found") do not say that the
// cause is a tab in the indentation of the line where they fail, or of the line before.
std::string TabHint(std::string_view text, const YAML::Mark& mark) {
  if (mark.is_null() || mark.pos < 0) return "";
  const size_t pos = std::min(static_cast<size_t>(mark.pos), text.size());
  size_t begin = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
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

// What yaml-cpp's message leaves out: a tab in the indentation, or (for "illegal map value", as
// in `storage: memory:`) that a value holding ': ' or ending in ':' must be quoted.
std::string Hint(std::string_view text, const YAML::Mark& mark, const std::string& message) {
  std::string hint = TabHint(text, mark);
  if (hint.empty() && message == YAML::ErrorMsg::MAP_VALUE) {
    hint = " (a value holding ': ' or ending in ':' must be quoted, as in key: 'memory:')";
  }
  return hint;
}

// Thrown from the event handler, through yaml-cpp's parser (which holds nothing that leaks), to
// ParseYamlDocument: the first limit broken ends the reading.
struct LimitBroken {
  YAML::Mark mark;
  std::string message;
};

// What makes a well-formed document still wrong, silently so for yaml-cpp: a key written twice
// in one mapping (one of the two values would be dropped without a word), a merge key `<<` (YAML
// 1.1, which yaml-cpp reads as a key named "<<") or a tag such as !!binary (which it keeps on the
// node and nobody reads).
struct TreeProblem {
  YAML::Mark mark;   // of the second key, the merge key or the tagged node
  std::string path;  // "tasks.extract.retry.max_attempts"
  std::string message;
};

// Only shown in messages: a kilobyte-long key or anchor name must not make a kilobyte-long line.
std::string Shown(const std::string& name) {
  constexpr size_t kShownBytes = 64;
  return name.size() <= kShownBytes ? name : name.substr(0, kShownBytes) + "...";
}

// Builds the YamlTree of the first document from the events that passed the checks, so the text
// is scanned once. The children of the open collections wait on one stack and are stored when
// their collection ends, as one range; an alias is the node its anchor names, shared, as
// yaml-cpp's builder makes it.
class TreeBuilder {
 public:
  TreeBuilder() : tree_(std::make_shared<YamlTree>()) {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Place(tree_->AddNull(mark), anchor);
  }
  void OnAlias(YAML::anchor_t anchor) { Place(anchors_.at(anchor), YAML::NullAnchor); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) {
    Place(tree_->AddScalar(mark, tag, value), anchor);
  }
  void OnCollectionStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         bool map) {
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
  void Place(const YamlNode& node, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
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
  std::vector<YamlNode> anchors_;                  // by yaml-cpp's anchor number, from 1
};

// Follows yaml-cpp's events and throws LimitBroken at the first one that breaks a limit.
class LimitChecker final : public YAML::EventHandler {
 public:
  explicit LimitChecker(std::string_view text) : text_(text) {}

  size_t documents() const { return documents_; }
  // The offset of the last node reported: yaml-cpp has consumed every token before it.
  size_t progress() const { return progress_; }
  // Where the second document's first node is; meaningful when documents() > 1.
  const YAML::Mark& second_document() const { return second_document_; }
  // The first document's tree, built as its events passed the checks.
  std::shared_ptr<YamlTree> tree() const { return tree_.tree(); }
  YamlNode Root() const { return tree_.root(); }
  // The TreeProblems of the first document, in the order met.
  const std::vector<TreeProblem>& problems() const { return problems_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    // Every document but one that consumes no token starts after the previous one. yaml-cpp 0.7
    // turns a token no node can start with (a ',' outside any flow collection) into an empty
    // document and leaves the token where it was, so the next document starts on it again.
    if (documents_ > 0 && mark.pos == last_document_start_) {
      throw LimitBroken{mark, StrayTokenMessage(mark)};
    }
    ++documents_;
    if (documents_ > kMaxYamlDocuments) {
      throw LimitBroken{mark, "more than " + std::to_string(kMaxYamlDocuments) +
                                  " YAML documents (separated by ---); a file holds one"};
    }
    last_document_start_ = mark.pos;
    Advance(mark);
    frames_.clear();
    anchors_.clear();
    nodes_ = 0;
    alias_nodes_ = 0;
    alias_bytes_ = 0;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (NextIsKey()) NoteKey(mark, std::nullopt);
    Leaf(mark, anchor, 0);
    if (Building()) tree_.OnNull(mark, anchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
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
    if (anchor != YAML::NullAnchor && value.size() <= kMaxYamlKeyBytes) {
      anchors_[anchor].scalar = value;
    }
    if (Building()) tree_.OnScalar(mark, tag, anchor, value);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // yaml-cpp has already refused an alias whose anchor was never defined.
    const Anchor& target = anchors_.at(anchor);
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

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    CheckTag(mark, tag);
    Open(mark, anchor, /*map=*/false);
    if (Building()) tree_.OnCollectionStart(mark, tag, anchor, /*map=*/false);
  }
  void OnSequenceEnd() override {
    Close();
    if (Building()) tree_.OnCollectionEnd();
  }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    CheckTag(mark, tag);
    Open(mark, anchor, /*map=*/true);
    if (Building()) tree_.OnCollectionStart(mark, tag, anchor, /*map=*/true);
  }
  void OnMapEnd() override {
    Close();
    if (Building()) tree_.OnCollectionEnd();
  }

  void OnAnchor(const YAML::Mark& /*mark*/, const std::string& name) override {
    pending_anchor_name_ = Shown(name);
  }

 private:
  // An open list or mapping.
  struct Frame {
    bool map = false;
    size_t children = 0;  // a mapping's keys and values both count
    size_t expanded = 1;  // nodes of the subtree once its aliases are expanded, itself included
    size_t bytes = 0;     // bytes of its scalars once its aliases are expanded
    YAML::anchor_t anchor = YAML::NullAnchor;
    // A mapping of the first document: the line (0-based) of each scalar key, the text of the
    // key being read (for the path in messages) and the value of its `id`, if one came yet.
    std::unordered_map<std::string, int> keys;
    std::optional<int> null_key;  // `~:` or `? :`, the one key with no text
    std::string key;
    std::string id;
  };
  // What an anchor names, indexed by yaml-cpp's anchor number (1, 2, ... per document).
  struct Anchor {
    std::string name;
    size_t expanded = 0;
    size_t bytes = 0;
    bool open = false;  // its node is still being read: an alias to it would make a cycle
    std::optional<std::string> scalar;  // a scalar's text when short enough to be a key
  };

  std::string StrayTokenMessage(const YAML::Mark& mark) const {
    const size_t pos = static_cast<size_t>(mark.pos);
    const char c = pos < text_.size() ? text_[pos] : '\0';
    const std::string token = c > ' ' && c < 0x7f ? "'" + std::string(1, c) + "'" : "this token";
    return token + " cannot start a YAML value here (quote it, or put it inside [...] or {...})";
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
  void NoteKey(const YAML::Mark& mark, const std::optional<std::string>& text) {
    if (!Building()) return;
    Frame& map = frames_.back();
    std::optional<int> first;
    if (text) {
      auto [it, fresh] = map.keys.emplace(*text, mark.line);
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

  // yaml-cpp resolves no tag: a value tagged !!binary or !!int stays the text written, so a tag
  // would only mislead. "?" (plain) and "!" (quoted) are the tags of untagged nodes.
  void CheckTag(const YAML::Mark& mark, const std::string& tag) {
    if (!Building() || tag.empty() || tag == "?" || tag == "!") return;
    constexpr std::string_view kCore = "tag:yaml.org,2002:";
    const std::string shown =
        tag.compare(0, kCore.size(), kCore) == 0 ? "!!" + tag.substr(kCore.size()) : Shown(tag);
    const std::string path = NodePath();
    problems_.push_back(TreeProblem{
        mark, path,
        "the YAML tag '" + shown + "'" + (path.empty() ? "" : " on " + path) +
            " is not supported: petit reads the value as written (a quoted value is text); "
            "remove the tag"});
  }

  void NoteMergeKey(const YAML::Mark& mark) {
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

  void Advance(const YAML::Mark& mark) {
    progress_ = std::max(progress_, static_cast<size_t>(std::max(mark.pos, 0)));
  }

  // Counts a new node and the room it takes in its parent.
  void Enter(const YAML::Mark& mark) {
    Advance(mark);
    if (++nodes_ > kMaxYamlNodes) {
      throw LimitBroken{
          mark, "more than " + std::to_string(kMaxYamlNodes) + " YAML nodes in one document"};
    }
    if (frames_.empty()) {
      if (documents_ == 2) second_document_ = mark;
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

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, size_t bytes) {
    Enter(mark);
    if (!frames_.empty()) {
      ++frames_.back().expanded;
      frames_.back().bytes += bytes;
    }
    if (anchor != YAML::NullAnchor) {
      Anchor& named = Define(anchor);
      named.expanded = 1;
      named.bytes = bytes;
    }
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    if (NextIsKey()) frames_.back().key = "?";  // a list or mapping as a key: no text to name
    Enter(mark);
    if (frames_.size() >= kMaxYamlDepth) {
      throw LimitBroken{
          mark, "lists and mappings nested more than " + std::to_string(kMaxYamlDepth) + " deep"};
    }
    if (anchor != YAML::NullAnchor) Define(anchor).open = true;
    frames_.push_back(Frame{map, 0, 1, 0, anchor, {}, std::nullopt, {}, {}});
  }

  void Close() {
    const Frame done = std::move(frames_.back());
    frames_.pop_back();
    if (done.anchor != YAML::NullAnchor) {
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

  Anchor& Define(YAML::anchor_t anchor) {
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    Anchor& named = anchors_[anchor];
    named = Anchor{pending_anchor_name_, 0, 0, false, std::nullopt};
    return named;
  }

  std::string_view text_;
  TreeBuilder tree_;
  size_t progress_ = 0;
  size_t documents_ = 0;
  int last_document_start_ = 0;
  YAML::Mark second_document_;
  std::vector<Frame> frames_;
  std::vector<Anchor> anchors_;
  std::string pending_anchor_name_;
  size_t nodes_ = 0;
  size_t alias_nodes_ = 0;
  size_t alias_bytes_ = 0;
  std::vector<TreeProblem> problems_;
};

// The text for the checking pass, handed to yaml-cpp a window at a time so that each refill can
// check how far its scanner has read past the last node it reported. yaml-cpp holds every token
// from a [ or { that could still turn out to be a mapping key until that is decided, which may be
// the end of the file: a megabyte of '[' is two million tokens and 230 MB before the first event.
// The flow indicators in that stretch bound the tokens held.
class CheckedInput : public std::streambuf {
 public:
  CheckedInput(std::string_view text, const LimitChecker& checker)
      : text_(text), checker_(checker) {
    char* begin = Begin();
    setg(begin, begin, begin);
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const size_t given = static_cast<size_t>(egptr() - Begin());
    if (given == text_.size()) return traits_type::eof();
    CheckLookahead(given);
    const size_t end = std::min(text_.size(), given + kWindowBytes);
    setg(Begin(), Begin() + given, Begin() + end);
    return traits_type::to_int_type(*gptr());
  }

 private:
  static constexpr size_t kWindowBytes = 4096;

  static bool IsFlowIndicator(char c) {
    switch (c) {
      case '[':
      case ']':
      case '{':
      case '}':
      case ',':
      case ':':
      case '?':
      case '&':
      case '*':
      case '!':
        return true;
      default:
        return false;
    }
  }

  char* Begin() const { return const_cast<char*>(text_.data()); }  // the get area is only read

  // Counts the indicators in [progress, given): each byte is added once and removed once.
  void CheckLookahead(size_t given) {
    for (; counted_end_ < given; ++counted_end_) held_ += IsFlowIndicator(text_[counted_end_]);
    const size_t progress = std::min(checker_.progress(), counted_end_);
    for (; counted_begin_ < progress; ++counted_begin_) {
      held_ -= IsFlowIndicator(text_[counted_begin_]);
    }
    if (held_ <= kMaxYamlLookahead) return;
    const size_t flow = text_.find_first_of("[{", counted_begin_);
    throw LimitBroken{MarkAt(text_, flow < given ? flow : counted_begin_),
                      "more than " + std::to_string(kMaxYamlLookahead) +
                          " flow indicators ([]{},:?&*!) follow before this [...] or {...} can be "
                          "read; write long collections in block style"};
  }

  std::string_view text_;
  const LimitChecker& checker_;
  size_t counted_begin_ = 0;
  size_t counted_end_ = 0;
  size_t held_ = 0;
};

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
  LimitChecker checker(text);
  try {
    CheckedInput buffer(text, checker);
    std::istream in(&buffer);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(checker)) {
    }
  } catch (const LimitBroken& broken) {
    errors.Add(broken.mark, "", broken.message);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", e.msg + Hint(text, e.mark, e.msg));
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
