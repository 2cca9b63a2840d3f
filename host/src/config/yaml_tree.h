// YamlTree and YamlNode: the tree of one YAML document, as compact as Petit can hold it.
//
// yaml-cpp's own tree costs about 700 bytes a node (a shared node, its data, its strings, a map
// as a vector of pairs), so the bench's 780 KB job of 90,000 dependency edges took 68 MiB to
// load. A YamlTree keeps every node in one array (20 bytes each: kind, tag, line, column and
// either a scalar or its children), the children of all collections in a second (4 bytes each;
// a collection's children are one range of it), and each distinct scalar text once: a task id named
// in 90 `depends_on` lists is one string. YamlDocument (yaml_document.h) builds one from libyaml's
// events as it checks them.
//
// YamlNode is a handle on one node, with the subset of yaml-cpp's YAML::Node interface the loaders
// used (Petit read YAML with yaml-cpp before libyaml), under the same names and meanings: IsDefined
// (false for a key a mapping does not have), IsNull, IsScalar, IsSequence, IsMap, Type, Mark,
// Scalar, Tag, size, operator[] by key or index, and iteration (a mapping's items have `first` and
// `second`; a list's items are the nodes). An alias is the node its anchor names, as in yaml-cpp,
// so its Mark is the anchor's. Nodes made by the loader (NewMap, NewSequence, NewScalar,
// force_insert, push_back) have no Mark.
//
// Ownership: a YamlNode borrows its tree, which must outlive it; a default-constructed node is
// undefined and needs none. Nodes only grow a tree; handles stay valid as it grows (they are
// indices). Threads: a tree and its nodes are used by one thread at a time.
#ifndef PETIT_HOST_CONFIG_YAML_TREE_H_
#define PETIT_HOST_CONFIG_YAML_TREE_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace petit::host {

// A place in a YAML text: 0-based line and column (YamlErrors reports them 1-based), and the
// offset; a null mark is no place (a node the loader made, or one that does not exist).
struct YamlMark {
  int pos = 0;
  int line = 0;
  int column = 0;

  static YamlMark null_mark() { return YamlMark{-1, -1, -1}; }
  bool is_null() const { return pos == -1 && line == -1 && column == -1; }
};

// What a node is; Undefined for a handle on no node (a key a mapping does not have).
struct YamlNodeType {
  enum value : uint8_t { Undefined, Null, Scalar, Sequence, Map };
};

class YamlTree;
class YamlIterator;

class YamlNode {
 public:
  YamlNode() = default;  // undefined

  bool IsDefined() const { return tree_ != nullptr; }
  explicit operator bool() const { return IsDefined(); }
  YamlNodeType::value Type() const;
  bool IsNull() const { return Type() == YamlNodeType::Null; }
  bool IsScalar() const { return Type() == YamlNodeType::Scalar; }
  bool IsSequence() const { return Type() == YamlNodeType::Sequence; }
  bool IsMap() const { return Type() == YamlNodeType::Map; }

  // Where the node is written (0-based line and column); null for an undefined or made node.
  YamlMark Mark() const;
  // The text of a scalar, quoting and escapes resolved; empty for any other node.
  const std::string& Scalar() const;
  // "?" for a plain node, "!" for a quoted scalar (or an explicit non-specific tag), else the tag;
  // empty for a null, an undefined node and one the loader made.
  std::string_view Tag() const;
  // Items of a list, entries of a mapping; 0 for anything else.
  size_t size() const;

  // The value of the first key whose text is `key` (undefined when none, or not a mapping).
  YamlNode operator[](std::string_view key) const;
  YamlNode operator[](const char* key) const { return (*this)[std::string_view(key)]; }
  YamlNode operator[](const std::string& key) const { return (*this)[std::string_view(key)]; }
  // Item `index` of a list (undefined when out of range, or not a list).
  template <std::integral Index>
  YamlNode operator[](Index index) const {
    if constexpr (std::is_signed_v<Index>) {
      if (index < 0) return YamlNode();
    }
    return Item(static_cast<size_t>(index));
  }

  YamlIterator begin() const;
  YamlIterator end() const;

  // Building, on a node of a mapping or list made by the tree's New* (or any collection): adds
  // `value` (a node of the same tree, shared, not copied) under `key`, or at the end.
  void force_insert(std::string_view key, const YamlNode& value);
  void force_insert(std::string_view key, std::string_view text);
  void push_back(const YamlNode& value);
  void push_back(std::string_view text);

  // The tree the node is in; null for an undefined node.
  YamlTree* tree() const { return tree_; }
  // Whether both handles name the same node of the same tree (an alias is its anchor's node).
  bool is(const YamlNode& other) const { return tree_ == other.tree_ && index_ == other.index_; }

 private:
  friend class YamlTree;
  friend class YamlIterator;
  YamlNode(YamlTree* tree, uint32_t index) : tree_(tree), index_(index) {}
  YamlNode Item(size_t index) const;

  YamlTree* tree_ = nullptr;
  uint32_t index_ = 0;
};

// What iterating yields: a list's item (the node itself), or a mapping's entry (`first` the key,
// `second` the value), as yaml-cpp's iterator_value.
struct YamlIteratorValue : YamlNode {
  YamlIteratorValue() = default;
  YamlIteratorValue(const YamlNode& item, const YamlNode& key, const YamlNode& value)
      : YamlNode(item), first(key), second(value) {}
  YamlNode first;
  YamlNode second;
};

class YamlIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = YamlIteratorValue;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = YamlIteratorValue;

  YamlIterator() = default;

  YamlIteratorValue operator*() const;
  struct Arrow {
    YamlIteratorValue value;
    const YamlIteratorValue* operator->() const { return &value; }
  };
  Arrow operator->() const { return Arrow{**this}; }
  YamlIterator& operator++() {
    position_ += map_ ? 2 : 1;
    return *this;
  }
  YamlIterator operator++(int) {
    YamlIterator before = *this;
    ++*this;
    return before;
  }
  friend bool operator==(const YamlIterator& a, const YamlIterator& b) {
    return a.position_ == b.position_;
  }

 private:
  friend class YamlNode;
  YamlIterator(YamlTree* tree, uint32_t position, bool map)
      : tree_(tree), position_(position), map_(map) {}

  YamlTree* tree_ = nullptr;
  uint32_t position_ = 0;  // in the tree's children
  bool map_ = false;
};

class YamlTree {
 public:
  YamlTree() = default;
  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;

  // Nodes made by the loader, with no position.
  YamlNode NewMap() { return Make(YamlNodeType::Map, kNoMark, 0); }
  YamlNode NewSequence() { return Make(YamlNodeType::Sequence, kNoMark, 0); }
  YamlNode NewNull() { return Make(YamlNodeType::Null, kNoMark, 0); }
  // A scalar with `text`; `quoted` makes it a string whatever it reads as (Tag() "!").
  YamlNode NewScalar(std::string_view text, bool quoted = false);

  // Building from a parser's events: a node as it starts, then a collection's children (node
  // indices, keys and values alternating for a mapping) once it ends.
  YamlNode AddNull(const YamlMark& mark);
  YamlNode AddScalar(const YamlMark& mark, std::string_view tag, std::string_view text);
  YamlNode AddCollection(const YamlMark& mark, std::string_view tag, bool map);
  void SetChildren(const YamlNode& collection, const uint32_t* children, size_t count);
  static uint32_t IndexOf(const YamlNode& node) { return node.index_; }

  // Nodes and distinct scalars held, and the bytes of all: what a loaded document costs.
  size_t node_count() const { return nodes_.size(); }
  size_t string_count() const { return strings_.size(); }
  size_t bytes() const;

 private:
  friend class YamlNode;
  friend class YamlIterator;

  static constexpr uint32_t kNoMark = UINT32_MAX;
  enum Tag : uint8_t { kNoTag, kPlain, kNonSpecific, kOther };

  // 20 bytes. A collection's children are one range of children_, in order.
  struct Node {
    uint8_t type;   // YamlNodeType::value
    uint8_t tag;    // Tag
    uint32_t line;  // kNoMark for a made node
    uint32_t column;
    uint32_t a;  // scalar: string index; collection: first child in children_
    uint32_t c;  // collection: children (a mapping has two per key)
  };

  YamlNode Make(YamlNodeType::value type, uint32_t line, uint32_t column);
  void SetTag(uint32_t node, std::string_view tag);
  // Adds `child` at the end of a collection, moving its children to the end of children_ first
  // when others were added after them (only nodes the loader makes, a few children each).
  void Append(uint32_t collection, uint32_t child);
  uint32_t Intern(std::string_view text);
  void GrowIndex();

  std::vector<Node> nodes_;
  std::vector<uint32_t> children_;
  std::deque<std::string> strings_;  // a deque: Scalar() references stay valid as it grows
  std::vector<uint32_t> index_;      // open addressing over strings_, string index + 1; 0 = free
  std::unordered_map<uint32_t, std::string> other_tags_;  // by node; tags other than ? and !
};

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_YAML_TREE_H_
