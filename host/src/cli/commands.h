// The handlers of the `petit` commands, one per command of cli.cc's table. Each gets the parsed
// arguments (operand counts already checked) and owns the HostEnv the table asked for: null for
// commands that need nothing, with its plugins loaded for those that need them. Each returns the
// process exit code (petit/host/exit_codes.h) and prints its own errors, one line each.
//
// Threads: called on the main thread; `run` and `trigger` start threads of their own.
#ifndef PETIT_HOST_CLI_COMMANDS_H_
#define PETIT_HOST_CLI_COMMANDS_H_

#include <memory>
#include <string_view>

#include "cli/args.h"
#include "runtime/host_env.h"

namespace petit::host {

using CommandHandler = int (*)(const Args& args, std::unique_ptr<HostEnv> env);

// job_commands.cc: what reads a job directory or the plugins.
int CmdValidate(const Args& args, std::unique_ptr<HostEnv> env);
int CmdList(const Args& args, std::unique_ptr<HostEnv> env);
int CmdPlugins(const Args& args, std::unique_ptr<HostEnv> env);
int CmdRun(const Args& args, std::unique_ptr<HostEnv> env);
// graph_command.cc: a job's task graph as dot or SVG.
int CmdGraph(const Args& args, std::unique_ptr<HostEnv> env);
// simulate_command.cc: the timeline the scheduler and engine would produce, on a virtual clock.
int CmdSimulate(const Args& args, std::unique_ptr<HostEnv> env);
// foreground_commands.cc: a run in this process.
int CmdTrigger(const Args& args, std::unique_ptr<HostEnv> env);
int CmdRetry(const Args& args, std::unique_ptr<HostEnv> env);
// history_commands.cc: what reads the store only.
int CmdRuns(const Args& args, std::unique_ptr<HostEnv> env);
int CmdLogs(const Args& args, std::unique_ptr<HostEnv> env);
// cancel_commands.cc: a run cancelled through the process that owns it. `daemon_note` says why
// the daemon did not cancel it (empty when none was asked); it is named when the run turns out to
// be the daemon's.
int CmdCancel(const Args& args, std::unique_ptr<HostEnv> env);
// `daemon_knows_run`: the daemon answered that it knows the run but does not drive it, so a run
// missing from env's store means env opened another store than the daemon's.
int CancelThroughOwner(const Args& args, HostEnv& env, std::string_view daemon_note,
                       bool daemon_knows_run = false);
// remote_commands.cc: through a running daemon's HTTP API (cli/api_client.h); `env` is null
// (they read petit.yaml for the daemon's address only). cancel and retry RUN fall back as their
// help says when no daemon answers.
int CmdStatus(const Args& args, std::unique_ptr<HostEnv> env);
int CmdPause(const Args& args, std::unique_ptr<HostEnv> env);
int CmdResume(const Args& args, std::unique_ptr<HostEnv> env);
int CmdReload(const Args& args, std::unique_ptr<HostEnv> env);
int CmdTriggerDetached(const Args& args, std::unique_ptr<HostEnv> env);
int CmdRetryRemote(const Args& args, std::unique_ptr<HostEnv> env);
int CmdCancelRemote(const Args& args, std::unique_ptr<HostEnv> env);
// watch_command.cc: a run of a running daemon, live, through its API; `env` is null.
int CmdWatch(const Args& args, std::unique_ptr<HostEnv> env);
// `petit trigger [DIR] JOB --follow`: triggered through the daemon's API, then watched.
int CmdTriggerFollow(const Args& args, std::unique_ptr<HostEnv> env);

// `petit validate` when petit.yaml itself is wrong: its problems, in the form asked for.
int ReportValidateConfigFailure(const Args& args, const Status& status);

void PrintError(std::string_view message);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_COMMANDS_H_
