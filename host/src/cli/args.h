// The command line as words: the command, its operands and the options every command shares.
// Which command exists and what it needs is cli.cc's command table; this only reads words.
//
// Threads: pure functions.
#ifndef PETIT_HOST_CLI_ARGS_H_
#define PETIT_HOST_CLI_ARGS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/status.h"
#include "runtime/host_env.h"

namespace petit::host {

struct Args {
  std::string command;  // "help" when none is given or -h/--help is
  std::vector<std::string> operands;
  HostOptions host;
  std::optional<std::string> job_filter;  // --job
  size_t limit = 20;                      // --limit
  bool quiet = false;                     // --quiet
  bool show_output = true;                // --no-output
  bool json = false;                      // --json
  std::optional<int64_t> now_us;          // --now
  std::optional<std::string> retry_from;  // --from (retry: a task; simulate: a time)
  std::optional<std::string> retry_task;  // --task
  bool dry_run = false;                   // --dry-run
  std::string graph_format = "dot";       // --format: dot or svg
  std::optional<std::string> server;      // --server (remote commands)
  bool detach = false;                    // --detach (trigger through the daemon)
  bool follow = false;                    // --follow (trigger through the daemon, then watch)
  // simulate: read by simulate_command.cc, which knows the jobs' zones and task names.
  std::optional<std::string> until;         // --until TIME
  std::optional<std::string> stopped_at;    // --stopped-at TIME
  std::vector<std::string> fail_specs;      // --fail TASK@N (repeatable)
  std::vector<std::string> duration_specs;  // --duration TASK=D (repeatable)
  // Every option given, by name ("--quiet"), in order (a repeated one twice: the last value wins,
  // as with most tools, but for --plugin-dir, --fail and --duration, which add up).
  std::vector<std::string> options_given;
};

struct OptionHelp {
  std::string_view name;   // "--config"
  std::string_view value;  // "FILE", or empty for a flag
  std::string_view help;   // may span lines
};

// Every option, in the order `petit --help` lists them.
std::span<const OptionHelp> Options();

// The parsed words, or the one-line reason they are wrong (an unknown option names the closest
// one).
Result<Args> ParseArgs(int argc, char** argv);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_ARGS_H_
