// petit/plugin.hpp: a header-only C++17 layer over petit/plugin.h for writing task-type plugins.
//
// A plugin written with it is a set of classes derived from petit::sdk::Task and one line that
// declares the plugin:
//
//   class Noop final : public petit::sdk::Task {
//    public:
//     petit::sdk::Status Execute(petit::sdk::Context&) override { return {}; }
//   };
//   PETIT_PLUGIN("demo", "1.0.0",
//                petit::sdk::TaskType<Noop>("demo.noop", "Does nothing", nullptr,
//                                           PETIT_TASK_IDEMPOTENT));
//
// PETIT_PLUGIN defines the two exported entry points and builds the petit_task_type tables; every
// call from the host goes through trampolines that catch every exception (an exception becomes
// PETIT_ERROR with what() as the error message) so nothing but C types ever crosses the ABI.
//
// OWNERSHIP: the host owns the attempt (petit_exec_ctx) and everything it hands over; the SDK owns
// each Task instance (created by the host's create call, deleted by its destroy call).
// LIFETIME: string views the SDK hands out (ids, params, inputs, config) stay valid until the task
// instance is destroyed, unless stated otherwise.
// THREADS: Create and Execute run on host worker threads, several instances at once unless the type
// is PETIT_TASK_SERIAL; Cancel may run on another thread while Execute runs. A Context may be
// copied to and used from threads the task starts, until Execute returns.
//
// Status and Result live in petit/plugin_status.hpp and the JSON reader in petit/plugin_json.hpp;
// this header includes both, so plugin code includes this one alone.
//
// Depends only on the C++17 standard library and petit/plugin.h; compiles as C++17 and C++20.
#ifndef PETIT_PLUGIN_HPP_
#define PETIT_PLUGIN_HPP_

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "petit/plugin.h"
#include "petit/plugin_json.hpp"
#include "petit/plugin_status.hpp"

namespace petit::sdk {

// ---------------------------------------------------------------------------------------------
// Context

enum class LogLevel : int32_t {
  kDebug = PETIT_LOG_DEBUG,
  kInfo = PETIT_LOG_INFO,
  kWarn = PETIT_LOG_WARN,
  kError = PETIT_LOG_ERROR,
};

enum class Stream : int32_t {
  kStdout = PETIT_STREAM_STDOUT,
  kStderr = PETIT_STREAM_STDERR,
};

// What the host says about the attempt. Views borrow host memory and `params` is never null; all
// stay valid until the task is destroyed. Immutable; read from any thread.
struct TaskInfo {
  std::string_view job_id;
  std::string_view run_id;
  std::string_view task_id;
  uint32_t attempt = 0;                  // 1 for the first attempt
  std::chrono::milliseconds timeout{0};  // per attempt; 0 for none
  const Json* params = nullptr;          // always an object
};

class Context;
class Task;
struct CreateArgs;

namespace internal {

// One per task type and plugin init. OWNERSHIP: owned by the plugin state built at init.
// LIFETIME: until the plugin's shutdown hook. THREADS: immutable after init.
struct TypeState {
  const petit_host_services* host = nullptr;
  const char* name = nullptr;
};

// What a task instance knows about its attempt; a Context is a view of it.
struct Binding {
  const TypeState* type = nullptr;
  petit_exec_ctx* ctx = nullptr;
  TaskInfo info;
  std::unique_ptr<Json> owned_params;  // null when params were "{}": info.params is shared then
};

template <typename T>
struct TaskTrampolines;

inline petit_str ToStr(std::string_view text) noexcept { return {text.data(), text.size()}; }
inline std::string_view FromStr(petit_str text) noexcept {
  return text.size == 0 ? std::string_view() : std::string_view(text.data, text.size);
}

}  // namespace internal

// The attempt as a plugin sees it: task info plus the host services. A cheap handle (one pointer),
// copyable; copies may be used from threads the task starts, until the task is destroyed. The
// Context given to Create is valid only during Create.
class Context {
 public:
  const TaskInfo& info() const noexcept { return binding_->info; }
  const Json& params() const noexcept { return *binding_->info.params; }

  // An upstream output by its namespaced key, "<task_id>.<key>". The view stays valid until the
  // task is destroyed.
  std::optional<std::string_view> Input(std::string_view key) const {
    petit_str value{nullptr, 0};
    if (host().get_input(ctx(), internal::ToStr(key), &value) != 1) return std::nullopt;
    return internal::FromStr(value);
  }
  // A job config value (scalars as their text, maps and lists as JSON). Valid until destroy.
  std::optional<std::string_view> Config(std::string_view key) const {
    petit_str value{nullptr, 0};
    if (host().get_config(ctx(), internal::ToStr(key), &value) != 1) return std::nullopt;
    return internal::FromStr(value);
  }
  // Records an output, under "<this task's id>.<key>" for downstream tasks. Copied.
  Status SetOutput(std::string_view key, std::string_view value) const {
    if (host().set_output(ctx(), internal::ToStr(key), internal::ToStr(value)) == PETIT_OK) {
      return Status::Ok();
    }
    return Status::Error("the host refused output '" + std::string(key) +
                         "' (empty key, or the attempt is over)");
  }
  // True once the attempt has been cancelled or has timed out. Cheap.
  bool Cancelled() const { return host().is_cancelled(ctx()) != 0; }
  void Log(LogLevel level, std::string_view message) const {
    host().log(ctx(), static_cast<int32_t>(level), internal::ToStr(message));
  }
  // fraction in [0, 1].
  void Progress(double fraction, std::string_view message = {}) const {
    host().report_progress(ctx(), fraction, internal::ToStr(message));
  }
  // Appends to the attempt's captured stdout or stderr; the host streams and caps it. Copied.
  void Output(Stream stream, std::string_view data) const {
    host().emit_output(ctx(), static_cast<int32_t>(stream), internal::ToStr(data));
  }
  void SetExitCode(int32_t exit_code) const { host().set_exit_code(ctx(), exit_code); }
  // Tells the host of a process the attempt started (plugin.h, set_process). A host older than
  // 1.2 has no such service: then nothing happens and false is returned.
  bool SetProcess(int64_t pid, int64_t process_group, uint64_t start_ticks) const {
    const petit_host_services& services = host();
    if (services.struct_size <
            offsetof(petit_host_services, set_process) + sizeof(void (*)(void)) ||
        services.set_process == nullptr) {
      return false;
    }
    services.set_process(ctx(), pid, process_group, start_ticks);
    return true;
  }

  // The raw ABI handles, for services this wrapper does not cover.
  petit_exec_ctx* ctx() const noexcept { return binding_->ctx; }
  const petit_host_services& host() const noexcept { return *binding_->type->host; }

 private:
  template <typename T>
  friend struct internal::TaskTrampolines;
  friend class Task;
  explicit Context(const internal::Binding* binding) noexcept : binding_(binding) {}

  const internal::Binding* binding_;
};

// What a task type's Create receives. References are valid during Create only; keep copies of
// what you need (views into info and params may be kept: they live until the task is destroyed).
struct CreateArgs {
  const TaskInfo& info;
  const Json& params;  // same as info.params; an object
  const Context& context;
};

// Base class of every task. One instance serves one attempt: the SDK creates it when the host
// calls create, runs Execute once, and deletes it when the host calls destroy.
//
// A task type T derives from Task and either
//  - provides `static petit::sdk::Result<std::unique_ptr<T>> Create(const CreateArgs&)`, which
//    checks the parameters (return Status::InvalidParams on bad ones); or
//  - is default-constructible and has no Create, meaning it takes no parameters (the SDK then
//    refuses any params other than {} without parsing "{}").
//
// THREADS: Execute runs on a host worker thread; Cancel may run concurrently with it on another
// thread, and before Execute starts or after it returns, so it must be thread-safe and quick.
// Exceptions thrown by Create, Execute or Cancel are caught at the ABI boundary.
class Task {
 public:
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  virtual ~Task() = default;

  // Runs the attempt to completion.
  virtual Status Execute(Context& context) = 0;
  // Asks a running Execute to stop soon. The host only wires this hook when T overrides it.
  virtual void Cancel() {}

 protected:
  // The attempt this instance serves, for code outside Execute (Cancel, helper threads). Valid
  // from the end of Create until the instance is destroyed; not inside Create or the constructor.
  Context context() const noexcept { return Context(&binding_); }

 private:
  template <typename T>
  friend struct internal::TaskTrampolines;
  internal::Binding binding_;
};

namespace internal {

// Plugin and task type names: 1 to kMaxNameLength characters of [a-z0-9_.-].
inline constexpr size_t kMaxNameLength = 128;

constexpr bool IsValidName(const char* name) noexcept {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    if (static_cast<size_t>(p - name) >= kMaxNameLength) return false;
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The prefix of each ABI 1.0 struct; a host may hand over longer ones (later minors), never
// shorter.
constexpr size_t kTaskInfoSize10 = offsetof(petit_task_info, timeout_ms) + sizeof(int64_t);
constexpr size_t kHostServicesSize10 =
    offsetof(petit_host_services, set_exit_code) + sizeof(void (*)(void));
constexpr size_t kInitArgsSize10 = offsetof(petit_init_args, host_version) + sizeof(petit_str);
constexpr size_t kDescriptorSize10 = offsetof(petit_plugin_descriptor, shutdown) + sizeof(void*);

template <typename T, typename = void>
struct HasCreate : std::false_type {};
template <typename T>
struct HasCreate<T, std::void_t<decltype(T::Create(std::declval<const CreateArgs&>()))>>
    : std::true_type {};

// Pointers to virtual members compare equal whenever they name the same slot, so the override is
// detected from the declaring class in the member pointer's type instead.
template <typename T>
constexpr bool kOverridesCancel = !std::is_same_v<decltype(&T::Cancel), void (Task::*)()>;

// params_json is "{}" for most tasks; recognising it spares a parse and an allocation.
inline bool IsEmptyObjectText(std::string_view text) noexcept {
  if (text.size() == 2) return text[0] == '{' && text[1] == '}';
  size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
  };
  skip();
  if (i == text.size()) return true;  // an absent parameter block means no parameters
  if (text[i++] != '{') return false;
  skip();
  if (i == text.size() || text[i++] != '}') return false;
  skip();
  return i == text.size();
}

inline const Json& EmptyObject() {
  static const Json kEmpty = Json::Object();
  return kEmpty;
}

// Sets the error message and returns the ABI code. Must not throw: it runs inside catch blocks.
inline int32_t Report(const TypeState& type, petit_exec_ctx* ctx, int32_t code,
                      std::string_view message) noexcept {
  type.host->set_error(ctx, ToStr(message));
  return code;
}

// Every StatusCode is the ABI code of the same meaning, from create and from execute alike
// (InvalidParams included, since ABI 1.1), so the code crosses unchanged.
inline int32_t ReportStatus(const TypeState& type, petit_exec_ctx* ctx,
                            const Status& status) noexcept {
  std::string_view message = status.message();
  if (message.empty()) message = StatusCodeName(status.code());
  return Report(type, ctx, status.abi_code(), message);
}

inline int32_t ReportException(const TypeState& type, petit_exec_ctx* ctx, const char* hook,
                               const char* what) noexcept {
  char line[512];
  std::snprintf(line, sizeof line, "task type '%s': %s threw: %s", type.name, hook, what);
  type.host->log(ctx, PETIT_LOG_ERROR, ToStr(line));
  return Report(type, ctx, PETIT_ERROR, what);
}

inline constexpr const char* kUnknownException =
    "unknown exception (not derived from std::exception)";

// Fills binding.info from the host's struct; parses params unless they are "{}".
inline Status BindInfo(const petit_task_info& raw, Binding& binding) {
  if (raw.struct_size < kTaskInfoSize10) {
    return Status::Error("the host passed a petit_task_info of " + std::to_string(raw.struct_size) +
                         " bytes; ABI 1.0 needs at least " + std::to_string(kTaskInfoSize10));
  }
  TaskInfo& info = binding.info;
  info.job_id = FromStr(raw.job_id);
  info.run_id = FromStr(raw.run_id);
  info.task_id = FromStr(raw.task_id);
  info.attempt = raw.attempt;
  info.timeout = std::chrono::milliseconds(raw.timeout_ms);
  const std::string_view params = FromStr(raw.params_json);
  if (IsEmptyObjectText(params)) {
    info.params = &EmptyObject();
    return Status::Ok();
  }
  Result<Json> parsed = Json::Parse(params);
  if (!parsed.ok()) return Status::InvalidParams("params: " + parsed.status().message());
  if (!parsed->is_object()) {
    return Status::InvalidParams("params must be a JSON object, not " +
                                 std::string(Json::TypeName(parsed->type())));
  }
  binding.owned_params = std::make_unique<Json>(std::move(parsed).value());
  info.params = binding.owned_params.get();
  return Status::Ok();
}

// The C hooks of task type T. Each catches everything: no exception crosses the ABI.
template <typename T>
struct TaskTrampolines {
  static int32_t Create(petit_type_state_ptr type_state, const petit_task_info* raw_info,
                        petit_exec_ctx* ctx, petit_task_instance_ptr* out_instance) noexcept {
    const auto& type = *static_cast<const TypeState*>(type_state);
    if (raw_info == nullptr || out_instance == nullptr) {
      return Report(type, ctx, PETIT_ERROR, "create called with a null argument");
    }
    try {
      Binding binding;
      binding.type = &type;
      binding.ctx = ctx;
      if (Status bound = BindInfo(*raw_info, binding); !bound.ok()) {
        return ReportStatus(type, ctx, bound);
      }
      std::unique_ptr<T> task;
      if constexpr (HasCreate<T>::value) {
        const Context context(&binding);
        const CreateArgs args{binding.info, *binding.info.params, context};
        Result<std::unique_ptr<T>> created = T::Create(args);
        if (!created.ok()) return ReportStatus(type, ctx, created.status());
        task = std::move(created).value();
        if (task == nullptr) return Report(type, ctx, PETIT_ERROR, "Create returned no instance");
      } else {
        if (Status keys = binding.info.params->CheckKeys({}); !keys.ok()) {
          return ReportStatus(type, ctx, keys);
        }
        task = std::make_unique<T>();
      }
      static_cast<Task&>(*task).binding_ = std::move(binding);
      *out_instance = task.release();
      return PETIT_OK;
    } catch (const std::exception& e) {
      return ReportException(type, ctx, "create", e.what());
    } catch (...) {
      return ReportException(type, ctx, "create", kUnknownException);
    }
  }

  static int32_t Execute(petit_task_instance_ptr instance, petit_exec_ctx* ctx) noexcept {
    T* task = static_cast<T*>(instance);
    const Binding& binding = static_cast<Task&>(*task).binding_;
    try {
      Context context(&binding);
      const Status status = task->Execute(context);
      if (status.ok()) return PETIT_OK;
      return ReportStatus(*binding.type, ctx, status);
    } catch (const std::exception& e) {
      return ReportException(*binding.type, ctx, "execute", e.what());
    } catch (...) {
      return ReportException(*binding.type, ctx, "execute", kUnknownException);
    }
  }

  static void Cancel(petit_task_instance_ptr instance) noexcept {
    T* task = static_cast<T*>(instance);
    const Binding& binding = static_cast<Task&>(*task).binding_;
    try {
      task->Cancel();
    } catch (const std::exception& e) {
      char line[512];
      std::snprintf(line, sizeof line, "task type '%s': cancel threw: %s", binding.type->name,
                    e.what());
      binding.type->host->log(binding.ctx, PETIT_LOG_ERROR, ToStr(line));
    } catch (...) {
      binding.type->host->log(binding.ctx, PETIT_LOG_ERROR, ToStr("cancel threw"));
    }
  }

  static void Destroy(petit_task_instance_ptr instance) noexcept {
    delete static_cast<T*>(instance);
  }
};

}  // namespace internal

// Declares one task type of class T for PETIT_PLUGIN. name and summary must be NUL-terminated and
// outlive the plugin (string literals do); params_schema_json is a JSON Schema or nullptr.
// flags: PETIT_TASK_CANCELLABLE, PETIT_TASK_SERIAL, PETIT_TASK_IDEMPOTENT.
template <typename T>
class TaskType {
  static_assert(std::is_base_of_v<Task, T>,
                "a task type's class must derive from petit::sdk::Task");
  static_assert(internal::HasCreate<T>::value || std::is_default_constructible_v<T>,
                "a task class needs static Result<std::unique_ptr<T>> Create(const CreateArgs&) "
                "or a default constructor (then it takes no parameters)");

 public:
  constexpr TaskType(const char* name, const char* summary,
                     const char* params_schema_json = nullptr, uint32_t flags = 0) noexcept
      : name_(name), summary_(summary), params_schema_json_(params_schema_json), flags_(flags) {}

  const char* name() const noexcept { return name_; }

  // The ABI struct for this type; type_state must outlive it.
  petit_task_type Describe(internal::TypeState* type_state) const noexcept {
    if constexpr (internal::HasCreate<T>::value) {
      static_assert(std::is_convertible_v<decltype(T::Create(std::declval<const CreateArgs&>())),
                                          Result<std::unique_ptr<T>>>,
                    "T::Create must return petit::sdk::Result<std::unique_ptr<T>>");
    }
    petit_task_type type{};
    type.struct_size = sizeof(petit_task_type);
    type.flags = flags_;
    type.name = name_;
    type.summary = summary_;
    type.params_schema_json = params_schema_json_;
    type.type_state = type_state;
    type.create = &internal::TaskTrampolines<T>::Create;
    type.execute = &internal::TaskTrampolines<T>::Execute;
    type.cancel = internal::kOverridesCancel<T> ? &internal::TaskTrampolines<T>::Cancel : nullptr;
    type.destroy = &internal::TaskTrampolines<T>::Destroy;
    return type;
  }

 private:
  const char* name_;
  const char* summary_;
  const char* params_schema_json_;
  uint32_t flags_;
};

namespace internal {

// Everything one successful init hands to the host. OWNERSHIP: allocated by init, deleted by the
// shutdown hook. THREADS: immutable after init.
template <size_t N>
struct PluginState {
  std::array<TypeState, N> states{};
  std::array<petit_task_type, N> types{};
  std::array<const petit_task_type*, N> type_pointers{};
};

template <size_t N>
void ShutdownPlugin(petit_plugin_state_ptr state) noexcept {
  delete static_cast<PluginState<N>*>(state);
}

inline int32_t Refuse(char* error, size_t error_size, std::string_view reason) noexcept {
  if (error != nullptr && error_size > 0) {
    const size_t size = reason.size() < error_size - 1 ? reason.size() : error_size - 1;
    std::memcpy(error, reason.data(), size);
    error[size] = '\0';
  }
  return PETIT_ERROR;
}

// A function rather than an inline comparison: were PETIT_ABI_MINOR 0 (as in ABI 1.0),
// `minor < 0` would trip -Wtype-limits.
inline bool IsOlder(uint32_t minor, uint32_t than) noexcept { return minor < than; }

inline std::string CheckHost(const petit_init_args* args, const petit_plugin_descriptor* out) {
  if (args == nullptr || out == nullptr) return "init called with a null argument";
  if (args->struct_size < kInitArgsSize10) {
    return "petit_init_args is " + std::to_string(args->struct_size) + " bytes; ABI 1.0 needs " +
           std::to_string(kInitArgsSize10);
  }
  if (args->host_abi_major != PETIT_ABI_MAJOR || IsOlder(args->host_abi_minor, PETIT_ABI_MINOR)) {
    return "host ABI " + std::to_string(args->host_abi_major) + "." +
           std::to_string(args->host_abi_minor) + " cannot run a plugin built for ABI " +
           std::to_string(PETIT_ABI_MAJOR) + "." + std::to_string(PETIT_ABI_MINOR);
  }
  const petit_host_services* host = args->host;
  if (host == nullptr) return "the host passed no services table";
  if (host->struct_size < kHostServicesSize10) {
    return "petit_host_services is " + std::to_string(host->struct_size) +
           " bytes; ABI 1.0 needs " + std::to_string(kHostServicesSize10);
  }
  if (host->log == nullptr || host->get_input == nullptr || host->set_output == nullptr ||
      host->get_config == nullptr || host->is_cancelled == nullptr ||
      host->report_progress == nullptr || host->set_error == nullptr ||
      host->emit_output == nullptr || host->set_exit_code == nullptr) {
    return "the host services table has a null function";
  }
  if (out->struct_size < kDescriptorSize10) {
    return "petit_plugin_descriptor is " + std::to_string(out->struct_size) +
           " bytes; ABI 1.0 needs " + std::to_string(kDescriptorSize10);
  }
  return {};
}

template <typename... Ts>
int32_t InitPlugin(const petit_init_args* args, petit_plugin_descriptor* out, char* error,
                   size_t error_size, const TaskType<Ts>&... types) noexcept {
  constexpr size_t kCount = sizeof...(Ts);
  static_assert(kCount > 0, "PETIT_PLUGIN needs at least one task type");
  try {
    if (std::string problem = CheckHost(args, out); !problem.empty()) {
      return Refuse(error, error_size, problem);
    }
    const std::array<const char*, kCount> names = {types.name()...};
    for (size_t i = 0; i < kCount; ++i) {
      if (!IsValidName(names[i])) {
        return Refuse(error, error_size,
                      "invalid task type name '" + std::string(names[i] ? names[i] : "(null)") +
                          "': expected 1-128 characters of [a-z0-9_.-]");
      }
      for (size_t j = 0; j < i; ++j) {
        if (std::strcmp(names[i], names[j]) == 0) {
          return Refuse(error, error_size,
                        "task type '" + std::string(names[i]) + "' is declared twice");
        }
      }
    }
    auto state = std::make_unique<PluginState<kCount>>();
    size_t index = 0;
    const auto add = [&](const auto& type) {
      state->states[index] = TypeState{args->host, type.name()};
      state->types[index] = type.Describe(&state->states[index]);
      state->type_pointers[index] = &state->types[index];
      ++index;
    };
    (add(types), ...);
    out->struct_size = sizeof(petit_plugin_descriptor);
    out->task_type_count = static_cast<uint32_t>(kCount);
    out->task_types = state->type_pointers.data();
    out->shutdown = &ShutdownPlugin<kCount>;
    out->plugin_state = state.release();
    return PETIT_OK;
  } catch (const std::exception& e) {
    return Refuse(error, error_size, e.what());
  } catch (...) {
    return Refuse(error, error_size, kUnknownException);
  }
}

}  // namespace internal
}  // namespace petit::sdk

// Declares the plugin: its name (1-128 characters of [a-z0-9_.-]), its version, and one or more
// petit::sdk::TaskType<T>(...) expressions. Use once per plugin library, at global scope, followed
// by a semicolon. Defines petit_plugin_abi_info and petit_plugin_init, the entry points plugin.h
// declares (C linkage, default visibility).
#define PETIT_PLUGIN(plugin_name, plugin_version, ...)                                   \
  extern "C" PETIT_PLUGIN_EXPORT const petit_abi_info* petit_plugin_abi_info(void) {     \
    static const petit_abi_info kPetitAbiInfo = {                                        \
        sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,                        \
        PETIT_ABI_MINOR,        plugin_name,     plugin_version};                        \
    return &kPetitAbiInfo;                                                               \
  }                                                                                      \
  extern "C" PETIT_PLUGIN_EXPORT int32_t petit_plugin_init(                              \
      const petit_init_args* args, petit_plugin_descriptor* out_descriptor, char* error, \
      size_t error_size) {                                                               \
    return ::petit::sdk::internal::InitPlugin(args, out_descriptor, error, error_size,   \
                                              __VA_ARGS__);                              \
  }                                                                                      \
  static_assert(::petit::sdk::internal::IsValidName(plugin_name),                        \
                "PETIT_PLUGIN: the plugin name must be 1-128 characters of [a-z0-9_.-]")

#endif  // PETIT_PLUGIN_HPP_
