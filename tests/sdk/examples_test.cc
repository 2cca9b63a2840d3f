// The example plugins as the host sees them: built .so files, loaded with dlopen and driven
// through FakeHost. hello_c is the plain-C plugin the ABI promises to load.
#include <dlfcn.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "petit/plugin.h"
#include "petit/plugin_testing.hpp"

namespace {

using petit::testing::FakeHost;
using petit::testing::RunResult;

struct LibraryCloser {
  void operator()(void* handle) const { dlclose(handle); }
};
using Library = std::unique_ptr<void, LibraryCloser>;

Library Open(const std::string& name) {
  const std::string path = std::string(PETIT_BINARY_DIR) + "/example_plugins/" + name;
  Library library(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  EXPECT_NE(library, nullptr) << dlerror();
  return library;
}

// Declared before the host, so the library is unloaded only after the host's shutdown calls.
class ExamplePluginTest : public ::testing::Test {
 protected:
  void Load(const std::string& file) {
    library_ = Open(file);
    ASSERT_NE(library_, nullptr);
    auto* abi_info = reinterpret_cast<petit_plugin_abi_info_fn>(
        dlsym(library_.get(), PETIT_PLUGIN_ABI_INFO_SYMBOL));
    auto* init =
        reinterpret_cast<petit_plugin_init_fn>(dlsym(library_.get(), PETIT_PLUGIN_INIT_SYMBOL));
    ASSERT_NE(abi_info, nullptr);
    ASSERT_NE(init, nullptr);
    host_ = std::make_unique<FakeHost>();
    auto plugin = host_->Init(abi_info, init);
    ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  }

  Library library_;
  std::unique_ptr<FakeHost> host_;
};

TEST_F(ExamplePluginTest, HelloCGreetsByName) {
  Load("hello_c.so");
  const RunResult result = host_->Run("hello_c.greet", R"({"name": "Ada"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "hello, Ada\n");
  EXPECT_EQ(result.outputs.at("greeting"), "hello, Ada");
  EXPECT_TRUE(result.violations.empty());
}

TEST_F(ExamplePluginTest, HelloCFindsTheNameAfterOtherMembers) {
  Load("hello_c.so");
  const RunResult result =
      host_->Run("hello_c.greet", R"({"other": {"x": [1, "}"]}, "name": "Bob \"B\""})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.outputs.at("greeting"), "hello, Bob \"B\"");
}

TEST_F(ExamplePluginTest, HelloCDefaultsToWorld) {
  Load("hello_c.so");
  const RunResult result = host_->Run("hello_c.greet", "{}");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.stdout_data, "hello, world\n");
}

TEST_F(ExamplePluginTest, HelloCRefusesANameThatIsNotAString) {
  Load("hello_c.so");
  const RunResult result = host_->Run("hello_c.greet", R"({"name": 3})");
  EXPECT_EQ(result.status, PETIT_INVALID_PARAMS);
  EXPECT_NE(result.error.find("'name' must be a string"), std::string::npos);
}

TEST_F(ExamplePluginTest, UpperCppUppercasesTextAndAnUpstreamOutput) {
  Load("upper_cpp.so");
  host_->SetInput("fetch.body", "hello");
  const RunResult result =
      host_->Run("upper_cpp.upper", R"({"text": "say: ", "input": "fetch.body"})");
  ASSERT_EQ(result.status, PETIT_OK) << result.error;
  EXPECT_EQ(result.outputs.at("text"), "SAY: HELLO");
  EXPECT_TRUE(result.violations.empty());
}

TEST_F(ExamplePluginTest, UpperCppFailsWhenTheInputIsMissing) {
  Load("upper_cpp.so");
  const RunResult result = host_->Run("upper_cpp.upper", R"({"input": "fetch.body"})");
  EXPECT_EQ(result.status, PETIT_ERROR);
  EXPECT_EQ(result.error, "input 'fetch.body' not found");
}

TEST_F(ExamplePluginTest, PluginsExportNothingButTheEntryPoints) {
  // The full check of every exported symbol is the CTest test sdk_plugin_exports (nm).
  Load("hello_c.so");
  EXPECT_EQ(dlsym(library_.get(), "greet_create"), nullptr);
  EXPECT_EQ(dlsym(library_.get(), "g_host"), nullptr);
}

}  // namespace
