#include "petit/core/context.h"

#include <memory>
#include <string>

#include <atomic>
#include <thread>

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
  EXPECT_EQ(context.outputs().size(), 0u);
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
  EXPECT_EQ(context.outputs().size(), 3u);
}

TEST(RunContextTest, InvalidKeyRejectsTheWholeMergeAndNamesTheTask) {
  RunContext context;
  const Status status = context.MergeOutputs(TaskId("extract"), {{"good", "1"}, {"bad.key", "2"}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("task 'extract': output key 'bad.key'"));
  EXPECT_EQ(context.outputs().size(), 0u);
}

TEST(RunContextTest, ATasksOutputsAreRecordedOnceAndNeverChange) {
  RunContext context;
  ASSERT_TRUE(context.MergeOutputs(TaskId("a"), {{"x", "1"}}).ok());
  const RunOutputs& outputs = context.outputs();
  std::optional<std::string_view> view = outputs.Get("a.x");
  const Status again = context.MergeOutputs(TaskId("a"), {{"x", "changed"}});
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(context.MergeOutputs(TaskId("b"), {{"y", "2"}}).ok());
  EXPECT_THAT(view, Optional(std::string_view("1"))) << "views stay valid as the run goes on";
  EXPECT_THAT(context.Get("a.x"), Optional(std::string_view("1")));
  EXPECT_EQ(context.OutputsPtr().get(), &context.outputs());
}

TEST(RunContextTest, TaskIdsMayContainDotsKeysMayNot) {
  RunContext context;
  ASSERT_TRUE(context.MergeOutputs(TaskId("build.v1"), {{"image", "petit:1"}}).ok());
  EXPECT_THAT(context.Get("build.v1.image"), Optional(std::string_view("petit:1")));
  EXPECT_EQ(context.Get("build.image"), std::nullopt);
  ASSERT_NE(context.outputs().OutputsOf("build.v1"), nullptr);
  EXPECT_EQ(context.outputs().OutputsOf("build"), nullptr);
}

TEST(RunContextTest, ReadersOnOtherThreadsSeeEveryOutputAddedBeforeTheyLook) {
  RunContext context;
  std::atomic<int> added{0};
  std::thread reader([&] {
    for (int seen = 0; seen < 1000;) {
      int upto = added.load(std::memory_order_acquire);
      for (; seen < upto; ++seen) {
        EXPECT_THAT(context.Get("t" + std::to_string(seen) + ".v"),
                    Optional(std::string_view("x")));
      }
    }
  });
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(context.MergeOutputs(TaskId("t" + std::to_string(i)), {{"v", "x"}}).ok());
    added.store(i + 1, std::memory_order_release);
  }
  reader.join();
  EXPECT_EQ(context.outputs().size(), 1000u);
}

}  // namespace
}  // namespace petit
