#include "plugins/plugin_task_runner.h"

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_attempt_control.h"
#include "plugins/plugin_loader.h"

namespace petit {

void PrintTo(AttemptOutcome outcome, std::ostream* os) { *os << AttemptOutcomeName(outcome); }

namespace host {
namespace {

using fakes::FakeAttemptControl;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string Fixture(const std::string& name) {
  return (std::filesystem::path(PETIT_FIXTURE_PLUGIN_DIR) / (name + ".so")).string();
}

// Fixtures kept out of the directory plugin_loader_test lists whole.
std::string ExtraFixture(const std::string& name) {
  return (std::filesystem::path(PETIT_FIXTURE_PLUGIN_DIR) / "extra" / (name + ".so")).string();
}

// Loads the fixtures the runner tests use once for the whole suite.
class PluginTaskRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    loader_ = new PluginLoader("test");
    for (const char* name : {"good_c", "garbage_codes", "throws"}) loader_->LoadFile(Fixture(name));
    loader_->LoadFile(ExtraFixture("execute_invalid_params"));
  }
  static void TearDownTestSuite() {
    delete loader_;
    loader_ = nullptr;
  }

  void SetUp() override { ASSERT_THAT(loader_->result().errors, IsEmpty()); }

  static std::shared_ptr<TaskRunner> Runner(std::string_view type) {
    for (const auto& plugin : loader_->result().plugins) {
      auto runner = MakePluginTaskRunner(plugin, type);
      if (runner.ok()) return std::move(runner).value();
    }
    ADD_FAILURE() << "no fixture declares " << type;
    return nullptr;
  }

  static AttemptRequest Request() {
    AttemptRequest request;
    request.job = JobId("etl");
    request.run = RunId::GenerateAt(0);
    request.task = TaskId("extract");
    request.attempt = 2;
    request.params_json = R"({"x": 1})";
    request.timeout = std::chrono::milliseconds(1500);
    return request;
  }

 private:
  static PluginLoader* loader_;
};

PluginLoader* PluginTaskRunnerTest::loader_ = nullptr;

TEST_F(PluginTaskRunnerTest, EchoRecordsOutputsFromParamsInputsAndConfig) {
  auto runner = Runner("good_c.echo");
  ASSERT_NE(runner, nullptr);
  AttemptRequest request = Request();
  auto inputs = std::make_shared<RunOutputs>();
  ASSERT_TRUE(inputs->Add(TaskId("upstream"), {{"value", "42"}}).ok());
  request.inputs = inputs;
  request.config = std::make_shared<const ValueMap>(ValueMap{{"greeting", "hello"}});
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(request, control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kSucceeded);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.exit_code, std::optional<int32_t>(0));
  EXPECT_EQ(control.outputs(),
            (ValueMap{{"params", R"({"x": 1})"},
                      {"ids", "etl/" + request.run.str() + "/extract#2 timeout=1500"},
                      {"input", "42"},
                      {"config", "hello"}}));
  EXPECT_EQ(control.stdout_text(), "echo\n");
  EXPECT_THAT(control.logs(), Contains(Pair(LogLevel::kInfo, "good_c.echo: echoing")));
}

TEST_F(PluginTaskRunnerTest, MissingInputsAndConfigAreReportedAsAbsent) {
  auto runner = Runner("good_c.echo");
  ASSERT_NE(runner, nullptr);
  AttemptRequest request = Request();
  auto inputs = std::make_shared<RunOutputs>();
  ASSERT_TRUE(inputs->Add(TaskId("other"), {{"value", "1"}}).ok());
  request.inputs = inputs;
  FakeAttemptControl control;

  EXPECT_EQ(runner->Run(request, control).outcome, AttemptOutcome::kSucceeded);
  const ValueMap outputs = control.outputs();
  EXPECT_EQ(outputs.count("input"), 0u);
  EXPECT_EQ(outputs.count("config"), 0u);
  EXPECT_EQ(outputs.count("params"), 1u);
}

TEST_F(PluginTaskRunnerTest, FailurePropagatesThePluginsMessageAndExitCode) {
  auto runner = Runner("good_c.fail");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(result.error, "good_c.fail failed on purpose (attempt 2)");
  EXPECT_EQ(result.exit_code, std::optional<int32_t>(3));
}

TEST_F(PluginTaskRunnerTest, CreateRefusingItsParamsIsInvalidParamsWithTheMessage) {
  auto runner = Runner("good_c.invalid_params");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kInvalidParams);
  EXPECT_EQ(result.error, "good_c.invalid_params: params are never valid");
  EXPECT_EQ(control.hooks_registered(), 0);
}

// plugin.h (ABI 1.1): PETIT_INVALID_PARAMS means the same from execute as from create, a permanent
// failure; kInvalidParams is the outcome the engine never retries.
TEST_F(PluginTaskRunnerTest, ExecuteRefusingItsParamsIsInvalidParamsWithTheMessage) {
  auto runner = Runner("execute_invalid_params.check");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kInvalidParams);
  EXPECT_EQ(result.error, "execute_invalid_params.check: 'path' names a directory");
  EXPECT_EQ(result.exit_code, std::optional<int32_t>(2));
}

TEST_F(PluginTaskRunnerTest, GarbageStatusFromExecuteFailsNamingTheCode) {
  auto runner = Runner("garbage_codes.execute");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(result.error,
            "task type 'garbage_codes.execute' returned invalid status code 12345 from execute "
            "(its error: garbage on purpose)");
}

TEST_F(PluginTaskRunnerTest, GarbageStatusFromCreateFailsNamingTheCode) {
  auto runner = Runner("garbage_codes.create");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(result.error,
            "task type 'garbage_codes.create' returned invalid status code 12345 from create");
}

TEST_F(PluginTaskRunnerTest, ExceptionCaughtAtThePluginBoundaryBecomesAFailedAttempt) {
  auto execute = Runner("throws.execute");
  auto create = Runner("throws.create");
  ASSERT_NE(execute, nullptr);
  ASSERT_NE(create, nullptr);
  AttemptRequest request = Request();
  request.params_json = "{}";  // the SDK refuses parameters a task does not declare
  FakeAttemptControl control;

  const AttemptResult from_execute = execute->Run(request, control);
  EXPECT_EQ(from_execute.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(from_execute.error, "boom in execute");
  EXPECT_THAT(control.logs(), Contains(Pair(LogLevel::kError,
                                            "task type 'throws.execute': execute threw: "
                                            "boom in execute")));

  const AttemptResult from_create = create->Run(request, control);
  EXPECT_EQ(from_create.outcome, AttemptOutcome::kFailed);
  EXPECT_THAT(from_create.error, HasSubstr("unknown exception"));
  EXPECT_THAT(control.logs(), Contains(Pair(LogLevel::kError,
                                            HasSubstr("task type 'throws.create': create threw"))));
}

TEST_F(PluginTaskRunnerTest, CancelReachesThePluginWhileExecuteBlocks) {
  auto runner = Runner("good_c.wait_for_cancel");
  ASSERT_NE(runner, nullptr);
  const AttemptRequest request = Request();
  FakeAttemptControl control;
  AttemptResult result;

  std::thread worker([&] { result = runner->Run(request, control); });
  control.WaitForProgress();  // execute is running (or about to block)
  control.Cancel();
  worker.join();

  EXPECT_EQ(result.outcome, AttemptOutcome::kCancelled);
  EXPECT_EQ(result.error,
            "task type 'good_c.wait_for_cancel' returned PETIT_CANCELLED from execute without an "
            "error message");
  EXPECT_EQ(control.outputs(), (ValueMap{{"woken_by", "cancel"}}));
  EXPECT_EQ(control.progress().at(0).second, "waiting for cancel");
}

TEST_F(PluginTaskRunnerTest, CancelBeforeExecuteStartsStillStopsTheAttempt) {
  auto runner = Runner("good_c.wait_for_cancel");
  ASSERT_NE(runner, nullptr);
  FakeAttemptControl control;
  control.Cancel();

  const AttemptResult result = runner->Run(Request(), control);

  EXPECT_EQ(result.outcome, AttemptOutcome::kCancelled);
  EXPECT_EQ(control.outputs(), (ValueMap{{"woken_by", "cancel"}}));
}

TEST_F(PluginTaskRunnerTest, CancelAfterTheAttemptEndedNeverReachesTheDestroyedInstance) {
  auto runner = Runner("good_c.wait_for_cancel");
  ASSERT_NE(runner, nullptr);
  const AttemptRequest request = Request();
  FakeAttemptControl control;
  AttemptResult result;

  std::thread worker([&] { result = runner->Run(request, control); });
  control.WaitForProgress();
  control.Cancel();
  worker.join();
  // AttemptControl may run a hook it took before Run() returned; the plugin's instance is freed
  // by now, so a hook that still reached it would be a use after free (reported by the sanitizer
  // build, and the fixture's cancel would lock a destroyed mutex).
  control.Cancel();

  EXPECT_EQ(result.outcome, AttemptOutcome::kCancelled);
  EXPECT_EQ(control.hooks_registered(), 1);
}

}  // namespace
}  // namespace host
}  // namespace petit
