// petit/plugin.hpp through the C ABI: test_plugin.cc is linked in and driven by FakeHost.
#include <cstring>
#include <ostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "petit/plugin.h"
#include "petit/plugin.hpp"
#include "petit/plugin_testing.hpp"

namespace {

using petit::testing::FakeHost;
using petit::testing::RunResult;

class PluginHppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = host_.Init(&petit_plugin_abi_info, &petit_plugin_init);
    ASSERT_TRUE(plugin.ok()) << plugin.status().message();
    plugin_ = *plugin;
  }

  // Runs and checks the plugin kept to the ABI while doing it.
  RunResult Run(std::string_view type, std::string_view params,
                petit::testing::AttemptOptions options = {}) {
    RunResult result = host_.Run(type, params, std::move(options));
    EXPECT_TRUE(result.violations.empty()) << result.violations.front();
    return result;
  }

  FakeHost host_;
  const petit::testing::LoadedPlugin* plugin_ = nullptr;
};

TEST_F(PluginHppTest, AbiInfoCarriesTheMacroArguments) {
  const petit_abi_info* info = petit_plugin_abi_info();
  EXPECT_EQ(info->struct_size, sizeof(petit_abi_info));
  EXPECT_EQ(info->magic, PETIT_ABI_MAGIC);
  EXPECT_EQ(info->abi_major, static_cast<uint32_t>(PETIT_ABI_MAJOR));
  EXPECT_EQ(info->abi_minor, static_cast<uint32_t>(PETIT_ABI_MINOR));
  EXPECT_STREQ(info->plugin_name, "sdk_test");
  EXPECT_STREQ(info->plugin_version, "2.3.4");
  EXPECT_EQ(plugin_->name, "sdk_test");
  EXPECT_EQ(plugin_->version, "2.3.4");
}

TEST_F(PluginHppTest, DeclaresEveryTaskTypeInOrderWithFlagsAndSchema) {
  ASSERT_EQ(plugin_->task_types.size(), 6u);
  EXPECT_STREQ(plugin_->task_types[0].name, "sdk_test.noop");
  EXPECT_STREQ(plugin_->task_types[5].name, "sdk_test.null");
  const petit_task_type* noop = host_.FindTaskType("sdk_test.noop");
  EXPECT_EQ(noop->flags, PETIT_TASK_IDEMPOTENT);
  EXPECT_STREQ(noop->summary, "Does nothing");
  EXPECT_EQ(noop->params_schema_json, nullptr);
  EXPECT_NE(noop->destroy, nullptr);
  const petit_task_type* echo = host_.FindTaskType("sdk_test.echo");
  EXPECT_STREQ(echo->params_schema_json, R"({"type":"object","required":["text"]})");
  EXPECT_EQ(host_.FindTaskType("sdk_test.wait")->flags, PETIT_TASK_CANCELLABLE | PETIT_TASK_SERIAL);
}

TEST_F(PluginHppTest, WiresCancelOnlyForTypesThatOverrideIt) {
  EXPECT_EQ(host_.FindTaskType("sdk_test.noop")->cancel, nullptr);
  EXPECT_EQ(host_.FindTaskType("sdk_test.echo")->cancel, nullptr);
  EXPECT_NE(host_.FindTaskType("sdk_test.wait")->cancel, nullptr);
  EXPECT_NE(host_.FindTaskType("sdk_test.throw")->cancel, nullptr);
}

TEST_F(PluginHppTest, TaskWithoutCreateAcceptsEveryFormOfNoParameters) {
  for (const char* params : {"{}", "", " { \n } ", "\t"}) {
    const RunResult result = Run("sdk_test.noop", params);
    EXPECT_EQ(result.status, PETIT_OK) << "params: '" << params << "': " << result.error;
  }
}

TEST_F(PluginHppTest, TaskWithoutCreateRefusesParameters) {
  const RunResult result = Run("sdk_test.noop", R"({"ms": 5})");
  EXPECT_FALSE(result.created);
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "unknown parameter 'ms' (this task takes none)");
}

TEST_F(PluginHppTest, MalformedParamsAreInvalidParamsWithThePosition) {
  const RunResult result = Run("sdk_test.echo", R"({"text": })");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error,
            "params: invalid JSON at line 1, column 10 (byte 9): unexpected '}', expected a value");
}

TEST_F(PluginHppTest, ParamsThatAreNotAnObjectAreRefused) {
  const RunResult result = Run("sdk_test.echo", "[1, 2]");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "params must be a JSON object, not an array");
}

TEST_F(PluginHppTest, MissingParamReportedFromCreate) {
  const RunResult result = Run("sdk_test.echo", "{}");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "missing required parameter 'text'");
}

TEST_F(PluginHppTest, ContextReachesEveryHostService) {
  host_.SetInput("up.value", "from upstream");
  host_.SetConfig("region", "eu-west");
  petit::testing::AttemptOptions options;
  options.job_id = "nightly";
  options.run_id = "run-42";
  options.task_id = "echo_it";
  options.attempt = 3;
  options.timeout_ms = 1500;
  // Longer than any small-string buffer, so a view into moved params would dangle visibly.
  const std::string text(100, 'x');
  const RunResult result =
      Run("sdk_test.echo", R"({"text": ")" + text + R"(", "extra": [1, {"a": true}]})", options);
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, text);
  EXPECT_EQ(result.stderr_data, "to stderr");
  EXPECT_EQ(result.exit_code, 7);
  ASSERT_EQ(result.progress.size(), 1u);
  EXPECT_EQ(result.progress[0].fraction, 0.5);
  EXPECT_EQ(result.progress[0].message, "half");
  ASSERT_EQ(result.logs.size(), 2u);
  EXPECT_EQ(result.logs[0].level, PETIT_LOG_DEBUG);
  EXPECT_EQ(result.logs[0].message, "creating echo");
  EXPECT_EQ(result.logs[1].level, PETIT_LOG_INFO);
  EXPECT_EQ(result.logs[1].message, "echoing");
  const std::map<std::string, std::string, std::less<>> expected = {
      {"text", text},
      {"input", "from upstream"},
      {"missing_input", "(none)"},
      {"config", "eu-west"},
      {"job", "nightly"},
      {"run", "run-42"},
      {"task", "echo_it"},
      {"attempt", "3"},
      {"timeout_ms", "1500"},
      {"params", R"({"text":")" + text + R"(","extra":[1,{"a":true}]})"},
      {"cancelled", "no"},
      {"empty_key_refused", "yes"},
  };
  EXPECT_EQ(result.outputs, expected);
}

struct StatusCase {
  const char* code;
  int32_t abi_code;

  friend std::ostream& operator<<(std::ostream& out, const StatusCase& c) {
    return out << c.code << " -> " << c.abi_code;
  }
};

class PluginHppStatusTest : public PluginHppTest,
                            public ::testing::WithParamInterface<StatusCase> {};

TEST_P(PluginHppStatusTest, ExecuteStatusMapsToTheAbiCodeWithItsMessage) {
  const RunResult result = Run("sdk_test.status", std::string(R"({"code":")") + GetParam().code +
                                                      R"(","message":"why it ended"})");
  EXPECT_TRUE(result.created);
  EXPECT_EQ(result.status, GetParam().abi_code);
  EXPECT_EQ(result.error, "why it ended");
}

TEST_P(PluginHppStatusTest, CreateStatusMapsToTheAbiCodeWithItsMessage) {
  const RunResult result =
      Run("sdk_test.status", std::string(R"({"code":")") + GetParam().code +
                                 R"(","message":"refused early","in_create":true})");
  EXPECT_FALSE(result.created);
  EXPECT_EQ(result.status, GetParam().abi_code);
  EXPECT_EQ(result.error, "refused early");
}

INSTANTIATE_TEST_SUITE_P(Codes, PluginHppStatusTest,
                         ::testing::Values(StatusCase{"error", PETIT_ERROR},
                                           StatusCase{"transient", PETIT_ERROR_TRANSIENT},
                                           StatusCase{"cancelled", PETIT_CANCELLED},
                                           StatusCase{"timed_out", PETIT_TIMED_OUT}),
                         [](const auto& param_info) { return std::string(param_info.param.code); });

TEST_F(PluginHppTest, InvalidParamsFromCreateIsPassedOn) {
  const RunResult result =
      Run("sdk_test.status", R"({"code":"invalid_params","message":"bad","in_create":true})");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "bad");
}

// ABI 1.1 gives PETIT_INVALID_PARAMS one meaning from create and execute alike (a permanent
// failure, never retried), so the SDK passes it on from Execute too instead of downgrading it to
// a retryable PETIT_ERROR as it did under 1.0.
TEST_F(PluginHppTest, InvalidParamsFromExecuteIsPassedOnAsAPermanentFailure) {
  const RunResult result = Run("sdk_test.status", R"({"code":"invalid_params","message":"bad"})");
  EXPECT_TRUE(result.created);
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "bad");
  EXPECT_TRUE(result.logs.empty());
}

TEST_F(PluginHppTest, AStatusWithoutMessageIsReportedByItsCodeName) {
  const RunResult result = Run("sdk_test.status", R"({"code":"transient"})");
  EXPECT_EQ(result.status, PETIT_ERROR_TRANSIENT);
  EXPECT_EQ(result.error, "transient error");
}

TEST_F(PluginHppTest, OkStatusFromExecuteSucceeds) {
  EXPECT_EQ(Run("sdk_test.status", R"({"code":"ok"})").status, PETIT_OK);
}

TEST_F(PluginHppTest, AnOkStatusReturnedInsteadOfAnInstanceIsAnError) {
  const RunResult result = Run("sdk_test.status", R"({"code":"ok","in_create":true})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "internal error: Result built from an OK Status");
}

TEST_F(PluginHppTest, ExceptionInExecuteBecomesAnErrorWithItsMessage) {
  const RunResult result = Run("sdk_test.throw", R"({"where":"execute"})");
  EXPECT_TRUE(result.created);
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "boom from the plugin");
  ASSERT_FALSE(result.logs.empty());
  EXPECT_EQ(result.logs.back().level, PETIT_LOG_ERROR);
  EXPECT_EQ(result.logs.back().message,
            "task type 'sdk_test.throw': execute threw: boom from the plugin");
}

TEST_F(PluginHppTest, ExceptionInCreateBecomesAnErrorWithItsMessage) {
  const RunResult result = Run("sdk_test.throw", R"({"where":"create"})");
  EXPECT_FALSE(result.created);
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "boom from the plugin");
}

TEST_F(PluginHppTest, ExceptionNotDerivedFromStdExceptionIsCaughtToo) {
  const RunResult result = Run("sdk_test.throw", R"({"where":"execute","kind":"int"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "unknown exception (not derived from std::exception)");
}

TEST_F(PluginHppTest, ReadingAFailedResultInsidePluginCodeIsCaughtAtTheBoundary) {
  const RunResult result = Run("sdk_test.throw", R"({"where":"bad_result"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error,
            "value of a failed Result read: invalid parameters: missing required parameter "
            "'missing'");
}

TEST_F(PluginHppTest, ExceptionInCancelIsLoggedAndGoesNoFurther) {
  auto attempt = host_.Start("sdk_test.throw", R"({"where":"cancel"})");
  ASSERT_TRUE(attempt->created());
  attempt->Cancel();
  const RunResult result = attempt->Execute();
  EXPECT_EQ(result.status, PETIT_OK);
  ASSERT_EQ(result.logs.size(), 1u);
  EXPECT_EQ(result.logs[0].message,
            "task type 'sdk_test.throw': cancel threw: boom from the plugin");
}

TEST_F(PluginHppTest, CreateReturningNoInstanceIsAnError) {
  const RunResult result = Run("sdk_test.null", "{}");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "Create returned no instance");
}

TEST_F(PluginHppTest, CancelFromAnotherThreadStopsExecute) {
  auto attempt = host_.Start("sdk_test.wait", "{}");
  ASSERT_TRUE(attempt->created());
  RunResult result;
  std::thread worker([&] { result = attempt->Execute(); });
  ASSERT_TRUE(attempt->WaitForOutput(petit::sdk::Stream::kStdout, "waiting"));
  attempt->Cancel();
  worker.join();
  EXPECT_EQ(result.status, PETIT_CANCELLED);
  EXPECT_EQ(result.error, "stopped by cancel");
  ASSERT_EQ(result.logs.size(), 1u);
  EXPECT_EQ(result.logs[0].message, "cancel requested");  // Task::context() outside Execute
}

TEST(PluginInitTest, RefusesAHostWithAnotherMajorAndSaysWhy) {
  petit::testing::FakeHost host;  // only for its services table
  petit_init_args args{};
  args.struct_size = sizeof args;
  args.host_abi_major = PETIT_ABI_MAJOR + 1;
  args.host_abi_minor = 0;
  args.host = &host.services();
  petit_plugin_descriptor descriptor{};
  descriptor.struct_size = sizeof descriptor;
  char error[256] = {};
  EXPECT_EQ(petit_plugin_init(&args, &descriptor, error, sizeof error), PETIT_ERROR);
  EXPECT_STREQ(error, "host ABI 2.0 cannot run a plugin built for ABI 1.2");
  EXPECT_EQ(descriptor.plugin_state, nullptr);
}

// A real 1.0 host refuses a 1.2 plugin from its ABI block before init; init says no as well, for a
// host that calls it anyway.
TEST(PluginInitTest, RefusesAHostOfAnOlderMinorAndSaysWhy) {
  petit::testing::FakeHost host;  // only for its services table
  petit_init_args args{};
  args.struct_size = sizeof args;
  args.host_abi_major = PETIT_ABI_MAJOR;
  args.host_abi_minor = 0;
  args.host = &host.services();
  petit_plugin_descriptor descriptor{};
  descriptor.struct_size = sizeof descriptor;
  char error[256] = {};
  EXPECT_EQ(petit_plugin_init(&args, &descriptor, error, sizeof error), PETIT_ERROR);
  EXPECT_STREQ(error, "host ABI 1.0 cannot run a plugin built for ABI 1.2");
  EXPECT_EQ(descriptor.plugin_state, nullptr);
}

TEST(PluginInitTest, AFakeHostOfAnOlderMinorRefusesThePluginNamingBothVersions) {
  petit::testing::FakeHost host(petit::testing::FakeHostOptions{0, "fake-host-1.0"});
  auto plugin = host.Init(&petit_plugin_abi_info, &petit_plugin_init);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(), "plugin ABI 1.2 is newer than host ABI 1.0");
}

TEST(PluginInitTest, RefusesATruncatedServicesTable) {
  petit::testing::FakeHost host;
  petit_host_services services = host.services();
  services.struct_size = offsetof(petit_host_services, set_exit_code);
  petit_init_args args{};
  args.struct_size = sizeof args;
  args.host_abi_major = PETIT_ABI_MAJOR;
  args.host_abi_minor = PETIT_ABI_MINOR;
  args.host = &services;
  petit_plugin_descriptor descriptor{};
  descriptor.struct_size = sizeof descriptor;
  char error[256] = {};
  EXPECT_EQ(petit_plugin_init(&args, &descriptor, error, sizeof error), PETIT_ERROR);
  EXPECT_STREQ(error, "petit_host_services is 72 bytes; ABI 1.0 needs 80");
}

TEST(PluginInitTest, TruncatesTheReasonToTheErrorBuffer) {
  petit_plugin_descriptor descriptor{};
  char error[8];
  std::memset(error, 'z', sizeof error);
  EXPECT_EQ(petit_plugin_init(nullptr, &descriptor, error, sizeof error), PETIT_ERROR);
  EXPECT_STREQ(error, "init ca");
}

TEST(PluginInitTest, EachInitGetsItsOwnStateAndShutdownFreesIt) {
  // Two hosts in a row: each init builds tables pointing at its own host's services.
  for (int i = 0; i < 2; ++i) {
    FakeHost host;
    ASSERT_TRUE(host.Init(&petit_plugin_abi_info, &petit_plugin_init).ok());
    EXPECT_EQ(host.Run("sdk_test.noop", "{}").status, PETIT_OK);
  }
}

}  // namespace
