// The one YAML parser path and its limits (yaml_document.h, yaml_limits.h): every limit just under
// and just over, stray flow separators wherever a value should start (yaml-cpp 0.7, the parser
// before libyaml, looped on them), alias bombs, deep nesting, long scalars and keys, many
// documents, bytes that are not UTF-8. Every hostile text is generated here.
#include "config/yaml_document.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/yaml_limits.h"

namespace petit::host::internal {
namespace {

using std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// What used to loop forever or run for 40 s must end in a moment. The largest text within the
// limits (a million nodes) took about 1.5 s of yaml-cpp's scanning on an idle core (libyaml's is
// several times faster), and four times that under the sanitizers on a loaded machine.
#if defined(__SANITIZE_ADDRESS__)
constexpr auto kQuick = std::chrono::seconds(20);
#else
constexpr auto kQuick = std::chrono::seconds(5);
#endif

std::string Repeat(const std::string& piece, size_t times) {
  std::string text;
  text.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) text += piece;
  return text;
}

YamlDocument Parse(const std::string& text) { return ParseYamlDocument(text, "f.yaml"); }

// The only error of `text`, as "line:column: message". A text that breaks a limit is refused
// without being built into a tree, which takes no time.
std::string OnlyError(const std::string& text) {
  const auto start = steady_clock::now();
  YamlDocument document = Parse(text);
  EXPECT_LT(steady_clock::now() - start, kQuick) << text.substr(0, 80);
  EXPECT_EQ(document.errors.size(), 1u) << text.substr(0, 80);
  if (document.errors.empty()) return "";
  const Diagnostic& error = document.errors.front();
  EXPECT_EQ(error.file, "f.yaml");
  return std::to_string(error.line) + ":" + std::to_string(error.column) + ": " + error.message;
}

void ExpectClean(const std::string& text) {
  YamlDocument document = Parse(text);
  EXPECT_THAT(document.errors, IsEmpty())
      << text.substr(0, 80) << ": " << document.errors.front().ToString();
}

TEST(YamlDocumentTest, AStrayFlowSeparatorIsOneErrorAtItsPlaceWhereverItStands) {
  // yaml-cpp 0.7 read each of these as an endless series of empty documents; libyaml's "did not
  // find expected node content" does not say what to do.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {",", "1:1"},
      {",,", "1:1"},
      {"  ,", "1:3"},
      {"---\n,", "2:1"},
      {"--- ,", "1:5"},
      {"\"x\" ,", "1:5"},
      {"'x' ,\n", "1:5"},
      {"[1],", "1:4"},
      {"{a: 1}, b", "1:7"},
      {"!tag ,", "1:6"},
      {"&anchor ,", "1:9"},
      {"%YAML 1.2\n--- ,", "2:5"},
      {"id: a\n--- [x]\n,", "3:1"},
      {"# comment\n\n   ,\n", "3:4"},
  };
  for (const auto& [text, where] : cases) {
    EXPECT_EQ(OnlyError(text),
              where +
                  ": ',' cannot start a YAML value here (quote it, or put it inside [...] or "
                  "{...})")
        << text;
  }
}

TEST(YamlDocumentTest, OtherMisplacedSeparatorsAndBracketsAreOneYamlError) {
  for (const std::string text : {"]", "}", "- ,", "[,", "a: ,", ": ,", "? ,", "{]", "[}", "a: }",
                                 "\n  ]", "- a\n- ]", "x: [1\n],", "[[[,", "{,}}", ",]"}) {
    YamlDocument document = Parse(text);
    ASSERT_EQ(document.errors.size(), 1u) << text;
    EXPECT_GT(document.errors.front().line, 0u) << text;
  }
  // YAML 1.1 (libyaml) reads a '...' before any document as misplaced itself.
  EXPECT_EQ(OnlyError("...\n,"), "1:1: did not find expected node content");
  // Inside a flow collection a comma is what it should be.
  ExpectClean("[a, b, {c: d, e: f}]");
  ExpectClean("a ,");  // a plain scalar may hold a comma
}

TEST(YamlDocumentTest, NestingDeeperThanTheLimitIsRefusedAtTheFirstLevelTooMany) {
  const auto nested = [](size_t depth) { return Repeat("[", depth) + Repeat("]", depth); };
  ExpectClean(nested(kMaxYamlDepth));
  EXPECT_EQ(OnlyError(nested(kMaxYamlDepth + 1)), "1:" + std::to_string(kMaxYamlDepth + 1) +
                                                      ": lists and mappings nested more than " +
                                                      std::to_string(kMaxYamlDepth) + " deep");
  // Far deeper (libyaml sets no bound of its own), in block style and mixed.
  EXPECT_THAT(OnlyError(Repeat("[", 90'000)), HasSubstr("nested more than"));
  EXPECT_THAT(OnlyError(Repeat("{a: ", 40'000)), HasSubstr("nested more than"));
  std::string block;
  for (size_t level = 0; level <= kMaxYamlDepth; ++level) {
    block += std::string(level * 2, ' ') + "k:\n";
  }
  block += std::string((kMaxYamlDepth + 1) * 2, ' ') + "v: 1\n";
  EXPECT_EQ(OnlyError(block),
            std::to_string(kMaxYamlDepth + 1) + ":" + std::to_string(kMaxYamlDepth * 2 + 1) +
                ": lists and mappings nested more than " + std::to_string(kMaxYamlDepth) + " deep");
}

// A document of `uses` aliases to a list of `items` scalars: the aliases stand for
// uses * (items + 1) nodes.
std::string AliasUses(size_t items, size_t uses) {
  return "a: &a [" + Repeat("x,", items) + "]\nb: [" + Repeat("*a,", uses) + "]\n";
}

TEST(YamlDocumentTest, AliasesAreCountedByTheNodesTheyStandFor) {
  constexpr size_t kItems = 999;  // an alias to the list stands for 1,000 nodes
  const size_t uses = kMaxYamlAliasNodes / (kItems + 1);
  ExpectClean(AliasUses(kItems, uses));
  const size_t column = 5 + 3 * uses;  // "b: [" then "*a," per use
  EXPECT_EQ(OnlyError(AliasUses(kItems, uses + 1)),
            "2:" + std::to_string(column) + ": aliases expand to more than " +
                std::to_string(kMaxYamlAliasNodes) + " nodes (this '*a' stands for 1000)");
}

// A document of `uses` aliases to a mapping holding one scalar of `bytes` bytes.
std::string AliasBytes(size_t bytes, size_t uses) {
  return "a: &a {k: " + std::string(bytes, 'x') + "}\nb: [" + Repeat("*a,", uses) + "]\n";
}

TEST(YamlDocumentTest, AliasesAreCountedByTheBytesTheyStandFor) {
  constexpr size_t kBytes = 64 * 1024 - 1;  // with the key 'k', an alias stands for 64 KiB
  const size_t uses = kMaxYamlAliasBytes / (kBytes + 1);
  ExpectClean(AliasBytes(kBytes, uses));
  EXPECT_EQ(OnlyError(AliasBytes(kBytes, uses + 1)),
            "2:" + std::to_string(5 + 3 * uses) + ": aliases expand to more than " +
                std::to_string(kMaxYamlAliasBytes) + " bytes of text (this '*a' stands for 65536)");
  // One long scalar named by an anchor and used by every task.
  std::string tasks = "config: {x: &t " + std::string(60'000, 'x') + "}\ntasks:\n";
  for (int i = 0; i < 4000; ++i) tasks += "  - {id: t" + std::to_string(i) + ", command: *t}\n";
  EXPECT_THAT(OnlyError(tasks), HasSubstr("bytes of text (this '*t' stands for 60000)"));
}

TEST(YamlDocumentTest, NestedAliasBombsAreRefusedAtOnce) {
  // The "billion laughs": each level is ten aliases to the one before.
  for (size_t fan : {2, 10, 100}) {
    std::string text = "l0: &l0 [" + Repeat("lol,", fan) + "]\n";
    for (size_t level = 1; level < 40; ++level) {
      const std::string previous = "*l" + std::to_string(level - 1) + ",";
      text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" +
              Repeat(previous, fan) + "]\n";
    }
    EXPECT_THAT(OnlyError(text), HasSubstr("aliases expand to more than")) << fan;
  }
  // Mappings as well as lists, anchors on scalars, and an alias as a key.
  std::string maps = "s: &s lol\nm0: &m0 {a: *s, b: *s, c: *s}\n";
  for (size_t level = 1; level < 30; ++level) {
    const std::string previous = "*m" + std::to_string(level - 1);
    maps += "m" + std::to_string(level) + ": &m" + std::to_string(level) + " {a: " + previous +
            ", b: " + previous + ", c: " + previous + ", " + previous + " : x}\n";
  }
  EXPECT_THAT(OnlyError(maps), HasSubstr("aliases expand to more than"));
}

TEST(YamlDocumentTest, AnAliasInsideTheNodeItNamesIsRefused) {
  EXPECT_EQ(OnlyError("a: &loop [x, *loop]"),
            "1:14: alias '*loop' is used inside the node it names, which would contain itself");
  EXPECT_THAT(OnlyError("&m {k: {j: *m}}"), HasSubstr("alias '*m' is used inside"));
  const std::string name(1 << 20, 'n');
  EXPECT_EQ(OnlyError("&" + name + " [*" + name + "]"),
            "1:" + std::to_string(name.size() + 4) + ": alias '*" + name.substr(0, 64) +
                "...' is used inside the node it names, which would contain itself");
  // A redefined anchor names its newest node, which for a node being defined is that node.
  EXPECT_THAT(OnlyError("a: &x [1]\nb: &x [*x]\n"), HasSubstr("alias '*x' is used inside"));
  ExpectClean("a: &x [1]\nb: [*x, *x]\nc: &x [2]\nd: *x\n");
}

TEST(YamlDocumentTest, DocumentsPastTheLimitAreNotRead) {
  const std::string document = "---\na: 1\n";
  EXPECT_EQ(OnlyError(Repeat(document, kMaxYamlDocuments)),
            "4:1: a file holds one YAML document, but this one has " +
                std::to_string(kMaxYamlDocuments) + " YAML documents (separated by ---)");
  EXPECT_EQ(OnlyError(Repeat(document, kMaxYamlDocuments + 1)),
            std::to_string(2 * kMaxYamlDocuments + 1) + ":1: more than " +
                std::to_string(kMaxYamlDocuments) +
                " YAML documents (separated by ---); a file holds one");
  EXPECT_THAT(OnlyError(Repeat("---\n", 1'000'000)), HasSubstr("more than"));
  ExpectClean("---\na: 1\n...\n");
}

TEST(YamlDocumentTest, ScalarsAndKeysLongerThanTheirLimitsAreRefused) {
  ExpectClean("v: " + std::string(kMaxYamlScalarBytes, 'x'));
  EXPECT_EQ(OnlyError("v: " + std::string(kMaxYamlScalarBytes + 1, 'x')),
            "1:4: a value of " + std::to_string(kMaxYamlScalarBytes + 1) + " bytes; the most is " +
                std::to_string(kMaxYamlScalarBytes));
  EXPECT_THAT(OnlyError("- \"" + std::string(1 << 20, 'x') + "\""), HasSubstr("a value of"));
  EXPECT_THAT(OnlyError("s: |\n" + Repeat("  line\n", 20'000)), HasSubstr("a value of"));

  // libyaml itself refuses an implicit key over 1,024 bytes (YAML 1.1's bound on a simple key);
  // an explicit one (?) is ours.
  ExpectClean(std::string(kMaxYamlKeyBytes, 'k') + ": 1");
  ExpectClean("? " + std::string(kMaxYamlKeyBytes, 'k') + "\n: 1");
  const std::string huge(kMaxYamlKeyBytes + 1, 'k');
  EXPECT_EQ(OnlyError("? " + huge + "\n: 1"),
            "1:3: a key of " + std::to_string(kMaxYamlKeyBytes + 1) + " bytes; the most is " +
                std::to_string(kMaxYamlKeyBytes));
  EXPECT_THAT(OnlyError(huge + ": 1"), Not(IsEmpty()));
  // A key anywhere: nested, in flow style, quoted, after other entries.
  EXPECT_EQ(OnlyError("a:\n  b: 1\n  ? " + huge + "\n  : 2\n"),
            "3:5: a key of " + std::to_string(huge.size()) + " bytes; the most is 1024");
  EXPECT_THAT(OnlyError("[{a: 1, ? '" + std::string(1 << 20, 'k') + "' : 2}]"),
              HasSubstr("a key of"));
  // As a value, the same text is within the scalar limit.
  ExpectClean("k: " + huge);
}

TEST(YamlDocumentTest, MappingsAndListsPastTheirLimitsAreRefusedAtTheFirstEntryTooMany) {
  const auto map = [](size_t entries) {
    std::string text;
    for (size_t i = 0; i < entries; ++i) text += "k" + std::to_string(i) + ": 0\n";
    return text;
  };
  ExpectClean(map(kMaxYamlMapEntries));
  EXPECT_EQ(OnlyError(map(kMaxYamlMapEntries + 1)),
            std::to_string(kMaxYamlMapEntries + 1) + ":1: a mapping of more than " +
                std::to_string(kMaxYamlMapEntries) + " entries");
  const auto list = [](size_t items) { return "x: [" + Repeat("1,", items) + "]"; };
  ExpectClean(list(kMaxYamlListItems));
  EXPECT_EQ(OnlyError(list(kMaxYamlListItems + 1)),
            "1:" + std::to_string(2 * kMaxYamlListItems + 5) + ": a list of more than " +
                std::to_string(kMaxYamlListItems) + " items");
  EXPECT_THAT(OnlyError(Repeat("- \n", kMaxYamlListItems + 1)), HasSubstr("a list of more"));
}

// One list of lists holding `nodes` nodes in all, no list longer than the list limit.
std::string Nodes(size_t nodes) {
  constexpr size_t per_list = 50'000;
  const size_t lists = (nodes + per_list - 1) / per_list;
  size_t items = nodes - 1 - lists;
  std::string text;
  for (size_t i = 0; i < lists; ++i) {
    const size_t here = std::min(items, per_list - 1);
    text += "- [" + Repeat("1,", here) + "]\n";
    items -= here;
  }
  return text;
}

TEST(YamlDocumentTest, ADocumentOfMoreNodesThanTheLimitIsRefused) {
  ExpectClean(Nodes(kMaxYamlNodes));
  EXPECT_THAT(OnlyError(Nodes(kMaxYamlNodes + 1)),
              HasSubstr("more than " + std::to_string(kMaxYamlNodes) + " YAML nodes"));
}

// A [ or { could start a mapping key, which the parser only knows once it has read on: yaml-cpp
// held every token to the collection's end (a megabyte of '[' was 230 MB before the first
// event), which Petit bounded by counting flow indicators. libyaml decides within one line and
// 1,024 characters (YAML 1.1's simple key), so it holds no more than that ahead of its last event:
// what could not be read before is refused at the first level too deep or the first item too many,
// and a long flow collection, a JSON-style job file of any size within the limits, is read as it
// goes. `indicators` flow indicators in few nodes: quoted commas in a top-level [...].
std::string HeldIndicators(size_t indicators) {
  const std::string item = "\",,,,,,,,,\",";  // ten indicators
  const size_t items = (indicators - 2) / 10;
  const size_t rest = indicators - 2 - items * 10;
  return "[" + Repeat(item, items) + "\"" + std::string(rest, ',') + "\"]\n# " +
         std::string(16 * 1024, '-') + "\n";
}

TEST(YamlDocumentTest, WhatTheParserMustHoldBeforeItCanReportANodeIsBounded) {
  // The most yaml-cpp could hold (kMaxYamlLookahead was 100,000), and ten times that.
  ExpectClean(HeldIndicators(100'000));
  ExpectClean(HeldIndicators(1'000'000));
  const std::string deep =
      "lists and mappings nested more than " + std::to_string(kMaxYamlDepth) + " deep";
  const std::string first_too_deep = std::to_string(kMaxYamlDepth + 1);
  // Unclosed, nested, as the value of a block key, a flow mapping.
  EXPECT_EQ(OnlyError(Repeat("[", 1'000'000)), "1:" + first_too_deep + ": " + deep);
  EXPECT_EQ(OnlyError(Repeat("{", 1'000'000)), "1:" + first_too_deep + ": " + deep);
  EXPECT_EQ(OnlyError(Repeat("[\n", 500'000)), first_too_deep + ":1: " + deep);
  EXPECT_EQ(OnlyError(Repeat("{a: ", 250'000)),
            "1:" + std::to_string(kMaxYamlDepth * 4 + 1) + ": " + deep);
  EXPECT_EQ(OnlyError("id: a\nx: [[" + Repeat("1,", 300'000) + "]]"),
            "2:" + std::to_string(5 + 2 * kMaxYamlListItems + 1) + ": a list of more than " +
                std::to_string(kMaxYamlListItems) + " items");
  // A long flow list as a block value is read as it goes, and so is a JSON-style job file of
  // a thousand tasks, and one of ten thousand (1.1 MB, past what yaml-cpp could hold).
  EXPECT_THAT(OnlyError("x: [" + Repeat("1,", 300'000) + "]"), HasSubstr("a list of more than"));
  for (const int tasks : {1000, 10'000}) {
    std::string json = "{\"id\": \"x\", \"tasks\": [";
    for (int i = 0; i < tasks; ++i) {
      json += std::string(i == 0 ? "" : ",") + "{\"id\": \"t" + std::to_string(i) +
              "\", \"type\": \"command\", \"command\": \"x\", \"depends_on\": [\"a\"]}";
    }
    ExpectClean(json + "]}");
  }
}

TEST(YamlDocumentTest, AFileLongerThanTheLimitIsRefusedAtTheByteThatCrossesIt) {
  // Comments: the longest file that is still read, and one byte more.
  const std::string line = "# " + std::string(1021, '-') + "\n";  // 1,024 bytes
  std::string text = Repeat(line, kMaxYamlFileBytes / line.size());
  ASSERT_EQ(text.size(), kMaxYamlFileBytes);
  ExpectClean(text);
  text += "a";
  EXPECT_EQ(OnlyError(text),
            std::to_string(kMaxYamlFileBytes / line.size() + 1) + ":1: the file is longer than " +
                std::to_string(kMaxYamlFileBytes) + " bytes, the most petit reads");
}

TEST(YamlDocumentTest, ReadingAFileStopsPastTheLimit) {
  std::string pattern = (std::filesystem::temp_directory_path() / "petit-yaml-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path file = std::filesystem::path(pattern) / "big.yaml";
  std::ofstream(file) << "a: 1\n" << std::string(3 * kMaxYamlFileBytes, '#');
  YamlDocument document = ReadYamlDocument(file.string());
  ASSERT_EQ(document.errors.size(), 1u);
  EXPECT_EQ(document.errors.front().line, 2u);
  EXPECT_THAT(document.errors.front().ToString(),
              HasSubstr(file.string() + ":2:" + std::to_string(kMaxYamlFileBytes - 5 + 1) +
                        ": the file is longer than"));
  EXPECT_FALSE(document.unreadable);

  YamlDocument missing = ReadYamlDocument((std::filesystem::path(pattern) / "none.yaml").string());
  EXPECT_TRUE(missing.unreadable);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors.front().message, "cannot read the file: No such file or directory");
  std::filesystem::remove_all(pattern);
}

TEST(YamlDocumentTest, ATreeIsBuiltOnlyForTextWithinTheLimits) {
  YamlDocument good = Parse("id: a\ntasks: [{id: t}]\nshared: &s {x: 1}\nagain: *s\n");
  ASSERT_THAT(good.errors, IsEmpty());
  EXPECT_EQ(good.root["tasks"][0]["id"].Scalar(), "t");
  EXPECT_EQ(good.root["again"]["x"].Scalar(), "1");
  EXPECT_EQ(good.root["tasks"].Mark().line, 1);
  EXPECT_TRUE(Parse("").root.IsNull());
  EXPECT_TRUE(Parse("# nothing\n").root.IsNull());
  EXPECT_FALSE(Parse(",").root.IsDefined() && Parse(",").root.IsMap());
}

// Where libyaml (YAML 1.1, the parser the original Petit's serde_yaml is a port of) reads
// otherwise than yaml-cpp did, a user sees one error at its place, in words that say what to fix.
TEST(YamlDocumentTest, WhatLibyamlRefusesIsOneErrorAtItsPlace) {
  // Bytes that are not UTF-8 (a file saved as Latin-1), and control characters.
  EXPECT_EQ(OnlyError("id: j\nname: caf\xE9\n"),
            "2:10: the file is not UTF-8 text: byte 0xE9 (incomplete UTF-8 octet sequence); save "
            "it as UTF-8");
  EXPECT_EQ(OnlyError("id: j\nname: \xE9t\xE9\n"),
            "2:7: the file is not UTF-8 text: byte 0xE9 (invalid trailing UTF-8 octet); save it "
            "as UTF-8");
  EXPECT_EQ(OnlyError("id: j\nname: \xFF\n"),
            "2:7: the file is not UTF-8 text: byte 0xFF (invalid leading UTF-8 octet); save it "
            "as UTF-8");
  EXPECT_EQ(OnlyError("command: \"a\x01\"\n"),
            "1:12: control characters are not allowed (U+0001); write it as an escape in a "
            "double-quoted string");
  // An alias before (or without) its anchor.
  EXPECT_EQ(OnlyError("a: *x\nb: &x 1\n"),
            "1:4: alias '*x' names no anchor: an anchor (&x) must come before its aliases, in the "
            "same document");
  EXPECT_THAT(OnlyError("a: &x 1\n---\nb: *x\n"), HasSubstr("3:4: alias '*x' names no anchor"));
  // At the end of a text without a final line break: the end of the text, not a line after it.
  EXPECT_EQ(OnlyError("{a: 1"),
            "1:6: did not find expected ',' or '}' (while parsing a flow mapping that starts at "
            "line 1, column 1)");
  EXPECT_EQ(OnlyError("a:\n  - b\n  c: d\n"),
            "3:3: did not find expected '-' indicator (while parsing a block collection that "
            "starts at line 2, column 3)");
  // Text after the top-level value has ended (yaml-cpp read a second document without '---').
  EXPECT_EQ(OnlyError(" id: j\nname: n\n"),
            "2:1: this line is outside the file's top-level value, which ended before it (that "
            "value starts at line 1, column 2: indent its first line as this one)");
  EXPECT_EQ(OnlyError("# a job\n  - id: t\nid: j\n"),
            "3:1: this line is outside the file's top-level value, which ended before it (that "
            "value starts at line 2, column 3: indent its first line as this one)");
  EXPECT_EQ(OnlyError("[a]\nb: 1\n"),
            "2:1: this line is outside the file's top-level value, which ended before it (a file "
            "holds one YAML document)");
  // A value with no key after a complete entry (yaml-cpp read a null key).
  EXPECT_EQ(OnlyError("a: 1\n: novalue\n"),
            "2:1: did not find expected key (while parsing a block mapping that starts at line 1, "
            "column 1)");
  // A tab after ': ' separates, as a space does.
  YamlDocument tab = Parse("a:\tb\n");
  ASSERT_THAT(tab.errors, IsEmpty());
  EXPECT_EQ(tab.root["a"].Scalar(), "b");
}

TEST(YamlDocumentTest, AnEmptyValueIsRightAfterItsIndicator) {
  YamlDocument document = Parse("a:\nb: 1\nc:\n  - \n  -\n? d\n:\n");
  ASSERT_THAT(document.errors, IsEmpty());
  const auto where = [](const YamlNode& node) {
    return std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
  };
  EXPECT_TRUE(document.root["a"].IsNull());
  EXPECT_EQ(where(document.root["a"]), "1:3");
  EXPECT_EQ(where(document.root["c"][0]), "4:4");
  EXPECT_EQ(where(document.root["c"][1]), "5:4");
  EXPECT_TRUE(document.root["d"].IsNull());
  EXPECT_EQ(where(document.root["d"]), "7:2");
}

// The byte offset of a 0-based line and column in an ASCII text.
size_t Offset(const std::string& text, int line, int column) {
  size_t at = 0;
  for (int i = 0; i < line; ++i) at = text.find('\n', at) + 1;
  return at + static_cast<size_t>(column);
}

// The tree is built from libyaml's checked events; it must read as the tree yaml-cpp (the parser
// before libyaml) built of the same text, so that no loader sees another file: types, tags,
// scalars, lines and columns, sizes and order, and an alias being the very node of its anchor.
// (A YamlTree keeps no flow/block style and no byte offset: nothing reads them.) One difference:
// an empty value (`key:` and nothing) is placed right after its ':' (or '-', '?'), where libyaml
// puts it, not at whatever yaml-cpp read next, often the next line's key.
void ExpectSameTree(const YamlNode& built, const YAML::Node& loaded, const std::string& path,
                    const std::string& text) {
  // Both enumerate Undefined, Null, Scalar, Sequence, Map in that order.
  ASSERT_EQ(static_cast<int>(built.Type()), static_cast<int>(loaded.Type())) << path;
  EXPECT_EQ(built.Tag(), loaded.Tag()) << path;
  const size_t at = Offset(text, built.Mark().line, built.Mark().column);
  const bool empty = built.IsNull() && !built.Mark().is_null() &&
                     text.find_first_of("~nN", at) != at && at > 0 &&
                     std::string_view(":-?").find(text[at - 1]) != std::string_view::npos;
  if (!empty) {
    EXPECT_EQ(built.Mark().line, loaded.Mark().line) << path;
    EXPECT_EQ(built.Mark().column, loaded.Mark().column) << path;
  }
  EXPECT_EQ(built.Mark().is_null(), loaded.Mark().is_null()) << path;
  if (built.IsScalar()) {
    EXPECT_EQ(built.Scalar(), loaded.Scalar()) << path;
  }
  ASSERT_EQ(built.size(), loaded.size()) << path;
  if (built.IsSequence()) {
    for (size_t i = 0; i < built.size(); ++i) {
      ExpectSameTree(built[i], loaded[i], path + "[" + std::to_string(i) + "]", text);
    }
  }
  if (built.IsMap()) {
    auto b = built.begin();
    auto l = loaded.begin();
    for (; b != built.end(); ++b, ++l) {
      ExpectSameTree(b->first, l->first, path + ".key", text);
      ExpectSameTree(b->second, l->second,
                     path + "." + (b->first.IsScalar() ? b->first.Scalar() : "?"), text);
    }
  }
}

TEST(YamlDocumentTest, TheTreeIsTheOneYamlCppBuilt) {
  std::vector<std::string> texts = {
      "",
      "# only a comment\n",
      "plain",
      "--- !tag 'quoted'\n...\n",
      "id: a\ntasks: [{id: t, type: command}, {id: u, depends_on: [t]}]\n",
      "a: &x {k: [1, 2, {z: ~}]}\nb: *x\nc: &s scalar\nd: [*s, *s, *x]\n",
      "? [complex, key]\n: value\n? k2\n: \n",
      "- - nested\n  - block\n- {flow: map, with: [list]}\n- !!str 12\n- \"dq\\n\"\n- |\n  lit\n  "
      "eral\n",
      "key: >\n  folded\n  text\nempty:\nnull: null\ntilde: ~\n[a, b]: flowkey\n",
      "%YAML 1.2\n---\nx: 1\n",
      "[a: 1, b, c: [d]]",
  };
  for (const std::string& dir :
       {std::string(PETIT_SOURCE_DIR) + "/examples",
        std::string(PETIT_SOURCE_DIR) + "/tests/fixtures/jobs/original_format"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".yaml") continue;
      std::ifstream in(entry.path());
      texts.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  for (const std::string& text : texts) {
    YamlDocument document = Parse(text);
    ASSERT_THAT(document.errors, IsEmpty()) << text;
    ExpectSameTree(document.root, YAML::Load(text), text.substr(0, 60), text);
  }
  YamlDocument shared = Parse("a: &x {k: v}\nb: *x\n");
  EXPECT_TRUE(shared.root["a"].is(shared.root["b"]));
}

// A key written twice in one mapping, wherever the mapping is and however the key is written,
// is one problem at the second key naming both lines; the tree is still built.
TEST(YamlDocumentTest, AKeyWrittenTwiceInOneMappingIsAProblemNamingBothLines) {
  struct Case {
    std::string text;
    std::string where;  // "line:column key: message"
  };
  const std::string kLost =
      "; a mapping holds each key once and one of the two values would be lost";
  const std::vector<Case> cases = {
      {"a: 1\nb: 2\na: 3\n",
       "3:1 a: duplicate key 'a' in the top-level mapping: first at line 1" + kLost},
      {"tasks:\n  - id: t\n    retry:\n      max_attempts: 2\n      delay: 1\n"
       "      max_attempts: 5\n",
       "6:7 tasks.t.retry.max_attempts: duplicate key 'max_attempts' in tasks.t.retry: first at "
       "line 4" +
           kLost},
      // The id comes after: the task is named by its place.
      {"tasks:\n  - retry: {max_attempts: 2, max_attempts: 5}\n    id: t\n",
       "2:30 tasks[0].retry.max_attempts: duplicate key 'max_attempts' in tasks[0].retry: first "
       "at line 2" +
           kLost},
      {"tasks: []\nid: j\ntasks: []\n",
       "3:1 tasks: duplicate key 'tasks' in the top-level mapping: first at line 1" + kLost},
      {"tasks:\n  - id: t\n    params:\n      environment:\n        A: x\n        A: y\n",
       "6:9 tasks.t.params.environment.A: duplicate key 'A' in tasks.t.params.environment: first "
       "at line 5" +
           kLost},
      {"config:\n  deep:\n    - - k: 1\n        k: 2\n",
       "4:9 config.deep[0][0].k: duplicate key 'k' in config.deep[0][0]: first at line 3" + kLost},
      // Equal once YAML has read them: quoting, escapes, a key named through an alias.
      {"\"a\": 1\na: 2\n",
       "2:1 a: duplicate key 'a' in the top-level mapping: first at line 1" + kLost},
      {"'a': 1\n\"\\x61\": 2\n",
       "2:1 a: duplicate key 'a' in the top-level mapping: first at line 1" + kLost},
      {"1: x\n\"1\": y\n",
       "2:1 1: duplicate key '1' in the top-level mapping: first at line 1" + kLost},
      {"&k a: 1\n*k : 2\n",
       "2:1 a: duplicate key 'a' in the top-level mapping: first at line 1" + kLost},
      {"? a\n: 1\n? a\n: 2\n",
       "3:3 a: duplicate key 'a' in the top-level mapping: first at line 1" + kLost},
      {"~: 1\n~: 2\n",
       "2:1 ~: duplicate key null (~) in the top-level mapping: first at line 1" + kLost},
      {"x: 1\n" + Repeat("k", kMaxYamlKeyBytes) + ": 1\n" + Repeat("k", kMaxYamlKeyBytes) + ": 2\n",
       "3:1 " + Repeat("k", kMaxYamlKeyBytes).substr(0, 64) + "...: duplicate key '" +
           Repeat("k", 64) + "...' in the top-level mapping: first at line 2" + kLost},
  };
  for (const Case& c : cases) {
    YamlDocument document = Parse(c.text);
    EXPECT_THAT(document.errors, IsEmpty()) << c.text;
    ASSERT_EQ(document.problems.size(), 1u) << c.text;
    const Diagnostic& problem = document.problems.front();
    EXPECT_EQ(problem.file, "f.yaml");
    EXPECT_EQ(std::to_string(problem.line) + ":" + std::to_string(problem.column) + " " +
                  problem.key + ": " + problem.message,
              c.where)
        << c.text;
    EXPECT_TRUE(document.root.IsMap()) << c.text;
  }
}

TEST(YamlDocumentTest, EveryRepeatOfAKeyIsReportedAndEqualKeysOfOtherMappingsAreNot) {
  YamlDocument document = Parse("a: 1\na: 2\nb: {a: 1}\na: 3\n");
  ASSERT_EQ(document.problems.size(), 2u);
  EXPECT_EQ(document.problems[0].line, 2u);
  EXPECT_EQ(document.problems[1].line, 4u);
  EXPECT_THAT(document.problems[1].message, HasSubstr("first at line 1"));

  for (const std::string text :
       {"- a: 1\n- a: 2\n", "x: {a: 1}\ny: {a: 1}\n", "a: {a: {a: 1}}\n", "a: 1\nA: 2\n'a ': 3\n",
        "[a, a]: 1\n[a, a]: 2\n", "&k a: {b: 1}\nc: *k\n"}) {
    YamlDocument clean = Parse(text);
    EXPECT_THAT(clean.errors, IsEmpty()) << text;
    EXPECT_THAT(clean.problems, IsEmpty()) << text << ": " << clean.problems.front().ToString();
  }
}

TEST(YamlDocumentTest, AMappingAtTheEntryLimitOfRepeatedKeysIsQuickAndFullyReported) {
  std::string half;
  for (size_t i = 0; i < kMaxYamlMapEntries / 2; ++i) half += "key_" + std::to_string(i) + ": 1\n";
  const auto start = steady_clock::now();
  YamlDocument document = Parse(half + half);
  EXPECT_LT(steady_clock::now() - start, kQuick);
  EXPECT_THAT(document.errors, IsEmpty());
  ASSERT_EQ(document.problems.size(), kMaxYamlMapEntries / 2);
  EXPECT_EQ(document.problems.back().line, kMaxYamlMapEntries);
  EXPECT_THAT(document.problems.back().message,
              HasSubstr("first at line " + std::to_string(kMaxYamlMapEntries / 2)));
}

}  // namespace
}  // namespace petit::host::internal
