// YamlDocument: the text of one job file or of petit.yaml, checked against the limits of
// yaml_limits.h and parsed into a YamlTree (yaml_tree.h).
//
// This is the one place where Petit parses YAML it is given, in one pass of libyaml's event parser
// (yaml_parser_parse, the reference C implementation of YAML 1.1, which the original Petit's
// serde_yaml is a port of): the pass sees every event, counts documents, depth, nodes, entries and
// the nodes and bytes each alias stands for, measures scalars and keys, and resolves aliases to
// the anchors before them. Events that pass build the first document's YamlTree as they come, so
// the text is scanned once and no other node tree is made. Scalars stay text; a plain one that
// reads as null in YAML's core schema (empty, ~, null, Null, NULL) is a null node, and every
// other resolution (a number, a boolean) is the reader's (yaml_support.h).
//
// A file holds one YAML document; a second one is an error, not ignored. A mapping holds each key
// once: a YAML parser accepts a key written twice (and readers would take one value, silently), so
// the same pass notes every scalar key of each mapping and reports the second one as a problem; so
// are what would otherwise be ignored without a word: a merge key `<<` and a tag (!!binary).
//
// Ownership: a YamlDocument shares its tree; YamlNodes copied out of it are valid while a copy of
// `tree` lives. Threads: the functions are reentrant; a document is used by one thread at a time.
#ifndef PETIT_HOST_CONFIG_YAML_DOCUMENT_H_
#define PETIT_HOST_CONFIG_YAML_DOCUMENT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/yaml_tree.h"

namespace petit::host::internal {

struct YamlDocument {
  std::shared_ptr<YamlTree> tree;  // holds `root` and everything below it
  YamlNode root;  // null for an empty file; not to be read when errors is not empty
  std::vector<Diagnostic> errors;  // why the text is not one YAML document within the limits
  bool unreadable = false;         // the file could not be read at all (errors says so)
  // Why the document, readable as a tree, is still not valid: a key written twice in one mapping
  // ("tasks.extract.retry.max_attempts", both lines in the message), a merge key, a tag. Empty
  // when errors is not.
  std::vector<Diagnostic> problems;
};

// Reads the file at `path` (at most kMaxYamlFileBytes of it, and a little more to know it is
// longer)
// and parses it; an unreadable file is one error without a position.
YamlDocument ReadYamlDocument(const std::string& path);

// Parses `text`; `name` stands for the file in messages. libyaml's errors end here. Every
// limit broken is one error at the place it broke; the first one ends the reading.
YamlDocument ParseYamlDocument(std::string_view text, const std::string& name);

}  // namespace petit::host::internal

#endif  // PETIT_HOST_CONFIG_YAML_DOCUMENT_H_
