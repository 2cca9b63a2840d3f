// A plugin built with petit/plugin.hpp and linked into petit_sdk_plugin_test, where FakeHost
// drives it through the C ABI: every behaviour of the wrapper has a task type here to show it.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "petit/plugin.hpp"

namespace petit::sdk_test {
namespace {

using sdk::Context;
using sdk::CreateArgs;
using sdk::Result;
using sdk::Status;

// Takes no parameters: no Create, default-constructible.
class NoopTask final : public sdk::Task {
 public:
  Status Execute(Context& /*context*/) override { return Status::Ok(); }
};

// Exercises every Context service; reports what it saw as outputs.
class EchoTask final : public sdk::Task {
 public:
  explicit EchoTask(std::string_view text) : text_(text) {}

  static Result<std::unique_ptr<EchoTask>> Create(const CreateArgs& args) {
    if (Status keys = args.params.CheckKeys({"text", "extra"}); !keys.ok()) return keys;
    Result<std::string_view> text = args.params.GetString("text");
    if (!text.ok()) return text.status();
    args.context.Log(sdk::LogLevel::kDebug, "creating echo");
    return std::make_unique<EchoTask>(*text);
  }

  Status Execute(Context& context) override {
    const sdk::TaskInfo& info = context.info();
    context.Log(sdk::LogLevel::kInfo, "echoing");
    context.Progress(0.5, "half");
    context.Output(sdk::Stream::kStdout, text_);
    context.Output(sdk::Stream::kStderr, "to stderr");
    context.SetExitCode(7);
    const std::optional<std::string_view> input = context.Input("up.value");
    const std::optional<std::string_view> config = context.Config("region");
    const std::pair<std::string_view, std::string> outputs[] = {
        {"text", std::string(text_)},
        {"input", input ? std::string(*input) : "(none)"},
        {"missing_input", context.Input("up.nope") ? "found" : "(none)"},
        {"config", config ? std::string(*config) : "(none)"},
        {"job", std::string(info.job_id)},
        {"run", std::string(info.run_id)},
        {"task", std::string(info.task_id)},
        {"attempt", std::to_string(info.attempt)},
        {"timeout_ms", std::to_string(info.timeout.count())},
        {"params", context.params().Dump()},
        {"cancelled", context.Cancelled() ? "yes" : "no"},
    };
    for (const auto& [key, value] : outputs) {
      if (Status set = context.SetOutput(key, value); !set.ok()) return set;
    }
    const bool refused = !context.SetOutput("", "empty key").ok();
    return context.SetOutput("empty_key_refused", refused ? "yes" : "no");
  }

 private:
  const std::string_view text_;  // a view into the params, which outlive the task
};

// nullopt for a code it does not know.
std::optional<Status> StatusFromParams(const sdk::Json& params) {
  const std::string_view code = params.GetString("code", "").value();
  std::string message(params.GetString("message", "").value());
  if (code == "ok") return Status::Ok();
  if (code == "error") return Status::Error(std::move(message));
  if (code == "transient") return Status::Transient(std::move(message));
  if (code == "cancelled") return Status::Cancelled(std::move(message));
  if (code == "timed_out") return Status::TimedOut(std::move(message));
  if (code == "invalid_params") return Status::InvalidParams(std::move(message));
  return std::nullopt;
}

// Returns the status named by params, from Create when "in_create" is true, else from Execute.
class StatusTask final : public sdk::Task {
 public:
  explicit StatusTask(Status status) : status_(std::move(status)) {}

  static Result<std::unique_ptr<StatusTask>> Create(const CreateArgs& args) {
    std::optional<Status> status = StatusFromParams(args.params);
    if (!status) return Status::InvalidParams("unknown code");
    Result<bool> in_create = args.params.GetBool("in_create", false);
    if (!in_create.ok()) return in_create.status();
    if (*in_create) return *status;
    return std::make_unique<StatusTask>(*status);
  }

  Status Execute(Context& /*context*/) override { return status_; }

 private:
  const Status status_;
};

// Throws from the hook named by "where", a std::runtime_error unless "kind" is "int".
class ThrowTask final : public sdk::Task {
 public:
  ThrowTask(std::string where, std::string kind)
      : where_(std::move(where)), kind_(std::move(kind)) {}

  static Result<std::unique_ptr<ThrowTask>> Create(const CreateArgs& args) {
    std::string where(args.params.GetString("where", "execute").value());
    std::string kind(args.params.GetString("kind", "std").value());
    if (where == "create") Throw(kind);
    if (where == "bad_result") {
      // Reading the value of a failed Result is a programmer error that throws.
      static_cast<void>(args.params.GetInt("missing").value());
    }
    return std::make_unique<ThrowTask>(std::move(where), std::move(kind));
  }

  Status Execute(Context& /*context*/) override {
    if (where_ == "execute") Throw(kind_);
    return Status::Ok();
  }

  void Cancel() override {
    if (where_ == "cancel") Throw(kind_);
  }

 private:
  static void Throw(const std::string& kind) {
    if (kind == "int") throw 42;
    throw std::runtime_error("boom from the plugin");
  }

  const std::string where_;
  const std::string kind_;
};

// Writes "waiting" to stdout, then blocks until cancelled.
class WaitTask final : public sdk::Task {
 public:
  Status Execute(Context& context) override {
    context.Output(sdk::Stream::kStdout, "waiting\n");
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return cancelled_; });
    return Status::Cancelled("stopped by cancel");
  }

  void Cancel() override {
    context().Log(sdk::LogLevel::kInfo, "cancel requested");
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;  // GUARDED_BY(mu_)
};

class NullTask final : public sdk::Task {
 public:
  static Result<std::unique_ptr<NullTask>> Create(const CreateArgs& /*args*/) {
    return std::unique_ptr<NullTask>();
  }
  Status Execute(Context& /*context*/) override { return Status::Ok(); }
};

}  // namespace
}  // namespace petit::sdk_test

PETIT_PLUGIN(
    "sdk_test", "2.3.4",
    petit::sdk::TaskType<petit::sdk_test::NoopTask>("sdk_test.noop", "Does nothing", nullptr,
                                                    PETIT_TASK_IDEMPOTENT),
    petit::sdk::TaskType<petit::sdk_test::EchoTask>("sdk_test.echo", "Uses every host service",
                                                    R"({"type":"object","required":["text"]})"),
    petit::sdk::TaskType<petit::sdk_test::StatusTask>("sdk_test.status",
                                                      "Returns the status asked for"),
    petit::sdk::TaskType<petit::sdk_test::ThrowTask>("sdk_test.throw", "Throws from a hook"),
    petit::sdk::TaskType<petit::sdk_test::WaitTask>("sdk_test.wait", "Waits for cancel", nullptr,
                                                    PETIT_TASK_CANCELLABLE | PETIT_TASK_SERIAL),
    petit::sdk::TaskType<petit::sdk_test::NullTask>("sdk_test.null", "Creates no instance"));
