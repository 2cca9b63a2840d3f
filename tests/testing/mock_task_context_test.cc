// MockTaskContext: a petit::sdk::Task class or a C plugin's entry points, given inputs, config
// and parameters, with what it did captured.
#include "petit/testing/mock_task_context.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::testing {
namespace {

using ::testing::HasSubstr;

class Concat final : public sdk::Task {
 public:
  explicit Concat(std::string separator) : separator_(std::move(separator)) {}
  static sdk::Result<std::unique_ptr<Concat>> Create(const sdk::CreateArgs& args) {
    if (sdk::Status keys = args.params.CheckKeys({"separator"}); !keys.ok()) return keys;
    sdk::Result<std::string_view> separator = args.params.GetString("separator", ",");
    if (!separator.ok()) return separator.status();
    return std::make_unique<Concat>(std::string(*separator));
  }
  sdk::Status Execute(sdk::Context& context) override {
    const auto first = context.Input("a.value");
    const auto second = context.Config("suffix");
    if (!first || !second) return sdk::Status::Error("missing input or config");
    context.Log(sdk::LogLevel::kInfo, "concatenating");
    return context.SetOutput("joined", std::string(*first) + separator_ + std::string(*second));
  }

 private:
  std::string separator_;
};

// Runs until cancelled.
class Waits final : public sdk::Task {
 public:
  sdk::Status Execute(sdk::Context& context) override {
    while (!context.Cancelled()) std::this_thread::yield();
    return sdk::Status::Cancelled();
  }
  void Cancel() override {}
};

TEST(MockTaskContextTest, ProvidesInputsConfigAndParamsAndCapturesOutputs) {
  auto ctx = MockTaskContext::For<Concat>("concat");
  ASSERT_TRUE(ctx.init_status().ok()) << ctx.init_status().message();
  ctx.Input("a.value", "left").Config("suffix", "right").Params(R"({"separator":"+"})");
  const RunResult result = ctx.Run();
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.outputs.at("joined"), "left+right");
  ASSERT_EQ(result.logs.size(), 1u);
  EXPECT_EQ(result.logs[0].message, "concatenating");
  EXPECT_TRUE(result.violations.empty());
}

TEST(MockTaskContextTest, ReportsFailuresAndBadParameters) {
  auto missing = MockTaskContext::For<Concat>("concat");
  const RunResult failed = missing.Run();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error, "missing input or config");

  auto bad = MockTaskContext::For<Concat>("concat");
  bad.Params(R"({"sep":"+"})");
  const RunResult refused = bad.Run();
  EXPECT_FALSE(refused.created);
  EXPECT_EQ(refused.status, PETIT_INVALID_PARAMS);
  EXPECT_THAT(refused.error, HasSubstr("sep"));
}

TEST(MockTaskContextTest, AttemptAndTimeoutReachTheTask) {
  struct Info final : sdk::Task {
    sdk::Status Execute(sdk::Context& context) override {
      return context.SetOutput("info", std::to_string(context.info().attempt) + "/" +
                                           std::to_string(context.info().timeout.count()) + "/" +
                                           std::string(context.info().task_id));
    }
  };
  auto ctx = MockTaskContext::For<Info>("info");
  ctx.Attempt(3).TimeoutMs(1500).Ids("job", "run", "the_task");
  EXPECT_EQ(ctx.Run().outputs.at("info"), "3/1500/the_task");
}

TEST(MockTaskContextTest, CancelFromAnotherThread) {
  auto ctx = MockTaskContext::For<Waits>("waits", nullptr, PETIT_TASK_CANCELLABLE);
  std::unique_ptr<Attempt> attempt = ctx.Start();
  ASSERT_TRUE(attempt->created());
  std::thread canceller([&] { attempt->Cancel(); });
  const RunResult result = attempt->Execute();
  canceller.join();
  EXPECT_EQ(result.status, PETIT_CANCELLED);
}

TEST(MockTaskContextTest, ARefusedPluginIsReportedOnEveryRun) {
  MockTaskContext ctx(nullptr, nullptr, "x");
  EXPECT_FALSE(ctx.init_status().ok());
  const RunResult result = ctx.Run();
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.error, HasSubstr("missing entry point"));
}

}  // namespace
}  // namespace petit::testing
