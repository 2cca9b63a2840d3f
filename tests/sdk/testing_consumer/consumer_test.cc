// What a user's test does with the installed petit::testing: a job on the virtual clock with a
// stand-in for `command`, and a petit::sdk::Task checked with MockTaskContext. Exits non-zero,
// naming the check, when one fails.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "petit/plugin.hpp"
#include "petit/testing/harness.h"
#include "petit/testing/mock_task_context.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

class Greet final : public petit::sdk::Task {
 public:
  petit::sdk::Status Execute(petit::sdk::Context& context) override {
    const auto name = context.Input("who.name");
    if (!name) return petit::sdk::Status::Error("no name");
    return context.SetOutput("greeting", "hello " + std::string(*name));
  }
};

}  // namespace

int main() {
  using namespace std::chrono_literals;
  petit::testing::TestHarness harness({.start_us = petit::testing::UtcMicros(2026, 1, 1)});
  const petit::testing::Status loaded = harness.LoadYaml(R"(
id: every_ten_minutes
schedule: "*/10 * * * *"
tasks:
  - {id: a, type: command, command: "exit 3"}
  - {id: b, type: command, command: "true", depends_on: [a], condition: all_done}
)");
  Check(loaded.ok(), loaded.message().c_str());
  harness.StandIn("command", [](const petit::testing::TaskCall& call) {
    return call.task == "a" ? petit::testing::TaskReply::Exit(3)
                            : petit::testing::TaskReply::Success();
  });
  harness.AdvanceBy(1h);
  const petit::testing::Timeline timeline = harness.timeline();
  Check(timeline.FireTimes("every_ten_minutes").size() == 6, "six fires in an hour");
  Check(timeline.RunStatuses("every_ten_minutes").size() == 6, "six runs ended");
  Check(timeline.Count(petit::testing::EntryKind::kAttemptEnded, "every_ten_minutes", "b") == 6,
        "b runs after a failed a (all_done)");
  Check(!timeline.ToJson().empty() && !timeline.ToText().empty(), "the timeline prints");

  auto greet = petit::testing::MockTaskContext::For<Greet>("greet");
  greet.Input("who.name", "world");
  const petit::testing::RunResult result = greet.Run();
  Check(result.ok(), "greet succeeds");
  Check(result.outputs.count("greeting") == 1 && result.outputs.at("greeting") == "hello world",
        "greet's output");
  if (failures == 0) std::printf("consumer_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
