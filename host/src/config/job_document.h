// JobDocument: the text of one job file parsed into a yaml-cpp node tree.
//
// This is the one place where job YAML is parsed: ReadJobDocument reads a file's bytes and hands
// them to ParseJobDocument, and everything after works on the tree. (Parsing with yaml-cpp's event
// API and input limits instead of a whole-file tree is a change to this file and its callers' use
// of `root`.) A job file holds one YAML document; a second one is an error, not ignored.
//
// Ownership: a JobDocument owns its tree; yaml-cpp nodes copied out of it share it by reference
// count. Threads: the functions are reentrant; a document is used by one thread at a time.
#ifndef PETIT_HOST_CONFIG_JOB_DOCUMENT_H_
#define PETIT_HOST_CONFIG_JOB_DOCUMENT_H_

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostic.h"

namespace petit::host::internal {

struct JobDocument {
  YAML::Node root;  // null for an empty file; not to be read when errors is not empty
  std::vector<Diagnostic> errors;  // why the text is not one YAML document, located
};

// Reads the file at `path` and parses it; an unreadable file is one error without a position.
JobDocument ReadJobDocument(const std::string& path);

// Parses `text`; `name` stands for the file in messages. yaml-cpp's exceptions end here.
JobDocument ParseJobDocument(const std::string& text, const std::string& name);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_JOB_DOCUMENT_H_
