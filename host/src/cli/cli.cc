#include "petit/host/cli.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "config/global_config.h"
#include "petit/core/suggest.h"
#include "petit/core/utf8.h"
#include "petit/host/exit_codes.h"
#include "petit/plugin.h"
#include "plugins/exit_guard.h"
#include "plugins/plugin_probe.h"
#include "plugins/plugin_worker.h"
#include "plugins/worker_protocol.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

// What a command needs before its handler runs; each step costs start-up time, so a command asks
// for no more than it uses.
enum class Needs : uint8_t {
  kNothing,  // no config, no plugins, no store
  kConfig,   // petit.yaml (for the store and limits), no plugins
  kPlugins,  // petit.yaml and every plugin; plugins that fail to load are reported
  kRemote,   // nothing: the handler reads petit.yaml for the daemon's address (api_client.h)
};

struct Command {
  std::string_view name;
  std::string_view operands;  // as in the usage line: "DIR JOB"
  std::string_view summary;   // may span lines
  size_t min_operands;
  size_t max_operands;
  // The first operand is a jobs directory, where petit.yaml is looked for; when the command takes
  // a varying number of operands, only if more than the minimum are given ("[DIR] JOB").
  bool dir_first;
  Needs needs;
  CommandHandler handler;  // nullptr for help and version, answered without a HostEnv
  // For a command with several forms: whether these words are this form (nullptr: any words).
  // The first entry of the name whose form matches is the one run.
  bool (*form)(const Args& args) = nullptr;
  // The options this form reads, space-separated, beside kContextOptions; any other is refused
  // rather than ignored (`trigger --dry-run` must not run the job).
  std::string_view options = "";
};

// Options every command takes: where petit.yaml, the store and plugins are (a command that does
// not use one ignores it, as it ignores petit.yaml's other settings).
constexpr std::string_view kContextOptions = "--config --storage --plugin-dir --help";

bool Detached(const Args& args) { return args.detach; }
bool Followed(const Args& args) { return args.follow; }
bool RunOnly(const Args& args) { return args.operands.size() == 1; }

// The one list of commands: help, argument checks and dispatch all read it.
constexpr Command kCommands[] = {
    {"validate", "DIR",
     "check every job file under DIR; lists every error in one pass and the\n"
     "next three fire times of each scheduled job (--json, --now)",
     1, 1, true, Needs::kPlugins, CmdValidate, nullptr, "--json --now"},
    {"trigger", "[DIR] JOB --follow",
     "trigger JOB in the running daemon and watch the run as petit watch does;\n"
     "exit 0 if it succeeds, 1 if not",
     1, 2, true, Needs::kRemote, CmdTriggerFollow, Followed, "--follow --detach --server --quiet"},
    {"trigger", "[DIR] JOB --detach",
     "trigger JOB in the running daemon (petit run) and print the run id", 1, 2, true,
     Needs::kRemote, CmdTriggerDetached, Detached, "--detach --server"},
    {"trigger", "DIR JOB", "run JOB now, print each task's result; exit 1 if the run fails", 2, 2,
     true, Needs::kPlugins, CmdTrigger, nullptr, "--quiet --no-output --max-parallel"},
    {"retry", "RUN",
     "retry RUN in the running daemon and print the plan: its failed, cancelled\n"
     "and interrupted tasks and everything downstream (--from TASK, --task TASK,\n"
     "--dry-run); without a daemon, use the DIR form",
     1, 1, false, Needs::kRemote, CmdRetryRemote, RunOnly, "--from --task --dry-run --server"},
    {"retry", "DIR RUN", "the same in this process, the jobs read from DIR; exit 1 if it fails", 2,
     2, true, Needs::kPlugins, CmdRetry, nullptr,
     "--from --task --dry-run --quiet --no-output --max-parallel"},
    {"cancel", "RUN",
     "cancel RUN through the running daemon, or else through the petit trigger\n"
     "or petit retry of this host that drives it; wait until it is recorded;\n"
     "exit 0 once it is cancelled",
     1, 1, false, Needs::kRemote, CmdCancelRemote, nullptr, "--server --quiet"},
    {"watch", "RUN",
     "follow RUN of the running daemon live: each task's state and duration,\n"
     "the failed tasks' last output; exit 0 if the run succeeds, 1 if not",
     1, 1, false, Needs::kRemote, CmdWatch, nullptr, "--server"},
    {"status", "[DIR]",
     "the running daemon: scheduler, store health, paused jobs, active runs\n"
     "(--json); exit 1 if it is degraded, 3 if no daemon answers",
     0, 1, true, Needs::kRemote, CmdStatus, nullptr, "--server --json"},
    {"pause", "[JOB]", "pause the daemon's scheduler, or only JOB's schedule (persisted)", 0, 1,
     false, Needs::kRemote, CmdPause, nullptr, "--server"},
    {"resume", "[JOB]", "resume the scheduler, or JOB; missed fires follow each job's catch_up", 0,
     1, false, Needs::kRemote, CmdResume, nullptr, "--server"},
    {"reload", "[DIR]", "make the daemon re-read its job files and petit.yaml (as SIGHUP)", 0, 1,
     true, Needs::kRemote, CmdReload, nullptr, "--server"},
    {"run", "DIR", "run the scheduler: fire the jobs' schedules until SIGTERM/SIGINT", 1, 1, true,
     Needs::kPlugins, CmdRun, nullptr, "--max-parallel"},
    {"list", "DIR", "list the jobs under DIR (--json)", 1, 1, true, Needs::kPlugins, CmdList,
     nullptr, "--json"},
    {"graph", "DIR JOB",
     "print JOB's task graph as Graphviz dot, or as SVG with --format svg\n"
     "(trigger rules and pools shown)",
     2, 2, true, Needs::kPlugins, CmdGraph, nullptr, "--format"},
    {"simulate", "DIR",
     "print what the scheduler would fire and the engine run between --from and\n"
     "--until (default: the next 24 h), on a virtual clock, running no command:\n"
     "fires with DST notes, catch-up, overlap, job dependencies, retries, skips\n"
     "(--job, --stopped-at, --fail TASK@N, --duration TASK=D, --json)",
     1, 1, true, Needs::kPlugins, CmdSimulate, nullptr,
     "--json --job --from --until --stopped-at --fail --duration --max-parallel"},
    {"plugins", "", "the plugin search path, then the loaded plugins' task types (--json)", 0, 0,
     false, Needs::kPlugins, CmdPlugins, nullptr, "--json"},
    {"runs", "", "list recent runs (--job JOB, --limit N, --json)", 0, 0, false, Needs::kConfig,
     CmdRuns, nullptr, "--job --limit --json"},
    {"logs", "RUN [TASK]", "print the captured output of a run, or of one task", 1, 2, false,
     Needs::kConfig, CmdLogs, nullptr, ""},
    {"version", "", "print the version", 0, 0, false, Needs::kNothing, nullptr},
    {"help", "", "print this help", 0, 0, false, Needs::kNothing, nullptr},
};

constexpr size_t kHelpColumn = 24;

// "  <left><padding><help line 1>\n<indent><help line 2>..."
void AppendHelpRow(std::string& out, std::string left, std::string_view help) {
  out += "  " + left;
  out += left.size() + 2 < kHelpColumn ? std::string(kHelpColumn - 2 - left.size(), ' ')
                                       : "\n" + std::string(kHelpColumn, ' ');
  for (char c : help) {
    out += c;
    if (c == '\n') out += std::string(kHelpColumn, ' ');
  }
  out += "\n";
}

std::string Usage() {
  std::string text = "usage: petit <command> [options]\n\ncommands:\n";
  for (const Command& command : kCommands) {
    std::string left(command.name);
    if (!command.operands.empty()) left += " " + std::string(command.operands);
    AppendHelpRow(text, left, command.summary);
  }
  text += "\noptions:\n";
  for (const OptionHelp& option : Options()) {
    std::string left(option.name);
    if (!option.value.empty()) left += " " + std::string(option.value);
    AppendHelpRow(text, left, option.help);
  }
  return text;
}

const Command* FindCommand(std::string_view name, const Args& args) {
  for (const Command& command : kCommands) {
    if (command.name == name && (command.form == nullptr || command.form(args))) return &command;
  }
  return nullptr;
}

// Whether `options` (space-separated) lists `name`.
bool Lists(std::string_view options, std::string_view name) {
  for (size_t start = 0; start < options.size();) {
    size_t end = options.find(' ', start);
    if (end == std::string_view::npos) end = options.size();
    if (options.substr(start, end - start) == name) return true;
    start = end + 1;
  }
  return false;
}

std::string Form(const Command& command) {
  std::string form(command.name);
  if (!command.operands.empty()) form += " " + std::string(command.operands);
  return form;
}

// Empty when `command` reads every option given; else why not, naming the forms that take it.
std::string RefusedOption(const Command& command, const Args& args) {
  for (const std::string& given : args.options_given) {
    if (Lists(kContextOptions, given) || Lists(command.options, given)) continue;
    std::string takers;
    for (const Command& other : kCommands) {
      if (!Lists(other.options, given)) continue;
      takers += (takers.empty() ? "" : ", ") + Form(other);
    }
    return Form(command) + " does not take " + given +
           (takers.empty() ? std::string() : " (" + given + " is for " + takers + ")");
  }
  return "";
}

std::string UnknownCommand(const std::string& name) {
  std::vector<std::string_view> names;
  for (const Command& command : kCommands) names.push_back(command.name);
  std::string message = "unknown command '" + name + "'";
  if (auto close = ClosestMatch(name, names)) message += " (did you mean '" + *close + "'?)";
  return message + "; see `petit --help`";
}

}  // namespace

void PrintError(std::string_view message) {
  // Line by line: a message may hold several (one per problem), but no line may carry a terminal
  // escape from a file name, a plugin or a daemon.
  std::string text = "petit: ";
  for (size_t start = 0;;) {
    const size_t end = message.find('\n', start);
    text += PrintableLine(message.substr(start, end - start));
    text += '\n';
    if (end == std::string_view::npos || end + 1 == message.size()) break;
    start = end + 1;
  }
  std::cerr << text;
}

namespace {

int RunCommandLine(int argc, char** argv) {
  // Hidden: the worker of a process-isolated plugin, started by petit itself (plugin_worker.h).
  if (argc >= 2 && argv[1] == internal::kWorkerCommand) return RunPluginWorker(argc, argv);
  // Hidden: loads one third-party plugin before the host does (plugin_probe.h).
  if (argc >= 2 && argv[1] == kProbeCommand) return RunPluginProbe(argc, argv);
  ApiTokenFromEnvironment();  // taken out of the environment before any task can inherit it
  Result<Args> parsed = ParseArgs(argc, argv);
  if (!parsed.ok()) {
    PrintError(parsed.status().message());
    return kExitUsage;
  }
  Args& args = *parsed;
  const Command* command = FindCommand(args.command, args);
  if (command == nullptr) {
    PrintError(UnknownCommand(args.command));
    return kExitUsage;
  }
  if (std::string refused = RefusedOption(*command, args); !refused.empty()) {
    PrintError(refused);
    return kExitUsage;
  }
  if (command->dir_first && !args.operands.empty() &&
      (command->min_operands == command->max_operands ||
       args.operands.size() > command->min_operands)) {
    args.host.jobs_dir = args.operands[0];
  }
  args.host.plugin_probe_executable = "/proc/self/exe";  // this is the real petit
  if (const char* path = std::getenv("PETIT_PLUGIN_PATH")) {
    args.host.env_plugin_dirs = SplitPluginPath(path);
  }
  if (args.operands.size() < command->min_operands ||
      args.operands.size() > command->max_operands) {
    std::string usage = "usage: petit " + std::string(command->name);
    if (!command->operands.empty()) usage += " " + std::string(command->operands);
    PrintError(usage);
    return kExitUsage;
  }
  if (command->name == "help") {
    std::cout << Usage();
    return kExitOk;
  }
  if (command->name == "version") {
    std::cout << "petit " << PETIT_VERSION << " (plugin ABI " << PETIT_ABI_MAJOR << "."
              << PETIT_ABI_MINOR << ")\n";
    return kExitOk;
  }
  if (command->needs == Needs::kRemote) {
    const int code = command->handler(args, nullptr);
    MarkOrderlyExit();
    return code;
  }
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(args.host);
  if (!env.ok() && command->handler == CmdValidate) {
    const int code = ReportValidateConfigFailure(args, env.status());
    MarkOrderlyExit();  // it loads the plugins to check the job files
    return code;
  }
  if (!env.ok()) {
    PrintError(env.status().message());
    return kExitUsage;
  }
  if (command->needs == Needs::kPlugins) {
    InstallPluginExitGuard();
    (*env)->LoadPlugins();
    for (const std::string& error : (*env)->plugin_errors()) {
      PrintError("warning: plugin not loaded: " + error);
    }
    for (const std::string& warning : (*env)->config_warnings()) {
      PrintError("warning: " + warning);
    }
  }
  const int code = command->handler(args, std::move(*env));
  MarkOrderlyExit();
  return code;
}

}  // namespace

int RunCli(int argc, char** argv) {
  const int code = RunCommandLine(argc, argv);
  // A listing cut short by a full disk or a closed descriptor must not read as complete to the
  // script that asked for it.
  errno = 0;
  std::cout.flush();
  if (!std::cout) {
    const int error = errno;
    PrintError(std::string("cannot write to standard output") +
               (error != 0 ? std::string(": ") + std::strerror(error) : std::string()));
    return code == kExitOk ? kExitHostError : code;
  }
  return code;
}

}  // namespace petit::host
