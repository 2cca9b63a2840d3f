// `petit graph`: the dot text of a job's task graph and its SVG as Graphviz's library lays it out.
#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/InputSource.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/graphviz_svg.h"
#include "cli/job_graph_dot.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TaskSpec Task(std::string id, std::vector<std::string> depends_on = {},
              TriggerRule trigger = TriggerRule::kAllSuccess) {
  TaskSpec spec;
  spec.id = TaskId(id);
  spec.name = id;
  spec.type = "command";
  for (std::string& upstream : depends_on) spec.depends_on.emplace_back(std::move(upstream));
  spec.trigger = trigger;
  return spec;
}

Job MakeJob(std::string id, std::vector<TaskSpec> tasks) {
  Job job;
  job.id = JobId(std::move(id));
  job.name = job.id.str();
  for (TaskSpec& task : tasks) job.dag.AddTask(std::move(task));
  Status valid = job.dag.Validate();
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  return job;
}

// extract -> {load (pool db x2), alert (on_failure), cleanup (always; cpu 2)}, load -> report
// (all_done, pool gpu).
Job MixedJob() {
  TaskSpec load = Task("load", {"extract"});
  load.resources.slots["db"] = 2;
  load.type = "builtin.sql";
  TaskSpec report = Task("report", {"load"}, TriggerRule::kAllDone);
  report.resources.slots["gpu"] = 1;
  TaskSpec cleanup = Task("cleanup", {"extract", "load"}, TriggerRule::kAlways);
  cleanup.resources.cpu_slots = 2;
  return MakeJob("etl", {Task("extract"), load, Task("alert", {"extract"}, TriggerRule::kOnFailure),
                         report, cleanup});
}

// The dot statements (lines inside the digraph's braces), trimmed.
std::vector<std::string> Statements(const std::string& dot) {
  std::vector<std::string> lines;
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// The node statement of the task at `index`, or "" when none.
std::string NodeLine(const std::string& dot, int index) {
  for (const std::string& line : Statements(dot)) {
    if (line.starts_with(std::to_string(index) + " [")) return line;
  }
  return "";
}

// The edge statement `from->to`, or nullopt.
std::optional<std::string> EdgeLine(const std::string& dot, int from, int to) {
  const std::string prefix = std::to_string(from) + "->" + std::to_string(to);
  for (const std::string& line : Statements(dot)) {
    if (line == prefix || line.starts_with(prefix + " ")) return line;
  }
  return std::nullopt;
}

TEST(JobGraphDotTest, OneNodePerTaskOneEdgePerDependencyFromUpstreamToDownstream) {
  const std::string dot = JobGraphDot(MixedJob());
  const std::vector<std::string> lines = Statements(dot);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.front().starts_with("digraph ")) << dot;
  EXPECT_EQ(lines.back(), "}");
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return std::regex_match(l, std::regex(R"(\d+ \[.*)"));
                          }),
            5)
      << dot;
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("->") != std::string::npos; }),
            5)
      << dot;
  // Indices in file order: extract 0, load 1, alert 2, report 3, cleanup 4.
  for (auto [from, to] : {std::pair{0, 1}, {0, 2}, {1, 3}, {0, 4}, {1, 4}}) {
    EXPECT_TRUE(EdgeLine(dot, from, to)) << from << "->" << to << "\n" << dot;
  }
  EXPECT_FALSE(EdgeLine(dot, 1, 0)) << "edges go from upstream to downstream";
  EXPECT_THAT(dot, HasSubstr("label=\"job etl\""));
}

TEST(JobGraphDotTest, LabelsShowTypePoolsAndNonDefaultTriggerRules) {
  const std::string dot = JobGraphDot(MixedJob());
  EXPECT_EQ(NodeLine(dot, 0), "0 [label=\"extract\\ncommand\", id=\"task-extract\"]");
  EXPECT_EQ(NodeLine(dot, 1), "1 [label=\"load\\nbuiltin.sql\\npool db x2\", id=\"task-load\"]");
  EXPECT_THAT(NodeLine(dot, 2), HasSubstr("label=\"alert\\ncommand\\ntrigger on_failure\""));
  EXPECT_THAT(NodeLine(dot, 3),
              HasSubstr("label=\"report\\ncommand\\npool gpu\\ntrigger all_done\""));
  EXPECT_THAT(NodeLine(dot, 4), HasSubstr("label=\"cleanup\\ncommand\\ncpu 2\\ntrigger always\""));
  // Every rule but all_success draws its box and the edges into it its own way.
  EXPECT_THAT(NodeLine(dot, 0), Not(HasSubstr("style")));
  EXPECT_THAT(NodeLine(dot, 2), HasSubstr("color=red"));
  EXPECT_EQ(*EdgeLine(dot, 0, 1), "0->1");
  EXPECT_THAT(*EdgeLine(dot, 0, 2), HasSubstr("style=dashed, color=red"));
  EXPECT_THAT(*EdgeLine(dot, 1, 3), HasSubstr("style=dashed"));
  EXPECT_THAT(*EdgeLine(dot, 1, 3), Not(HasSubstr("red")));
  EXPECT_THAT(*EdgeLine(dot, 0, 4), HasSubstr("style=dotted"));
  EXPECT_THAT(*EdgeLine(dot, 1, 4), HasSubstr("style=dotted"));
}

// Each class of character that means something to dot or to Graphviz's label reader.
TEST(DotQuotedTest, EscapesWhatDotAndGraphvizLabelsInterpret) {
  EXPECT_EQ(DotQuoted("plain-id_1.x"), "\"plain-id_1.x\"");
  EXPECT_EQ(DotQuoted("a\"b"), R"("a\"b")");
  EXPECT_EQ(DotQuoted("a\\b"), R"("a\\b")");
  EXPECT_EQ(DotQuoted("trailing\\"), R"("trailing\\")");  // must not escape the closing quote
  EXPECT_EQ(DotQuoted("\\N\\G\\l"), R"("\\N\\G\\l")");    // dot's label escapes stay literal
  EXPECT_EQ(DotQuoted("a\nb\r\nc\rd"), R"("a\nb\nc\nd")");
  EXPECT_EQ(DotQuoted("&amp;<b>"), "\"&amp;amp;<b>\"");
  EXPECT_EQ(DotQuoted("tab\there"), "\"tab here\"");
  EXPECT_EQ(DotQuoted(std::string("nul\0bell\a", 9)),
            "\"nul\xEF\xBF\xBD"
            "bell\xEF\xBF\xBD\"");
  EXPECT_EQ(DotQuoted("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x9A\x80"),
            "\"caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x9A\x80\"");  // UTF-8 is kept
  // Bytes that are not UTF-8: stray continuation, truncated sequence, overlong, surrogate.
  EXPECT_EQ(DotQuoted("\x80x\xC3"), "\"\xEF\xBF\xBDx\xEF\xBF\xBD\"");
  EXPECT_EQ(DotQuoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(DotQuoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

struct SvgText {
  Poco::AutoPtr<Poco::XML::Document> document;
  std::vector<std::string> texts;  // every <text> element's content, in document order
};

// Parses `svg` as XML (throws on a document that is not well-formed) and collects its texts.
SvgText ParseSvg(const std::string& svg) {
  Poco::XML::DOMParser parser;
  // Graphviz names the SVG 1.1 DTD; a test must not fetch it.
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  SvgText out;
  out.document = parser.parseString(svg);
  Poco::AutoPtr<Poco::XML::NodeList> texts = out.document->getElementsByTagName("text");
  for (unsigned long i = 0; i < texts->length(); ++i)
    out.texts.push_back(texts->item(i)->innerText());
  return out;
}

TEST(DotToSvgTest, IsWellFormedXmlWithEveryTaskIdTypeAndRule) {
  Result<std::string> svg = DotToSvg(JobGraphDot(MixedJob()));
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  SvgText parsed;
  ASSERT_NO_THROW(parsed = ParseSvg(*svg)) << *svg;
  EXPECT_EQ(parsed.document->documentElement()->localName(), "svg");
  // Each task's group is found by its id.
  std::set<std::string> group_ids;
  Poco::AutoPtr<Poco::XML::NodeList> groups = parsed.document->getElementsByTagName("g");
  for (unsigned long i = 0; i < groups->length(); ++i) {
    group_ids.insert(static_cast<Poco::XML::Element*>(groups->item(i))->getAttribute("id"));
  }
  for (const char* id : {"extract", "load", "alert", "report", "cleanup"}) {
    EXPECT_TRUE(group_ids.contains("task-" + std::string(id))) << id << " in\n" << *svg;
  }
  for (const char* text : {"extract", "load", "alert", "report", "cleanup", "builtin.sql",
                           "pool db x2", "trigger on_failure", "trigger always", "job etl"}) {
    EXPECT_NE(std::find(parsed.texts.begin(), parsed.texts.end(), text), parsed.texts.end())
        << text << " is not a text of\n"
        << *svg;
  }
}

// Names, types, pools and the job id are free text: whatever they hold reaches the SVG as the same
// characters, through dot's quoting and Graphviz's label reader, and the XML stays well-formed.
TEST(DotToSvgTest, HostileNamesComeOutAsTheSameTextInWellFormedXml) {
  TaskSpec quote = Task("quote");
  quote.name = "say \"hi\" \\N \\\" & &amp; <b>x</b> ]]> caf\xC3\xA9";
  TaskSpec lines = Task("lines", {"quote"}, TriggerRule::kOnFailure);
  lines.name = "first\nsecond\\";
  lines.type = "type'with\"quotes";
  lines.resources.slots["p\"o<o>l&"] = 1;
  TaskSpec bytes = Task("bytes", {"lines"});
  bytes.name = std::string("bad\xFF\x01utf8", 9);
  Job job = MakeJob("job \"}\n digraph x {", {quote, lines, bytes});

  const std::string dot = JobGraphDot(job);
  Result<std::string> svg = DotToSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString() << "\n" << dot;
  SvgText parsed;
  ASSERT_NO_THROW(parsed = ParseSvg(*svg)) << *svg;
  auto has = [&](const std::string& text) {
    return std::find(parsed.texts.begin(), parsed.texts.end(), text) != parsed.texts.end();
  };
  EXPECT_TRUE(has("(say \"hi\" \\N \\\" & &amp; <b>x</b> ]]> caf\xC3\xA9)")) << *svg;
  EXPECT_TRUE(has("(first")) << *svg;
  EXPECT_TRUE(has("second\\)")) << *svg;
  EXPECT_TRUE(has("type'with\"quotes")) << *svg;
  EXPECT_TRUE(has("pool p\"o<o>l&")) << *svg;
  EXPECT_TRUE(has("(bad\xEF\xBF\xBD\xEF\xBF\xBDutf8)")) << *svg;
  EXPECT_TRUE(has("job job \"}")) << *svg;
  EXPECT_TRUE(has(" digraph x {")) << *svg;
  for (const char* id : {"quote", "lines", "bytes"}) EXPECT_TRUE(has(id)) << id;
  // One graph: the job id's "}" and "digraph" did not end it and start another.
  Poco::AutoPtr<Poco::XML::NodeList> svgs = parsed.document->getElementsByTagName("svg");
  EXPECT_EQ(svgs->length(), 1u);
}

TEST(DotToSvgTest, TextThatIsNotDotIsAnErrorNamingGraphviz) {
  Result<std::string> svg = DotToSvg("digraph { a -> ");
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(svg.status().message(), HasSubstr("graphviz"));
}

}  // namespace
}  // namespace petit::host
