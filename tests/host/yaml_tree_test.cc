// YamlTree and YamlNode (config/yaml_tree.h): the handle behaves as the loaders used YAML::Node,
// the nodes the loader makes are laid out apart from the document's, and each distinct text is
// held once. yaml_document_test checks that a parsed tree reads as yaml-cpp's would.
#include "config/yaml_tree.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/yaml_document.h"

namespace petit::host {
namespace {

internal::YamlDocument Parse(const std::string& text) {
  internal::YamlDocument document = internal::ParseYamlDocument(text, "t.yaml");
  EXPECT_TRUE(document.errors.empty() && document.problems.empty()) << text;
  return document;
}

std::vector<std::string> Items(const YamlNode& list) {
  std::vector<std::string> items;
  for (const YamlNode& item : list) items.push_back(item.Scalar());
  return items;
}

TEST(YamlTreeTest, AnUndefinedNodeIsFalseAndEmptyEverywhere) {
  const YamlNode none;
  EXPECT_FALSE(none);
  EXPECT_FALSE(none.IsDefined());
  EXPECT_EQ(none.Type(), YamlNodeType::Undefined);
  EXPECT_FALSE(none.IsNull() || none.IsScalar() || none.IsSequence() || none.IsMap());
  EXPECT_TRUE(none.Mark().is_null());
  EXPECT_EQ(none.Scalar(), "");
  EXPECT_EQ(none.size(), 0u);
  EXPECT_FALSE(none["key"]);
  EXPECT_FALSE(none[0]);
  EXPECT_TRUE(none.begin() == none.end());
}

TEST(YamlTreeTest, MappingsListsAndScalarsReadAsWritten) {
  const internal::YamlDocument document = Parse("a: 1\nb: [x, 'y', {c: ~}]\n\"q\": 2\nempty:\n");
  const YamlNode root = document.root;
  ASSERT_TRUE(root.IsMap());
  EXPECT_EQ(root.size(), 4u);
  EXPECT_EQ(root["a"].Scalar(), "1");
  EXPECT_EQ(root["q"].Scalar(), "2");
  EXPECT_EQ(root["a"].Tag(), "?");
  EXPECT_EQ(root["b"][1].Tag(), "!");
  EXPECT_EQ(root["b"].Mark().line, 1);
  EXPECT_EQ(root["b"].Mark().column, 3);
  EXPECT_TRUE(root["empty"].IsNull());
  EXPECT_FALSE(root["missing"]);
  EXPECT_FALSE(root["b"][-1]);
  EXPECT_FALSE(root["b"][3]);
  EXPECT_TRUE(root["b"][2]["c"].IsNull());
  EXPECT_EQ(root["b"][2].size(), 1u);
  std::vector<std::string> keys;
  for (auto it = root.begin(); it != root.end(); ++it) keys.push_back(it->first.Scalar());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "q", "empty"}));
  EXPECT_EQ(root["b"].begin()->Scalar(), "x");
}

TEST(YamlTreeTest, EachDistinctTextIsHeldOnce) {
  const internal::YamlDocument document =
      Parse("- depends_on: [t1, t2]\n- depends_on: [t1, t2]\n- depends_on: [t2, \"t1\"]\n");
  EXPECT_EQ(document.tree->string_count(), 3u) << "depends_on, t1 and t2";
  EXPECT_EQ(&document.root[0]["depends_on"][0].Scalar(),
            &document.root[2]["depends_on"][1].Scalar());
}

TEST(YamlTreeTest, MadeNodesShareTheDocumentsNodesAndLeaveTheDocumentAsItWas) {
  const internal::YamlDocument document = Parse("script: run.py\nargs: [a, b]\n");
  YamlTree& tree = *document.tree;
  YamlNode params = tree.NewMap();
  YamlNode args = tree.NewSequence();
  params.force_insert("command", "python3");
  args.push_back("-c");
  // `params` gets a child after `args` did: its children move, and stay in order.
  params.force_insert("args", args);
  args.push_back(document.root["script"]);
  params.force_insert("working_dir", tree.NewScalar("/tmp", /*quoted=*/true));
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params["command"].Scalar(), "python3");
  EXPECT_TRUE(params["command"].Mark().is_null());
  EXPECT_EQ(params["working_dir"].Tag(), "!");
  EXPECT_EQ(Items(params["args"]), (std::vector<std::string>{"-c", "run.py"}));
  EXPECT_TRUE(params["args"][1].is(document.root["script"]));
  EXPECT_EQ(params["args"][1].Mark().column, 8);
  EXPECT_EQ(Items(document.root["args"]), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(document.root.size(), 2u);
}

}  // namespace
}  // namespace petit::host
