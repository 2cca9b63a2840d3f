// The command plugin: task type `command` runs a program or a shell script (see command_spec.h
// for the params and subprocess.h for how the process is run and stopped).
//
// Outcome: exit code 0 succeeds; another code fails with "exited with code N"; death by a signal
// fails with "killed by signal 9 (SIGKILL)"; a timeout is PETIT_TIMED_OUT and a cancel
// PETIT_CANCELLED, both after the process group has been terminated. The exit code (128 + N for
// signal N, as shells report it) is recorded with set_exit_code and as the output `exit_code`.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command_spec.h"
#include "petit/plugin.hpp"
#include "subprocess.h"

namespace petit::command {
namespace {

using sdk::Context;
using sdk::CreateArgs;
using sdk::Result;
using sdk::Status;

// What execvp uses when PATH is unset.
constexpr const char* kDefaultPath = "/bin:/usr/bin";

class ContextSink final : public OutputSink {
 public:
  explicit ContextSink(const Context& context) : context_(context) {}
  void Write(int32_t stream, std::string_view data) override {
    context_.Output(static_cast<sdk::Stream>(stream), data);
  }

 private:
  const Context& context_;
};

// The smaller nonzero of the two.
std::chrono::milliseconds EffectiveTimeout(std::chrono::milliseconds a,
                                           std::chrono::milliseconds b) {
  if (a.count() <= 0) return b;
  if (b.count() <= 0) return a;
  return std::min(a, b);
}

Status CheckWorkingDir(const std::string& dir) {
  struct stat info;
  if (stat(dir.c_str(), &info) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT || error_number == ENOTDIR) {
      return Status::Error("working directory does not exist: " + dir);
    }
    return Status::Error("cannot use working directory " + dir + ": " + ErrnoText(error_number));
  }
  if (!S_ISDIR(info.st_mode)) return Status::Error("working directory is not a directory: " + dir);
  return Status::Ok();
}

// execvp's search, done in the parent so that a missing program is reported before anything is
// spawned and the child's PATH (not the host's) decides. Returns the path to execute.
Result<std::string> ResolveProgram(const std::string& program, std::string_view path) {
  if (program.find('/') != std::string::npos) return program;
  bool denied = false;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string_view::npos) end = path.size();
    std::string candidate(path.substr(begin, end - begin));
    if (candidate.empty()) candidate = ".";  // an empty PATH entry means the current directory
    candidate += '/';
    candidate += program;
    struct stat info;
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      denied = true;
    }
    begin = end + 1;
  }
  if (denied) return Status::Error("permission denied: " + program);
  return Status::Error("command not found: " + program);
}

class CommandTask final : public sdk::Task {
 public:
  explicit CommandTask(CommandSpec spec) : spec_(std::move(spec)) {}

  static Result<std::unique_ptr<CommandTask>> Create(const CreateArgs& args) {
    Result<CommandSpec> spec = ParseCommandSpec(args.params);
    if (!spec.ok()) return spec.status();
    auto task = std::make_unique<CommandTask>(std::move(spec).value());
    if (task->cancel_.fd() < 0) {
      return Status::Transient("cannot create an eventfd: " +
                               ErrnoText(task->cancel_.creation_errno()));
    }
    return Result<std::unique_ptr<CommandTask>>(std::move(task));
  }

  Status Execute(Context& context) override {
    if (cancel_.raised() || context.Cancelled()) {
      return Status::Cancelled("cancelled before the command started");
    }
    if (!spec_.working_dir.empty()) {
      if (Status dir = CheckWorkingDir(spec_.working_dir); !dir.ok()) return dir;
    }
    Result<std::string> path = ResolveProgram(spec_.program, SearchPath());
    if (!path.ok()) return path.status();

    std::vector<char*> argv;
    argv.reserve(spec_.argv.size() + 1);
    for (const std::string& arg : spec_.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> env_storage;
    char* const* envp = Environment(env_storage);

    Invocation invocation;
    invocation.path = path->c_str();
    invocation.argv = argv.data();
    invocation.envp = envp;
    invocation.working_dir = spec_.working_dir.empty() ? nullptr : spec_.working_dir.c_str();
    invocation.display_name = spec_.shell ? std::string_view("/bin/sh") : spec_.program;
    Limits limits;
    limits.timeout = EffectiveTimeout(spec_.timeout, context.info().timeout);
    limits.kill_grace = spec_.kill_grace;

    ContextSink sink(context);
    Result<ProcessOutcome> outcome = RunProcess(invocation, limits, cancel_, sink);
    if (!outcome.ok()) return outcome.status();
    return Report(*outcome, limits, context);
  }

  void Cancel() override { cancel_.Raise(); }

 private:
  std::string_view SearchPath() const {
    if (spec_.path_overridden) return spec_.path_override;
    if (spec_.env_clear) return kDefaultPath;
    const char* path = getenv("PATH");
    return path != nullptr ? path : kDefaultPath;
  }

  // The host's environment with the overrides applied; `storage` backs the returned array unless
  // nothing changes, in which case the host's own array is passed on as it is.
  char* const* Environment(std::vector<char*>& storage) const {
    if (!spec_.env_clear && spec_.env_overrides.empty()) return environ;
    if (!spec_.env_clear) {
      for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!IsOverridden(*entry)) storage.push_back(*entry);
      }
    }
    for (const std::string& entry : spec_.env_overrides) {
      storage.push_back(const_cast<char*>(entry.c_str()));
    }
    storage.push_back(nullptr);
    return storage.data();
  }

  bool IsOverridden(std::string_view entry) const {
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) return false;
    const std::string_view prefix = entry.substr(0, equals + 1);
    return std::binary_search(spec_.env_override_prefixes.begin(),
                              spec_.env_override_prefixes.end(), prefix,
                              [](std::string_view a, std::string_view b) { return a < b; });
  }

  Status Report(const ProcessOutcome& outcome, const Limits& limits, const Context& context) {
    if (outcome.status_lost) {
      return Status::Error(
          "the exit status was lost: something else in the host process reaped the child "
          "(is SIGCHLD ignored?)");
    }
    const int32_t exit_code = outcome.exited ? outcome.exit_code : 128 + outcome.term_signal;
    context.SetExitCode(exit_code);
    // The output only reaches downstream tasks when the attempt succeeds; a refusal changes
    // nothing about the outcome, so it is not an error here.
    [[maybe_unused]] const Status recorded =
        context.SetOutput("exit_code", std::to_string(exit_code));
    if (outcome.output_abandoned) {
      context.Log(sdk::LogLevel::kWarn,
                  "stopped reading output " + std::to_string(limits.drain_after_exit.count()) +
                      " ms after the command exited: a background process still holds its "
                      "stdout or stderr");
    }
    if (outcome.stopped != StopReason::kNone) {
      std::string how = "sent SIGTERM to the process group";
      if (limits.kill_grace.count() == 0) {
        how = "sent SIGKILL to the process group";
      } else if (outcome.sigkill_sent) {
        how += ", then SIGKILL after the " + std::to_string(limits.kill_grace.count()) +
               " ms grace period";
      }
      if (outcome.stopped == StopReason::kCancel) return Status::Cancelled("cancelled; " + how);
      const char* source = limits.timeout == spec_.timeout ? "timeout_secs" : "the attempt timeout";
      return Status::TimedOut("timed out after " + std::to_string(limits.timeout.count()) +
                              " ms (" + source + "); " + how);
    }
    if (!outcome.exited) {
      return Status::Error("killed by signal " + std::to_string(outcome.term_signal) + " (" +
                           SignalName(outcome.term_signal) + ")" +
                           (outcome.core_dumped ? ", core dumped" : ""));
    }
    if (outcome.exit_code != 0) {
      return Status::Error("exited with code " + std::to_string(outcome.exit_code));
    }
    return Status::Ok();
  }

  const CommandSpec spec_;
  CancelSignal cancel_;
};

}  // namespace
}  // namespace petit::command

PETIT_PLUGIN("command", "1.0.0",
             petit::sdk::TaskType<petit::command::CommandTask>(
                 "command",
                 "Runs a program (or a /bin/sh script) in its own process group, streaming its "
                 "output",
                 petit::command::kCommandParamsSchema, PETIT_TASK_CANCELLABLE));
