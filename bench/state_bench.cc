// Task-state writes through the StateStore port: rows per second of SaveAttempts on SQLite and on
// PostgreSQL, one call per engine wake-up, for the batch sizes of the floors in
// ../shared/bench/sqlite_states.c and pg_states.c (bench/run_state_bench.py runs both and prints
// the ratios).
//
// The workload is the floors': one insert and two updates per task (queued, then running, then
// succeeded), 3 row writes per task. Wake-ups move whole waves: iteration i saves the tasks of wave
// i / 3 in state i % 3, `batch` of them in one SaveAttempts call (one transaction). Every
// iteration is one call, so rows/s = batch / (wall time per iteration).
//
//   petit_state_bench [--sqlite-dir=DIR] [--postgres=URI] [benchmark flags]
//
// SQLite: a new file under DIR (default: the system temporary directory) for every measurement,
// WAL with synchronous=NORMAL as the store sets it. PostgreSQL: a scratch database created on the
// server of URI (or $PETIT_BENCH_POSTGRES_URI; a URI from scripts/pg_test_server.sh works) for
// this process, dropped at exit; without a URI the PostgreSQL benchmarks are skipped.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

constexpr int64_t kBatchSizes[] = {1, 10, 100, 1000};
constexpr int64_t kT0 = 1'700'000'000'000'000;
constexpr TaskState kWaveStates[] = {TaskState::kQueued, TaskState::kRunning,
                                     TaskState::kSucceeded};

// Fails the benchmark (and stops its loop) with the status; returns whether it was OK.
bool Check(benchmark::State& state, const Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(status.ToString().c_str());
  return false;
}

// The records of one wake-up, rewritten in place each iteration so building them costs no more
// than the engine's own copies would.
class Waves {
 public:
  Waves(RunId run, size_t batch) : records_(batch) {
    for (AttemptRecord& record : records_) {
      record.run = run;
      record.attempt = 1;
    }
  }

  std::span<const AttemptRecord> Next() {
    const uint64_t wave = iteration_ / 3;
    const TaskState state = kWaveStates[iteration_ % 3];
    ++iteration_;
    for (size_t i = 0; i < records_.size(); ++i) {
      AttemptRecord& r = records_[i];
      const uint64_t task = wave * records_.size() + i;
      r.task = TaskId("t" + std::to_string(task));
      r.state = state;
      r.queued_us = kT0 + static_cast<int64_t>(task);
      r.started_us = state == TaskState::kQueued ? 0 : r.queued_us + 10;
      r.ended_us = state == TaskState::kSucceeded ? r.queued_us + 20 : 0;
      r.exit_code = state == TaskState::kSucceeded ? std::optional<int32_t>(0) : std::nullopt;
    }
    return records_;
  }

 private:
  std::vector<AttemptRecord> records_;
  uint64_t iteration_ = 0;
};

void SaveWaves(benchmark::State& state, StateStore& store) {
  const auto batch = static_cast<size_t>(state.range(0));
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("bench");
  run.status = RunStatus::kRunning;
  run.created_us = kT0;
  run.started_us = kT0;
  if (!Check(state, store.CreateRun(run))) return;
  Waves waves(run.id, batch);
  for (auto _ : state) {
    if (!Check(state, store.SaveAttempts(waves.Next()))) return;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  state.counters["batch"] = static_cast<double>(batch);
}

std::string g_sqlite_dir;

void BM_SaveAttemptsSqlite(benchmark::State& state) {
  static int counter = 0;
  const std::filesystem::path path =
      std::filesystem::path(g_sqlite_dir) /
      ("petit-state-bench-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".db");
  {
    Result<std::unique_ptr<StateStore>> store =
        storage::OpenStateStore("sqlite://" + path.string());
    if (Check(state, store.status())) SaveWaves(state, **store);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ignored;
    std::filesystem::remove(path.string() + suffix, ignored);
  }
}

// A database of its own on the server named by the URI, created on first use, dropped at exit.
class ScratchDatabase {
 public:
  static Result<std::unique_ptr<ScratchDatabase>> Create(std::string_view uri) {
    std::string admin(uri);
    for (std::string_view scheme : {"postgresql:", "postgres:"}) {
      if (admin.starts_with(scheme) && !admin.starts_with(std::string(scheme) + "//")) {
        admin.erase(0, scheme.size());
        break;
      }
    }
    const std::string name = "petit_state_bench_" + std::to_string(getpid());
    Status status = Execute(admin, "DROP DATABASE IF EXISTS " + name);
    if (status.ok()) status = Execute(admin, "CREATE DATABASE " + name);
    if (!status.ok()) return status;
    // A later dbname wins over an earlier one in both libpq forms.
    std::string target;
    if (admin.starts_with("postgresql://") || admin.starts_with("postgres://")) {
      target = admin + (admin.find('?') == std::string::npos ? "?" : "&") + "dbname=" + name;
    } else {
      target = "postgresql:" + admin + " dbname=" + name;
    }
    return std::unique_ptr<ScratchDatabase>(new ScratchDatabase(admin, name, target));
  }

  ~ScratchDatabase() {
    Status dropped = Execute(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    if (!dropped.ok()) std::fprintf(stderr, "%s\n", dropped.ToString().c_str());
  }

  const std::string& uri() const { return uri_; }

 private:
  ScratchDatabase(std::string admin, std::string name, std::string uri)
      : admin_(std::move(admin)), name_(std::move(name)), uri_(std::move(uri)) {}

  static Status Execute(const std::string& conninfo, const std::string& sql) {
    PGconn* connection = PQconnectdb(conninfo.c_str());
    Status status;
    if (PQstatus(connection) != CONNECTION_OK) {
      status = Unavailable("cannot connect to " + conninfo + ": " + PQerrorMessage(connection));
    } else {
      PGresult* result = PQexec(connection, sql.c_str());
      if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        status = Internal(sql + ": " + PQerrorMessage(connection));
      }
      PQclear(result);
    }
    PQfinish(connection);
    return status;
  }

  std::string admin_;
  std::string name_;
  std::string uri_;
};

std::unique_ptr<ScratchDatabase> g_postgres;

void BM_SaveAttemptsPostgresql(benchmark::State& state) {
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(g_postgres->uri());
  if (Check(state, store.status())) SaveWaves(state, **store);
}

std::optional<std::string> TakeFlag(int& argc, char** argv, std::string_view name) {
  const std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with(prefix)) {
      std::string value = argv[i] + prefix.size();
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      return value;
    }
  }
  return std::nullopt;
}

int Main(int argc, char** argv) {
  std::optional<std::string> postgres = TakeFlag(argc, argv, "postgres");
  if (!postgres) {
    if (const char* env = std::getenv("PETIT_BENCH_POSTGRES_URI"); env != nullptr && *env) {
      postgres = env;
    }
  }
  g_sqlite_dir =
      TakeFlag(argc, argv, "sqlite-dir").value_or(std::filesystem::temp_directory_path().string());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  for (const int64_t batch : kBatchSizes) {
    benchmark::RegisterBenchmark("BM_SaveAttempts/sqlite", BM_SaveAttemptsSqlite)
        ->Arg(batch)
        ->ArgName("batch")
        ->UseRealTime();
  }
  if (postgres) {
    Result<std::unique_ptr<ScratchDatabase>> database = ScratchDatabase::Create(*postgres);
    if (!database.ok()) {
      std::fprintf(stderr, "PostgreSQL: %s\n", database.status().ToString().c_str());
      return 1;
    }
    g_postgres = std::move(database).value();
    for (const int64_t batch : kBatchSizes) {
      benchmark::RegisterBenchmark("BM_SaveAttempts/postgresql", BM_SaveAttemptsPostgresql)
          ->Arg(batch)
          ->ArgName("batch")
          ->UseRealTime();
    }
  } else {
    std::fprintf(stderr,
                 "PostgreSQL benchmarks skipped: pass --postgres=URI or set "
                 "PETIT_BENCH_POSTGRES_URI (scripts/pg_test_server.sh start DIR prints one)\n");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_postgres.reset();
  return 0;
}

}  // namespace
}  // namespace petit

int main(int argc, char** argv) { return petit::Main(argc, argv); }
