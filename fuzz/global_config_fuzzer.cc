// Fuzzes petit.yaml (host/src/config/global_config.h). LoadGlobalConfig reads a file, so each
// input is written to one file in a private temporary directory, removed when the fuzzer exits.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/global_config.h"

namespace {

// A directory of its own under $TMPDIR (else /tmp), so nothing outside it is written.
class ScratchFile {
 public:
  ScratchFile() {
    // PETIT_API_TOKEN would change what a config yields; the input alone must decide.
    unsetenv("PETIT_API_TOKEN");
    std::string pattern = (std::filesystem::temp_directory_path() / "petit-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      perror("mkdtemp");
      abort();
    }
    dir_ = pattern;
    path_ = (dir_ / "petit.yaml").string();
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& Write(const uint8_t* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile file;  // destroyed at exit, which libFuzzer reaches after -max_total_time
  std::vector<petit::host::Diagnostic> problems;
  petit::Result<petit::host::GlobalConfig> config =
      petit::host::LoadGlobalConfig(file.Write(data, size), &problems);
  if (config.ok()) {
    (void)config->plugins.IsolationOf("command", "command");
    (void)petit::host::IsLoopbackBind(config->api.bind);
  }
  for (const petit::host::Diagnostic& problem : problems) (void)problem.ToString();
  return 0;
}
