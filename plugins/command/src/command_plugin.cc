// The command plugin: task type `command` runs a program or a shell script (see command_spec.h
// for the params and subprocess.h for how the process is run and stopped).
//
// Outcome: exit code 0 succeeds; another code fails with "exited with code N"; death by a signal
// fails with "killed by signal 9 (SIGKILL)"; a timeout is PETIT_TIMED_OUT and a cancel
// PETIT_CANCELLED, both after the process group has been terminated. The exit code (128 + N for
// signal N, as shells report it) is recorded with set_exit_code and as the output `exit_code`.
//
// Outputs, whatever the outcome (the host keeps only those of an attempt that succeeded):
// `exit_code`; `stdout` and `stderr`, the first 64 KiB of each stream as captured (the logs keep
// everything); and what the command wrote to the file named by $PETIT_OUTPUT: `key=value` lines,
// or `key<<DELIMITER`, the value's lines and a line holding only DELIMITER (the GitHub Actions
// format). Lines end at '\n'. A key is non-empty, without '.', spaces or control characters, and
// not one of the three above; a value is at most 1 MiB; only the first 4 MiB of the file are
// read. What breaks these rules is skipped with a warning in the task's log: a bad output does not
// change the outcome of a command that ran (a downstream reference to it fails instead, by name).
//
// $PETIT_OUTPUT names a file in a private directory (mode 0700, one per process, in $TMPDIR or
// else /tmp) that does not exist yet: the command creates it by writing (`>>` does). It is removed
// once the attempt is over, whatever happened; a command that writes no outputs costs one lstat.
// The child also gets PETIT_RUN_ID, PETIT_JOB_ID, PETIT_TASK_ID and PETIT_ATTEMPT.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "command_spec.h"
#include "output_file_format.h"
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

// How much of each stream becomes the `stdout` / `stderr` output: the run holds outputs in memory
// and expands them into parameters; the logs are where everything goes.
constexpr size_t kStreamOutputBytes = 64 * 1024;
// $PETIT_OUTPUT limits: the part of the file that is read (output_file_format.h bounds a value).
constexpr size_t kMaxOutputFileBytes = 4 * 1024 * 1024;
// Problems reported per attempt: a file full of mistakes must not flood the log.
constexpr size_t kMaxOutputWarnings = 10;

// Drops a multi-byte UTF-8 sequence cut short at the end, so that valid text cut at an arbitrary
// byte stays valid text.
void DropPartialUtf8Tail(std::string& text) {
  size_t lead = text.size();
  size_t continuation = 0;
  while (lead > 0 && continuation < 3 && (static_cast<uint8_t>(text[lead - 1]) & 0xC0) == 0x80) {
    --lead;
    ++continuation;
  }
  if (lead == 0) return;
  const auto byte = static_cast<uint8_t>(text[lead - 1]);
  const size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
  if (length > 1 && continuation + 1 < length) text.resize(lead - 1);
}

// Passes output on to the host and keeps the first kStreamOutputBytes of each stream.
class ContextSink final : public OutputSink {
 public:
  explicit ContextSink(const Context& context) : context_(context) {}
  void Write(int32_t stream, std::string_view data) override {
    context_.Output(static_cast<sdk::Stream>(stream), data);
    (stream == PETIT_STREAM_STDOUT ? stdout_ : stderr_).Append(data);
  }
  // The child leads its own process group (subprocess.h), so the host can end the group if it
  // dies before the attempt does, whatever the members did to their environment.
  void Started(pid_t pid, uint64_t start_ticks) override {
    context_.SetProcess(pid, pid, start_ticks);
  }

  const std::string& stdout_head() const { return stdout_.text; }
  const std::string& stderr_head() const { return stderr_.text; }

 private:
  struct Head {
    std::string text;
    bool cut = false;

    void Append(std::string_view data) {
      if (cut) return;
      const size_t room = kStreamOutputBytes - text.size();
      if (data.size() <= room) {
        text.append(data);
        return;
      }
      text.append(data.substr(0, room));
      cut = true;
      DropPartialUtf8Tail(text);
    }
  };

  const Context& context_;
  Head stdout_;
  Head stderr_;
};

// Warnings about $PETIT_OUTPUT, logged as they come, up to kMaxOutputWarnings, then counted.
class OutputWarnings {
 public:
  explicit OutputWarnings(const Context& context) : context_(context) {}
  OutputWarnings(const OutputWarnings&) = delete;
  OutputWarnings& operator=(const OutputWarnings&) = delete;
  ~OutputWarnings() {
    if (count_ <= kMaxOutputWarnings) return;
    context_.Log(sdk::LogLevel::kWarn,
                 "$PETIT_OUTPUT: " + std::to_string(count_ - kMaxOutputWarnings) +
                     " more problems not shown");
  }

  void Add(const std::string& message) {
    if (++count_ <= kMaxOutputWarnings) {
      context_.Log(sdk::LogLevel::kWarn, "$PETIT_OUTPUT: " + message);
    }
  }

 private:
  const Context& context_;
  size_t count_ = 0;
};

bool IsResourceErrno(int error_number) {
  return error_number == ENOSPC || error_number == EDQUOT || error_number == EMFILE ||
         error_number == ENFILE || error_number == ENOMEM;
}

// Where the $PETIT_OUTPUT directory goes when $TMPDIR is not set: /dev/shm when it is a tmpfs this
// process may write to, else /tmp. Making and removing a directory on a journalled /tmp (ext4)
// costs about half a millisecond per process, a tenth of a one-task `petit trigger`; on tmpfs it
// costs a few microseconds, and the files are small and short-lived (read up to 4 MiB).
std::string_view DefaultOutputParent() {
  static const bool shm = [] {
    struct statfs info;
    return statfs("/dev/shm", &info) == 0 && info.f_type == TMPFS_MAGIC &&
           access("/dev/shm", W_OK | X_OK) == 0;
  }();
  return shm ? "/dev/shm" : "/tmp";
}

// The private directory the $PETIT_OUTPUT files are named in: one per process and $TMPDIR, mode
// 0700. Because nobody else can enter it, a file name in it needs no mkstemp, and the command
// creates the file when it first writes. This keeps the cost for a command that writes no
// outputs at one lstat: creating and unlinking a file per attempt costs about 50 us on ext4
// here, an eighth of a whole spawn.
//
// THREADS: NewPath is thread-safe (mu_). The destructor runs at exit or unload, when no attempt
// runs, and removes every directory made, with the files late background writers left in it.
class OutputDirectory {
 public:
  static OutputDirectory& Instance() {
    static OutputDirectory directory;
    return directory;
  }

  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;
  ~OutputDirectory() {
    for (const std::string& dir : made_) RemoveTree(dir);
  }

  // A path no attempt of this process has used; the file does not exist yet.
  Result<std::string> NewPath() {
    const char* env = getenv("TMPDIR");
    const std::string_view tmpdir = env != nullptr && *env != '\0' ? env : DefaultOutputParent();
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (dir_.empty() || tmpdir != tmpdir_ || now - checked_at_ >= kRecheckEvery) {
      if (dir_.empty() || tmpdir != tmpdir_ || !StillOurs()) {
        if (Status made = Make(tmpdir); !made.ok()) return made;
      }
      checked_at_ = now;
    }
    return dir_ + "/output-" + std::to_string(++files_);
  }

 private:
  // Temporary-file cleaners may remove an idle directory, and in a sticky /tmp anyone may then
  // create one of the same name: what the commands are told must still be this directory.
  static constexpr std::chrono::seconds kRecheckEvery{1};

  OutputDirectory() = default;

  Status Make(std::string_view tmpdir) {
    std::string dir(tmpdir);
    dir += "/petit-outputs-XXXXXX";
    struct stat info;
    if (mkdtemp(dir.data()) == nullptr || lstat(dir.c_str(), &info) != 0) {
      const int error_number = errno;
      std::string message = "cannot create a directory for $PETIT_OUTPUT files in " +
                            std::string(tmpdir) + ": " + ErrnoText(error_number);
      if (IsResourceErrno(error_number)) return Status::Transient(std::move(message));
      return Status::Error(std::move(message));
    }
    tmpdir_ = std::string(tmpdir);
    made_info_ = info;
    dir_ = dir;
    made_.push_back(std::move(dir));
    return Status::Ok();
  }

  bool StillOurs() const {
    struct stat info;
    return lstat(dir_.c_str(), &info) == 0 && S_ISDIR(info.st_mode) &&
           info.st_dev == made_info_.st_dev && info.st_ino == made_info_.st_ino &&
           info.st_uid == geteuid() && (info.st_mode & 0777) == 0700;
  }

  // What commands left at their $PETIT_OUTPUT paths: files, and at most empty directories.
  static void RemoveTree(const std::string& dir) {
    if (DIR* stream = opendir(dir.c_str()); stream != nullptr) {
      while (const dirent* entry = readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (unlinkat(dirfd(stream), entry->d_name, 0) != 0 && errno == EISDIR) {
          unlinkat(dirfd(stream), entry->d_name, AT_REMOVEDIR);
        }
      }
      closedir(stream);
    }
    rmdir(dir.c_str());
  }

  std::mutex mu_;
  std::string tmpdir_;                                // GUARDED_BY(mu_): where dir_ was made
  std::string dir_;                                   // GUARDED_BY(mu_): empty until first use
  struct stat made_info_ {};                          // GUARDED_BY(mu_): dir_ as it was made
  std::chrono::steady_clock::time_point checked_at_;  // GUARDED_BY(mu_)
  uint64_t files_ = 0;                                // GUARDED_BY(mu_)
  std::vector<std::string> made_;                     // GUARDED_BY(mu_)
};

// One attempt's $PETIT_OUTPUT file: a name in the OutputDirectory, created by the command if it
// writes outputs, removed by the destructor whatever happened (spawn failure, timeout, cancel).
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {}
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (known_absent_) return;
    // A command may have made a directory there; an empty one goes too.
    if (unlink(path_.c_str()) != 0 && errno == EISDIR) rmdir(path_.c_str());
  }

  const std::string& path() const { return path_; }

  // What the command wrote, up to kMaxOutputFileBytes (`truncated` says whether there was more).
  // No file (the command wrote nothing, or removed it) is no error.
  std::string Read(bool& truncated, OutputWarnings& warnings) {
    truncated = false;
    struct stat info;
    if (lstat(path_.c_str(), &info) != 0) {
      if (errno == ENOENT) {
        known_absent_ = true;
      } else {
        warnings.Add("cannot read " + path_ + ": " + ErrnoText(errno));
      }
      return {};
    }
    if (info.st_size == 0 && S_ISREG(info.st_mode)) return {};
    // No following a symlink, no blocking on a FIFO: only a regular file is read.
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      if (fd >= 0) close(fd);
      warnings.Add(path_ + " is not a regular file; ignored");
      return {};
    }
    std::string text = ReadUpToLimit(fd, static_cast<size_t>(info.st_size), warnings);
    close(fd);
    if (text.size() > kMaxOutputFileBytes) {
      truncated = true;
      text.resize(kMaxOutputFileBytes);
      warnings.Add("the file holds more than " + std::to_string(kMaxOutputFileBytes) +
                   " bytes; only the lines complete within them were read");
    }
    return text;
  }

 private:
  // Reads at most kMaxOutputFileBytes + 1 bytes: the one beyond the limit shows whether there is
  // more. A background process of the command's may still be writing, so `size` is a first guess.
  std::string ReadUpToLimit(int fd, size_t size, OutputWarnings& warnings) const {
    std::string text(std::min(size, kMaxOutputFileBytes) + 1, '\0');
    size_t got = 0;
    for (;;) {
      if (got == text.size()) {
        if (text.size() > kMaxOutputFileBytes) break;
        text.resize(std::min(text.size() * 2, kMaxOutputFileBytes + 1));
      }
      const ssize_t n = read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        warnings.Add("cannot read " + path_ + ": " + ErrnoText(errno));
        return {};
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    text.resize(got);
    return text;
  }

  const std::string path_;
  bool known_absent_ = false;  // lstat found nothing: no unlink needed
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

// ResolveProgram's answers, kept a second, so that a job of many tasks running the same program
// by name searches PATH about once a second instead of once per attempt (a stat per directory
// before the one that has it). Within the second a program that vanished fails at exec with the
// same message the search would give ("command not found"); one put earlier in PATH is found
// within a second. Failures are not kept.
// THREADS: thread-safe (mu_).
class ResolvedPrograms {
 public:
  static ResolvedPrograms& Instance() {
    static ResolvedPrograms programs;
    return programs;
  }

  Result<std::string> Resolve(const std::string& program, std::string_view path) {
    if (program.find('/') != std::string::npos) return program;
    std::string key = program;
    key += '\0';
    key += path;
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      const auto found = found_.find(key);
      if (found != found_.end() && now - found->second.at < kKeptFor) return found->second.path;
    }
    Result<std::string> resolved = ResolveProgram(program, path);
    if (!resolved.ok()) return resolved;
    std::lock_guard lock(mu_);
    // Bounded: programs named by name are few, and PATH overrides rarely many.
    if (found_.size() >= kMaxKept) found_.clear();
    found_.insert_or_assign(std::move(key), Found{*resolved, now});
    return resolved;
  }

 private:
  static constexpr std::chrono::seconds kKeptFor{1};
  static constexpr size_t kMaxKept = 1024;

  struct Found {
    std::string path;
    std::chrono::steady_clock::time_point at;
  };

  ResolvedPrograms() = default;

  std::mutex mu_;
  std::unordered_map<std::string, Found> found_;  // GUARDED_BY(mu_): program '\0' PATH -> found
};

// An inherited PETIT_OUTPUT (a host that itself runs as a petit task, say) must not reach the
// child: petit's own variables always win.
bool IsPetitVariable(std::string_view entry) {
  if (entry.substr(0, 6) != "PETIT_") return false;
  for (const std::string_view name : kPetitVariables) {
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        entry.substr(0, name.size()) == name) {
      return true;
    }
  }
  return false;
}

// "NAME=value" for each of kPetitVariables.
std::vector<std::string> PetitVariables(const sdk::TaskInfo& info, const std::string& output) {
  std::vector<std::string> variables;
  variables.reserve(std::size(kPetitVariables));
  variables.push_back("PETIT_OUTPUT=" + output);
  variables.push_back("PETIT_RUN_ID=" + std::string(info.run_id));
  variables.push_back("PETIT_JOB_ID=" + std::string(info.job_id));
  variables.push_back("PETIT_TASK_ID=" + std::string(info.task_id));
  variables.push_back("PETIT_ATTEMPT=" + std::to_string(info.attempt));
  return variables;
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
    Result<std::string> path = ResolvedPrograms::Instance().Resolve(spec_.program, SearchPath());
    if (!path.ok()) return path.status();

    Result<std::string> output_path = OutputDirectory::Instance().NewPath();
    if (!output_path.ok()) return output_path.status();
    OutputFile output_file(std::move(output_path).value());

    std::vector<char*> argv;
    argv.reserve(spec_.argv.size() + 1);
    for (const std::string& arg : spec_.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const std::vector<std::string> petit_variables =
        PetitVariables(context.info(), output_file.path());
    std::vector<char*> env_storage;
    char* const* envp = Environment(petit_variables, env_storage);

    Invocation invocation;
    invocation.path = path->c_str();
    invocation.argv = argv.data();
    invocation.envp = envp;
    invocation.working_dir = spec_.working_dir.empty() ? nullptr : spec_.working_dir.c_str();
    invocation.display_name = spec_.shell ? std::string_view("/bin/sh") : spec_.program;
    // $PETIT_OUTPUT names a file no other attempt, here or in another host process, ever gets.
    invocation.marker = petit_variables.front();
    const TaskCgroup cgroup = TaskCgroup::Create();
    invocation.cgroup = &cgroup;
    Limits limits;
    limits.timeout = EffectiveTimeout(spec_.timeout, context.info().timeout);
    limits.kill_grace = spec_.kill_grace;

    ContextSink sink(context);
    Result<ProcessOutcome> outcome = RunProcess(invocation, limits, cancel_, sink);
    if (!outcome.ok()) return outcome.status();
    PublishOutputs(*outcome, sink, output_file, context);
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

  // The host's environment (none with env_clear), then the overrides, then petit's variables;
  // `storage` backs the returned array.
  char* const* Environment(const std::vector<std::string>& petit_variables,
                           std::vector<char*>& storage) const {
    if (!spec_.env_clear) {
      for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!IsOverridden(*entry) && !IsPetitVariable(*entry)) storage.push_back(*entry);
      }
    }
    for (const std::string& entry : spec_.env_overrides) {
      storage.push_back(const_cast<char*>(entry.c_str()));
    }
    for (const std::string& entry : petit_variables) {
      storage.push_back(const_cast<char*>(entry.c_str()));
    }
    storage.push_back(nullptr);
    return storage.data();
  }

  bool IsOverridden(std::string_view entry) const {
    if (spec_.env_override_prefixes.empty()) return false;
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) return false;
    const std::string_view prefix = entry.substr(0, equals + 1);
    return std::binary_search(spec_.env_override_prefixes.begin(),
                              spec_.env_override_prefixes.end(), prefix,
                              [](std::string_view a, std::string_view b) { return a < b; });
  }

  // Sets `stdout`, `stderr` and the outputs written to $PETIT_OUTPUT. A refusal by the host
  // changes nothing about the outcome; it is worth a warning only for what the command wrote.
  static void PublishOutputs(const ProcessOutcome& outcome, const ContextSink& sink,
                             OutputFile& output_file, const Context& context) {
    [[maybe_unused]] const Status out = context.SetOutput("stdout", sink.stdout_head());
    [[maybe_unused]] const Status err = context.SetOutput("stderr", sink.stderr_head());
    // A command stopped by a timeout or a cancel cannot succeed, so its outputs would go nowhere.
    if (outcome.stopped != StopReason::kNone) return;
    OutputWarnings warnings(context);
    bool truncated = false;
    const std::string text = output_file.Read(truncated, warnings);
    if (text.empty()) return;
    ParseOutputFile(
        text, truncated, [&](const std::string& message) { warnings.Add(message); },
        [&](std::string_view key, std::string_view value) {
          if (Status set = context.SetOutput(key, value); !set.ok()) warnings.Add(set.message());
        });
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
