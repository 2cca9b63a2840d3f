#include "cli/watch_command.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "petit/core/mutex.h"
#include "petit/core/utf8.h"
#include "petit/host/exit_codes.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

using Clock = std::chrono::steady_clock;

bool Ended(std::string_view task_state) {
  return task_state == "succeeded" || task_state == "failed" || task_state == "skipped" ||
         task_state == "upstream_failed" || task_state == "cancelled" ||
         task_state == "interrupted";
}

// How far a task has come in one attempt; a later event never takes a row back.
int Rank(std::string_view task_state) {
  if (task_state == "queued") return 0;
  if (task_state == "running") return 1;
  if (task_state == "retrying") return 2;
  if (Ended(task_state)) return 3;
  return -1;  // pending
}

std::string_view Mark(std::string_view state) {
  if (state == "succeeded") return "ok  ";
  if (state == "failed" || state == "cancelled" || state == "interrupted") return "FAIL";
  if (state == "running") return "..  ";
  if (state == "retrying") return "retry";
  if (state == "skipped" || state == "upstream_failed") return "--  ";
  return "    ";
}

struct Row {
  std::string task{};
  std::string state = "pending";
  uint32_t attempt = 0;
  int rank = -1;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string detail{};
};

// The run as the view knows it.
class RunModel {
 public:
  explicit RunModel(std::string run) : run_(std::move(run)) {}

  // Moves the task's row to `state` unless the row is further already; the row when it moved.
  const Row* Set(const std::string& task, std::string_view state, uint32_t attempt,
                 int64_t started_ms, int64_t ended_ms, const std::string& detail) {
    Row& row = RowOf(task);
    const int rank = Rank(state);
    const bool further = attempt > row.attempt || (attempt == row.attempt && rank > row.rank) ||
                         // A task that never ran ends with attempt 0 after being queued as 1.
                         (attempt == 0 && rank == 3 && row.rank < 3);
    if (!further) return nullptr;
    row.state = state;
    row.attempt = std::max(attempt, row.attempt);
    row.rank = rank;
    if (started_ms != 0) row.started_ms = started_ms;
    if (rank <= 1 && state != "running") row.started_ms = 0;
    row.ended_ms = ended_ms;
    row.detail = PrintableLine(detail);  // a plugin's words, shown as they are, escapes and all
    return &row;
  }

  // The row of an event of the run; nullptr for run-level events and rows that did not move.
  const Row* Apply(const EventView& event) {
    if (event.type == "job_started") {
      if (started_ms_ == 0) started_ms_ = event.time_ms;
      return nullptr;
    }
    if (event.type == "job_completed") {
      status_ = event.detail.substr(0, event.detail.find(' '));
      if (status_.empty()) status_ = "failed";
      ended_ms_ = event.time_ms;
      ended_ = true;
      return nullptr;
    }
    if (event.type == "trigger_refused") {
      status_ = "refused";
      error_ = PrintableLine(event.detail);
      ended_ = true;
      return nullptr;
    }
    if (event.task.empty()) return nullptr;
    const std::string_view prefix = "task_";
    if (!event.type.starts_with(prefix)) return nullptr;
    std::string state = event.type.substr(prefix.size());
    if (state == "started") state = "running";
    if (state == "retrying") {
      return Set(event.task, state, event.attempt, 0, event.time_ms, event.detail);
    }
    const bool running = state == "running";
    return Set(event.task, state, event.attempt, running ? event.time_ms : 0,
               running ? 0 : event.time_ms, event.detail);
  }

  void SetRun(const RunView& run) {
    job_ = run.job;
    if (run.started_ms != 0) started_ms_ = run.started_ms;
    const bool run_ended = run.status != "queued" && run.status != "running";
    if (run_ended) {
      status_ = run.status;
      ended_ms_ = run.ended_ms;
      error_ = PrintableLine(run.error);
      ended_ = true;
    } else if (!ended_) {
      status_ = run.status;
    }
  }

  const Row* SetTask(const TaskRowView& task) {
    // started_at and ended_at are the latest attempt's.
    return Set(task.task, task.status, task.attempts, task.started_ms, task.ended_ms, task.error);
  }

  const std::vector<Row>& rows() const { return rows_; }
  bool ended() const { return ended_; }
  const std::string& status() const { return status_; }
  const std::string& job() const { return job_; }
  const std::string& run() const { return run_; }
  const std::string& error() const { return error_; }
  int64_t started_ms() const { return started_ms_; }
  int64_t ended_ms() const { return ended_ms_; }

 private:
  Row& RowOf(const std::string& task) {
    auto it = index_.find(task);
    if (it != index_.end()) return rows_[it->second];
    index_[task] = rows_.size();
    rows_.push_back(Row{.task = task});
    return rows_.back();
  }

  std::string run_;
  std::string job_;
  std::string status_ = "running";
  std::string error_;
  int64_t started_ms_ = 0;
  int64_t ended_ms_ = 0;
  bool ended_ = false;
  std::vector<Row> rows_;
  std::map<std::string, size_t> index_;
};

std::string Duration(int64_t from_ms, int64_t to_ms) {
  if (from_ms == 0 || to_ms < from_ms) return "";
  return FormatDuration((to_ms - from_ms) * 1000);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "ok   extract  succeeded  2.10 s" / "retry load  attempt 1 failed: exit status 1".
std::string PlainLine(const Row& row) {
  if (row.state == "retrying") {
    std::string line = "retry " + row.task + "  attempt " + std::to_string(row.attempt) + " failed";
    if (!row.detail.empty()) line += ": " + row.detail;
    return line;
  }
  std::string line = std::string(Mark(row.state)) + " " + row.task + "  " + row.state;
  if (row.attempt > 1) line += " (attempt " + std::to_string(row.attempt) + ")";
  if (const std::string d = Duration(row.started_ms, row.ended_ms); !d.empty()) line += "  " + d;
  if (!row.detail.empty() && row.state != "running") line += "  " + row.detail;
  return line;
}

// What the stream's reader hands the printer.
struct Item {
  enum class Kind : uint8_t { kMessage, kReconnecting, kFatal };
  Kind kind = Kind::kMessage;
  SseMessage message;
  std::string text;
};

class Inbox {
 public:
  void Push(Item item) {
    {
      MutexLock lock(mu_);
      items_.push_back(std::move(item));
    }
    cv_.SignalAll();
  }
  bool empty() {
    MutexLock lock(mu_);
    return items_.empty();
  }
  // The next item; nullopt when `deadline` passed first.
  std::optional<Item> Pop(std::optional<Clock::time_point> deadline) {
    MutexLock lock(mu_);
    while (items_.empty()) {
      if (!deadline) {
        cv_.Wait(mu_);
      } else if (cv_.WaitUntil(mu_, *deadline)) {
        if (items_.empty()) return std::nullopt;
      }
    }
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  Mutex mu_;
  CondVar cv_{mu_};
  std::deque<Item> items_ GUARDED_BY(mu_);
};

// Reads the run's event stream into `inbox`, reconnecting with Last-Event-ID, until the run's
// end has been read, the stream is lost for good, or `aborter` aborts.
void ReadStream(const WatchOptions& options, Inbox& inbox, StreamAborter& aborter) {
  const std::string path = "/api/v1/events?run=" + options.run.str();
  std::string last_id;
  bool run_ended = false;
  std::optional<Clock::time_point> outage_since;
  std::chrono::milliseconds backoff(250);
  while (!aborter.aborted()) {
    Result<StreamEnd> end = ReadEventStream(
        options.daemon, path, last_id, options.idle,
        [&](const SseMessage& message) {
          outage_since.reset();
          backoff = std::chrono::milliseconds(250);
          if (!message.id.empty()) last_id = message.id;
          // The stream holds this run's events only.
          if (message.type == "job_completed" || message.type == "trigger_refused") {
            run_ended = true;
          }
          inbox.Push(Item{.kind = Item::Kind::kMessage, .message = message, .text = {}});
          return true;
        },
        &aborter);
    if (aborter.aborted() || run_ended) return;
    if (!end.ok() && end.status().code() != StatusCode::kUnavailable) {
      // Refused (a bad token, an unknown run, no such route): trying again changes nothing.
      inbox.Push(Item{.kind = Item::Kind::kFatal, .message = {}, .text = end.status().message()});
      return;
    }
    const std::string why = end.ok() ? "the daemon ended the event stream" : end.status().message();
    const Clock::time_point now = Clock::now();
    if (!outage_since) {
      outage_since = now;
      inbox.Push(Item{.kind = Item::Kind::kReconnecting, .message = {}, .text = why});
    } else if (now - *outage_since > options.reconnect_patience) {
      inbox.Push(Item{.kind = Item::Kind::kFatal,
                      .message = {},
                      .text = "lost the event stream of run " + options.run.str() + ": " + why});
      return;
    }
    aborter.WaitFor(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

class Watcher {
 public:
  Watcher(const WatchOptions& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err), model_(options.run.str()) {}

  int Run() {
    ApiClientOptions client_options;
    client_options.io_timeout = options_.request_timeout;
    Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(options_.daemon, client_options);
    if (!client.ok()) return Fail(client.status().message(), kExitUsage);
    client_ = std::move(client).value();
    std::optional<int> failed = Snapshot(/*first=*/true);
    if (failed) return *failed;
    if (!options_.in_place) {
      // petit trigger --follow has said which run it started.
      if (!options_.just_triggered) {
        out_ << "run " << model_.run() << (model_.job().empty() ? "" : "  job " + model_.job())
             << "  " << model_.status() << "\n";
      }
      for (const Row& row : model_.rows()) {
        if (row.rank >= 0) Print(row);
      }
    }
    if (!model_.ended()) {
      Inbox inbox;
      StreamAborter aborter;
      std::thread reader([&] { ReadStream(options_, inbox, aborter); });
      const int code = Follow(inbox);
      aborter.Abort();
      reader.join();
      if (code != kExitOk) return code;
    }
    return Finish();
  }

 private:
  // Reads the run and its tasks; an exit code when the watch cannot go on.
  std::optional<int> Snapshot(bool first) {
    const std::string run_path = "/api/v1/runs/" + options_.run.str();
    Result<ApiAnswer> run = client_->Get(run_path);
    if (!run.ok()) return Fail(run.status().message(), kExitHostError);
    if (run->status == 404 && options_.just_triggered) return std::nullopt;  // not stored yet
    if (run->status == 404) {
      return Fail("no run " + options_.run.str() + " on the daemon at " + options_.daemon.url,
                  kExitUsage);
    }
    // A missing or wrong token is the caller's to fix, as for the other remote commands.
    if (run->status == 401 || run->status == 403) return Fail(ErrorText(*run), kExitUsage);
    if (run->status != 200) return Fail(ErrorText(*run), kExitHostError);
    Result<RunView> view = ParseRunJson(run->body);
    if (!view.ok()) return Fail(view.status().message(), kExitHostError);
    model_.SetRun(*view);
    Result<ApiAnswer> tasks = client_->Get(run_path + "/tasks");
    if (!tasks.ok()) return Fail(tasks.status().message(), kExitHostError);
    if (tasks->status != 200) return Fail(ErrorText(*tasks), kExitHostError);
    Result<std::vector<TaskRowView>> rows = ParseTasksJson(tasks->body);
    if (!rows.ok()) return Fail(rows.status().message(), kExitHostError);
    for (const TaskRowView& task : *rows) {
      const Row* moved = model_.SetTask(task);
      if (moved != nullptr && !first) Print(*moved);
    }
    return std::nullopt;
  }

  int Follow(Inbox& inbox) {
    Render();
    Clock::time_point checked = Clock::now();
    while (!model_.ended()) {
      Clock::time_point deadline = checked + options_.recheck;
      if (options_.in_place) deadline = std::min(deadline, Clock::now() + std::chrono::seconds(1));
      std::optional<Item> item = inbox.Pop(deadline);
      if (!item) {
        if (Clock::now() >= checked + options_.recheck) {
          // Quiet for long: a run driven by another process (a foreground petit trigger) has no
          // events here, so the store tells how it goes.
          // A daemon that does not answer now is the reader's to report.
          Result<ApiAnswer> probe = client_->Get("/api/v1/runs/" + options_.run.str());
          if (probe.ok() && probe->status == 200) {
            if (std::optional<int> failed = Snapshot(/*first=*/false)) return *failed;
          }
          checked = Clock::now();
        }
        Render();  // durations move on
        continue;
      }
      checked = Clock::now();
      switch (item->kind) {
        case Item::Kind::kFatal:
          return Fail(item->text, kExitHostError);
        case Item::Kind::kReconnecting:
          err_ << "petit: " << item->text << "; reconnecting\n";
          drawn_ = 0;  // the table goes on below the message
          break;
        case Item::Kind::kMessage:
          if (std::optional<int> failed = Handle(item->message)) return *failed;
          break;
      }
      // A burst (the replay of a run's events) is drawn once, after its last event.
      if (inbox.empty()) Render();
    }
    return kExitOk;
  }

  std::optional<int> Handle(const SseMessage& message) {
    if (message.type == "gap") {
      // Events were missed: what the store says now stands in for them.
      return Snapshot(/*first=*/false);
    }
    Result<EventView> event = ParseEventJson(message.data);
    if (!event.ok()) return Fail(event.status().message(), kExitHostError);
    if (event->run != model_.run()) return std::nullopt;
    if (const Row* moved = model_.Apply(*event)) Print(*moved);
    return std::nullopt;
  }

  void Print(const Row& row) {
    const bool failed = row.state == "failed" && row.attempt > 0;
    if (failed) failed_.push_back(row);
    // Plain lines leave out queued: a line when the task starts says more.
    if (options_.in_place || row.state == "queued") return;
    out_ << PlainLine(row) << "\n";
    if (failed) PrintTail(row);
    out_.flush();
  }

  void PrintTail(const Row& row) {
    const std::string path = "/api/v1/runs/" + options_.run.str() + "/tasks/" + row.task +
                             "/attempts/" + std::to_string(row.attempt) +
                             "/logs?tail=" + std::to_string(options_.tail_bytes);
    Result<ApiAnswer> reply = client_->Get(path);
    Result<std::string> data = !reply.ok() ? Result<std::string>(reply.status())
                               : reply->status != 200
                                   ? Result<std::string>(Unavailable(ErrorText(*reply)))
                                   : ParseStringField(reply->body, "data");
    if (!data.ok()) {
      err_ << "petit: cannot read the output of " << row.task << ": " << data.status().message()
           << "\n";
      return;
    }
    std::vector<std::string_view> lines;
    for (std::string_view text = *data; !text.empty();) {
      const size_t eol = text.find('\n');
      lines.push_back(text.substr(0, eol));
      text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    }
    const size_t first =
        lines.size() > options_.tail_lines ? lines.size() - options_.tail_lines : 0;
    for (size_t i = first; i < lines.size(); ++i) out_ << "     | " << lines[i] << "\n";
  }

  // The table, drawn over the previous one.
  void Render() {
    if (!options_.in_place) return;
    std::vector<std::string> lines;
    const int64_t now = NowMs();
    // What changes first, so that a narrow terminal cuts the ids rather than the state.
    std::string head = model_.status();
    const std::string elapsed = Duration(
        model_.started_ms(), model_.ended() && model_.ended_ms() != 0 ? model_.ended_ms() : now);
    if (!elapsed.empty()) head += "  " + elapsed;
    head += "  run " + model_.run();
    if (!model_.job().empty()) head += "  job " + model_.job();
    lines.push_back(head);
    size_t width = 4;
    for (const Row& row : model_.rows()) width = std::max(width, row.task.size());
    for (const Row& row : model_.rows()) {
      std::string line = "  " + std::string(Mark(row.state)) + " " + row.task +
                         std::string(width - row.task.size() + 2, ' ') + row.state;
      if (row.state.size() < 16) line += std::string(16 - row.state.size(), ' ');
      const int64_t to = row.state == "running" ? now : row.ended_ms;
      line += Duration(row.started_ms, to);
      if (row.attempt > 1) line += "  attempt " + std::to_string(row.attempt);
      if (!row.detail.empty() && row.state != "running") line += "  " + row.detail;
      lines.push_back(std::move(line));
    }
    if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "F";  // to the start of the table
    for (std::string& line : lines) {
      // One column spare: a full line would wrap on some terminals and break the cursor moves.
      if (options_.width > 1 && line.size() >= options_.width) line.resize(options_.width - 1);
      out_ << "\x1b[2K" << line << "\n";
    }
    drawn_ = lines.size();
    out_.flush();
  }

  int Finish() {
    Render();
    if (options_.in_place) {
      for (const Row& row : failed_) {
        out_ << "output of " << row.task << " (attempt " << row.attempt << "), last lines:\n";
        PrintTail(row);
      }
    }
    size_t succeeded = 0, failed = 0, not_run = 0, cancelled = 0;
    for (const Row& row : model_.rows()) {
      if (row.state == "succeeded") ++succeeded;
      if (row.state == "failed" || row.state == "interrupted") ++failed;
      if (row.state == "skipped" || row.state == "upstream_failed") ++not_run;
      if (row.state == "cancelled") ++cancelled;
    }
    const std::string& status = model_.status();
    if (status == "refused") {
      out_ << "run " << model_.run() << " did not start: " << model_.error() << "\n";
      return kExitRunFailed;
    }
    out_ << "run " << model_.run() << " " << status;
    if (const std::string d = Duration(model_.started_ms(), model_.ended_ms()); !d.empty()) {
      out_ << " in " << d;
    }
    out_ << ": " << succeeded << " succeeded, " << failed << " failed, " << not_run << " not run, "
         << cancelled << " cancelled\n";
    out_.flush();
    return status == "succeeded" ? kExitOk : kExitRunFailed;
  }

  int Fail(const std::string& message, int code) {
    err_ << "petit: " << message << "\n";
    return code;
  }

  const WatchOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<ApiClient> client_;  // the requests of this thread; the stream has its own
  RunModel model_;
  std::vector<Row> failed_;
  size_t drawn_ = 0;
};

bool OnTerminal() {
  if (isatty(STDOUT_FILENO) == 0) return false;
  const char* term = std::getenv("TERM");
  return term != nullptr && std::string_view(term) != "dumb";
}

size_t TerminalWidth() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 100;
}

// The options for this command line; nullopt after saying why there are none.
std::optional<WatchOptions> OptionsFor(const Args& args) {
  std::vector<std::string> warnings;
  Result<DaemonAddress> daemon = FindDaemon(args, warnings);
  for (const std::string& warning : warnings) PrintError("warning: " + warning);
  if (!daemon.ok()) {
    PrintError(daemon.status().message());
    return std::nullopt;
  }
  WatchOptions options;
  options.daemon = std::move(daemon).value();
  options.in_place = OnTerminal();
  if (options.in_place) options.width = TerminalWidth();
  return options;
}

}  // namespace

int WatchRun(const WatchOptions& options, std::ostream& out, std::ostream& err) {
  return Watcher(options, out, err).Run();
}

int CmdWatch(const Args& args, std::unique_ptr<HostEnv> /*env*/) {
  Result<RunId> run = RunId::Parse(args.operands[0]);
  if (!run.ok()) {
    PrintError(run.status().message());
    return kExitUsage;
  }
  std::optional<WatchOptions> options = OptionsFor(args);
  if (!options) return kExitUsage;
  options->run = *run;
  return WatchRun(*options, std::cout, std::cerr);
}

int CmdTriggerFollow(const Args& args, std::unique_ptr<HostEnv> /*env*/) {
  if (args.detach) {
    PrintError("--detach and --follow exclude each other: --detach prints the run id and returns");
    return kExitUsage;
  }
  std::optional<WatchOptions> options = OptionsFor(args);
  if (!options) return kExitUsage;
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(options->daemon);
  if (!client.ok()) {
    PrintError(client.status().message());
    return kExitUsage;
  }
  const std::string& job = args.operands.back();
  Result<ApiAnswer> answer =
      (*client)->Post("/api/v1/jobs/" + EncodePathSegment(job) + "/trigger", "{}");
  if (!answer.ok()) {
    PrintError(answer.status().message());
    return kExitHostError;
  }
  if (answer->status != 202 && answer->status != 200) {
    PrintError(ErrorText(*answer));
    // Refused by max_concurrency (429): the run did not start, as petit trigger exits then.
    if (answer->status == 429) return kExitRunFailed;
    return answer->status >= 400 && answer->status < 500 ? kExitUsage : kExitHostError;
  }
  Result<std::string> run_text = ParseStringField(answer->body, "run_id");
  Result<RunId> run = run_text.ok() ? RunId::Parse(*run_text) : Result<RunId>(run_text.status());
  if (!run.ok()) {
    PrintError("the daemon's answer to the trigger has no run id: " + run.status().message());
    return kExitHostError;
  }
  if (!args.quiet) std::cout << "run " << run->str() << "  job " << job << "\n";
  options->run = *run;
  options->just_triggered = true;
  return WatchRun(*options, std::cout, std::cerr);
}

}  // namespace petit::host
