// The builtin plugin through FakeHost, its code linked in.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "petit/plugin.h"
#include "petit/plugin_testing.hpp"

extern "C" const petit_abi_info* petit_plugin_abi_info(void);
extern "C" int32_t petit_plugin_init(const petit_init_args* args,
                                     petit_plugin_descriptor* out_descriptor, char* error,
                                     size_t error_size);

namespace {

using petit::testing::AttemptOptions;
using petit::testing::FakeHost;
using petit::testing::RunResult;

class BuiltinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = host_.Init(&petit_plugin_abi_info, &petit_plugin_init);
    ASSERT_TRUE(plugin.ok()) << plugin.status().message();
    plugin_ = *plugin;
  }

  RunResult Run(std::string_view type, std::string_view params, AttemptOptions options = {}) {
    RunResult result = host_.Run(type, params, std::move(options));
    EXPECT_TRUE(result.violations.empty()) << result.violations.front();
    return result;
  }

  static AttemptOptions Attempt(uint32_t number) {
    AttemptOptions options;
    options.attempt = number;
    return options;
  }

  FakeHost host_;
  const petit::testing::LoadedPlugin* plugin_ = nullptr;
};

TEST_F(BuiltinTest, DeclaresItsTaskTypesWithSchemas) {
  EXPECT_EQ(plugin_->name, "builtin");
  ASSERT_EQ(plugin_->task_types.size(), 4u);
  for (const petit_task_type& type : plugin_->task_types) {
    ASSERT_NE(type.params_schema_json, nullptr) << type.name;
    EXPECT_TRUE(petit::sdk::Json::Parse(type.params_schema_json).ok()) << type.name;
    EXPECT_TRUE(type.flags & PETIT_TASK_IDEMPOTENT) << type.name;
  }
  EXPECT_EQ(host_.FindTaskType("sleep")->flags, PETIT_TASK_CANCELLABLE | PETIT_TASK_IDEMPOTENT);
  EXPECT_NE(host_.FindTaskType("sleep")->cancel, nullptr);
  EXPECT_EQ(host_.FindTaskType("noop")->cancel, nullptr);
}

TEST_F(BuiltinTest, NoopSucceedsAndDoesNothing) {
  const RunResult result = Run("noop", "{}");
  EXPECT_EQ(result.status, PETIT_OK);
  EXPECT_TRUE(result.outputs.empty());
  EXPECT_TRUE(result.stdout_data.empty());
  EXPECT_TRUE(result.error.empty());
}

TEST_F(BuiltinTest, NoopRefusesParameters) {
  const RunResult result = Run("noop", R"({"ms": 1})");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "unknown parameter 'ms' (this task takes none)");
}

TEST_F(BuiltinTest, SleepOfZeroSucceeds) {
  EXPECT_EQ(Run("sleep", R"({"ms": 0})").status, PETIT_OK);
}

TEST_F(BuiltinTest, SleepRunsAtLeastItsDuration) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Run("sleep", R"({"ms": 20})").status, PETIT_OK);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

TEST_F(BuiltinTest, SleepRequiresANonNegativeIntegerMs) {
  EXPECT_EQ(Run("sleep", "{}").error, "missing required parameter 'ms'");
  EXPECT_EQ(Run("sleep", R"({"ms": -1})").error, "parameter 'ms' must be >= 0");
  EXPECT_EQ(Run("sleep", R"({"ms": "5"})").error,
            "parameter 'ms' must be an integer, not a string");
  EXPECT_EQ(Run("sleep", R"({"ms": 5, "sec": 1})").error,
            "unknown parameter 'sec' (expected one of: ms)");
  EXPECT_EQ(Run("sleep", R"({"ms": -1})").status, PETIT_INVALID_PARAMS);
}

TEST_F(BuiltinTest, SleepEndsEarlyWhenCancelledFromAnotherThread) {
  auto attempt = host_.Start("sleep", R"({"ms": 600000})");
  ASSERT_TRUE(attempt->created());
  RunResult result;
  std::thread worker([&] { result = attempt->Execute(); });
  // Cancel may land before or during the wait; both must end the sleep.
  attempt->Cancel();
  worker.join();
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  EXPECT_EQ(result.error, "sleep cancelled");
}

TEST_F(BuiltinTest, SleepSeesACancelThatCameBeforeExecute) {
  auto attempt = host_.Start("sleep", R"({"ms": 600000})");
  attempt->Cancel();
  EXPECT_EQ(attempt->Execute().status, PETIT_CANCELLED);
}

TEST_F(BuiltinTest, SleepStopsAtTheAttemptTimeout) {
  AttemptOptions options;
  options.timeout_ms = 10;
  const RunResult result = Run("sleep", R"({"ms": 600000})", options);
  EXPECT_EQ(result.status, PETIT_TIMED_OUT);
  EXPECT_EQ(result.error, "sleep of 600000 ms timed out after 10 ms");
}

TEST_F(BuiltinTest, FailFailsTheFirstAttemptsThenSucceeds) {
  const std::string params = R"({"times": 2})";
  const RunResult first = Run("fail", params, Attempt(1));
  EXPECT_EQ(first.status, PETIT_ERROR);
  EXPECT_EQ(first.error, "attempt 1 failed on purpose (the first 2 attempts fail)");
  const RunResult second = Run("fail", params, Attempt(2));
  EXPECT_EQ(second.status, PETIT_ERROR);
  EXPECT_EQ(second.error, "attempt 2 failed on purpose (the first 2 attempts fail)");
  EXPECT_EQ(Run("fail", params, Attempt(3)).status, PETIT_OK);
}

TEST_F(BuiltinTest, FailDefaultsToFailingOnce) {
  EXPECT_EQ(Run("fail", "{}", Attempt(1)).status, PETIT_ERROR);
  EXPECT_EQ(Run("fail", "{}", Attempt(2)).status, PETIT_OK);
}

TEST_F(BuiltinTest, FailCanFailTransiently) {
  EXPECT_EQ(Run("fail", R"({"times": 1, "transient": true})", Attempt(1)).status,
            PETIT_ERROR_TRANSIENT);
}

TEST_F(BuiltinTest, FailZeroTimesSucceedsAtOnce) {
  EXPECT_EQ(Run("fail", R"({"times": 0})", Attempt(1)).status, PETIT_OK);
}

TEST_F(BuiltinTest, FailChecksItsParams) {
  EXPECT_EQ(Run("fail", R"({"times": -2})").error, "parameter 'times' must be >= 0");
  EXPECT_EQ(Run("fail", R"({"transient": 1})").error,
            "parameter 'transient' must be a boolean, not a number");
}

TEST_F(BuiltinTest, SetOutputRecordsEveryMember) {
  const RunResult result = Run("set_output", R"({"outputs": {"a": "1", "b": "two", "c": ""}})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  const std::map<std::string, std::string, std::less<>> expected = {
      {"a", "1"}, {"b", "two"}, {"c", ""}};
  EXPECT_EQ(result.outputs, expected);
}

TEST_F(BuiltinTest, SetOutputRefusesNonStringValuesAndEmptyKeys) {
  EXPECT_EQ(Run("set_output", R"({"outputs": {"a": 1}})").error,
            "parameter 'outputs.a' must be a string, not a number");
  EXPECT_EQ(Run("set_output", R"({"outputs": {"": "v"}})").error,
            "parameter 'outputs' has an empty key");
  EXPECT_EQ(Run("set_output", "{}").error, "missing required parameter 'outputs'");
}

}  // namespace
