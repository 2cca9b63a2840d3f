// petit/testing/mock_task_context.h: run one task of a plugin in a test, giving it inputs, config
// and parameters and capturing what it did (outputs, error, exit code, stdout/stderr, logs).
//
// For a petit::sdk::Task class, no plugin declaration is needed:
//
//   auto ctx = petit::testing::MockTaskContext::For<Upper>("upper");
//   ctx.Input("extract.text", "hello").Config("env", "prod").Params(R"({"key":"text"})");
//   petit::testing::RunResult r = ctx.Run();
//   EXPECT_TRUE(r.ok());
//   EXPECT_EQ(r.outputs.at("text"), "HELLO");
//
// For a plugin written against the C ABI (or a .so opened with dlsym), hand its entry points:
// MockTaskContext(&petit_plugin_abi_info, &petit_plugin_init, "noop").
//
// It wraps the SDK's FakeHost (petit/plugin_testing.hpp): the real host's handshake checks, the
// host services, and `violations` for ABI misuse. Header-only: it needs only petit::sdk.
//
// OWNERSHIP: the context owns its FakeHost and the plugin it initialised.
// THREADS: configure and Run from one thread; Start returns an Attempt whose Cancel may be called
// from another thread while Execute runs (see FakeHost).
#ifndef PETIT_TESTING_MOCK_TASK_CONTEXT_H_
#define PETIT_TESTING_MOCK_TASK_CONTEXT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "petit/plugin.h"
#include "petit/plugin.hpp"
#include "petit/plugin_testing.hpp"

namespace petit::testing {

class MockTaskContext {
 public:
  // A context for task type `type` of the plugin with these entry points. A refused handshake is
  // reported by init_status() and by every Run (status PETIT_ERROR, error naming it).
  MockTaskContext(petit_plugin_abi_info_fn abi_info, petit_plugin_init_fn init, std::string type)
      : host_(std::make_unique<FakeHost>()), type_(std::move(type)) {
    sdk::Result<const LoadedPlugin*> loaded = host_->Init(abi_info, init);
    if (!loaded.ok()) init_status_ = loaded.status();
  }

  // A context for the petit::sdk::Task class T, declared as task type `type` (flags as
  // sdk::TaskType's) of a one-type plugin made for the test.
  template <typename T>
  static MockTaskContext For(const char* type, const char* params_schema_json = nullptr,
                             uint32_t flags = 0) {
    OneTypePlugin<T>::Declare(type, params_schema_json, flags);
    return MockTaskContext(&OneTypePlugin<T>::AbiInfo, &OneTypePlugin<T>::Init, type);
  }

  MockTaskContext(MockTaskContext&&) noexcept = default;
  MockTaskContext& operator=(MockTaskContext&&) noexcept = default;

  const sdk::Status& init_status() const { return init_status_; }

  // An upstream output the task reads ("<task>.<key>"), a job config value, the parameters.
  MockTaskContext& Input(std::string key, std::string value) {
    host_->SetInput(std::move(key), std::move(value));
    return *this;
  }
  MockTaskContext& Config(std::string key, std::string value) {
    host_->SetConfig(std::move(key), std::move(value));
    return *this;
  }
  MockTaskContext& Params(std::string params_json) {
    params_json_ = std::move(params_json);
    return *this;
  }
  MockTaskContext& Attempt(uint32_t attempt) {
    options_.attempt = attempt;
    return *this;
  }
  MockTaskContext& TimeoutMs(int64_t timeout_ms) {
    options_.timeout_ms = timeout_ms;
    return *this;
  }
  MockTaskContext& Ids(std::string job, std::string run, std::string task) {
    options_.job_id = std::move(job);
    options_.run_id = std::move(run);
    options_.task_id = std::move(task);
    return *this;
  }

  // create, execute and destroy on this thread; what the attempt did.
  RunResult Run() const {
    if (!init_status_.ok()) {
      RunResult refused;
      refused.error = "the plugin was refused: " + init_status_.message();
      return refused;
    }
    return host_->Run(type_, params_json_, options_);
  }
  // An attempt created but not executed, to cancel it from another thread while it runs.
  std::unique_ptr<petit::testing::Attempt> Start() const {
    return host_->Start(type_, params_json_, options_);
  }

  FakeHost& host() { return *host_; }

 private:
  template <typename T>
  struct OneTypePlugin {
    static inline const char* name = nullptr;
    static inline const char* schema = nullptr;
    static inline uint32_t flags = 0;
    static void Declare(const char* type, const char* params_schema_json, uint32_t type_flags) {
      name = type;
      schema = params_schema_json;
      flags = type_flags;
    }
    static const petit_abi_info* AbiInfo() {
      static const petit_abi_info kInfo = {sizeof(petit_abi_info), PETIT_ABI_MAGIC,
                                           PETIT_ABI_MAJOR,        PETIT_ABI_MINOR,
                                           "petit-testing-mock",   "0"};
      return &kInfo;
    }
    static int32_t Init(const petit_init_args* args, petit_plugin_descriptor* out, char* error,
                        size_t error_size) {
      const sdk::TaskType<T> type(name, "a task under test", schema, flags);
      return sdk::internal::InitPlugin(args, out, error, error_size, type);
    }
  };

  std::unique_ptr<FakeHost> host_;
  std::string type_;
  std::string params_json_ = "{}";
  AttemptOptions options_;
  sdk::Status init_status_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTING_MOCK_TASK_CONTEXT_H_
