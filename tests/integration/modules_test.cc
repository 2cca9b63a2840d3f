// End to end: the internal modules (petit/storage/internal_module.h). The real `petit` maps SOCI
// and SQLite only for a sqlite: store, libpq only for a postgresql: one, libgvc only for `petit
// graph --format svg` and Poco (the API module) for none of them (asked of the dynamic loader with
// LD_DEBUG=files), and a petit installed without its modules says so on one line.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/petit_process.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Outcome;
using testing::ShellQuote;

// No server listens on port 1: opening the store loads the module, then fails to connect.
constexpr char kNoServer[] = "postgresql://petit@127.0.0.1:1/petit?connect_timeout=1";

class ModulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-modules-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "jobs");
    std::ofstream(dir_ / "jobs" / "etl.yaml")
        << "id: etl\ntasks:\n  - {id: extract, type: noop}\n"
           "  - {id: load, type: noop, depends_on: [extract]}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Jobs() const { return ShellQuote((dir_ / "jobs").string()); }

  // `petit args` with the dynamic loader's list of what it loads on stderr.
  Outcome Traced(const std::string& petit, const std::string& args) {
    return testing::RunPetit("/usr/bin/env", "LD_DEBUG=files " + ShellQuote(petit) + " " + args,
                             dir_);
  }

  fs::path dir_;
};

bool Loaded(const Outcome& outcome, const std::string& library) {
  // ld.so prints "file=<name> [0];  needed by ..." or "...  dynamically loaded by ..." for each.
  return outcome.err.find("file=" + library) != std::string::npos ||
         outcome.err.find("/" + library + " [") != std::string::npos;
}

TEST_F(ModulesTest, CommandsMapDatabaseClientsAndGraphvizOnlyWhenTheyNeedThem) {
  const std::vector<std::string> sqlite_libraries = {"petit_sqlite.so", "libsqlite3.so",
                                                     "libsoci_core.so"};
  const std::vector<std::string> postgresql_libraries = {"petit_postgresql.so", "libpq.so"};
  const std::vector<std::string> graphviz_libraries = {"petit_graphviz.so", "libgvc.so"};
  // Only `petit run` serves the API (tests/integration/api_test.cc runs it).
  const std::vector<std::string> api_libraries = {"petit_api.so", "libPocoFoundation.so",
                                                  "libPocoNet.so", "libPocoJSON.so"};
  auto expect = [&](const std::string& args, const std::vector<std::string>& libraries,
                    bool loaded) {
    const Outcome outcome = Traced(PETIT_EXE, args);
    for (const std::string& library : libraries) {
      EXPECT_EQ(Loaded(outcome, library), loaded)
          << "petit " << args << (loaded ? " did not load " : " loaded ") << library;
    }
    return outcome;
  };

  const std::string sqlite = "--storage " + ShellQuote("sqlite:" + (dir_ / "petit.db").string());
  for (const std::string& args :
       {std::string("version"), "validate " + Jobs(), "graph " + Jobs() + " etl",
        "--storage memory: trigger " + Jobs() + " etl --quiet"}) {
    for (const auto* libraries :
         {&sqlite_libraries, &postgresql_libraries, &graphviz_libraries, &api_libraries}) {
      EXPECT_EQ(expect(args, *libraries, false).exit_code, 0) << args;
    }
  }
  for (const std::string& args :
       {sqlite + " trigger " + Jobs() + " etl --quiet", sqlite + " runs"}) {
    EXPECT_EQ(expect(args, sqlite_libraries, true).exit_code, 0) << args;
    expect(args, postgresql_libraries, false);
    expect(args, graphviz_libraries, false);
  }

  const std::string svg = "graph " + Jobs() + " etl --format svg";
  const Outcome rendered = expect(svg, graphviz_libraries, true);
  EXPECT_EQ(rendered.exit_code, 0);
  EXPECT_THAT(rendered.out, HasSubstr("</svg>"));
  expect(svg, postgresql_libraries, false);
  expect(svg, sqlite_libraries, false);
  expect(svg, api_libraries, false);

  const std::string postgresql = "runs --storage " + ShellQuote(kNoServer);
  EXPECT_NE(expect(postgresql, postgresql_libraries, true).exit_code, 0);
  expect(postgresql, graphviz_libraries, false);
  expect(postgresql, {"petit_sqlite.so"}, false);
}

TEST_F(ModulesTest, APetitInstalledWithoutItsModulesSaysWhichIsMissingOnOneLine) {
  // The binary alone in bin/, with no lib/petit/modules beside it.
  fs::create_directories(dir_ / "bin");
  const fs::path petit = dir_ / "bin" / "petit";
  fs::copy_file(PETIT_EXE, petit);
  const std::string modules = (dir_ / "lib" / "petit" / "modules").string();
  const std::string plugins = "--plugin-dir " + ShellQuote(PETIT_PLUGIN_DIR) + " ";

  const Outcome runs =
      testing::RunPetit(petit.string(), "runs --storage " + ShellQuote(kNoServer), dir_);
  EXPECT_NE(runs.exit_code, 0);
  EXPECT_THAT(runs.err, HasSubstr("the PostgreSQL module " + modules +
                                  "/petit_postgresql.so is "
                                  "missing"));
  EXPECT_THAT(runs.err, HasSubstr("reinstall petit"));
  EXPECT_THAT(runs.err, Not(HasSubstr("cannot connect")));

  const Outcome sqlite = testing::RunPetit(
      petit.string(), "runs --storage " + ShellQuote("sqlite:" + (dir_ / "petit.db").string()),
      dir_);
  EXPECT_NE(sqlite.exit_code, 0);
  EXPECT_THAT(sqlite.err,
              HasSubstr("the SQLite module " + modules + "/petit_sqlite.so is missing"));

  const Outcome svg =
      testing::RunPetit(petit.string(), plugins + "graph " + Jobs() + " etl --format svg", dir_);
  EXPECT_NE(svg.exit_code, 0);
  EXPECT_THAT(svg.err,
              HasSubstr("the Graphviz module " + modules + "/petit_graphviz.so is missing"));
  EXPECT_EQ(svg.out, "");

  // `petit run` loads the API module before it starts anything.
  const Outcome run =
      testing::RunPetit(petit.string(), plugins + "--storage memory: run " + Jobs(), dir_);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("the API module " + modules + "/petit_api.so is missing"));
  EXPECT_THAT(run.err, HasSubstr("api.enabled: false"));

  for (const Outcome* outcome : {&runs, &sqlite, &svg}) {
    ASSERT_FALSE(outcome->err.empty());
    EXPECT_EQ(outcome->err.find('\n'), outcome->err.size() - 1) << outcome->err;
  }

  // What needs neither module still works.
  const Outcome dot = testing::RunPetit(petit.string(), plugins + "graph " + Jobs() + " etl", dir_);
  EXPECT_EQ(dot.exit_code, 0) << dot.err;
}

}  // namespace
}  // namespace petit
