// End to end: `--json` on `petit runs`, `petit list` and `petit plugins`, and `petit graph`, with
// the real binary and plugins. The JSON is parsed with Poco::JSON, as another program would.
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using testing::BackgroundPetit;
using ::testing::HasSubstr;
using testing::Outcome;
using testing::ShellQuote;
using ::testing::StartsWith;

class CliJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-json-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StorageUri() const { return "sqlite://" + (dir_ / "petit.db").string(); }

  Outcome Run(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "--storage " + ShellQuote(StorageUri()) + " " + args, dir_);
  }

  // The job directory as an operand.
  std::string Jobs() const { return ShellQuote(jobs_.string()); }

  void WriteJob(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  // Parses `text` as one JSON document whose top level is an array.
  static Poco::JSON::Array::Ptr ParseArray(const std::string& text) {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed;
    try {
      parsed = parser.parse(text);
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << "not JSON: " << e.displayText() << "\n" << text;
      return new Poco::JSON::Array();
    }
    if (parsed.type() != typeid(Poco::JSON::Array::Ptr)) {
      ADD_FAILURE() << "not an array:\n" << text;
      return new Poco::JSON::Array();
    }
    return parsed.extract<Poco::JSON::Array::Ptr>();
  }

  fs::path dir_;
  fs::path jobs_;
};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(CliJsonTest, RunsIsAnArrayOfRunsWithEpochMillisecondsAndNullsNotMissing) {
  WriteJob("ok.yaml", "id: ok\ntasks:\n  - {id: a, type: noop}\n");
  WriteJob("bad.yaml", "id: bad\ntasks:\n  - {id: a, type: fail, params: {times: 5}}\n");
  const int64_t before = NowMillis();
  ASSERT_EQ(Run("trigger " + Jobs() + " ok").exit_code, 0);
  ASSERT_EQ(Run("trigger " + Jobs() + " bad").exit_code, 1);

  Outcome r = Run("runs --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Poco::JSON::Array::Ptr runs = ParseArray(r.out);
  ASSERT_EQ(runs->size(), 2u) << r.out;

  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
  ASSERT_TRUE(store.ok());
  Result<std::vector<RunRecord>> stored = (*store)->ListRuns(JobId(), 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  const std::set<std::string> fields = {
      "id",       "job_id",      "status", "trigger", "owner",      "created_at",   "started_at",
      "ended_at", "duration_ms", "error",  "retries", "retried_at", "occurrence_at"};
  for (size_t i = 0; i < 2; ++i) {
    Poco::JSON::Object::Ptr run = runs->getObject(static_cast<unsigned>(i));
    ASSERT_TRUE(run) << r.out;
    std::set<std::string> names;
    for (const auto& [name, value] : *run) names.insert(name);
    EXPECT_EQ(names, fields) << r.out;
    const RunRecord& expected = (*stored)[i];  // both newest first
    EXPECT_EQ(run->getValue<std::string>("id"), expected.id.str());
    EXPECT_EQ(run->getValue<std::string>("job_id"), expected.job.str());
    EXPECT_EQ(run->getValue<std::string>("trigger"), "manual");
    EXPECT_EQ(run->getValue<int64_t>("started_at"), expected.started_us / 1000);
    EXPECT_EQ(run->getValue<int64_t>("ended_at"), expected.ended_us / 1000);
    EXPECT_EQ(run->getValue<int64_t>("duration_ms"),
              (expected.ended_us - expected.started_us) / 1000);
    EXPECT_GE(run->getValue<int64_t>("started_at"), before - 1);  // milliseconds, not µs or s
    EXPECT_LE(run->getValue<int64_t>("started_at"), NowMillis());
    EXPECT_EQ(run->getValue<int64_t>("retries"), 0);
    EXPECT_TRUE(run->isNull("retried_at"));
    EXPECT_TRUE(run->isNull("occurrence_at"));
  }
  Poco::JSON::Object::Ptr failed = runs->getObject(0);
  EXPECT_EQ(failed->getValue<std::string>("status"), "failed");
  if ((*stored)[0].error.empty()) {
    EXPECT_TRUE(failed->isNull("error"));
  } else {
    EXPECT_EQ(failed->getValue<std::string>("error"), (*stored)[0].error);
  }
  Poco::JSON::Object::Ptr succeeded = runs->getObject(1);
  EXPECT_EQ(succeeded->getValue<std::string>("status"), "succeeded");
  EXPECT_TRUE(succeeded->isNull("error"));

  // --job and --limit apply as to the text listing; no run is an empty array.
  EXPECT_EQ(ParseArray(Run("runs --json --job ok").out)->size(), 1u);
  EXPECT_EQ(ParseArray(Run("runs --json --limit 1").out)->size(), 1u);
  EXPECT_EQ(ParseArray(Run("runs --json --job nothing").out)->size(), 0u);
}

TEST_F(CliJsonTest, ListIsAnArrayOfJobsWithNextFireTimes) {
  WriteJob("nightly.yaml",
           "id: nightly\nname: \"Nightly \\\"ETL\\\"\"\nschedule: {cron: \"0 3 * * *\", timezone: "
           "Europe/Paris}\ntasks:\n  - {id: a, type: noop}\n  - {id: b, type: noop, depends_on: "
           "[a]}\n");
  WriteJob("manual.yaml",
           "id: manual\nenabled: false\ndepends_on: [nightly]\ntasks:\n  - {id: a, type: noop}\n");
  Outcome r = Run("list " + Jobs() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Poco::JSON::Array::Ptr jobs = ParseArray(r.out);
  ASSERT_EQ(jobs->size(), 2u) << r.out;
  Poco::JSON::Object::Ptr manual = jobs->getObject(0);
  Poco::JSON::Object::Ptr nightly = jobs->getObject(1);
  ASSERT_EQ(nightly->getValue<std::string>("id"), "nightly") << r.out;
  EXPECT_EQ(nightly->getValue<std::string>("name"), "Nightly \"ETL\"");
  EXPECT_EQ(nightly->getValue<int>("task_count"), 2);
  EXPECT_TRUE(nightly->getValue<bool>("enabled"));
  EXPECT_EQ(nightly->getValue<std::string>("schedule"), "0 3 * * *");
  EXPECT_EQ(nightly->getValue<std::string>("timezone"), "Europe/Paris");
  const int64_t next = nightly->getValue<int64_t>("next_fire_at");
  EXPECT_GT(next, NowMillis());
  EXPECT_LE(next, NowMillis() + 25LL * 3600 * 1000);
  EXPECT_TRUE(nightly->isNull("description"));
  EXPECT_EQ(nightly->getArray("depends_on")->size(), 0u);

  EXPECT_EQ(manual->getValue<std::string>("id"), "manual");
  EXPECT_FALSE(manual->getValue<bool>("enabled"));
  EXPECT_TRUE(manual->isNull("schedule"));
  EXPECT_TRUE(manual->isNull("timezone"));
  EXPECT_TRUE(manual->isNull("next_fire_at"));
  ASSERT_EQ(manual->getArray("depends_on")->size(), 1u);
  EXPECT_EQ(manual->getArray("depends_on")->getElement<std::string>(0), "nightly");
}

TEST_F(CliJsonTest, ListOfADirectoryWithErrorsPrintsTheValidJobsAndExits2) {
  WriteJob("ok.yaml", "id: ok\ntasks:\n  - {id: a, type: noop}\n");
  WriteJob("broken.yaml", "id: broken\ntasks:\n  - {id: a, type: noop, bogus: 1}\n");
  Outcome r = Run("list " + Jobs() + " --json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bogus"));
  Poco::JSON::Array::Ptr jobs = ParseArray(r.out);
  ASSERT_EQ(jobs->size(), 1u) << r.out;
  EXPECT_EQ(jobs->getObject(0)->getValue<std::string>("id"), "ok");
}

TEST_F(CliJsonTest, PluginsIsAnArrayOfPluginsWithTheirTaskTypesAndSchemas) {
  Outcome r = Run("plugins --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Poco::JSON::Array::Ptr plugins = ParseArray(r.out);
  std::set<std::string> names;
  Poco::JSON::Object::Ptr builtin;
  for (unsigned i = 0; i < plugins->size(); ++i) {
    Poco::JSON::Object::Ptr plugin = plugins->getObject(i);
    names.insert(plugin->getValue<std::string>("name"));
    EXPECT_FALSE(plugin->getValue<std::string>("version").empty());
    EXPECT_THAT(plugin->getValue<std::string>("file"), HasSubstr(".so"));
    if (plugin->getValue<std::string>("name") == "builtin") builtin = plugin;
  }
  EXPECT_TRUE(names.contains("builtin") && names.contains("command")) << r.out;
  ASSERT_TRUE(builtin);
  Poco::JSON::Array::Ptr types = builtin->getArray("task_types");
  ASSERT_TRUE(types);
  bool saw_sleep = false;
  for (unsigned i = 0; i < types->size(); ++i) {
    Poco::JSON::Object::Ptr type = types->getObject(i);
    EXPECT_EQ(type->getValue<std::string>("isolation"), "in_process");
    if (type->getValue<std::string>("name") != "sleep") continue;
    saw_sleep = true;
    Poco::JSON::Object::Ptr schema = type->getObject("params_schema");
    ASSERT_TRUE(schema) << r.out;
    EXPECT_EQ(schema->getValue<std::string>("type"), "object");
    EXPECT_EQ(schema->getArray("required")->getElement<std::string>(0), "ms");
  }
  EXPECT_TRUE(saw_sleep) << r.out;
}

TEST_F(CliJsonTest, GraphPrintsDotOrSvgAndAnUnknownJobIsOneLineWithASuggestion) {
  WriteJob("etl.yaml",
           "id: extract_load\ntasks:\n  - {id: extract, type: noop}\n  - {id: alert, type: noop, "
           "depends_on: [extract], condition: on_failure}\n");
  Outcome dot = Run("graph " + Jobs() + " extract_load");
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_THAT(dot.out, StartsWith("digraph "));
  EXPECT_THAT(dot.out, HasSubstr("alert\\nnoop\\ntrigger on_failure"));
  EXPECT_EQ(dot.err, "");

  Outcome svg = Run("graph " + Jobs() + " extract_load --format svg");
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_THAT(svg.out, StartsWith("<?xml"));
  EXPECT_THAT(svg.out, HasSubstr(">extract</text>"));
  EXPECT_THAT(svg.out, HasSubstr("</svg>"));
  EXPECT_EQ(svg.err, "");

  Outcome unknown = Run("graph " + Jobs() + " extract_lod");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err, "petit: no valid job 'extract_lod' in " + jobs_.string() +
                             " (did you mean 'extract_load'?)\n");

  Outcome format = Run("graph " + Jobs() + " extract_load --format png");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_EQ(format.err, "petit: --format is dot or svg, not 'png'\n");
}

TEST_F(CliJsonTest, GraphOfAJobWhoseFileIsBrokenSaysSoOnTheSameLine) {
  WriteJob("etl.yaml", "id: etl\ntasks:\n  - {id: a, type: noop, bogus: 1}\n");
  Outcome r = Run("graph " + Jobs() + " etl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "petit: no valid job 'etl' in " + jobs_.string() +
                       "; 1 error in its job files (`petit validate " + jobs_.string() +
                       "` lists them)\n");
}

// Two files declaring one job id: validate counts an error; trigger and graph of that id refuse
// rather than pick one of the two definitions (the other files' jobs stay usable).
TEST_F(CliJsonTest, TriggerAndGraphOfAJobIdTwoFilesDeclareRefuseAndNameBothFiles) {
  WriteJob("a.yaml", "id: twice\ntasks:\n  - {id: first, type: noop}\n");
  WriteJob("b.yaml", "id: twice\ntasks:\n  - {id: second, type: noop}\n");
  WriteJob("c.yaml", "id: other\ntasks:\n  - {id: only, type: noop}\n");
  const std::string duplicate = "error: " + (jobs_ / "b.yaml").string() +
                                ":1:5: job id 'twice' is already used by " +
                                (jobs_ / "a.yaml").string() + ":1:5\n";
  const std::string refusal = "petit: job 'twice' is declared by more than one file in " +
                              jobs_.string() +
                              ", so which one to run is ambiguous: give each its own id (the "
                              "errors above name the files)\n";

  Outcome trigger = Run("trigger " + Jobs() + " twice");
  EXPECT_EQ(trigger.exit_code, 2);
  EXPECT_EQ(trigger.out, "");
  EXPECT_EQ(trigger.err, duplicate + refusal);

  Outcome graph = Run("graph " + Jobs() + " twice");
  EXPECT_EQ(graph.exit_code, 2);
  EXPECT_EQ(graph.out, "");
  EXPECT_EQ(graph.err, duplicate + refusal);

  Outcome other = Run("trigger " + Jobs() + " other --quiet");
  EXPECT_EQ(other.exit_code, 0) << other.err;
}

// petit.yaml's `logging:` in `petit run`: json lines, one per state change, with the run's ids.
TEST_F(CliJsonTest, RunLogsJsonLinesWithTheIdsOfEachTransition) {
  std::ofstream(jobs_ / "petit.yaml") << "logging: {level: info, format: json}\n"
                                      << testing::kApiAnyPort;
  WriteJob("tick.yaml",
           "id: tick\nschedule: \"@every 1s\"\ntasks:\n  - {id: a, type: noop}\n  - {id: b, type: "
           "noop, depends_on: [a]}\n");
  BackgroundPetit daemon(PETIT_EXE, {"--storage", StorageUri(), "run", jobs_.string()}, dir_);
  // A real process: poll its stderr, with a deadline, for the end of its first run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (daemon.err().find(" ended: succeeded") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0);
  const std::string err = daemon.err();
  ASSERT_THAT(err, HasSubstr(" ended: succeeded"));

  std::set<std::string> task_events;
  std::string run_id;
  size_t lines = 0;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    ++lines;
    Poco::JSON::Object::Ptr object;
    try {
      object = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << "not a JSON object: " << line;
      continue;
    }
    EXPECT_TRUE(object->has("time") && object->has("msg")) << line;
    EXPECT_NE(object->getValue<std::string>("level"), "debug") << "level info: " << line;
    if (!object->has("task_id")) continue;
    EXPECT_EQ(object->getValue<std::string>("job_id"), "tick") << line;
    EXPECT_EQ(object->getValue<int>("attempt"), 1) << line;
    if (run_id.empty()) run_id = object->getValue<std::string>("run_id");
    if (object->getValue<std::string>("run_id") != run_id) continue;  // a later run's
    task_events.insert(object->getValue<std::string>("task_id") + " " +
                       object->getValue<std::string>("event"));
  }
  EXPECT_GT(lines, 4u);
  EXPECT_EQ(task_events, (std::set<std::string>{"a task_started", "a task_succeeded",
                                                "b task_started", "b task_succeeded"}))
      << err;
}

TEST_F(CliJsonTest, RunThatRefusesToStartSaysWhyInJsonLines) {
  std::ofstream(jobs_ / "petit.yaml") << "logging: {format: json}\n" << testing::kApiAnyPort;
  WriteJob("broken.yaml", "id: broken\ntasks:\n  - {id: a, type: noop, bogus: 1}\n");
  Outcome r = Run("run " + Jobs());
  EXPECT_EQ(r.exit_code, 2);
  std::istringstream in(r.err);
  std::vector<std::string> levels;
  for (std::string line; std::getline(in, line);) {
    try {
      Poco::JSON::Object::Ptr object =
          Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
      levels.push_back(object->getValue<std::string>("level"));
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << "not a JSON object: " << line;
    }
  }
  EXPECT_EQ(levels, (std::vector<std::string>{"error", "error"})) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bogus"));
  EXPECT_THAT(r.err, HasSubstr("not starting"));
}

TEST_F(CliJsonTest, RunAtLevelWarnLogsNoInfoLines) {
  std::ofstream(jobs_ / "petit.yaml") << "logging: {level: warn}\n" << testing::kApiAnyPort;
  WriteJob("tick.yaml", "id: tick\nschedule: \"@every 1s\"\ntasks:\n  - {id: a, type: noop}\n");
  BackgroundPetit daemon(PETIT_EXE, {"--storage", StorageUri(), "run", jobs_.string()}, dir_);
  // Nothing is logged at warn: the store tells when a run of the daemon has ended.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(dir_ / "petit.db")) continue;
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    if (!store.ok()) continue;
    Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 1);
    ended = runs.ok() && !runs->empty() && runs->front().status == RunStatus::kSucceeded;
  }
  ASSERT_TRUE(ended) << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0);
  EXPECT_EQ(daemon.err(), "");
}

}  // namespace
}  // namespace petit
