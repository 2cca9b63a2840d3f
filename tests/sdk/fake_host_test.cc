// FakeHost itself: the handshake checks it shares with the real host, and the ABI misuse it
// records. The plugins here are hand-written against the C ABI so they can misbehave on purpose.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "petit/plugin.h"
#include "petit/plugin_testing.hpp"

namespace {

using petit::testing::FakeHost;
using petit::testing::RunResult;

// What the hand-written plugin below declares; each test adjusts it before Init.
struct Fixture {
  petit_abi_info info{sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,
                      PETIT_ABI_MINOR,        "handmade",      "0.1"};
  petit_task_type type{};
  petit_task_type second{};
  const petit_task_type* types[2] = {&type, &second};
  uint32_t type_count = 1;
  int32_t init_status = PETIT_OK;
  const petit_host_services* host = nullptr;
  std::atomic<int> destroyed{0};
  std::atomic<int> cancelled{0};
  std::atomic<int> shutdowns{0};
};

Fixture* g_fixture = nullptr;

const petit_abi_info* AbiInfo() { return &g_fixture->info; }

int32_t Init(const petit_init_args* args, petit_plugin_descriptor* out, char* error,
             size_t error_size) {
  if (g_fixture->init_status != PETIT_OK) {
    std::snprintf(error, error_size, "%s", "no GPU on this machine");
    return g_fixture->init_status;
  }
  g_fixture->host = args->host;
  out->struct_size = sizeof *out;
  out->task_type_count = g_fixture->type_count;
  out->task_types = g_fixture->types;
  out->shutdown = [](void*) { ++g_fixture->shutdowns; };
  return PETIT_OK;
}

petit_str Str(const char* text) { return {text, std::strlen(text)}; }

// Behaviour chosen by params_json, verbatim.
int32_t Create(void*, const petit_task_info* info, petit_exec_ctx* ctx, void** out) {
  const std::string params(info->params_json.data, info->params_json.size);
  if (params == "fail-silently") return PETIT_ERROR;
  if (params == "bogus-code") return 42;
  if (params == "fail-with-message") {
    g_fixture->host->set_error(ctx, Str("create said no"));
    return PETIT_INVALID_PARAMS;
  }
  *out = new std::string(params);
  return PETIT_OK;
}

int32_t Execute(void* instance, petit_exec_ctx* ctx) {
  const petit_host_services* host = g_fixture->host;
  const std::string& params = *static_cast<std::string*>(instance);
  if (params == "bad-stream") host->emit_output(ctx, 9, Str("x"));
  if (params == "bad-progress") host->report_progress(ctx, 1.5, Str(""));
  if (params == "bad-level") host->log(ctx, 17, Str("?"));
  if (params == "null-ctx") host->set_exit_code(nullptr, 1);
  if (params == "execute-invalid-params") {
    host->set_error(ctx, Str("too late"));
    return PETIT_INVALID_PARAMS;
  }
  if (params == "execute-silent-error") return PETIT_ERROR;
  if (params == "cancelled?") return host->is_cancelled(ctx) == 1 ? PETIT_CANCELLED : PETIT_OK;
  if (params == "lookups") {
    petit_str value{nullptr, 0};
    if (host->get_input(ctx, Str("up.key"), &value) == 1) host->set_output(ctx, Str("in"), value);
    if (host->get_config(ctx, Str("threads"), &value) == 1) {
      host->set_output(ctx, Str("cfg"), value);
    }
    if (host->get_input(ctx, Str("up.absent"), &value) == 0) {
      host->set_output(ctx, Str("absent"), Str("yes"));
    }
    if (host->set_output(ctx, Str(""), Str("v")) == PETIT_ERROR) {
      host->set_output(ctx, Str("empty_key_refused"), Str("yes"));
    }
  }
  return PETIT_OK;
}

void Cancel(void*) { ++g_fixture->cancelled; }

void Destroy(void* instance) {
  delete static_cast<std::string*>(instance);
  ++g_fixture->destroyed;
}

petit_task_type MakeType(const char* name) {
  petit_task_type type{};
  type.struct_size = sizeof type;
  type.name = name;
  type.summary = "hand-written";
  type.create = &Create;
  type.execute = &Execute;
  type.cancel = &Cancel;
  type.destroy = &Destroy;
  return type;
}

class FakeHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.type = MakeType("handmade.task");
    fixture_.second = MakeType("handmade.other");
    g_fixture = &fixture_;
  }
  void TearDown() override { g_fixture = nullptr; }

  std::string InitError(FakeHost& host) {
    auto plugin = host.Init(&AbiInfo, &Init);
    EXPECT_FALSE(plugin.ok());
    return plugin.ok() ? std::string() : plugin.status().message();
  }

  Fixture fixture_;
};

TEST_F(FakeHostTest, AcceptsAWellFormedPluginAndCopiesItsTypes) {
  FakeHost host;
  auto plugin = host.Init(&AbiInfo, &Init);
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  EXPECT_EQ((*plugin)->name, "handmade");
  EXPECT_EQ((*plugin)->version, "0.1");
  ASSERT_EQ((*plugin)->task_types.size(), 1u);
  EXPECT_NE(&(*plugin)->task_types[0], &fixture_.type);
  EXPECT_STREQ(host.FindTaskType("handmade.task")->summary, "hand-written");
}

TEST_F(FakeHostTest, CallsShutdownOnceWhenDestroyed) {
  {
    FakeHost host;
    ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
    EXPECT_EQ(fixture_.shutdowns, 0);
  }
  EXPECT_EQ(fixture_.shutdowns, 1);
}

TEST_F(FakeHostTest, RefusesABadMagicNamingBothValues) {
  fixture_.info.magic = 0x12345678u;
  FakeHost host;
  EXPECT_EQ(InitError(host), "bad magic 0x12345678 (expected 0x54495450)");
}

TEST_F(FakeHostTest, RefusesAnotherMajorNamingBoth) {
  fixture_.info.abi_major = 2;
  FakeHost host;
  EXPECT_EQ(InitError(host), "plugin ABI major 2 differs from host ABI major 1");
}

TEST_F(FakeHostTest, RefusesAPluginNewerThanTheHost) {
  fixture_.info.abi_minor = 3;
  petit::testing::FakeHostOptions options;
  options.abi_minor = 2;
  FakeHost host(options);
  EXPECT_EQ(InitError(host), "plugin ABI 1.3 is newer than host ABI 1.2");
}

TEST_F(FakeHostTest, AcceptsAPluginOlderThanTheHost) {
  petit::testing::FakeHostOptions options;
  options.abi_minor = PETIT_ABI_MINOR + 1;
  FakeHost host(options);
  EXPECT_TRUE(host.Init(&AbiInfo, &Init).ok());
}

TEST_F(FakeHostTest, RefusesATruncatedAbiBlock) {
  fixture_.info.struct_size = 8;
  FakeHost host;
  EXPECT_EQ(InitError(host), "ABI block is 8 bytes, expected at least 32");
}

TEST_F(FakeHostTest, RefusesAnInvalidPluginName) {
  fixture_.info.plugin_name = "Bad Name";
  FakeHost host;
  EXPECT_EQ(InitError(host), "invalid plugin name (expected 1-128 characters of [a-z0-9_.-])");
}

TEST_F(FakeHostTest, RefusesAPluginNameLongerThan128Characters) {
  const std::string longest(128, 'a');
  const std::string too_long(129, 'a');
  fixture_.info.plugin_name = longest.c_str();
  FakeHost host;
  EXPECT_TRUE(host.Init(&AbiInfo, &Init).ok());
  fixture_.info.plugin_name = too_long.c_str();
  FakeHost other;
  EXPECT_EQ(InitError(other), "invalid plugin name (expected 1-128 characters of [a-z0-9_.-])");
}

TEST_F(FakeHostTest, ReportsTheReasonInitGives) {
  fixture_.init_status = PETIT_ERROR;
  FakeHost host;
  EXPECT_EQ(InitError(host), "plugin 'handmade' refused init (status 1): no GPU on this machine");
}

TEST_F(FakeHostTest, RefusesDuplicateTaskTypeNamesAndShutsThePluginDown) {
  fixture_.type_count = 2;
  fixture_.second = MakeType("handmade.task");
  FakeHost host;
  EXPECT_EQ(InitError(host), "plugin 'handmade': task type 'handmade.task' is declared twice");
  EXPECT_EQ(fixture_.shutdowns, 1);
}

TEST_F(FakeHostTest, RefusesATaskTypeWithoutExecute) {
  fixture_.type.execute = nullptr;
  FakeHost host;
  EXPECT_EQ(InitError(host),
            "plugin 'handmade': task type 'handmade.task' lacks create or execute");
}

TEST_F(FakeHostTest, RefusesAnInvalidParamsSchema) {
  fixture_.type.params_schema_json = "{\"type\":";
  FakeHost host;
  EXPECT_NE(InitError(host).find("has an invalid params schema: invalid JSON"), std::string::npos);
}

TEST_F(FakeHostTest, RefusesASecondPluginOfTheSameName) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  EXPECT_EQ(InitError(host), "plugin 'handmade' is already loaded");
}

TEST_F(FakeHostTest, RefusesATypeAnotherPluginAlreadyProvides) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  fixture_.info.plugin_name = "handmade2";
  EXPECT_EQ(InitError(host), "plugin 'handmade2': task type 'handmade.task' is already provided");
}

TEST_F(FakeHostTest, UnknownTaskTypeFailsTheAttempt) {
  FakeHost host;
  const RunResult result = host.Run("nope", "{}");
  EXPECT_FALSE(result.created);
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "fake host: unknown task type 'nope'");
}

TEST_F(FakeHostTest, ServesInputsAndConfigAndRefusesAnEmptyOutputKey) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  host.SetInput("up.key", "v1");
  host.SetConfig("threads", "8");
  const RunResult result = host.Run("handmade.task", "lookups");
  ASSERT_EQ(result.status, PETIT_OK);
  const std::map<std::string, std::string, std::less<>> expected = {
      {"in", "v1"}, {"cfg", "8"}, {"absent", "yes"}, {"empty_key_refused", "yes"}};
  EXPECT_EQ(result.outputs, expected);
  EXPECT_TRUE(result.violations.empty());
}

TEST_F(FakeHostTest, RefusesOutputsOnceTheAttemptIsOver) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  auto attempt = host.Start("handmade.task", "{}");
  const RunResult result = attempt->Execute();
  EXPECT_EQ(result.status, PETIT_OK);
  EXPECT_EQ(host.services().set_output(attempt->ctx(), Str("late"), Str("v")), PETIT_ERROR);
}

TEST_F(FakeHostTest, RecordsNonOkStatusWithoutSetErrorAsAViolation) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  RunResult result = host.Run("handmade.task", "fail-silently");
  EXPECT_EQ(result.status, PETIT_ERROR);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0], "create returned 1 without calling set_error");
  result = host.Run("handmade.task", "execute-silent-error");
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0], "execute returned 1 without calling set_error");
}

TEST_F(FakeHostTest, RecordsMisuseOfServicesAsViolations) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  EXPECT_EQ(host.Run("handmade.task", "bogus-code").violations,
            std::vector<std::string>{"create returned 42, which is not a PETIT_* status"});
  EXPECT_EQ(host.Run("handmade.task", "bad-stream").violations,
            std::vector<std::string>{"emit_output to stream 9"});
  EXPECT_EQ(host.Run("handmade.task", "bad-progress").violations,
            std::vector<std::string>{"report_progress with fraction 1.500000"});
  EXPECT_EQ(host.Run("handmade.task", "bad-level").violations,
            std::vector<std::string>{"log with level 17"});
  EXPECT_TRUE(host.Run("handmade.task", "null-ctx").violations.empty());
  EXPECT_EQ(host.host_violations(),
            std::vector<std::string>{"set_exit_code called with a NULL ctx"});
}

// Under ABI 1.0 this was recorded as misuse ("which is for create only"); since 1.1 execute may
// return PETIT_INVALID_PARAMS, with the same meaning as from create.
TEST_F(FakeHostTest, AcceptsInvalidParamsFromExecute) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  const RunResult result = host.Run("handmade.task", "execute-invalid-params");
  EXPECT_TRUE(result.created);
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "too late");
  EXPECT_TRUE(result.violations.empty());
  EXPECT_EQ(fixture_.destroyed, 1);
}

TEST_F(FakeHostTest, KeepsCreateErrorsAndStatus) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  const RunResult result = host.Run("handmade.task", "fail-with-message");
  EXPECT_FALSE(result.created);
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_EQ(result.error, "create said no");
  EXPECT_EQ(fixture_.destroyed, 0);
}

TEST_F(FakeHostTest, CancelBeforeExecuteReachesTheHookAndIsCancelled) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  auto attempt = host.Start("handmade.task", "cancelled?");
  attempt->Cancel();
  EXPECT_EQ(fixture_.cancelled, 1);
  EXPECT_EQ(attempt->Execute().status, PETIT_CANCELLED);
  EXPECT_EQ(fixture_.destroyed, 1);
}

TEST_F(FakeHostTest, CancelAfterExecuteNeverReachesTheDestroyedInstance) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  auto attempt = host.Start("handmade.task", "{}");
  EXPECT_EQ(attempt->Execute().status, PETIT_OK);
  attempt->Cancel();
  EXPECT_EQ(fixture_.cancelled, 0);
  EXPECT_EQ(fixture_.destroyed, 1);
}

TEST_F(FakeHostTest, DroppingAnAttemptThatNeverRanDestroysItsInstance) {
  FakeHost host;
  ASSERT_TRUE(host.Init(&AbiInfo, &Init).ok());
  host.Start("handmade.task", "{}").reset();
  EXPECT_EQ(fixture_.destroyed, 1);
}

TEST_F(FakeHostTest, RecordsLogsWithoutAnAttemptOnTheHost) {
  FakeHost host;
  host.services().log(nullptr, PETIT_LOG_WARN, Str("from init"));
  const auto logs = host.host_logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].level, PETIT_LOG_WARN);
  EXPECT_EQ(logs[0].message, "from init");
}

}  // namespace
