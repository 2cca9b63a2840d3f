#include "config/yaml_tree.h"

#include <functional>

namespace petit::host {
namespace {

const std::string& EmptyString() {
  static const std::string empty;
  return empty;
}

}  // namespace

YamlNodeType::value YamlNode::Type() const {
  if (tree_ == nullptr) return YamlNodeType::Undefined;
  return static_cast<YamlNodeType::value>(tree_->nodes_[index_].type);
}

YamlMark YamlNode::Mark() const {
  if (tree_ == nullptr) return YamlMark::null_mark();
  const YamlTree::Node& node = tree_->nodes_[index_];
  if (node.line == YamlTree::kNoMark) return YamlMark::null_mark();
  YamlMark mark;
  mark.pos = 0;  // not kept: nothing reads it, and a mark with pos -1 would read as null
  mark.line = static_cast<int>(node.line);
  mark.column = static_cast<int>(node.column);
  return mark;
}

const std::string& YamlNode::Scalar() const {
  if (!IsScalar()) return EmptyString();
  return tree_->strings_[tree_->nodes_[index_].a];
}

std::string_view YamlNode::Tag() const {
  if (tree_ == nullptr) return {};
  switch (tree_->nodes_[index_].tag) {
    case YamlTree::kPlain:
      return "?";
    case YamlTree::kNonSpecific:
      return "!";
    case YamlTree::kOther: {
      auto it = tree_->other_tags_.find(index_);
      return it == tree_->other_tags_.end() ? std::string_view() : std::string_view(it->second);
    }
    default:
      return {};
  }
}

size_t YamlNode::size() const {
  const YamlNodeType::value type = Type();
  if (type == YamlNodeType::Sequence) return tree_->nodes_[index_].c;
  if (type == YamlNodeType::Map) return tree_->nodes_[index_].c / 2;
  return 0;
}

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!IsMap()) return YamlNode();
  const YamlTree::Node& map = tree_->nodes_[index_];
  for (uint32_t i = map.a; i < map.a + map.c; i += 2) {
    const YamlTree::Node& key_node = tree_->nodes_[tree_->children_[i]];
    if (key_node.type == YamlNodeType::Scalar && tree_->strings_[key_node.a] == key) {
      return YamlNode(tree_, tree_->children_[i + 1]);
    }
  }
  return YamlNode();
}

YamlNode YamlNode::Item(size_t index) const {
  if (!IsSequence() || index >= size()) return YamlNode();
  return YamlNode(tree_, tree_->children_[tree_->nodes_[index_].a + index]);
}

YamlIterator YamlNode::begin() const {
  const YamlNodeType::value type = Type();
  if (type != YamlNodeType::Sequence && type != YamlNodeType::Map) return end();
  return YamlIterator(tree_, tree_->nodes_[index_].a, type == YamlNodeType::Map);
}

YamlIterator YamlNode::end() const {
  const YamlNodeType::value type = Type();
  if (type != YamlNodeType::Sequence && type != YamlNodeType::Map) {
    return YamlIterator(tree_, 0, false);
  }
  const YamlTree::Node& node = tree_->nodes_[index_];
  return YamlIterator(tree_, node.a + node.c, type == YamlNodeType::Map);
}

void YamlNode::force_insert(std::string_view key, const YamlNode& value) {
  const YamlNode name = tree_->NewScalar(key);
  tree_->Append(index_, name.index_);
  tree_->Append(index_, value.index_);
}

void YamlNode::force_insert(std::string_view key, std::string_view text) {
  force_insert(key, tree_->NewScalar(text));
}

void YamlNode::push_back(const YamlNode& value) { tree_->Append(index_, value.index_); }

void YamlNode::push_back(std::string_view text) { push_back(tree_->NewScalar(text)); }

YamlIteratorValue YamlIterator::operator*() const {
  const uint32_t node = tree_->children_[position_];
  if (!map_) return YamlIteratorValue(YamlNode(tree_, node), YamlNode(), YamlNode());
  return YamlIteratorValue(YamlNode(), YamlNode(tree_, node),
                           YamlNode(tree_, tree_->children_[position_ + 1]));
}

YamlNode YamlTree::Make(YamlNodeType::value type, uint32_t line, uint32_t column) {
  nodes_.push_back(Node{static_cast<uint8_t>(type), kNoTag, line, column, 0, 0});
  return YamlNode(this, static_cast<uint32_t>(nodes_.size() - 1));
}

void YamlTree::SetTag(uint32_t node, std::string_view tag) {
  if (tag.empty()) return;
  if (tag == "?") {
    nodes_[node].tag = kPlain;
  } else if (tag == "!") {
    nodes_[node].tag = kNonSpecific;
  } else {
    nodes_[node].tag = kOther;
    other_tags_.emplace(node, std::string(tag));
  }
}

YamlNode YamlTree::NewScalar(std::string_view text, bool quoted) {
  YamlNode node = Make(YamlNodeType::Scalar, kNoMark, 0);
  nodes_[node.index_].a = Intern(text);
  if (quoted) nodes_[node.index_].tag = kNonSpecific;
  return node;
}

YamlNode YamlTree::AddNull(const YamlMark& mark) {
  return Make(YamlNodeType::Null, static_cast<uint32_t>(mark.line),
              static_cast<uint32_t>(mark.column));
}

YamlNode YamlTree::AddScalar(const YamlMark& mark, std::string_view tag, std::string_view text) {
  YamlNode node = Make(YamlNodeType::Scalar, static_cast<uint32_t>(mark.line),
                       static_cast<uint32_t>(mark.column));
  nodes_[node.index_].a = Intern(text);
  SetTag(node.index_, tag);
  return node;
}

YamlNode YamlTree::AddCollection(const YamlMark& mark, std::string_view tag, bool map) {
  YamlNode node = Make(map ? YamlNodeType::Map : YamlNodeType::Sequence,
                       static_cast<uint32_t>(mark.line), static_cast<uint32_t>(mark.column));
  SetTag(node.index_, tag);
  return node;
}

void YamlTree::SetChildren(const YamlNode& collection, const uint32_t* children, size_t count) {
  Node& node = nodes_[collection.index_];
  node.a = static_cast<uint32_t>(children_.size());
  node.c = static_cast<uint32_t>(count);
  children_.insert(children_.end(), children, children + count);
}

void YamlTree::Append(uint32_t collection, uint32_t child) {
  const auto end = static_cast<uint32_t>(children_.size());
  Node& node = nodes_[collection];
  if (node.c == 0) {
    node.a = end;
  } else if (node.a + node.c != end) {
    for (uint32_t i = 0; i < node.c; ++i) children_.push_back(children_[node.a + i]);
    node.a = end;
  }
  children_.push_back(child);
  ++node.c;
}

uint32_t YamlTree::Intern(std::string_view text) {
  if (strings_.size() * 2 >= index_.size()) GrowIndex();
  const size_t mask = index_.size() - 1;
  for (size_t slot = std::hash<std::string_view>()(text) & mask;; slot = (slot + 1) & mask) {
    if (index_[slot] == 0) {
      strings_.emplace_back(text);
      index_[slot] = static_cast<uint32_t>(strings_.size());
      return index_[slot] - 1;
    }
    if (strings_[index_[slot] - 1] == text) return index_[slot] - 1;
  }
}

void YamlTree::GrowIndex() {
  std::vector<uint32_t> grown(index_.empty() ? 64 : index_.size() * 2, 0);
  const size_t mask = grown.size() - 1;
  for (uint32_t i = 0; i < strings_.size(); ++i) {
    size_t slot = std::hash<std::string_view>()(strings_[i]) & mask;
    while (grown[slot] != 0) slot = (slot + 1) & mask;
    grown[slot] = i + 1;
  }
  index_ = std::move(grown);
}

size_t YamlTree::bytes() const {
  size_t bytes = nodes_.capacity() * sizeof(Node) + children_.capacity() * sizeof(uint32_t) +
                 index_.capacity() * sizeof(uint32_t) + strings_.size() * sizeof(std::string);
  for (const std::string& text : strings_) {
    if (text.capacity() > sizeof(std::string) - 1) bytes += text.capacity() + 1;
  }
  return bytes;
}

}  // namespace petit::host
