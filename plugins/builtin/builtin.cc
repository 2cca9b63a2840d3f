// The builtin plugin: task types with no outside effects, for tests, benchmarks and examples.
//
//   noop        does nothing
//   sleep       waits `ms` milliseconds; cancel and the attempt timeout end it early
//   fail        fails the first `times` attempts (transiently if `transient`), then succeeds
//   set_output  records every member of `outputs` as an output
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "petit/plugin.hpp"

namespace petit::builtin {
namespace {

using sdk::Context;
using sdk::CreateArgs;
using sdk::Result;
using sdk::Status;

constexpr const char kNoopSchema[] = R"({"type":"object","additionalProperties":false})";

constexpr const char kSleepSchema[] = R"({
  "type": "object",
  "properties": {"ms": {"type": "integer", "minimum": 0, "description": "how long to sleep"}},
  "required": ["ms"],
  "additionalProperties": false
})";

constexpr const char kFailSchema[] = R"({
  "type": "object",
  "properties": {
    "times": {"type": "integer", "minimum": 0, "default": 1,
              "description": "how many attempts fail before one succeeds"},
    "transient": {"type": "boolean", "default": false,
                  "description": "fail with PETIT_ERROR_TRANSIENT instead of PETIT_ERROR"}
  },
  "additionalProperties": false
})";

constexpr const char kSetOutputSchema[] = R"({
  "type": "object",
  "properties": {
    "outputs": {"type": "object", "additionalProperties": {"type": "string"},
                "description": "output key -> value"}
  },
  "required": ["outputs"],
  "additionalProperties": false
})";

class NoopTask final : public sdk::Task {
 public:
  Status Execute(Context& /*context*/) override { return Status::Ok(); }
};

class SleepTask final : public sdk::Task {
 public:
  explicit SleepTask(std::chrono::milliseconds duration) : duration_(duration) {}

  static Result<std::unique_ptr<SleepTask>> Create(const CreateArgs& args) {
    if (Status keys = args.params.CheckKeys({"ms"}); !keys.ok()) return keys;
    Result<int64_t> ms = args.params.GetInt("ms");
    if (!ms.ok()) return ms.status();
    if (*ms < 0) return Status::InvalidParams("parameter 'ms' must be >= 0");
    return std::make_unique<SleepTask>(std::chrono::milliseconds(*ms));
  }

  Status Execute(Context& context) override {
    const std::chrono::milliseconds timeout = context.info().timeout;
    const bool timeout_first = timeout.count() > 0 && timeout < duration_;
    const auto deadline = std::chrono::steady_clock::now() + (timeout_first ? timeout : duration_);
    // The host may have cancelled before its hook could reach this instance; ask it once, before
    // taking mu_ (a host may hold its own lock while it calls Cancel, which takes mu_).
    const bool cancelled_before = context.Cancelled();
    std::unique_lock lock(mu_);
    if (cancelled_before) cancelled_ = true;
    if (cv_.wait_until(lock, deadline, [this] { return cancelled_; })) {
      return Status::Cancelled("sleep cancelled");
    }
    if (timeout_first) {
      return Status::TimedOut("sleep of " + std::to_string(duration_.count()) +
                              " ms timed out after " + std::to_string(timeout.count()) + " ms");
    }
    return Status::Ok();
  }

  void Cancel() override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  const std::chrono::milliseconds duration_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;  // GUARDED_BY(mu_)
};

class FailTask final : public sdk::Task {
 public:
  FailTask(int64_t times, bool transient) : times_(times), transient_(transient) {}

  static Result<std::unique_ptr<FailTask>> Create(const CreateArgs& args) {
    if (Status keys = args.params.CheckKeys({"times", "transient"}); !keys.ok()) return keys;
    Result<int64_t> times = args.params.GetInt("times", 1);
    if (!times.ok()) return times.status();
    if (*times < 0) return Status::InvalidParams("parameter 'times' must be >= 0");
    Result<bool> transient = args.params.GetBool("transient", false);
    if (!transient.ok()) return transient.status();
    return std::make_unique<FailTask>(*times, *transient);
  }

  Status Execute(Context& context) override {
    const int64_t attempt = context.info().attempt;
    if (attempt > times_) return Status::Ok();
    std::string message = "attempt " + std::to_string(attempt) + " failed on purpose (the first " +
                          std::to_string(times_) + " attempts fail)";
    return transient_ ? Status::Transient(std::move(message)) : Status::Error(std::move(message));
  }

 private:
  const int64_t times_;
  const bool transient_;
};

class SetOutputTask final : public sdk::Task {
 public:
  using Outputs = std::map<std::string, std::string, std::less<>>;

  explicit SetOutputTask(Outputs outputs) : outputs_(std::move(outputs)) {}

  static Result<std::unique_ptr<SetOutputTask>> Create(const CreateArgs& args) {
    if (Status keys = args.params.CheckKeys({"outputs"}); !keys.ok()) return keys;
    if (!args.params.Has("outputs")) {
      return Status::InvalidParams("missing required parameter 'outputs'");
    }
    Result<Outputs> outputs = args.params.GetStringMap("outputs");
    if (!outputs.ok()) return outputs.status();
    for (const auto& [key, value] : *outputs) {
      if (key.empty()) return Status::InvalidParams("parameter 'outputs' has an empty key");
    }
    return std::make_unique<SetOutputTask>(std::move(outputs).value());
  }

  Status Execute(Context& context) override {
    for (const auto& [key, value] : outputs_) {
      if (Status set = context.SetOutput(key, value); !set.ok()) return set;
    }
    return Status::Ok();
  }

 private:
  const Outputs outputs_;
};

}  // namespace
}  // namespace petit::builtin

PETIT_PLUGIN("builtin", "1.0.0",
             petit::sdk::TaskType<petit::builtin::NoopTask>("noop", "Does nothing and succeeds",
                                                            petit::builtin::kNoopSchema,
                                                            PETIT_TASK_IDEMPOTENT),
             petit::sdk::TaskType<petit::builtin::SleepTask>(
                 "sleep", "Waits `ms` milliseconds; cancel or the attempt timeout end it early",
                 petit::builtin::kSleepSchema, PETIT_TASK_CANCELLABLE | PETIT_TASK_IDEMPOTENT),
             petit::sdk::TaskType<petit::builtin::FailTask>(
                 "fail",
                 "Fails the first `times` attempts (transiently if `transient`), then succeeds",
                 petit::builtin::kFailSchema, PETIT_TASK_IDEMPOTENT),
             petit::sdk::TaskType<petit::builtin::SetOutputTask>(
                 "set_output", "Records every member of `outputs` as an output of the task",
                 petit::builtin::kSetOutputSchema, PETIT_TASK_IDEMPOTENT));
