#include "plugins/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_attempt_control.h"
#include "plugins/host_services.h"
#include "plugins/plugin_task_runner.h"

namespace petit::host {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string Fixture(const std::string& name) {
  return (std::filesystem::path(PETIT_FIXTURE_PLUGIN_DIR) / (name + ".so")).string();
}

// Fixtures kept out of the directory LoadsTheGoodLibrariesOfADirectoryAndReportsEveryBadOne lists.
std::string ExtraFixture(const std::string& name) {
  return (std::filesystem::path(PETIT_FIXTURE_PLUGIN_DIR) / "extra" / (name + ".so")).string();
}

const std::string kAbi = std::to_string(PETIT_ABI_MAJOR) + "." + std::to_string(PETIT_ABI_MINOR);

// Plugins log init and shutdown with ctx NULL; the tests count those lines.
std::mutex g_lines_mu;
std::vector<std::string> g_lines;  // GUARDED_BY(g_lines_mu)

void RecordLine(LogLevel, std::string_view message) {
  std::lock_guard lock(g_lines_mu);
  g_lines.emplace_back(message);
}

int Lines(const std::string& text) {
  std::lock_guard lock(g_lines_mu);
  return static_cast<int>(std::count(g_lines.begin(), g_lines.end(), text));
}

std::vector<std::string> Names(const PluginLoadResult& result) {
  std::vector<std::string> names;
  for (const auto& plugin : result.plugins) names.push_back(plugin->name());
  return names;
}

std::vector<std::string> TypeNames(const LoadedPlugin& plugin) {
  std::vector<std::string> names;
  for (const auto& type : plugin.task_types()) names.push_back(type.info.name);
  return names;
}

// Whether the dynamic loader still has `file` mapped.
bool IsMapped(const std::string& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

class PluginLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::lock_guard lock(g_lines_mu);
      g_lines.clear();
    }
    previous_sink_ = SetPluginLogSink(&RecordLine);
  }
  void TearDown() override { SetPluginLogSink(previous_sink_); }

 private:
  PluginLogSink previous_sink_ = nullptr;
};

TEST_F(PluginLoaderTest, LoadsAPlainCPluginAndDescribesItsTaskTypes) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));

  const PluginLoadResult& result = loader.result();
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(Names(result), ElementsAre("good_c"));
  const LoadedPlugin& plugin = *result.plugins[0];
  EXPECT_EQ(plugin.version(), "1.0.0");
  EXPECT_EQ(plugin.file(), Fixture("good_c"));
  EXPECT_THAT(TypeNames(plugin), ElementsAre("good_c.echo", "good_c.fail", "good_c.invalid_params",
                                             "good_c.wait_for_cancel"));

  const std::vector<TaskTypeInfo> types = result.TaskTypes();
  ASSERT_EQ(types.size(), 4u);
  EXPECT_EQ(types[0].summary, "Echoes its params, an upstream value and a config value as outputs");
  EXPECT_EQ(types[0].params_schema_json, std::optional<std::string>("{\"type\": \"object\"}"));
  EXPECT_EQ(types[0].flags, uint32_t{PETIT_TASK_IDEMPOTENT});
  EXPECT_EQ(types[0].plugin_name, "good_c");
  EXPECT_EQ(types[0].plugin_version, "1.0.0");
  EXPECT_EQ(types[0].plugin_file, Fixture("good_c"));
  EXPECT_EQ(types[1].params_schema_json, std::nullopt);
  EXPECT_EQ(types[3].flags, uint32_t{PETIT_TASK_CANCELLABLE | PETIT_TASK_SERIAL});
  EXPECT_EQ(Lines("good_c: init"), 1);
}

struct Refusal {
  std::string fixture;
  StatusCode code;
  std::string message;
};

void PrintTo(const Refusal& refusal, std::ostream* os) { *os << refusal.fixture; }

// What dlopen itself says about `file`, which the loader must quote.
std::string DlopenError(const std::string& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    dlclose(handle);
    return "(" + file + " loaded)";
  }
  return dlerror();
}

std::vector<Refusal> Refusals() {
  const std::string major = std::to_string(PETIT_ABI_MAJOR);
  return {
      {"not_elf", StatusCode::kUnavailable,
       "cannot load plugin " + Fixture("not_elf") + ": " + DlopenError(Fixture("not_elf"))},
      {"not_a_plugin", StatusCode::kInvalidArgument,
       "not a Petit plugin: " + Fixture("not_a_plugin") + " does not export petit_plugin_abi_info"},
      {"bad_magic", StatusCode::kInvalidArgument,
       "not a Petit plugin: " + Fixture("bad_magic") +
           ": petit_plugin_abi_info() returned magic 0x12345678, expected 0x54495450"},
      {"wrong_major", StatusCode::kFailedPrecondition,
       "plugin 'wrong_major' (" + Fixture("wrong_major") +
           ") was built for Petit ABI 2.0; this host supports ABI " + major +
           ".x (major must be equal)"},
      {"newer_minor", StatusCode::kFailedPrecondition,
       "plugin 'newer_minor' (" + Fixture("newer_minor") +
           ") was built for Petit ABI 1.7; this host supports up to ABI " + kAbi},
      {"missing_init", StatusCode::kInvalidArgument,
       "plugin 'missing_init' (" + Fixture("missing_init") + ") does not export petit_plugin_init"},
      {"init_refuses", StatusCode::kFailedPrecondition,
       "plugin 'init_refuses' (" + Fixture("init_refuses") +
           ") refused to load: licence key missing set PETIT_FIXTURE_LICENCE"},
      {"bad_descriptor", StatusCode::kInvalidArgument,
       "plugin 'bad_descriptor' (" + Fixture("bad_descriptor") +
           ") has an invalid descriptor: task type #2 has a NULL name"},
  };
}

class PluginRefusalTest : public PluginLoaderTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(PluginRefusalTest, RefusesWithOneLineNamingTheFileAndValues) {
  const Refusal& refusal = GetParam();
  PluginLoader loader("test");
  loader.LoadFile(Fixture(refusal.fixture));

  const PluginLoadResult& result = loader.result();
  EXPECT_THAT(result.plugins, IsEmpty());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].code(), refusal.code);
  EXPECT_EQ(result.errors[0].message(), refusal.message);
  EXPECT_THAT(result.errors[0].message(), Not(HasSubstr("\n")));
  EXPECT_FALSE(IsMapped(Fixture(refusal.fixture)));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PluginRefusalTest, ::testing::ValuesIn(Refusals()),
                         [](const auto& test) { return test.param.fixture; });

// newer_minor declares ABI 1.7; the host must stay older than that for the fixture to mean
// anything.
static_assert(PETIT_ABI_MAJOR == 1 && PETIT_ABI_MINOR < 7);

TEST_F(PluginLoaderTest, RefusesAPluginBuiltForANewerMinorNamingBothVersions) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("newer_minor"));  // its init aborts: reaching it would end the test

  const PluginLoadResult& result = loader.result();
  EXPECT_THAT(result.plugins, IsEmpty());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.errors[0].message(), HasSubstr("built for Petit ABI 1.7"));
  EXPECT_THAT(result.errors[0].message(), HasSubstr("this host supports up to ABI " + kAbi));
}

// abi_1_0.so is compiled against the frozen 1.0 header (tests/fixtures/plugins/abi_1_0): what an
// ABI 1.0 binary really is must keep loading and running on this host, hooks and all.
TEST_F(PluginLoaderTest, LoadsAndRunsAPluginBuiltAgainstAbi10) {
  const std::string file = ExtraFixture("abi_1_0");
  {
    PluginLoader loader("test");
    loader.LoadFile(file);
    const PluginLoadResult& result = loader.result();
    EXPECT_THAT(result.errors, IsEmpty());
    ASSERT_THAT(Names(result), ElementsAre("abi_1_0"));
    EXPECT_EQ(result.plugins[0]->version(), "1.0.0");
    EXPECT_THAT(TypeNames(*result.plugins[0]), ElementsAre("abi_1_0.echo", "abi_1_0.cancellable"));
    EXPECT_EQ(Lines("abi_1_0: init"), 1);

    auto echo = MakePluginTaskRunner(result.plugins[0], "abi_1_0.echo");
    ASSERT_TRUE(echo.ok()) << echo.status().ToString();
    fakes::FakeAttemptControl echo_control;
    AttemptRequest request;
    request.params_json = R"({"n": 1})";
    const AttemptResult echoed = (*echo)->Run(request, echo_control);
    EXPECT_EQ(echoed.outcome, AttemptOutcome::kSucceeded);
    EXPECT_EQ(
        echo_control.outputs(),
        (ValueMap{{"host_abi", kAbi}, {"type_state", "received"}, {"params", R"({"n": 1})"}}));

    auto cancellable = MakePluginTaskRunner(result.plugins[0], "abi_1_0.cancellable");
    ASSERT_TRUE(cancellable.ok()) << cancellable.status().ToString();
    fakes::FakeAttemptControl cancel_control;
    cancel_control.Cancel();  // before Run: the hook runs as soon as the runner registers it
    const AttemptResult cancelled = (*cancellable)->Run(AttemptRequest(), cancel_control);
    EXPECT_EQ(cancelled.outcome, AttemptOutcome::kCancelled);
    EXPECT_EQ(cancelled.error, "abi_1_0.cancellable: cancelled");
    EXPECT_EQ(cancel_control.outputs(), (ValueMap{{"cancel_hook", "called"}}));
    EXPECT_EQ(Lines("abi_1_0: shutdown with its state"), 0);
  }
  EXPECT_EQ(Lines("abi_1_0: shutdown with its state"), 1);
  EXPECT_FALSE(IsMapped(file));
}

TEST_F(PluginLoaderTest, RefusesACountOfTaskTypesPastTheLimitBeforeReadingThem) {
  PluginLoader loader("test");
  loader.LoadFile(ExtraFixture("too_many_types"));
  const PluginLoadResult& result = loader.result();
  EXPECT_THAT(result.plugins, IsEmpty());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.errors[0].message(),
              HasSubstr("declares 4294967295 task types; a plugin may declare at most 1000"));
}

TEST_F(PluginLoaderTest, ShutsDownAPluginWhoseDescriptorIsRefusedAfterInitAccepted) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("bad_descriptor"));
  EXPECT_EQ(Lines("bad_descriptor: shutdown"), 1);
}

TEST_F(PluginLoaderTest, LoadsTheGoodLibrariesOfADirectoryAndReportsEveryBadOne) {
  PluginLoader loader("test");
  loader.LoadDirectory(PETIT_FIXTURE_PLUGIN_DIR, PluginLoader::MissingDirectory::kError);
  const PluginLoadResult& result = loader.result();

  // Sorted by file name: duplicate_type.so comes before good_c.so and so keeps good_c.echo.
  EXPECT_THAT(Names(result), ElementsAre("duplicate_type", "garbage_codes", "good_c", "throws"));
  const std::string duplicate = "task type 'good_c.echo' from " + Fixture("good_c") +
                                " is already provided by " + Fixture("duplicate_type");
  std::vector<std::string> messages;
  for (const Status& error : result.errors) messages.push_back(error.message());
  std::vector<std::string> expected;
  for (const Refusal& refusal : Refusals()) expected.push_back(refusal.message);
  expected.push_back(duplicate);
  EXPECT_THAT(messages, ::testing::UnorderedElementsAreArray(expected));

  ASSERT_EQ(result.plugins.size(), 4u);
  EXPECT_THAT(TypeNames(*result.plugins[0]), ElementsAre("good_c.echo", "duplicate_type.extra"));
  EXPECT_THAT(TypeNames(*result.plugins[2]),
              ElementsAre("good_c.fail", "good_c.invalid_params", "good_c.wait_for_cancel"));

  // The good_c.echo that runs is the one loaded first.
  auto runner = MakePluginTaskRunner(result.plugins[0], "good_c.echo");
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  fakes::FakeAttemptControl control;
  AttemptRequest request;
  EXPECT_EQ((*runner)->Run(request, control).outcome, AttemptOutcome::kSucceeded);
  EXPECT_EQ(control.outputs(), (ValueMap{{"from", "duplicate_type"}}));
}

TEST_F(PluginLoaderTest, SkipsATaskTypeAnotherLibraryProvidesAndKeepsTheRest) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));
  loader.LoadFile(Fixture("duplicate_type"));
  const PluginLoadResult& result = loader.result();

  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(result.errors[0].message(), "task type 'good_c.echo' from " +
                                            Fixture("duplicate_type") + " is already provided by " +
                                            Fixture("good_c"));
  ASSERT_THAT(Names(result), ElementsAre("good_c", "duplicate_type"));
  EXPECT_THAT(TypeNames(*result.plugins[0]), Contains("good_c.echo"));
  EXPECT_THAT(TypeNames(*result.plugins[1]), ElementsAre("duplicate_type.extra"));
}

TEST_F(PluginLoaderTest, RefusesToInitTheSameLibraryTwice) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));
  loader.LoadFile(Fixture("good_c"));
  const PluginLoadResult& result = loader.result();

  EXPECT_THAT(Names(result), ElementsAre("good_c"));
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message(), "plugin 'good_c' (" + Fixture("good_c") +
                                            ") is already loaded from " + Fixture("good_c"));
  EXPECT_EQ(Lines("good_c: init"), 1);
}

TEST_F(PluginLoaderTest, ReleaseHandsTheResultOverAndKeepsItsNamesTaken) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));
  const PluginLoadResult released = loader.Release();
  EXPECT_THAT(Names(released), ElementsAre("good_c"));
  EXPECT_THAT(loader.result().plugins, IsEmpty());

  loader.LoadFile(Fixture("good_c"));
  EXPECT_THAT(loader.result().plugins, IsEmpty());
  ASSERT_EQ(loader.result().errors.size(), 1u);
  EXPECT_EQ(loader.result().errors[0].code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Lines("good_c: init"), 1);
}

TEST_F(PluginLoaderTest, MissingDirectoryIsAnErrorOnlyWhenConfigured) {
  const std::string dir = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/no_such_dir";
  PluginLoader lenient("test");
  lenient.LoadDirectory(dir, PluginLoader::MissingDirectory::kIgnore);
  EXPECT_THAT(lenient.result().errors, IsEmpty());

  PluginLoader strict("test");
  strict.LoadDirectory(dir, PluginLoader::MissingDirectory::kError);
  ASSERT_EQ(strict.result().errors.size(), 1u);
  EXPECT_EQ(strict.result().errors[0].message(), "plugin directory " + dir + " does not exist");
}

TEST_F(PluginLoaderTest, DirectoryThatIsAFileIsAnError) {
  PluginLoader loader("test");
  loader.LoadDirectory(Fixture("good_c"), PluginLoader::MissingDirectory::kIgnore);
  ASSERT_EQ(loader.result().errors.size(), 1u);
  EXPECT_EQ(loader.result().errors[0].message(),
            "plugin directory " + Fixture("good_c") + " is not a directory");
  EXPECT_THAT(loader.result().plugins, IsEmpty());
}

TEST_F(PluginLoaderTest, LibraryOutlivesTheLoaderWhileARunnerExistsThenShutsDownOnce) {
  std::shared_ptr<TaskRunner> echo;
  std::shared_ptr<TaskRunner> fail;
  {
    PluginLoader loader("test");
    loader.LoadFile(Fixture("good_c"));
    ASSERT_EQ(loader.result().plugins.size(), 1u);
    auto made_echo = MakePluginTaskRunner(loader.result().plugins[0], "good_c.echo");
    auto made_fail = MakePluginTaskRunner(loader.result().plugins[0], "good_c.fail");
    ASSERT_TRUE(made_echo.ok() && made_fail.ok());
    echo = std::move(made_echo).value();
    fail = std::move(made_fail).value();
  }
  EXPECT_EQ(Lines("good_c: shutdown"), 0);
  EXPECT_TRUE(IsMapped(Fixture("good_c")));

  fakes::FakeAttemptControl control;
  AttemptRequest request;
  request.params_json = "{}";
  EXPECT_EQ(echo->Run(request, control).outcome, AttemptOutcome::kSucceeded);
  EXPECT_EQ(control.outputs().at("params"), "{}");

  echo.reset();
  EXPECT_EQ(Lines("good_c: shutdown"), 0);
  EXPECT_TRUE(IsMapped(Fixture("good_c")));
  fail.reset();
  EXPECT_EQ(Lines("good_c: shutdown"), 1);
  EXPECT_FALSE(IsMapped(Fixture("good_c")));
}

TEST_F(PluginLoaderTest, UnknownTaskTypeOfAPluginIsNotFound) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));
  ASSERT_EQ(loader.result().plugins.size(), 1u);
  auto runner = MakePluginTaskRunner(loader.result().plugins[0], "good_c.nope");
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(runner.status().message(),
            "plugin 'good_c' (" + Fixture("good_c") + ") has no task type 'good_c.nope'");
}

TEST_F(PluginLoaderTest, RegistersEveryLoadedTaskTypeWithTheEngine) {
  PluginLoader loader("test");
  loader.LoadFile(Fixture("good_c"));
  loader.LoadFile(Fixture("garbage_codes"));
  TaskRunnerRegistry registry;
  ASSERT_TRUE(RegisterPluginTaskTypes(loader.result(), registry).ok());
  EXPECT_THAT(registry.Types(),
              ElementsAre("garbage_codes.create", "garbage_codes.execute", "good_c.echo",
                          "good_c.fail", "good_c.invalid_params", "good_c.wait_for_cancel"));
  ASSERT_NE(registry.Find("good_c.wait_for_cancel"), nullptr);
  EXPECT_TRUE(registry.Find("good_c.wait_for_cancel")->serial());
  EXPECT_FALSE(registry.Find("good_c.echo")->serial());
}

}  // namespace
}  // namespace petit::host
