// petit.yaml: defaults, every setting, the original's storage form, and strict keys.
#include "config/global_config.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::host {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class GlobalConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& text) {
    fs::path path = dir_ / "petit.yaml";
    std::ofstream(path) << text;
    return path.string();
  }
  fs::path dir_;
};

TEST_F(GlobalConfigTest, ReadsEverySetting) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(
storage: postgresql://petit@db/petit
plugin_dirs: [plugins, /opt/petit/plugins]
max_parallel_tasks: 8
output_cap_bytes: 4096
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage_uri, "postgresql://petit@db/petit");
  ASSERT_EQ(config->plugin_dirs.size(), 2u);
  EXPECT_EQ(config->plugin_dirs[0], (dir_ / "plugins").string()) << "relative to petit.yaml";
  EXPECT_EQ(config->plugin_dirs[1], "/opt/petit/plugins");
  EXPECT_EQ(config->max_parallel_tasks, 8u);
  EXPECT_EQ(config->output_cap_bytes, 4096u);
}

TEST_F(GlobalConfigTest, ReadsResourcePoolsAndSystemResources) {
  Result<GlobalConfig> config =
      LoadGlobalConfig(Write("pools: {gpu: 2, db_conn: 5}\ncpu_slots: 8\nmemory_mb: 16384\n"
                             "max_tasks: 6\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->resources.pools, (std::map<std::string, uint32_t>{{"db_conn", 5}, {"gpu", 2}}));
  EXPECT_EQ(config->resources.cpu_slots, 8u);
  EXPECT_EQ(config->resources.memory_mb, 16384u);
  EXPECT_EQ(config->resources.max_tasks, 6u);
  Result<GlobalConfig> bad = LoadGlobalConfig(Write("pools: {gpu: 0}\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("petit.yaml:1:14: 'pools.gpu' must be between 1"));
}

TEST_F(GlobalConfigTest, AcceptsTheOriginalStorageMapping) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("storage:\n  type: sqlite\n  path: x.db\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage_uri, "sqlite://" + fs::absolute("x.db").string());
  config = LoadGlobalConfig(Write("storage: {type: memory}\n"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->storage_uri, "memory:");
}

TEST_F(GlobalConfigTest, AnEmptyStorageIsAnErrorNotTheDefaultStore) {
  for (const char* text :
       {"storage: \"\"\n", "storage: \"  \"\n", "storage:\n", "storage: ''\n",
        "storage: {type: sqlite, path: \"\"}\n", "storage: {type: sqlite, path: }\n"}) {
    Result<GlobalConfig> config = LoadGlobalConfig(Write(text));
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_THAT(config.status().message(), HasSubstr("petit.yaml:")) << text;
    EXPECT_THAT(config.status().message(), ContainsRegex("'(storage|path)'")) << text;
  }
}

// A URI that names no store is refused where it is written, not when the store is opened.
TEST_F(GlobalConfigTest, AStorageUriThatNamesNoStoreIsAnErrorAtItsLine) {
  for (const char* text : {"max_parallel_tasks: 2\nstorage: 'sqlite:'\n",
                           "max_parallel_tasks: 2\nstorage: bogus://nowhere\n",
                           "max_parallel_tasks: 2\nstorage: 'memory:foo'\n"}) {
    Result<GlobalConfig> config = LoadGlobalConfig(Write(text));
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_THAT(config.status().message(), HasSubstr("petit.yaml:2:10: 'storage': ")) << text;
  }
}

TEST_F(GlobalConfigTest, UnknownKeysAndBadValuesAreAllReported) {
  Result<GlobalConfig> config =
      LoadGlobalConfig(Write("max_paralel_tasks: 3\noutput_cap_bytes: lots\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("petit.yaml:1:1: unknown key 'max_paralel_tasks' in petit.yaml "
                        "(did you mean 'max_parallel_tasks'?)"));
  EXPECT_THAT(config.status().message(),
              HasSubstr("petit.yaml:2:19: 'output_cap_bytes' must be an integer"));
}

TEST_F(GlobalConfigTest, AKeyWrittenTwiceIsAnErrorNamingBothLinesAtEveryLevel) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"max_parallel_tasks: 3\nmax_parallel_tasks: 4\n",
            "petit.yaml:2:1: duplicate key 'max_parallel_tasks' in the top-level mapping: first "
            "at line 1"},
           {"api:\n  port: 1\n  \"port\": 2\n",
            "petit.yaml:3:3: duplicate key 'port' in api: first at line 2"},
           {"pools: {gpu: 2, gpu: 3}\n",
            "petit.yaml:1:17: duplicate key 'gpu' in pools: first at line 1"},
           {"storage: 'memory:'\nplugin_dirs: [a]\nstorage: 'memory:'\n",
            "petit.yaml:3:1: duplicate key 'storage'"},
       }) {
    std::vector<Diagnostic> problems;
    Result<GlobalConfig> config = LoadGlobalConfig(Write(c.text), &problems);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_THAT(config.status().message(), HasSubstr(c.message)) << c.text;
    ASSERT_EQ(problems.size(), 1u) << c.text << config.status().message();
  }
  // libyaml's "mapping values are not allowed in this context" alone does not say what to write.
  Result<GlobalConfig> unquoted = LoadGlobalConfig(Write("storage: memory:\n"));
  ASSERT_FALSE(unquoted.ok());
  EXPECT_THAT(unquoted.status().message(),
              HasSubstr("petit.yaml:1:16: mapping values are not allowed in this context (a value "
                        "holding ': ' or ending in ':' must be quoted, as in key: 'memory:')"));
}

TEST_F(GlobalConfigTest, DefaultsForTimezoneApiAndLogging) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("max_parallel_tasks: 2\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->timezone, "UTC");
  EXPECT_TRUE(config->api.enabled);
  EXPECT_EQ(config->api.bind, "127.0.0.1");
  EXPECT_EQ(config->api.port, kDefaultApiPort);
  EXPECT_EQ(config->api.token, "");
  EXPECT_EQ(config->logging.level, LogLevel::kInfo);
  EXPECT_EQ(config->logging.format, LogFormat::kText);
}

TEST_F(GlobalConfigTest, ReadsTimezoneApiAndLogging) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(
timezone: Europe/Paris
api:
  bind: 0.0.0.0
  port: 9000
  token: s3cret-token
logging:
  level: debug
  format: json
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->timezone, "Europe/Paris");
  EXPECT_EQ(config->api.bind, "0.0.0.0");
  EXPECT_EQ(config->api.port, 9000u);
  EXPECT_EQ(config->api.token, "s3cret-token");
  EXPECT_EQ(config->logging.level, LogLevel::kDebug);
  EXPECT_EQ(config->logging.format, LogFormat::kJson);
  EXPECT_EQ(LogLevelName(config->logging.level), "debug");
  EXPECT_EQ(LogFormatName(config->logging.format), "json");
}

TEST_F(GlobalConfigTest, AcceptsTheOriginalDefaultTimezoneButNotBothNames) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("default_timezone: Asia/Tokyo\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->timezone, "Asia/Tokyo");
  Result<GlobalConfig> both = LoadGlobalConfig(Write("timezone: UTC\ndefault_timezone: UTC\n"));
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.status().message(), HasSubstr("petit.yaml:2:19: 'default_timezone' is the "
                                                 "original's name for 'timezone'; give one"));
}

TEST_F(GlobalConfigTest, AnUnknownTimeZoneIsAnErrorWithASuggestion) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("timezone: Europe/Pari\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("petit.yaml:1:11: unknown time zone 'Europe/Pari' (did you mean "
                        "'Europe/Paris'?)"));
}

// petit.yaml goes through the same checked parser as job files (yaml_document.h): hostile text
// is one located error, at once.
TEST_F(GlobalConfigTest, HostileTextIsOneLocatedErrorLikeAJobFiles) {
  std::string laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 12; ++i) {
    const std::string previous = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += previous + ", ";
    laughs += "]\n";
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {",", "petit.yaml:1:1: ',' cannot start a YAML value"},
      {"timezone: UTC\n---\nmax_tasks: 3\n", "petit.yaml:3:1: a file holds one YAML document"},
      // Unclosed: refused at the first '[' too deep.
      {std::string(100'000, '['), "petit.yaml:1:65: lists and mappings nested more than 64"},
      {"timezone: " + std::string(1 << 20, 'Z') + "\n", "petit.yaml:1:11: a value of 1048576"},
      {laughs, "petit.yaml:5:45: aliases expand to more than 100000 nodes"},
  };
  for (const auto& [text, error] : cases) {
    std::vector<Diagnostic> problems;
    Result<GlobalConfig> config = LoadGlobalConfig(Write(text), &problems);
    ASSERT_FALSE(config.ok()) << error;
    EXPECT_THAT(config.status().message(), HasSubstr(error));
    EXPECT_EQ(config.status().message().find('\n'), std::string::npos);
    ASSERT_EQ(problems.size(), 1u) << error;
    EXPECT_THAT(problems[0].ToString(), HasSubstr(error));
  }
}

TEST_F(GlobalConfigTest, ALongTimeZoneNameWithinTheLimitsAnswersAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  Result<GlobalConfig> config =
      LoadGlobalConfig(Write("timezone: Europe/" + std::string(60'000, 'x') + "\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("petit.yaml:1:11: unknown time zone"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(GlobalConfigTest, AnApiOffTheLoopbackNeedsAToken) {
  Result<GlobalConfig> open = LoadGlobalConfig(Write("api: {bind: 0.0.0.0}\n"));
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.status().message(),
              HasSubstr("petit.yaml:1:13: the API may listen on '0.0.0.0' only with a 'token'"));
  for (const char* loopback : {"127.0.0.1", "localhost", "::1"}) {
    Result<GlobalConfig> local =
        LoadGlobalConfig(Write(std::string("api: {bind: \"") + loopback + "\"}\n"));
    EXPECT_TRUE(local.ok()) << loopback << ": " << local.status().ToString();
  }
  Result<GlobalConfig> disabled = LoadGlobalConfig(Write("api: {enabled: false, bind: 0.0.0.0}\n"));
  EXPECT_TRUE(disabled.ok()) << "a disabled API listens nowhere";
  Result<GlobalConfig> empty_token = LoadGlobalConfig(Write("api: {bind: 0.0.0.0, token: \"\"}\n"));
  ASSERT_FALSE(empty_token.ok());
  EXPECT_THAT(empty_token.status().message(), HasSubstr("'token' must not be empty"));
}

TEST_F(GlobalConfigTest, ReadsTheApiLimitsTokensOriginsAndPrefix) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(api:
  token: op
  read_only_token: ro
  cors_origins: [https://ops.example.com, "http://localhost:3000"]
  path_prefix: /petit/
  max_threads: 4
  max_connections: 100
  max_body_bytes: 65536
  timeout: 3
  max_streams: 2
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ApiConfig& api = config->api;
  EXPECT_EQ(api.token, "op");
  EXPECT_EQ(api.read_only_token, "ro");
  EXPECT_EQ(api.cors_origins,
            (std::vector<std::string>{"https://ops.example.com", "http://localhost:3000"}));
  EXPECT_EQ(api.path_prefix, "/petit");
  EXPECT_EQ(api.max_threads, 4u);
  EXPECT_EQ(api.max_connections, 100u);
  EXPECT_EQ(api.max_body_bytes, 65536u);
  EXPECT_EQ(api.timeout, std::chrono::seconds(3));
  EXPECT_EQ(api.max_streams, 2u);

  Result<GlobalConfig> defaults = LoadGlobalConfig(Write("api: {}\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->api, ApiConfig{});
  EXPECT_EQ(defaults->api.max_threads, 16u);
  EXPECT_EQ(defaults->api.max_connections, 256u);
  EXPECT_EQ(defaults->api.max_body_bytes, 1u << 20);
  EXPECT_EQ(defaults->api.timeout, std::chrono::seconds(10));
  EXPECT_EQ(defaults->api.max_streams, 8u);
  EXPECT_TRUE(defaults->api.cors_origins.empty());
  EXPECT_EQ(defaults->api.path_prefix, "");
}

TEST_F(GlobalConfigTest, RefusesApiSettingsThatCannotWork) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  for (const Case& bad : std::vector<Case>{
           {"api: {cors_origins: ['*']}\n", "petit.yaml:1:21: 'cors_origins' lists origins"},
           {"api: {cors_origins: [https://a.example.com/]}\n", "(scheme and host, no path"},
           {"api: {cors_origins: [a.example.com]}\n", "not 'a.example.com'"},
           {"api: {path_prefix: petit}\n", "'path_prefix' must be a path like /petit"},
           {"api: {path_prefix: /a b}\n", "'path_prefix' must be a path like /petit"},
           {"api: {max_threads: 0}\n", "'max_threads' must be between 1 and"},
           {"api: {max_body_bytes: 10}\n", "'max_body_bytes' must be between 1024 and"},
           {"api: {timeout: 0}\n", "'timeout' must be between 1 and 3600"},
           {"api: {max_threads: 4, max_streams: 4}\n",
            "'max_streams' (4) must be below 'max_threads' (4): each stream holds a thread"},
           {"api: {read_only_token: ro}\n", "a 'read_only_token' needs a 'token'"},
           {"api: {token: 'a b'}\n", "'token' must not contain spaces"},
           {"api: {max_stream: 1}\n",
            "unknown key 'max_stream' in api (did you mean 'max_streams'?)"},
       }) {
    Result<GlobalConfig> config = LoadGlobalConfig(Write(bad.yaml));
    ASSERT_FALSE(config.ok()) << bad.yaml;
    EXPECT_THAT(config.status().message(), HasSubstr(bad.message)) << bad.yaml;
  }
}

TEST_F(GlobalConfigTest, PetitApiTokenOverridesTheFileAndAllowsAnOpenBind) {
  ASSERT_EQ(setenv("PETIT_API_TOKEN", "from-env", 1), 0);
  Result<GlobalConfig> open = LoadGlobalConfig(Write("api: {bind: 0.0.0.0, token: in-file}\n"));
  Result<GlobalConfig> no_file = ResolveGlobalConfig(std::nullopt, std::nullopt);
  Result<GlobalConfig> env_only = LoadGlobalConfig(Write("api: {bind: 0.0.0.0}\n"));
  unsetenv("PETIT_API_TOKEN");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(open->api.token, "from-env");
  ASSERT_TRUE(no_file.ok());
  EXPECT_EQ(no_file->api.token, "from-env");
  EXPECT_TRUE(env_only.ok()) << env_only.status().ToString();
  Result<GlobalConfig> unset = LoadGlobalConfig(Write("api: {bind: 0.0.0.0}\n"));
  EXPECT_FALSE(unset.ok());
}

TEST_F(GlobalConfigTest, ApiAndLoggingAreStrict) {
  std::vector<Diagnostic> problems;
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(api:
  portt: 80
  port: 70000
logging:
  level: verbose
  format: jsn
)"),
                                                 &problems);
  ASSERT_FALSE(config.ok());
  std::map<std::string, std::string> by_key;
  for (const Diagnostic& problem : problems) {
    by_key[problem.key] = problem.ToString();
    EXPECT_EQ(problem.file, (dir_ / "petit.yaml").string());
  }
  ASSERT_EQ(by_key.size(), 4u) << config.status().message();
  EXPECT_THAT(by_key["api.portt"],
              HasSubstr("petit.yaml:2:3: unknown key 'portt' in api (did you mean 'port'?)"));
  EXPECT_THAT(by_key["api.port"], HasSubstr("petit.yaml:3:9: 'port' must be between 0 and 65535"));
  EXPECT_THAT(by_key["logging.level"],
              HasSubstr("petit.yaml:5:10: 'level' must be debug, info, warn or error, not "
                        "'verbose'"));
  EXPECT_THAT(by_key["logging.format"], HasSubstr("not 'jsn' (did you mean 'json'?)"));
}

TEST_F(GlobalConfigTest, PluginIsolationDefaultsToProcessForAllButPetitsOwnPlugins) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("timezone: UTC\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const PluginsConfig& plugins = config->plugins;
  EXPECT_EQ(plugins.IsolationOf("builtin", "noop"), PluginIsolation::kInProcess);
  EXPECT_EQ(plugins.IsolationOf("command", "command"), PluginIsolation::kInProcess);
  EXPECT_EQ(plugins.IsolationOf("acme", "acme.http"), PluginIsolation::kProcess);
  EXPECT_EQ(plugins.memory_limit_mb, 1024u);
  EXPECT_EQ(plugins.cancel_grace, std::chrono::milliseconds(10000));
}

TEST_F(GlobalConfigTest, ReadsPluginIsolationPerPluginAndPerTaskType) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(plugins:
  isolation: in_process
  per_plugin: {acme: process, builtin: process}
  per_type: {acme.fast: in_process}
  memory_limit_mb: 256
  cancel_grace_ms: 1500
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const PluginsConfig& plugins = config->plugins;
  EXPECT_EQ(plugins.IsolationOf("other", "other.t"), PluginIsolation::kInProcess);
  EXPECT_EQ(plugins.IsolationOf("acme", "acme.slow"), PluginIsolation::kProcess);
  EXPECT_EQ(plugins.IsolationOf("acme", "acme.fast"), PluginIsolation::kInProcess)
      << "a task type's entry wins over its plugin's";
  EXPECT_EQ(plugins.IsolationOf("builtin", "noop"), PluginIsolation::kProcess)
      << "petit's own plugins too, when named";
  EXPECT_EQ(plugins.memory_limit_mb, 256u);
  EXPECT_EQ(plugins.cancel_grace, std::chrono::milliseconds(1500));
  EXPECT_EQ(plugins.per_plugin_line, 3);
  EXPECT_EQ(plugins.per_type_line, 4);
}

TEST_F(GlobalConfigTest, PluginsIsStrict) {
  std::vector<Diagnostic> problems;
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(plugins:
  isolaton: process
  per_type: {acme.x: proces}
  per_plugin: [acme]
  memory_limit_mb: -1
  cancel_grace_ms: soon
)"),
                                                 &problems);
  ASSERT_FALSE(config.ok());
  std::map<std::string, std::string> by_key;
  for (const Diagnostic& problem : problems) by_key[problem.key] = problem.ToString();
  ASSERT_EQ(by_key.size(), 5u) << config.status().message();
  EXPECT_THAT(by_key["plugins.isolaton"],
              HasSubstr("petit.yaml:2:3: unknown key 'isolaton' in plugins (did you mean "
                        "'isolation'?)"));
  EXPECT_THAT(by_key["plugins.per_type.acme.x"],
              HasSubstr("petit.yaml:3:22: 'per_type.acme.x' must be in_process or process, not "
                        "'proces' (did you mean 'process'?)"));
  EXPECT_THAT(by_key["plugins.per_plugin"], HasSubstr("petit.yaml:4:15: 'per_plugin' must map"));
  EXPECT_THAT(by_key["plugins.memory_limit_mb"], HasSubstr("petit.yaml:5:20:"));
  EXPECT_THAT(by_key["plugins.cancel_grace_ms"], HasSubstr("petit.yaml:6:20:"));
}

TEST_F(GlobalConfigTest, ResolveUsesPetitYamlInTheJobsDirectoryOnlyWhenPresent) {
  Result<GlobalConfig> none = ResolveGlobalConfig(std::nullopt, dir_.string());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->source_file.empty());
  Write("max_parallel_tasks: 5\n");
  Result<GlobalConfig> found = ResolveGlobalConfig(std::nullopt, dir_.string());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->max_parallel_tasks, 5u);
}

TEST_F(GlobalConfigTest, DefaultStorageHonoursPetitStateDir) {
  setenv("PETIT_STATE_DIR", dir_.c_str(), 1);
  EXPECT_EQ(DefaultStorageUri(), "sqlite://" + dir_.string() + "/petit.db");
  unsetenv("PETIT_STATE_DIR");
}

// What a person used to other tools writes in petit.yaml, one row each: the one problem it makes,
// its hint, and the line and key it names.
TEST_F(GlobalConfigTest, NewUsersMistakesGetTheKeyTheyMeant) {
  struct Row {
    std::string yaml;  // the mistake is on line `line`
    uint32_t line;
    std::string key;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"log_level: debug\n", 1, "log_level", "(did you mean 'logging: {level: ...}'?)"},
      {"port: 8080\n", 1, "port", "(did you mean 'api: {port: ...}'?)"},
      {"isolation: process\n", 1, "isolation", "(did you mean 'plugins: {isolation: ...}'?)"},
      {"plugin_dir: [x]\n", 1, "plugin_dir", "(did you mean 'plugin_dirs'?)"},
      {"pluginDirs: [x]\n", 1, "pluginDirs", "(did you mean 'plugin_dirs'?)"},
      {"tz: UTC\n", 1, "tz", "(did you mean 'timezone'?)"},
      {"time_zone: UTC\n", 1, "time_zone", "(did you mean 'timezone'?)"},
      {"database: x.db\n", 1, "database", "(did you mean 'storage'?)"},
      {"shutdown_grace_secs: 5\n", 1, "shutdown_grace_secs", "(did you mean 'shutdown_grace'?)"},
      {"parallelism: 4\n", 1, "parallelism", "(did you mean 'max_parallel_tasks'?)"},
      {"output_cap: 4096\n", 1, "output_cap", "(did you mean 'output_cap_bytes'? it is in bytes)"},
      {"tasks: []\n", 1, "tasks", "('tasks' belongs in a job file, not in petit.yaml)"},
      {"timeout_secs: 5\n", 1, "timeout_secs",
       "('timeout_secs' belongs to a task in a job file, not to petit.yaml)"},
      {"plugins:\n  memory_limit: 5\n", 2, "plugins.memory_limit",
       "(did you mean 'memory_limit_mb'? it is in megabytes)"},
      {"plugins:\n  cancel_grace_secs: 5\n", 2, "plugins.cancel_grace_secs",
       "(did you mean 'cancel_grace_ms'? it is in milliseconds, not seconds)"},
      {"plugins:\n  plugin_dirs: [x]\n", 2, "plugins.plugin_dirs",
       "('plugin_dirs' belongs at the top level of petit.yaml)"},
      {"api:\n  host: 0.0.0.0\n", 2, "api.host", "(did you mean 'bind'?)"},
      {"api:\n  timeout_secs: 5\n", 2, "api.timeout_secs", "(did you mean 'timeout'?)"},
      {"api:\n  Port: 8080\n", 2, "api.Port", "(did you mean 'port'?)"},
      {"logging:\n  log_level: info\n", 2, "logging.log_level", "(did you mean 'level'?)"},
      {"logging:\n  level: WARNING\n", 2, "logging.level", "not 'WARNING' (did you mean 'warn'?)"},
      {"logging:\n  level: information\n", 2, "logging.level", "(did you mean 'info'?)"},
      {"shutdown_grace: 30s\n", 1, "shutdown_grace",
       "'shutdown_grace' must be an integer (seconds), not '30s': write shutdown_grace: 30"},
      {"store_outage_limit: 2m\n", 1, "store_outage_limit", "write store_outage_limit: 120"},
      {"output_cap_bytes: 64KB\n", 1, "output_cap_bytes", "write output_cap_bytes: 65536"},
      {"plugins:\n  cancel_grace_ms: 2s\n", 2, "plugins.cancel_grace_ms",
       "write cancel_grace_ms: 2000"},
      {"max_parallel_tasks: many\n", 1, "max_parallel_tasks",
       "'max_parallel_tasks' must be an integer, not 'many' (e.g. max_parallel_tasks: 1)"},
  };
  for (const Row& row : rows) {
    std::vector<Diagnostic> problems;
    Result<GlobalConfig> config = LoadGlobalConfig(Write(row.yaml), &problems);
    ASSERT_FALSE(config.ok()) << row.yaml;
    ASSERT_EQ(problems.size(), 1u) << row.yaml << config.status().message();
    EXPECT_THAT(problems[0].message, HasSubstr(row.expected)) << row.yaml;
    EXPECT_EQ(problems[0].file, (dir_ / "petit.yaml").string());
    EXPECT_EQ(problems[0].line, row.line) << row.yaml;
    EXPECT_EQ(problems[0].key, row.key) << row.yaml;
  }
}

}  // namespace
}  // namespace petit::host

namespace petit::host {
namespace {

TEST(GlobalConfigShutdownGraceTest, DefaultsToThirtySecondsAndReadsWholeSeconds) {
  EXPECT_EQ(GlobalConfig{}.shutdown_grace, std::chrono::seconds(30));
  const std::string dir = ::testing::TempDir() + "/petit-grace";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/petit.yaml") << "shutdown_grace: 5\n";
  Result<GlobalConfig> config = LoadGlobalConfig(dir + "/petit.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->shutdown_grace, std::chrono::seconds(5));
  std::ofstream(dir + "/petit.yaml") << "shutdown_grace: -1\n";
  Result<GlobalConfig> negative = LoadGlobalConfig(dir + "/petit.yaml");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("shutdown_grace"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(GlobalConfigStoreOutageLimitTest, DefaultsToFiveMinutesAndRefusesNegativesAndNonNumbers) {
  EXPECT_EQ(GlobalConfig{}.store_outage_limit, std::chrono::seconds(300));
  const std::string dir = ::testing::TempDir() + "/petit-outage-limit";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/petit.yaml") << "store_outage_limit: 45\n";
  Result<GlobalConfig> config = LoadGlobalConfig(dir + "/petit.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->store_outage_limit, std::chrono::seconds(45));
  for (const char* bad : {"store_outage_limit: -1\n", "store_outage_limit: soon\n"}) {
    std::ofstream(dir + "/petit.yaml") << bad;
    Result<GlobalConfig> refused = LoadGlobalConfig(dir + "/petit.yaml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("store_outage_limit"), std::string::npos)
        << refused.status().message();
    EXPECT_NE(refused.status().message().find("petit.yaml:1:"), std::string::npos)
        << refused.status().message();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace petit::host
