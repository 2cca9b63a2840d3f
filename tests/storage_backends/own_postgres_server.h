// OwnPostgresServer: a PostgreSQL cluster of one test's own, under /tmp (the server runs as user
// postgres when the test runs as root), started and stopped through scripts/pg_test_server.sh, so
// a test may stop and restart it without disturbing the server other tests share. Removed with
// its data on destruction. Header-only.
#ifndef PETIT_TESTS_STORAGE_BACKENDS_OWN_POSTGRES_SERVER_H_
#define PETIT_TESTS_STORAGE_BACKENDS_OWN_POSTGRES_SERVER_H_

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace petit::testing {

class OwnPostgresServer {
 public:
  // Whether the PostgreSQL binaries are installed ($PGBIN, else Debian's version 15).
  static bool Available() {
    const char* bin = std::getenv("PGBIN");
    const std::string dir = bin != nullptr ? bin : "/usr/lib/postgresql/15/bin";
    return access((dir + "/pg_ctl").c_str(), X_OK) == 0 &&
           access((dir + "/initdb").c_str(), X_OK) == 0;
  }

  // `script` is scripts/pg_test_server.sh.
  explicit OwnPostgresServer(std::string script)
      : script_(std::move(script)),
        dir_("/tmp/petit-own-pg-" + std::to_string(getpid()) + "-" + std::to_string(next_++)) {}
  ~OwnPostgresServer() {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  OwnPostgresServer(const OwnPostgresServer&) = delete;
  OwnPostgresServer& operator=(const OwnPostgresServer&) = delete;

  // Starts it (creating the cluster the first time) and returns its storage URI, the same on
  // every start; nullopt when it did not start.
  std::optional<std::string> Start() {
    FILE* out = popen((script_ + " start " + dir_).c_str(), "r");
    if (out == nullptr) return std::nullopt;
    std::string uri;
    std::array<char, 512> buffer{};
    while (fgets(buffer.data(), static_cast<int>(buffer.size()), out) != nullptr) {
      uri += buffer.data();
    }
    if (pclose(out) != 0) return std::nullopt;
    while (!uri.empty() && uri.back() == '\n') uri.pop_back();
    return uri;
  }

  // Stops it (fast shutdown: connections are closed) and waits until it has.
  bool Stop() { return std::system((script_ + " stop " + dir_).c_str()) == 0; }

 private:
  static inline std::atomic<int> next_{0};
  std::string script_;
  std::string dir_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_STORAGE_BACKENDS_OWN_POSTGRES_SERVER_H_
