#include "config/job_document.h"

#include <cerrno>
#include <fstream>
#include <optional>
#include <system_error>

#include "config/yaml_support.h"

namespace petit::host::internal {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

// Sets `error` to the OS's reason when it returns nullopt.
std::optional<std::string> ReadBytes(const std::string& path, std::string& error) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    error = errno != 0 ? std::error_code(errno, std::system_category()).message() : "cannot open";
    return std::nullopt;
  }
  std::string text;
  char chunk[kReadChunkBytes];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) {
    error = errno != 0 ? std::error_code(errno, std::system_category()).message() : "read error";
    return std::nullopt;
  }
  return text;
}

}  // namespace

JobDocument ReadJobDocument(const std::string& path) {
  std::string error;
  std::optional<std::string> text = ReadBytes(path, error);
  if (!text) return JobDocument{YAML::Node(), {{path, 0, 0, "", "cannot read the file: " + error}}};
  return ParseJobDocument(*text, path);
}

JobDocument ParseJobDocument(const std::string& text, const std::string& name) {
  YamlErrors errors(name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", e.msg);
    return JobDocument{YAML::Node(), errors.diagnostics()};
  }
  if (documents.size() > 1) {
    errors.AddAt(documents[1], "",
                 "a job file holds one job, but this one has " + std::to_string(documents.size()) +
                     " YAML documents (separated by ---)");
    return JobDocument{YAML::Node(), errors.diagnostics()};
  }
  return JobDocument{documents.empty() ? YAML::Node() : documents.front(), {}};
}

}  // namespace petit::host::internal
