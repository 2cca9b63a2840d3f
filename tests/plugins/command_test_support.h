// Helpers shared by the command plugin tests: a FakeHost with the plugin initialised, scratch
// directories, and watching a process the test did not start (through a pidfd) without sleeping.
#ifndef PETIT_TESTS_PLUGINS_COMMAND_TEST_SUPPORT_H_
#define PETIT_TESTS_PLUGINS_COMMAND_TEST_SUPPORT_H_

#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "petit/plugin.h"
#include "petit/plugin_testing.hpp"

extern "C" const petit_abi_info* petit_plugin_abi_info(void);
extern "C" int32_t petit_plugin_init(const petit_init_args* args,
                                     petit_plugin_descriptor* out_descriptor, char* error,
                                     size_t error_size);

namespace petit::command_test {

// A fresh directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "petit-command-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = std::filesystem::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Escapes text as a JSON string literal (quotes included).
inline std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A pidfd on a process the test did not start: it becomes readable once the process has exited,
// so a test can wait for a grandchild's death without sleeping.
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid) {
    fd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    open_errno_ = fd_ < 0 ? errno : 0;
  }
  ~ProcessWatch() {
    if (fd_ >= 0) close(fd_);
  }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // True once the process has exited (a process already gone when watched counts).
  bool WaitForExit(std::chrono::milliseconds limit) const {
    if (fd_ < 0) return open_errno_ == ESRCH;
    pollfd pfd{fd_, POLLIN, 0};
    int rc;
    do {
      rc = poll(&pfd, 1, static_cast<int>(limit.count()));
    } while (rc < 0 && errno == EINTR);
    return rc == 1;
  }

  bool Exited() const { return WaitForExit(std::chrono::milliseconds(0)); }

  // Cleanup for tests that leave a process behind on purpose.
  void Kill() const {
    if (fd_ >= 0) syscall(SYS_pidfd_send_signal, fd_, SIGKILL, nullptr, 0);
  }

 private:
  int fd_ = -1;
  int open_errno_ = 0;
};

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = host_.Init(&petit_plugin_abi_info, &petit_plugin_init);
    ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  }

  testing::RunResult Run(std::string_view params, testing::AttemptOptions options = {}) {
    testing::RunResult result = host_.Run("command", params, std::move(options));
    EXPECT_TRUE(result.violations.empty()) << result.violations.front();
    return result;
  }

  testing::FakeHost host_;
};

// The first line of the attempt's stdout, parsed as a pid, once it has arrived.
inline pid_t WaitForPid(const testing::Attempt& attempt) {
  if (!attempt.WaitForOutput(sdk::Stream::kStdout, "\n")) return -1;
  const std::string out = attempt.Snapshot().stdout_data;
  return static_cast<pid_t>(std::stol(out.substr(0, out.find('\n'))));
}

}  // namespace petit::command_test

#endif  // PETIT_TESTS_PLUGINS_COMMAND_TEST_SUPPORT_H_
