// petit/plugin_testing.hpp: an in-process fake of the Petit host, for unit-testing plugins
// (written in C or C++) without the real host.
//
// Link the plugin's code into the test and hand its entry points to a FakeHost:
//
//   petit::testing::FakeHost host;
//   auto plugin = host.Init(&petit_plugin_abi_info, &petit_plugin_init);
//   ASSERT_TRUE(plugin.ok()) << plugin.status().message();
//   petit::testing::RunResult r = host.Run("noop", "{}");
//   EXPECT_EQ(r.status, PETIT_OK);
//
// (Entry points found with dlsym in a loaded .so work the same way.) Init performs the handshake
// checks the real host performs and reports a refusal as a Status. Run performs create, execute
// and destroy on the calling thread and returns what the attempt did: outputs, error, captured
// stdout/stderr, exit code, logs, progress, and any misuse of the ABI the fake host noticed
// (`violations`, which a well-behaved plugin leaves empty). For cancellation, Start returns an
// Attempt whose Cancel may be called from any thread while Execute runs on another.
//
// The fake host never enforces timeouts: timeout_ms only reaches the plugin in petit_task_info, so
// a plugin's own timeout handling is tested deterministically.
//
// OWNERSHIP: the FakeHost owns every plugin it initialised (it calls their shutdown hooks when it
// is destroyed) and must outlive every Attempt it started.
// THREADS: Init, SetInput and SetConfig must not run concurrently with any other call; Start and
// Run only read the host, so several threads may call them at once (as host workers would).
// Attempt::Cancel and Attempt::WaitForOutput may be called from any thread; Attempt::Execute from
// one. The host services handed to plugins are thread-safe, as the ABI requires.
#ifndef PETIT_PLUGIN_TESTING_HPP_
#define PETIT_PLUGIN_TESTING_HPP_

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/plugin.h"
#include "petit/plugin.hpp"

namespace petit::testing {

struct LogRecord {
  int32_t level = PETIT_LOG_INFO;
  std::string message;
};

// One set_process call (since 1.2).
struct ProcessRecord {
  int64_t pid = 0;
  int64_t process_group = 0;
  uint64_t start_ticks = 0;
};

struct ProgressRecord {
  double fraction = 0;
  std::string message;
};

// Everything one attempt did, as the fake host recorded it.
struct RunResult {
  int32_t status = PETIT_ERROR;  // execute's status, or create's when create failed
  bool created = false;          // create returned PETIT_OK
  std::string error;             // the last set_error message
  std::map<std::string, std::string, std::less<>> outputs;  // keys as the plugin passed them
  std::string stdout_data;
  std::string stderr_data;
  std::optional<int32_t> exit_code;
  std::vector<ProcessRecord> processes;  // set_process calls, in order
  std::vector<LogRecord> logs;
  std::vector<ProgressRecord> progress;
  std::vector<std::string> violations;  // ABI misuse noticed by the fake host

  bool ok() const { return status == PETIT_OK; }
};

// How the fake host describes one attempt to create.
struct AttemptOptions {
  std::string job_id = "job";
  std::string run_id = "run-1";
  std::string task_id = "task";
  uint32_t attempt = 1;
  int64_t timeout_ms = 0;
};

struct FakeHostOptions {
  uint32_t abi_minor = PETIT_ABI_MINOR;  // the host ABI minor to claim (to test refusals)
  std::string host_version = "fake-host";
};

// A plugin the fake host accepted. Task types are the host's zero-filled copies.
struct LoadedPlugin {
  std::string name;
  std::string version;
  std::vector<petit_task_type> task_types;
  petit_plugin_descriptor descriptor{};
};

class FakeHost;

namespace internal {

// The fake host's petit_exec_ctx: one attempt's inputs and everything it records.
struct AttemptState {
  std::string job_id;
  std::string run_id;
  std::string task_id;
  std::string params_json;
  petit_task_info info{};
  // Copies taken at Start, so they stay put while plugin threads hold views into them.
  std::map<std::string, std::string, std::less<>> inputs;
  std::map<std::string, std::string, std::less<>> config;

  std::atomic<bool> cancelled{false};
  std::atomic<bool> over{false};  // execute has returned: outputs are refused from now on

  mutable std::mutex mu;
  std::condition_variable output_cv;  // notified on every emit_output
  RunResult record;                   // GUARDED_BY(mu)

  void Violation(std::string what) {
    std::lock_guard lock(mu);
    record.violations.push_back(std::move(what));
  }
};

inline AttemptState* State(petit_exec_ctx* ctx) { return reinterpret_cast<AttemptState*>(ctx); }
inline petit_exec_ctx* Ctx(AttemptState* state) { return reinterpret_cast<petit_exec_ctx*>(state); }

inline bool ValidStr(petit_str text) { return text.data != nullptr || text.size == 0; }
inline std::string ToString(petit_str text) {
  return text.size == 0 ? std::string() : std::string(text.data, text.size);
}

constexpr bool IsStatusCode(int32_t code) {
  return code >= PETIT_OK && code <= PETIT_INVALID_PARAMS;
}

}  // namespace internal

// One attempt from create to destroy. Created by FakeHost::Start, which has already run create.
class Attempt {
 public:
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;
  // Destroys the instance if Execute never ran (a test that stopped early; the real host always
  // executes a created instance before destroying it).
  ~Attempt() {
    if (instance_alive_) Destroy();
  }

  int32_t create_status() const { return create_status_; }
  bool created() const { return create_status_ == PETIT_OK; }

  // Runs execute, then destroy, on the calling thread; returns the record. Call at most once.
  // When create failed, returns its record without calling anything.
  RunResult Execute() {
    if (created() && !executed_) {
      executed_ = true;
      const int32_t status = type_->execute(instance_, ctx());
      {
        // After this, a concurrent Cancel no longer reaches the plugin: destroy may follow.
        std::lock_guard lock(lifecycle_mu_);
        running_ = false;
      }
      CheckStatus("execute", status);
      {
        std::lock_guard lock(state_->mu);
        state_->record.status = status;
        state_->over.store(true);
      }
      state_->output_cv.notify_all();
    }
    state_->over.store(true);
    if (instance_alive_) Destroy();
    std::lock_guard lock(state_->mu);
    return std::move(state_->record);
  }

  // Marks the attempt cancelled (is_cancelled returns 1 from now on) and calls the type's cancel
  // hook if it has one and the instance is between create and the end of execute. Thread-safe.
  void Cancel() {
    state_->cancelled.store(true);
    std::lock_guard lock(lifecycle_mu_);
    if (running_ && type_->cancel != nullptr) type_->cancel(instance_);
  }

  // Blocks until the captured stream contains `needle` (returns true), or execute has returned
  // or `limit` has passed without it (returns false). For synchronising a test with a running
  // task without sleeping.
  bool WaitForOutput(sdk::Stream stream, std::string_view needle,
                     std::chrono::milliseconds limit = std::chrono::seconds(60)) const {
    const auto found = [&] {
      const std::string& data =
          stream == sdk::Stream::kStdout ? state_->record.stdout_data : state_->record.stderr_data;
      return data.find(needle) != std::string::npos;
    };
    std::unique_lock lock(state_->mu);
    state_->output_cv.wait_for(lock, limit, [&] { return found() || state_->over.load(); });
    return found();
  }

  // A copy of what has been recorded so far.
  RunResult Snapshot() const {
    std::lock_guard lock(state_->mu);
    return state_->record;
  }

  petit_exec_ctx* ctx() const { return internal::Ctx(state_.get()); }

 private:
  friend class FakeHost;

  Attempt(std::unique_ptr<internal::AttemptState> state, const petit_task_type* type)
      : state_(std::move(state)), type_(type) {}

  void Create() {
    if (type_ == nullptr) {
      create_status_ = PETIT_ERROR;
      std::lock_guard lock(state_->mu);
      state_->record.status = PETIT_ERROR;
      state_->record.error = "fake host: unknown task type";
      return;
    }
    petit_task_instance_ptr instance = nullptr;
    create_status_ = type_->create(type_->type_state, &state_->info, ctx(), &instance);
    CheckStatus("create", create_status_);
    if (created()) {
      std::lock_guard lifecycle(lifecycle_mu_);
      instance_ = instance;
      instance_alive_ = true;
      running_ = true;
    }
    std::lock_guard lock(state_->mu);
    state_->record.status = create_status_;
    state_->record.created = created();
  }

  void Destroy() {
    {
      std::lock_guard lock(lifecycle_mu_);
      running_ = false;
    }
    instance_alive_ = false;
    if (type_->destroy != nullptr) type_->destroy(instance_);
  }

  // Every PETIT_* status is valid from create and from execute alike (PETIT_INVALID_PARAMS from
  // execute too, since ABI 1.1).
  void CheckStatus(const char* hook, int32_t status) {
    if (!internal::IsStatusCode(status)) {
      state_->Violation(std::string(hook) + " returned " + std::to_string(status) +
                        ", which is not a PETIT_* status");
      return;
    }
    std::lock_guard lock(state_->mu);
    if (status != PETIT_OK && state_->record.error.empty()) {
      state_->record.violations.push_back(std::string(hook) + " returned " +
                                          std::to_string(status) + " without calling set_error");
    }
  }

  std::unique_ptr<internal::AttemptState> state_;
  const petit_task_type* type_;
  int32_t create_status_ = PETIT_ERROR;
  bool executed_ = false;        // only the Execute thread touches it
  bool instance_alive_ = false;  // set by Create, cleared by Destroy (Execute thread)

  std::mutex lifecycle_mu_;  // settles Cancel against destroy; taken before state_->mu
  petit_task_instance_ptr instance_ = nullptr;  // GUARDED_BY(lifecycle_mu_) once Execute may run
  bool running_ = false;                        // GUARDED_BY(lifecycle_mu_)
};

class FakeHost {
 public:
  explicit FakeHost(FakeHostOptions options = {}) : options_(std::move(options)) {
    // A fake host claiming an older minor offers the table as that minor had it.
    services_.struct_size = options_.abi_minor >= 2
                                ? sizeof(petit_host_services)
                                : static_cast<uint32_t>(offsetof(petit_host_services, set_process));
    services_.log = &Log;
    services_.get_input = &GetInput;
    services_.set_output = &SetOutput;
    services_.get_config = &GetConfig;
    services_.is_cancelled = &IsCancelled;
    services_.report_progress = &ReportProgress;
    services_.set_error = &SetError;
    services_.emit_output = &EmitOutput;
    services_.set_exit_code = &SetExitCode;
    if (options_.abi_minor >= 2) services_.set_process = &SetProcess;
    CurrentHost().store(this);
  }

  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // Calls each accepted plugin's shutdown hook, most recent first.
  ~FakeHost() {
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
      if ((*it)->descriptor.shutdown != nullptr) {
        (*it)->descriptor.shutdown((*it)->descriptor.plugin_state);
      }
    }
    FakeHost* self = this;
    CurrentHost().compare_exchange_strong(self, nullptr);
  }

  // The real host's handshake: checks the ABI block (magic, struct size, equal major, plugin minor
  // not above the host's, valid name), calls init, then checks the descriptor and each task type.
  // Every refusal names the values involved.
  sdk::Result<const LoadedPlugin*> Init(petit_plugin_abi_info_fn abi_info_fn,
                                        petit_plugin_init_fn init_fn) {
    if (abi_info_fn == nullptr || init_fn == nullptr) {
      return sdk::Status::Error("missing entry point");
    }
    const petit_abi_info* info = abi_info_fn();
    if (info == nullptr) return sdk::Status::Error("petit_plugin_abi_info returned NULL");
    constexpr size_t kInfoSize10 = offsetof(petit_abi_info, plugin_version) + sizeof(const char*);
    if (info->struct_size < kInfoSize10) {
      return sdk::Status::Error("ABI block is " + std::to_string(info->struct_size) +
                                " bytes, expected at least " + std::to_string(kInfoSize10));
    }
    if (info->magic != PETIT_ABI_MAGIC) {
      char text[96];
      std::snprintf(text, sizeof text, "bad magic 0x%08X (expected 0x%08X)", info->magic,
                    PETIT_ABI_MAGIC);
      return sdk::Status::Error(text);
    }
    if (info->abi_major != PETIT_ABI_MAJOR) {
      return sdk::Status::Error("plugin ABI major " + std::to_string(info->abi_major) +
                                " differs from host ABI major " + std::to_string(PETIT_ABI_MAJOR));
    }
    if (info->abi_minor > options_.abi_minor) {
      return sdk::Status::Error("plugin ABI " + Version(info->abi_major, info->abi_minor) +
                                " is newer than host ABI " +
                                Version(PETIT_ABI_MAJOR, options_.abi_minor));
    }
    if (!sdk::internal::IsValidName(info->plugin_name)) {
      return sdk::Status::Error("invalid plugin name (expected 1-128 characters of [a-z0-9_.-])");
    }
    for (const auto& loaded : plugins_) {
      if (loaded->name == info->plugin_name) {
        return sdk::Status::Error("plugin '" + loaded->name + "' is already loaded");
      }
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->name = info->plugin_name;
    plugin->version = info->plugin_version != nullptr ? info->plugin_version : "";

    petit_init_args args{};
    args.struct_size = sizeof(petit_init_args);
    args.host_abi_major = PETIT_ABI_MAJOR;
    args.host_abi_minor = options_.abi_minor;
    args.host = &services_;
    args.host_version = {options_.host_version.data(), options_.host_version.size()};
    petit_plugin_descriptor descriptor{};
    descriptor.struct_size = sizeof(petit_plugin_descriptor);
    char error[1024] = {};
    const int32_t status = init_fn(&args, &descriptor, error, sizeof error);
    if (status != PETIT_OK) {
      error[sizeof error - 1] = '\0';
      return sdk::Status::Error("plugin '" + plugin->name + "' refused init (status " +
                                std::to_string(status) + "): " + error);
    }
    plugin->descriptor = descriptor;
    if (std::string problem = CheckDescriptor(descriptor, *plugin); !problem.empty()) {
      if (descriptor.shutdown != nullptr) descriptor.shutdown(descriptor.plugin_state);
      return sdk::Status::Error("plugin '" + plugin->name + "': " + problem);
    }
    plugins_.push_back(std::move(plugin));
    return static_cast<const LoadedPlugin*>(plugins_.back().get());
  }

  // Namespaced upstream outputs ("<task_id>.<key>") and job config values that later attempts
  // see. Each attempt copies them when it starts.
  void SetInput(std::string key, std::string value) { inputs_[std::move(key)] = std::move(value); }
  void SetConfig(std::string key, std::string value) { config_[std::move(key)] = std::move(value); }

  // Creates an attempt of `type` (runs create on this thread) without executing it.
  std::unique_ptr<Attempt> Start(std::string_view type, std::string_view params_json,
                                 AttemptOptions options = {}) {
    auto state = std::make_unique<internal::AttemptState>();
    state->job_id = std::move(options.job_id);
    state->run_id = std::move(options.run_id);
    state->task_id = std::move(options.task_id);
    state->params_json = std::string(params_json);
    state->inputs = inputs_;
    state->config = config_;
    petit_task_info& info = state->info;
    info.struct_size = sizeof(petit_task_info);
    info.attempt = options.attempt;
    info.job_id = View(state->job_id);
    info.run_id = View(state->run_id);
    info.task_id = View(state->task_id);
    info.params_json = View(state->params_json);
    info.timeout_ms = options.timeout_ms;
    std::unique_ptr<Attempt> attempt(new Attempt(std::move(state), FindTaskType(type)));
    attempt->Create();
    if (attempt->type_ == nullptr) {
      std::lock_guard lock(attempt->state_->mu);
      attempt->state_->record.error += " '" + std::string(type) + "'";
    }
    return attempt;
  }

  // create, execute and destroy on the calling thread.
  RunResult Run(std::string_view type, std::string_view params_json, AttemptOptions options = {}) {
    return Start(type, params_json, std::move(options))->Execute();
  }

  // The host's copy of a task type, or nullptr.
  const petit_task_type* FindTaskType(std::string_view name) const {
    for (const auto& plugin : plugins_) {
      for (const auto& type : plugin->task_types) {
        if (name == type.name) return &type;
      }
    }
    return nullptr;
  }

  const petit_host_services& services() const { return services_; }

  // Log lines written with a NULL ctx (during init, for instance), and misuse of services with a
  // NULL ctx.
  std::vector<LogRecord> host_logs() const {
    std::lock_guard lock(mu_);
    return host_logs_;
  }
  std::vector<std::string> host_violations() const {
    std::lock_guard lock(mu_);
    return host_violations_;
  }

 private:
  static std::string Version(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
  }
  static petit_str View(const std::string& text) { return {text.data(), text.size()}; }

  std::string CheckDescriptor(const petit_plugin_descriptor& descriptor, LoadedPlugin& plugin) {
    if (descriptor.struct_size < sdk::internal::kDescriptorSize10) {
      return "descriptor is " + std::to_string(descriptor.struct_size) + " bytes, expected " +
             std::to_string(sdk::internal::kDescriptorSize10);
    }
    if (descriptor.task_type_count > 0 && descriptor.task_types == nullptr) {
      return "descriptor declares " + std::to_string(descriptor.task_type_count) +
             " task types but task_types is NULL";
    }
    for (uint32_t i = 0; i < descriptor.task_type_count; ++i) {
      const petit_task_type* type = descriptor.task_types[i];
      const std::string where = "task type #" + std::to_string(i);
      if (type == nullptr) return where + " is NULL";
      if (type->struct_size < sizeof(petit_task_type)) {
        return where + " is " + std::to_string(type->struct_size) + " bytes, expected " +
               std::to_string(sizeof(petit_task_type));
      }
      if (!sdk::internal::IsValidName(type->name)) {
        return where + " has an invalid name (expected 1-128 characters of [a-z0-9_.-])";
      }
      if (type->summary == nullptr)
        return "task type '" + std::string(type->name) + "' has no summary";
      if (type->create == nullptr || type->execute == nullptr) {
        return "task type '" + std::string(type->name) + "' lacks create or execute";
      }
      if (type->params_schema_json != nullptr) {
        sdk::Result<sdk::Json> schema = sdk::Json::Parse(type->params_schema_json);
        if (!schema.ok()) {
          return "task type '" + std::string(type->name) +
                 "' has an invalid params schema: " + schema.status().message();
        }
      }
      if (FindTaskType(type->name) != nullptr) {
        return "task type '" + std::string(type->name) + "' is already provided";
      }
      for (const auto& earlier : plugin.task_types) {
        if (std::strcmp(earlier.name, type->name) == 0) {
          return "task type '" + std::string(type->name) + "' is declared twice";
        }
      }
      petit_task_type copy{};
      std::memcpy(&copy, type, sizeof copy);
      copy.struct_size = sizeof copy;
      plugin.task_types.push_back(copy);
    }
    return {};
  }

  // Host services. Each resolves the attempt from ctx; a NULL ctx is recorded as a violation on
  // the host that was constructed last (the services table is shared by design).
  static std::atomic<FakeHost*>& CurrentHost() {
    static std::atomic<FakeHost*> host{nullptr};
    return host;
  }
  static void HostViolation(std::string what) {
    if (FakeHost* host = CurrentHost().load(); host != nullptr) {
      std::lock_guard lock(host->mu_);
      host->host_violations_.push_back(std::move(what));
    }
  }
  static internal::AttemptState* Resolve(petit_exec_ctx* ctx, const char* service) {
    if (ctx == nullptr) HostViolation(std::string(service) + " called with a NULL ctx");
    return internal::State(ctx);
  }

  static void Log(petit_exec_ctx* ctx, int32_t level, petit_str message) {
    if (ctx == nullptr) {
      if (FakeHost* host = CurrentHost().load(); host != nullptr) {
        std::lock_guard lock(host->mu_);
        host->host_logs_.push_back({level, internal::ToString(message)});
      }
      return;
    }
    internal::AttemptState* state = internal::State(ctx);
    if (level < PETIT_LOG_DEBUG || level > PETIT_LOG_ERROR) {
      state->Violation("log with level " + std::to_string(level));
    }
    if (!internal::ValidStr(message)) state->Violation("log with a NULL message of nonzero size");
    std::lock_guard lock(state->mu);
    state->record.logs.push_back({level, internal::ToString(message)});
  }

  static int32_t Lookup(const std::map<std::string, std::string, std::less<>>& map, petit_str key,
                        petit_str* out_value) {
    const auto it = map.find(std::string_view(key.data, key.size));
    if (it == map.end()) return 0;
    *out_value = View(it->second);
    return 1;
  }
  static int32_t GetInput(petit_exec_ctx* ctx, petit_str key, petit_str* out_value) {
    internal::AttemptState* state = Resolve(ctx, "get_input");
    if (state == nullptr || out_value == nullptr || !internal::ValidStr(key)) return 0;
    return Lookup(state->inputs, key, out_value);
  }
  static int32_t GetConfig(petit_exec_ctx* ctx, petit_str key, petit_str* out_value) {
    internal::AttemptState* state = Resolve(ctx, "get_config");
    if (state == nullptr || out_value == nullptr || !internal::ValidStr(key)) return 0;
    return Lookup(state->config, key, out_value);
  }
  static int32_t SetOutput(petit_exec_ctx* ctx, petit_str key, petit_str value) {
    internal::AttemptState* state = Resolve(ctx, "set_output");
    if (state == nullptr || key.size == 0 || state->over.load()) return PETIT_ERROR;
    if (!internal::ValidStr(key) || !internal::ValidStr(value)) {
      state->Violation("set_output with a NULL string of nonzero size");
      return PETIT_ERROR;
    }
    std::lock_guard lock(state->mu);
    state->record.outputs[internal::ToString(key)] = internal::ToString(value);
    return PETIT_OK;
  }
  static int32_t IsCancelled(petit_exec_ctx* ctx) {
    internal::AttemptState* state = Resolve(ctx, "is_cancelled");
    return state != nullptr && state->cancelled.load() ? 1 : 0;
  }
  static void ReportProgress(petit_exec_ctx* ctx, double fraction, petit_str message) {
    internal::AttemptState* state = Resolve(ctx, "report_progress");
    if (state == nullptr) return;
    if (!(fraction >= 0 && fraction <= 1)) {
      state->Violation("report_progress with fraction " + std::to_string(fraction));
    }
    std::lock_guard lock(state->mu);
    state->record.progress.push_back({fraction, internal::ToString(message)});
  }
  static void SetError(petit_exec_ctx* ctx, petit_str message) {
    internal::AttemptState* state = Resolve(ctx, "set_error");
    if (state == nullptr) return;
    std::lock_guard lock(state->mu);
    state->record.error = internal::ToString(message);
  }
  static void EmitOutput(petit_exec_ctx* ctx, int32_t stream, petit_str data) {
    internal::AttemptState* state = Resolve(ctx, "emit_output");
    if (state == nullptr) return;
    if (stream != PETIT_STREAM_STDOUT && stream != PETIT_STREAM_STDERR) {
      state->Violation("emit_output to stream " + std::to_string(stream));
      return;
    }
    if (!internal::ValidStr(data)) {
      state->Violation("emit_output with NULL data of nonzero size");
      return;
    }
    {
      std::lock_guard lock(state->mu);
      std::string& target =
          stream == PETIT_STREAM_STDOUT ? state->record.stdout_data : state->record.stderr_data;
      target.append(data.data == nullptr ? "" : data.data, data.size);
    }
    state->output_cv.notify_all();
  }
  static void SetExitCode(petit_exec_ctx* ctx, int32_t exit_code) {
    internal::AttemptState* state = Resolve(ctx, "set_exit_code");
    if (state == nullptr) return;
    std::lock_guard lock(state->mu);
    state->record.exit_code = exit_code;
  }
  static void SetProcess(petit_exec_ctx* ctx, int64_t pid, int64_t process_group,
                         uint64_t start_ticks) {
    internal::AttemptState* state = Resolve(ctx, "set_process");
    if (state == nullptr) return;
    if (pid <= 0 || process_group <= 0) {
      state->Violation("set_process with pid " + std::to_string(pid) + ", process group " +
                       std::to_string(process_group));
      return;
    }
    std::lock_guard lock(state->mu);
    state->record.processes.push_back(ProcessRecord{pid, process_group, start_ticks});
  }

  FakeHostOptions options_;
  petit_host_services services_{};
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::map<std::string, std::string, std::less<>> inputs_;
  std::map<std::string, std::string, std::less<>> config_;

  mutable std::mutex mu_;
  std::vector<LogRecord> host_logs_;          // GUARDED_BY(mu_)
  std::vector<std::string> host_violations_;  // GUARDED_BY(mu_)
};

}  // namespace petit::testing

#endif  // PETIT_PLUGIN_TESTING_HPP_
