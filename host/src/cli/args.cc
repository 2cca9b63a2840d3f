#include "cli/args.h"

#include <array>

#include "petit/core/suggest.h"
#include "petit/storage/open.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

constexpr std::array<OptionHelp, 22> kOptions = {{
    {"--config", "FILE", "global config (default: DIR/petit.yaml when present)"},
    {"--storage", "URI", "memory:, sqlite:///path/petit.db or postgresql://..."},
    {"--plugin-dir", "DIR", "load plugins from DIR too (repeatable; after PETIT_PLUGIN_PATH's)"},
    {"--max-parallel", "N", "tasks in flight at once (default: number of CPUs)"},
    {"--job", "JOB", "(runs) only this job"},
    {"--limit", "N", "(runs) at most N runs, newest first (default 20)"},
    {"--quiet", "", "(trigger) print only the final line"},
    {"--no-output", "", "(trigger) do not print the tasks' captured output"},
    {"--json", "",
     "(validate, runs, list, plugins, status) print one JSON document instead of\n"
     "text"},
    {"--now", "TIME",
     "(validate) list fire times after TIME (2026-03-08T00:00:00Z or with an\n"
     "offset, +01:00) instead of after the current time"},
    {"--from", "TASK|TIME",
     "(retry) rerun TASK and everything downstream of it; (simulate) start at\n"
     "TIME (default: now)"},
    {"--task", "TASK", "(retry) rerun TASK alone"},
    {"--dry-run", "", "(retry) print the plan, change nothing"},
    {"--format", "FORMAT", "(graph) dot (default) or svg"},
    {"--server", "URL",
     "(status, pause, resume, reload, cancel, retry RUN, watch, trigger --detach\n"
     "and --follow) the daemon's API, http://HOST:PORT[/PREFIX] (default:\n"
     "petit.yaml's api)"},
    {"--detach", "", "(trigger) trigger through the running daemon, print the run id"},
    {"--follow", "", "(trigger) trigger through the running daemon and watch the run"},
    {"--until", "TIME",
     "(simulate) stop at TIME (default: 24 h after --from); TIME is ISO 8601:\n"
     "2026-11-01T00:00Z, 2026-11-01T00:00-04:00, 2026-11-01T00:00[Europe/Paris],\n"
     "or 2026-11-01T00:00 in the jobs' time zone"},
    {"--stopped-at", "TIME",
     "(simulate) petit run last ran until TIME: the occurrences missed since are\n"
     "caught up at --from per each job's catch_up"},
    {"--fail", "TASK@N",
     "(simulate) TASK (job.task, or task when one job has it) fails on attempt\n"
     "N; TASK@N..M on attempts N to M, TASK@* on every attempt (repeatable)"},
    {"--duration", "TASK=D",
     "(simulate) each attempt of TASK takes D (90s, 5m, 1h30m, 250ms; default 0)\n"
     "(repeatable)"},
    {"--help", "", "print this help (also -h)"},
}};

std::optional<uint64_t> ParsePositive(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0) return std::nullopt;
  return value;
}

const OptionHelp* FindOption(std::string_view name) {
  for (const OptionHelp& option : kOptions) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

// Applies one option and its value (empty for a flag).
Status Apply(std::string_view name, const std::string& value, Args& args) {
  if (name == "--help") {
    args.command = "help";
  } else if (name == "--quiet") {
    args.quiet = true;
  } else if (name == "--no-output") {
    args.show_output = false;
  } else if (name == "--dry-run") {
    args.dry_run = true;
  } else if (name == "--detach") {
    args.detach = true;
  } else if (name == "--follow") {
    args.follow = true;
  } else if (name == "--until") {
    args.until = value;
  } else if (name == "--stopped-at") {
    args.stopped_at = value;
  } else if (name == "--fail") {
    args.fail_specs.push_back(value);
  } else if (name == "--duration") {
    args.duration_specs.push_back(value);
  } else if (name == "--server") {
    args.server = value;
  } else if (name == "--from") {
    args.retry_from = value;
  } else if (name == "--task") {
    args.retry_task = value;
  } else if (name == "--format") {
    if (value != "dot" && value != "svg") {
      return InvalidArgument("--format is dot or svg, not '" + value + "'");
    }
    args.graph_format = value;
  } else if (name == "--json") {
    args.json = true;
  } else if (name == "--now") {
    std::optional<int64_t> now = ParseIsoTime(value);
    if (!now) {
      return InvalidArgument("--now needs a time like 2026-03-08T00:00:00Z, not '" + value + "'");
    }
    args.now_us = *now;
  } else if (name == "--config") {
    args.host.config_path = value;
  } else if (name == "--storage") {
    if (value.find_first_not_of(" \t\r\n") == std::string::npos) {
      // Empty would fall back to the default store: a script whose variable expanded to nothing
      // must not read or write another store than the one it meant.
      return InvalidArgument(
          "--storage is empty: give a URI (memory:, sqlite:PATH, postgresql://...) or leave the "
          "option out for the default store");
    }
    if (Status valid = storage::CheckStorageUri(value); !valid.ok()) {
      return InvalidArgument("--storage " + value + ": " + valid.message());
    }
    args.host.storage_uri = value;
  } else if (name == "--plugin-dir") {
    args.host.plugin_dirs.push_back(value);
  } else if (name == "--job") {
    if (value.empty()) return InvalidArgument("--job is empty: give a job id or leave it out");
    args.job_filter = value;
  } else if (name == "--max-parallel" || name == "--limit") {
    std::optional<uint64_t> n = ParsePositive(value);
    if (!n) {
      return InvalidArgument(std::string(name) + " needs a positive integer, not '" + value + "'");
    }
    if (name == "--limit") args.limit = *n;
    if (name == "--max-parallel") args.host.max_parallel_tasks = static_cast<uint32_t>(*n);
  }
  return Status::Ok();
}

}  // namespace

std::span<const OptionHelp> Options() { return kOptions; }

Result<Args> ParseArgs(int argc, char** argv) {
  Args args;
  std::vector<std::string_view> words(argv + 1, argv + argc);
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view word = words[i];
    if (word == "-h") word = "--help";
    if (word.empty()) {
      // A script's variable that expanded to nothing: read as "no run" or "every task" it would
      // widen what the command touches.
      return InvalidArgument((args.command.empty()
                                  ? std::string("the command")
                                  : "the argument after '" + std::string(words[i - 1]) + "'") +
                             " is empty (a variable that expanded to nothing?)");
    }
    if (word.size() < 2 || word.substr(0, 2) != "--") {
      if (args.command.empty()) {
        args.command = std::string(word);
      } else {
        args.operands.emplace_back(word);
      }
      continue;
    }
    std::string name(word);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionHelp* option = FindOption(name);
    if (option == nullptr) {
      std::vector<std::string_view> names;
      for (const OptionHelp& known : kOptions) names.push_back(known.name);
      std::string message = "unknown option '" + name + "'";
      if (auto close = ClosestMatch(name, names)) message += " (did you mean '" + *close + "'?)";
      return InvalidArgument(message);
    }
    args.options_given.push_back(name);
    if (option->value.empty() && inline_value) {
      // `--quiet=0` would read as --quiet: a flag takes no value rather than ignoring one.
      return InvalidArgument("option " + name + " takes no value");
    }
    std::string value;
    if (!option->value.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < words.size()) {
        value = std::string(words[++i]);
      } else {
        return InvalidArgument("option " + name + " needs a value");
      }
    }
    PETIT_RETURN_IF_ERROR(Apply(name, value, args));
  }
  if (args.command.empty()) args.command = "help";
  return args;
}

}  // namespace petit::host
