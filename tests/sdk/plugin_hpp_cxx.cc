// Compiled by the CTest tests sdk_plugin_hpp_compiles_as_cxx17 and _cxx20 with -fsyntax-only and
// strict warnings: the C++ headers must build for plugin authors on either standard, and a
// plugin declared with them must instantiate every template.
#include "petit/plugin.hpp"
#include "petit/plugin_testing.hpp"

namespace {

class Minimal final : public petit::sdk::Task {
 public:
  petit::sdk::Status Execute(petit::sdk::Context& /*context*/) override { return {}; }
};

class WithParams final : public petit::sdk::Task {
 public:
  static petit::sdk::Result<std::unique_ptr<WithParams>> Create(
      const petit::sdk::CreateArgs& args) {
    petit::sdk::Result<int64_t> n = args.params.GetInt("n", 1);
    if (!n.ok()) return n.status();
    return std::make_unique<WithParams>();
  }
  petit::sdk::Status Execute(petit::sdk::Context& context) override {
    return context.SetOutput("k", "v");
  }
  void Cancel() override {}
};

}  // namespace

PETIT_PLUGIN("syntax_check", "0", petit::sdk::TaskType<Minimal>("syntax_check.minimal", "minimal"),
             petit::sdk::TaskType<WithParams>("syntax_check.params", "params", "{}",
                                              PETIT_TASK_CANCELLABLE));

int RunWithFakeHost();
int RunWithFakeHost() {
  petit::testing::FakeHost host;
  auto plugin = host.Init(&petit_plugin_abi_info, &petit_plugin_init);
  return plugin.ok() ? host.Run("syntax_check.minimal", "{}").status : -1;
}
