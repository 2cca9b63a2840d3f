// What the route tests share: a real Daemon on a memory store with the builtin and command
// plugins, routes called directly (no server) with the path parameters the pattern would give,
// answers parsed with Poco::JSON, and synchronisation on the Daemon's events and FIFOs, never on
// sleeps.
#ifndef PETIT_TESTS_HOST_API_API_TEST_SUPPORT_H_
#define PETIT_TESTS_HOST_API_API_TEST_SUPPORT_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_types.h"
#include "config/job_loader.h"
#include "host/scratch_dir.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"

namespace petit::host::testing {

inline std::unique_ptr<HostEnv> MemoryHost() {
  HostOptions options;
  options.storage_uri = "memory:";
  options.plugin_dirs = {PETIT_PLUGIN_DIR};
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  EXPECT_TRUE(env.ok()) << env.status().message();
  if (!env.ok()) return nullptr;
  (*env)->LoadPlugins();
  return std::move(env).value();
}

// The jobs of the job files `yamls`, one job each.
inline std::vector<Job> Jobs(const std::vector<std::string>& yamls) {
  std::vector<Job> jobs;
  JobLoaderOptions options;
  for (size_t i = 0; i < yamls.size(); ++i) {
    LoadedJobs loaded = LoadJobFromString(yamls[i], "job" + std::to_string(i) + ".yaml", options);
    EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().ToString();
    for (Job& job : loaded.jobs) jobs.push_back(std::move(job));
  }
  return jobs;
}

// A FIFO that blocked tasks read a line from: `read line < FIFO` waits until Release(). Held open
// read-write by the test, so a task's open never blocks.
class Gate {
 public:
  explicit Gate(const std::filesystem::path& path) : path_(path) {
    EXPECT_EQ(mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
    fd_ = open(path.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
  }
  ~Gate() {
    if (fd_ >= 0) close(fd_);
  }
  // Lets `n` waiting reads through.
  void Release(int n = 1) {
    for (int i = 0; i < n; ++i) EXPECT_EQ(write(fd_, "go\n", 3), 3);
  }
  // A command task that waits at the gate.
  std::string Task(const std::string& id) const {
    return "  - id: " + id +
           "\n    type: command\n    command: sh\n    args: [\"-c\", \"read line < '" +
           path_.string() + "'\"]\n";
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Notes the runs that ended (kJobCompleted, published once the end is stored).
class RunEnds {
 public:
  explicit RunEnds(EventBus& bus) : bus_(bus) {
    id_ = bus_.Subscribe([this](const Event& event) {
      if (event.type != EventType::kJobCompleted) return;
      std::lock_guard lock(mu_);
      ended_.insert(event.run.str());
      changed_.notify_all();
    });
  }
  ~RunEnds() { bus_.Unsubscribe(id_); }
  bool WaitFor(const std::string& run) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return ended_.contains(run); });
  }

 private:
  EventBus& bus_;
  EventBus::HandlerId id_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::set<std::string> ended_;
};

struct Call {
  std::string method = "GET";
  std::string pattern{};
  std::map<std::string, std::string, std::less<>> params{};
  std::map<std::string, std::string, std::less<>> query{};
  std::string body{};
  std::string content_type = "application/json";
};

// Calls the route of `call.method` and `call.pattern` among `routes`; a 599 answer if none.
inline ApiResponse Serve(const std::vector<Route>& routes, const Call& call) {
  for (const Route& route : routes) {
    if (route.method != call.method || route.pattern != call.pattern) continue;
    ApiRequest request;
    request.method = call.method;
    request.path = call.pattern;
    for (const auto& [name, value] : call.params) {
      const std::string placeholder = "{" + name + "}";
      const size_t at = request.path.find(placeholder);
      if (at != std::string::npos) request.path.replace(at, placeholder.size(), value);
    }
    request.params = call.params;
    request.query = call.query;
    request.body = call.body;
    request.content_type = call.body.empty() ? "" : call.content_type;
    return route.handler(request);
  }
  ADD_FAILURE() << "no route " << call.method << " " << call.pattern;
  ApiResponse none;
  none.status = 599;
  return none;
}

inline Poco::Dynamic::Var ParseJson(const std::string& text) {
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  return parser.parse(text);
}

inline Poco::JSON::Object::Ptr Object(const ApiResponse& response) {
  EXPECT_EQ(response.content_type, "application/json");
  try {
    Poco::Dynamic::Var value = ParseJson(response.body);
    return value.extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a JSON object: " << response.body << " (" << e.what() << ")";
    return new Poco::JSON::Object;
  }
}

// The member names of `object`, sorted.
inline std::set<std::string> Keys(const Poco::JSON::Object& object) {
  std::set<std::string> keys;
  for (const std::string& name : object.getNames()) keys.insert(name);
  return keys;
}

// Checks an error answer: the status, the code word and that the message holds `words`.
inline void ExpectError(const ApiResponse& response, int status, const std::string& code,
                        const std::string& words) {
  EXPECT_EQ(response.status, status) << response.body;
  Poco::JSON::Object::Ptr error = Object(response);
  EXPECT_EQ(Keys(*error), (std::set<std::string>{"error", "code"})) << response.body;
  EXPECT_EQ(error->getValue<std::string>("code"), code) << response.body;
  EXPECT_NE(error->getValue<std::string>("error").find(words), std::string::npos)
      << "'" << words << "' not in " << response.body;
}

}  // namespace petit::host::testing

#endif  // PETIT_TESTS_HOST_API_API_TEST_SUPPORT_H_
