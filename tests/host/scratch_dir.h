// A scratch directory of the running test's own (named after the test and the process), removed
// at the end.
#ifndef PETIT_TESTS_HOST_SCRATCH_DIR_H_
#define PETIT_TESTS_HOST_SCRATCH_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace petit::host::testing {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "petit-test-") {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (prefix + std::to_string(getpid()) + "-" + test->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace petit::host::testing

#endif  // PETIT_TESTS_HOST_SCRATCH_DIR_H_
