// `petit cancel RUN` without the daemon's API (remote_commands.cc asks the daemon first): the run
// is cancelled through the process that owns it (RunRecord.owner): a `petit trigger` or
// `petit retry` of this host gets SIGTERM, which its signal handler turns into a graceful cancel
// of its one run; a `petit run` daemon is never signalled, since SIGTERM would drain all of it.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "petit/host/exit_codes.h"
#include "runtime/recovery.h"

namespace petit::host {
namespace {

// How long to wait for the signalled process to record its run's end: beyond the default task
// kill_grace (5 s) with room to spare; a task with a longer kill_grace may outlast it.
constexpr auto kEndPatience = std::chrono::seconds(60);
constexpr auto kEndPoll = std::chrono::milliseconds(50);

// The petit command the process with `argv` runs ("trigger", "run", ...); empty when it is not
// a petit command line this petit understands.
std::string PetitCommand(std::vector<std::string> argv) {
  std::vector<char*> words;
  for (std::string& word : argv) words.push_back(word.data());
  words.push_back(nullptr);
  Result<Args> parsed = ParseArgs(static_cast<int>(argv.size()), words.data());
  return parsed.ok() ? parsed->command : std::string();
}

// Waits until the store records `run` ended; the run as last read (nullopt if it vanished or the
// store failed).
std::optional<RunRecord> WaitForEnd(StateStore& store, const RunId& run) {
  const auto deadline = std::chrono::steady_clock::now() + kEndPatience;
  while (true) {
    Result<std::optional<RunRecord>> record = store.GetRun(run);
    if (!record.ok() || !record->has_value()) return std::nullopt;
    if (IsTerminal((*record)->status) || std::chrono::steady_clock::now() >= deadline) {
      return **record;
    }
    std::this_thread::sleep_for(kEndPoll);
  }
}

}  // namespace

int CmdCancel(const Args& args, std::unique_ptr<HostEnv> env) {
  return CancelThroughOwner(args, *env, "");
}

int CancelThroughOwner(const Args& args, HostEnv& env, std::string_view daemon_note,
                       bool daemon_knows_run) {
  Result<RunId> run_id = RunId::Parse(args.operands[0]);
  if (!run_id.ok()) {
    PrintError(run_id.status().message());
    return kExitUsage;
  }
  Result<StateStore*> store = env.StoreForReading();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::optional<RunRecord>> found = (*store)->GetRun(*run_id);
  if (!found.ok()) {
    PrintError(found.status().message());
    return kExitHostError;
  }
  const std::string name = "run " + run_id->str();
  if (!found->has_value()) {
    // The daemon knew the run: this command opened another store than the daemon's.
    PrintError("no " + name + " in " + env.storage_uri() +
               (daemon_knows_run ? ", though " + std::string(daemon_note) +
                                       ": give --config or --storage for the daemon's store"
                                 : std::string()));
    return kExitUsage;
  }
  const RunRecord& run = **found;
  if (IsTerminal(run.status)) {
    PrintError(name + " already ended " + std::string(RunStatusName(run.status)) +
               ": nothing to cancel");
    return kExitUsage;
  }
  Result<std::string> self = CurrentProcessOwner();
  if (!self.ok()) {
    PrintError(self.status().message());
    return kExitHostError;
  }
  switch (CheckOwner(run.owner, *self)) {
    case OwnerState::kDead:
      PrintError(name + " is " + std::string(RunStatusName(run.status)) +
                 " but the process that drove it (" +
                 (run.owner.empty() ? std::string("not recorded") : run.owner) +
                 ") is gone: a petit run on this store records it interrupted within " +
                 std::to_string(kDeadOwnerSweepInterval.count()) +
                 " s, or else the next petit that starts on it");
      return kExitUsage;
    case OwnerState::kUnknown:
      PrintError(name + " is driven by " + run.owner +
                 ", not a process of this host: cancel it on that host");
      return kExitUsage;
    case OwnerState::kAlive:
      break;
  }
  Result<std::vector<std::string>> argv = OwnerCommandLine(run.owner);
  const std::string command = argv.ok() ? PetitCommand(*argv) : "";
  if (command == "run") {
    PrintError(name + " belongs to the petit run daemon " + run.owner +
               ": cancelling one run of a daemon needs the daemon's API" +
               (daemon_note.empty() ? std::string() : " (" + std::string(daemon_note) + ")") +
               "; nothing was signalled");
    return kExitUsage;
  }
  if (command != "trigger" && command != "retry") {
    PrintError(name + " is driven by " + run.owner +
               (argv.ok() ? ", which is not a petit trigger or retry"
                          : ", which cannot be inspected: " + argv.status().message()) +
               "; nothing was signalled");
    return kExitUsage;
  }
  if (Status signalled = SignalOwner(run.owner, SIGTERM); !signalled.ok()) {
    PrintError(name + ": " + signalled.message() + "; nothing was signalled");
    return signalled.code() == StatusCode::kFailedPrecondition ? kExitUsage : kExitHostError;
  }
  if (!args.quiet) {
    std::cout << "cancelling " << name << ": sent SIGTERM to petit " << command << " " << run.owner
              << "\n"
              << std::flush;
  }
  std::optional<RunRecord> ended = WaitForEnd(**store, *run_id);
  if (!ended.has_value()) {
    PrintError(name + " could not be read back from " + env.storage_uri());
    return kExitHostError;
  }
  if (!IsTerminal(ended->status)) {
    PrintError(name + " is still " + std::string(RunStatusName(ended->status)) + " " +
               std::to_string(kEndPatience.count()) +
               " s after the signal (a task's kill_grace may be longer); see petit runs");
    return kExitHostError;
  }
  std::cout << name << " " << RunStatusName(ended->status) << "\n";
  return ended->status == RunStatus::kCancelled ? kExitOk : kExitRunFailed;
}

}  // namespace petit::host
