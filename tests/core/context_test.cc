#include "petit/core/context.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST(OutputKeyTest, AcceptsPlainKeys) {
  EXPECT_TRUE(ValidateOutputKey("rows").ok());
  EXPECT_TRUE(ValidateOutputKey("row_count-2 with spaces").ok());
}

TEST(OutputKeyTest, RejectsEmptyDottedAndControlCharacterKeys) {
  EXPECT_EQ(ValidateOutputKey("").code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ValidateOutputKey("a.b").message(), HasSubstr("must not contain '.'"));
  EXPECT_THAT(ValidateOutputKey("a\nb").message(), HasSubstr("control character at position 2"));
  EXPECT_FALSE(ValidateOutputKey(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateOutputKey("a\x7f").ok());
}

TEST(NamespacedKeyTest, JoinsTaskAndKeyWithADot) {
  EXPECT_EQ(NamespacedKey(TaskId("extract"), "rows"), "extract.rows");
}

TEST(RunContextTest, StartsEmptyWithEmptyConfig) {
  const RunContext context;
  EXPECT_TRUE(context.values().empty());
  EXPECT_TRUE(context.config().empty());
  EXPECT_EQ(context.Get("a.b"), std::nullopt);
  EXPECT_EQ(context.GetConfig("env"), std::nullopt);
}

TEST(RunContextTest, ReadsConfigValues) {
  auto config = std::make_shared<const ValueMap>(ValueMap{{"env", "prod"}});
  const RunContext context(config);
  EXPECT_THAT(context.GetConfig("env"), Optional(std::string_view("prod")));
  EXPECT_EQ(context.ConfigPtr(), config);
}

TEST(RunContextTest, MergedOutputsAreNamespacedByTask) {
  RunContext context;
  ASSERT_TRUE(context.MergeOutputs(TaskId("extract"), {{"rows", "42"}, {"file", "/tmp/x"}}).ok());
  ASSERT_TRUE(context.MergeOutputs(TaskId("load"), {{"rows", "40"}}).ok());
  EXPECT_THAT(context.Get("extract.rows"), Optional(std::string_view("42")));
  EXPECT_THAT(context.Get("extract.file"), Optional(std::string_view("/tmp/x")));
  EXPECT_THAT(context.Get("load.rows"), Optional(std::string_view("40")));
  EXPECT_EQ(context.Get("rows"), std::nullopt);
  EXPECT_EQ(context.values().size(), 3u);
}

TEST(RunContextTest, InvalidKeyRejectsTheWholeMergeAndNamesTheTask) {
  RunContext context;
  const Status status = context.MergeOutputs(TaskId("extract"), {{"good", "1"}, {"bad.key", "2"}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("task 'extract': output key 'bad.key'"));
  EXPECT_TRUE(context.values().empty());
}

TEST(RunContextTest, SnapshotIsNotChangedByLaterMerges) {
  RunContext context;
  ASSERT_TRUE(context.MergeOutputs(TaskId("a"), {{"x", "1"}}).ok());
  const std::shared_ptr<const ValueMap> before = context.Snapshot();
  ASSERT_TRUE(context.MergeOutputs(TaskId("b"), {{"y", "2"}}).ok());
  ASSERT_TRUE(context.MergeOutputs(TaskId("a"), {{"x", "changed"}}).ok());
  EXPECT_EQ(before->size(), 1u);
  EXPECT_EQ(before->at("a.x"), "1");
  EXPECT_THAT(context.Get("a.x"), Optional(std::string_view("changed")));
  EXPECT_EQ(context.Snapshot()->size(), 2u);
}

TEST(RunContextTest, SnapshotSharesStorageUntilTheNextMerge) {
  RunContext context;
  ASSERT_TRUE(context.MergeOutputs(TaskId("a"), {{"x", "1"}}).ok());
  EXPECT_EQ(context.Snapshot().get(), context.Snapshot().get());
  EXPECT_EQ(context.Snapshot().get(), &context.values());
}

}  // namespace
}  // namespace petit
