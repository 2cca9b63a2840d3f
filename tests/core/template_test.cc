#include "petit/core/template.h"

#include <string>
#include <string_view>
#include <vector>

#include <map>
#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TemplateTest : public ::testing::Test {
 protected:
  // The scope reads a RunOutputs built from `outputs_` (namespaced keys), which tests edit freely.
  TemplateScope Scope() const {
    std::map<std::string, ValueMap> by_task;
    for (const auto& [key, value] : outputs_) {
      size_t dot = key.rfind('.');
      by_task[key.substr(0, dot)][key.substr(dot + 1)] = value;
    }
    built_ = std::make_unique<RunOutputs>();
    for (const auto& [task, values] : by_task) {
      EXPECT_TRUE(built_->Add(TaskId(task), values).ok());
    }
    return TemplateScope{built_.get(), &config_, "run-7", "etl", "load", 3};
  }

  std::string Expand(std::string_view text) const {
    Result<std::string> expanded = ExpandTemplates(text, Scope());
    EXPECT_TRUE(expanded.ok()) << expanded.status().ToString();
    return expanded.ok() ? *expanded : std::string();
  }

  std::string ExpandJson(std::string_view json) const {
    Result<std::string> expanded = ExpandTemplatesInJson(json, Scope());
    EXPECT_TRUE(expanded.ok()) << expanded.status().ToString();
    return expanded.ok() ? *expanded : std::string();
  }

  Status ExpandError(std::string_view text) const {
    return ExpandTemplates(text, Scope()).status();
  }

  ValueMap outputs_{{"extract.rows", "1000"},
                    {"extract.path", "/data/out.csv"},
                    {"extract.exit_code", "0"},
                    {"build.v1.image", "petit:1"},
                    {"build.tag", "latest"}};
  mutable std::unique_ptr<RunOutputs> built_;
  ValueMap config_{{"batch_size", "500"}, {"db.host", "localhost"}};
};

TEST_F(TemplateTest, TextWithoutTemplatesComesBackUnchanged) {
  const std::string text = "echo $HOME ${PATH} $$ $ {{ x }} ${ { }} {{ y }}";
  EXPECT_FALSE(HasTemplates(text));
  EXPECT_EQ(Expand(text), text);
  const std::string json = R"({"shell": "echo ${HOME} $$", "args": ["}}", "{{"], "n": 5})";
  EXPECT_FALSE(HasTemplates(json));
  EXPECT_EQ(ExpandJson(json), json);
}

TEST_F(TemplateTest, TextWithoutTemplatesNeedsNoValues) {
  const TemplateScope empty{};
  Result<std::string> expanded = ExpandTemplates("plain", empty);
  ASSERT_TRUE(expanded.ok());
  EXPECT_EQ(*expanded, "plain");
}

TEST_F(TemplateTest, ExpandsAnUpstreamOutput) {
  EXPECT_TRUE(HasTemplates("--rows ${{ tasks.extract.outputs.rows }}"));
  EXPECT_EQ(Expand("--rows ${{ tasks.extract.outputs.rows }}"), "--rows 1000");
}

TEST_F(TemplateTest, ExpandsAConfigValueWhoseKeyMayContainDots) {
  EXPECT_EQ(Expand("${{ config.batch_size }}@${{ config.db.host }}"), "500@localhost");
}

TEST_F(TemplateTest, ExpandsTheAttemptIdentity) {
  EXPECT_EQ(Expand("${{ run.id }}/${{ job.id }}/${{ task.id }}/${{ task.attempt }}"),
            "run-7/etl/load/3");
}

TEST_F(TemplateTest, WhitespaceInsideTheBracesIsOptional) {
  EXPECT_EQ(Expand("${{run.id}}"), "run-7");
  EXPECT_EQ(Expand("${{   run.id}}"), "run-7");
  EXPECT_EQ(Expand("${{run.id   }}"), "run-7");
  EXPECT_EQ(Expand("${{\trun.id\n}}"), "run-7");
  EXPECT_EQ(Expand("${{ \r\n tasks.extract.outputs.rows \t }}"), "1000");
}

TEST_F(TemplateTest, ExpandsSeveralTemplatesInOneString) {
  EXPECT_EQ(
      Expand("cp ${{ tasks.extract.outputs.path }} /backup/${{ run.id }}.csv # ${{ job.id }}"),
      "cp /data/out.csv /backup/run-7.csv # etl");
}

TEST_F(TemplateTest, ExpandsAdjacentTemplates) {
  EXPECT_EQ(Expand("${{ job.id }}${{ task.id }}${{task.attempt}}"), "etlload3");
  EXPECT_EQ(Expand("${{ run.id }}}"), "run-7}");
  EXPECT_EQ(Expand("{${{ run.id }}"), "{run-7");
}

TEST_F(TemplateTest, TaskIdsMayContainDots) {
  EXPECT_EQ(Expand("${{ tasks.build.v1.outputs.image }} ${{ tasks.build.outputs.tag }}"),
            "petit:1 latest");
}

TEST_F(TemplateTest, DoubleDollarEscapesATemplate) {
  EXPECT_EQ(Expand("$${{ run.id }}"), "${{ run.id }}");
  EXPECT_EQ(Expand("echo '$${{ not.an.expression' ${{ run.id }}"),
            "echo '${{ not.an.expression' run-7");
  EXPECT_EQ(Expand("$${{${{ run.id }}"), "${{run-7");
  EXPECT_EQ(Expand("${{ run.id }}$${{"), "run-7${{");
}

TEST_F(TemplateTest, OnlyTheDollarRightBeforeTheBracesIsAnEscape) {
  EXPECT_EQ(Expand("$$$${{ run.id }}"), "$$${{ run.id }}");
  EXPECT_EQ(Expand("$$ ${{ run.id }}"), "$$ run-7");
}

TEST_F(TemplateTest, SubstitutedValuesAreNotExpandedAgain) {
  outputs_["evil.text"] = "${{ config.batch_size }} $${{ run.id }}";
  EXPECT_EQ(Expand("${{ tasks.evil.outputs.text }}"), "${{ config.batch_size }} $${{ run.id }}");
}

TEST_F(TemplateTest, ValuesAreInsertedAsTheyAreInPlainText) {
  outputs_["t.v"] = "a \"b\"\n\\c\x01";
  EXPECT_EQ(Expand("[${{ tasks.t.outputs.v }}]"), "[a \"b\"\n\\c\x01]");
}

TEST_F(TemplateTest, UnterminatedTemplateIsAnError) {
  const Status status = ExpandError("echo ${{ run.id } done");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "unterminated template '${{ run.id } done' (no closing '}}')");
}

TEST_F(TemplateTest, UnknownExpressionIsAnErrorListingTheForms) {
  const Status status = ExpandError("x ${{ run.name }} y");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "template '${{ run.name }}': unknown expression 'run.name' (expected "
            "tasks.<task>.outputs.<key>, config.<key>, run.id, job.id, task.id or task.attempt)");
}

TEST_F(TemplateTest, EmptyExpressionIsAnError) {
  EXPECT_EQ(ExpandError("${{  }}").message(),
            "template '${{  }}': empty expression (expected tasks.<task>.outputs.<key>, "
            "config.<key>, run.id, job.id, task.id or task.attempt)");
}

TEST_F(TemplateTest, MalformedOutputReferencesAreErrors) {
  EXPECT_EQ(ExpandError("${{ tasks.extract.rows }}").message(),
            "template '${{ tasks.extract.rows }}': expected tasks.<task>.outputs.<key>");
  EXPECT_EQ(ExpandError("${{ tasks.extract.outputs }}").message(),
            "template '${{ tasks.extract.outputs }}': expected tasks.<task>.outputs.<key>");
  EXPECT_EQ(ExpandError("${{ tasks.extract.outputs. }}").message(),
            "template '${{ tasks.extract.outputs. }}': output key must not be empty");
  EXPECT_EQ(ExpandError("${{ tasks..outputs.rows }}").message(),
            "template '${{ tasks..outputs.rows }}': task id must not be empty");
  EXPECT_EQ(ExpandError("${{ tasks.a b.outputs.rows }}").message(),
            "template '${{ tasks.a b.outputs.rows }}': task id 'a b' contains ' ' at position 2 "
            "(allowed: letters, digits, '_', '.', '-')");
  EXPECT_EQ(ExpandError("${{ config. }}").message(),
            "template '${{ config. }}': expected config.<key>");
}

TEST_F(TemplateTest, OutputOfATaskWithoutOutputsNamesTheTask) {
  const Status status = ExpandError("${{ tasks.transform.outputs.rows }}");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "template '${{ tasks.transform.outputs.rows }}': task 'transform' has no outputs (it "
            "has not succeeded in this run, or it set none)");
}

TEST_F(TemplateTest, MissingKeyNamesTheKeyAndListsTheTasksOutputs) {
  const Status status = ExpandError("${{ tasks.extract.outputs.count }}");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "template '${{ tasks.extract.outputs.count }}': task 'extract' has no output 'count' "
            "(its outputs: 'exit_code', 'path', 'rows')");
}

TEST_F(TemplateTest, OutputsOfATaskWithADottedIdDoNotCountForItsPrefix) {
  // "build.v1.image" belongs to task "build.v1"; task "build" has only "tag".
  EXPECT_EQ(ExpandError("${{ tasks.build.outputs.image }}").message(),
            "template '${{ tasks.build.outputs.image }}': task 'build' has no output 'image' (its "
            "outputs: 'tag')");
  outputs_.erase("build.tag");
  EXPECT_EQ(ExpandError("${{ tasks.build.outputs.image }}").message(),
            "template '${{ tasks.build.outputs.image }}': task 'build' has no outputs (it has not "
            "succeeded in this run, or it set none)");
}

TEST_F(TemplateTest, LongOutputListsAreCut) {
  for (char c = 'a'; c <= 'l'; ++c) outputs_[std::string("many.") + c] = "1";
  EXPECT_EQ(ExpandError("${{ tasks.many.outputs.z }}").message(),
            "template '${{ tasks.many.outputs.z }}': task 'many' has no output 'z' (its outputs: "
            "'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', ...)");
}

TEST_F(TemplateTest, MissingConfigKeyIsAnError) {
  const Status status = ExpandError("${{ config.batch }}");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "template '${{ config.batch }}': the job config has no key 'batch'");
}

TEST_F(TemplateTest, NullMapsReadAsEmpty) {
  const TemplateScope scope{nullptr, nullptr, "r", "j", "t", 1};
  EXPECT_EQ(ExpandTemplates("${{ config.x }}", scope).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ExpandTemplates("${{ tasks.a.outputs.x }}", scope).status().message(),
            "template '${{ tasks.a.outputs.x }}': task 'a' has no outputs (it has not succeeded in "
            "this run, or it set none)");
  Result<std::string> ids = ExpandTemplates("${{ run.id }}${{ task.attempt }}", scope);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, "r1");
}

TEST_F(TemplateTest, ErrorMessagesShowHostileTextPrintably) {
  EXPECT_EQ(ExpandError("${{ \x1b[2J }}").message(),
            "template '${{ \\x1b[2J }}': unknown expression '\\x1b[2J' (expected "
            "tasks.<task>.outputs.<key>, config.<key>, run.id, job.id, task.id or task.attempt)");
}

TEST_F(TemplateTest, JsonExpandsTemplatesInsideStringLiterals) {
  EXPECT_EQ(
      ExpandJson(R"({"command": "load", "args": ["--rows", "${{ tasks.extract.outputs.rows }}",
                        "--run=${{ run.id }}"], "timeout_secs": 30})"),
      R"({"command": "load", "args": ["--rows", "1000",
                        "--run=run-7"], "timeout_secs": 30})");
}

TEST_F(TemplateTest, JsonKeysMayBeTemplated) {
  EXPECT_EQ(ExpandJson(R"({"environment": {"ROWS_${{ task.id }}": "${{ config.batch_size }}"}})"),
            R"({"environment": {"ROWS_load": "500"}})");
}

TEST_F(TemplateTest, JsonEscapesQuotesBackslashesAndNewlinesInValues) {
  outputs_["t.v"] = "say \"hi\"\\n\nnext\r\tend";
  EXPECT_EQ(ExpandJson(R"(["${{ tasks.t.outputs.v }}"])"), R"(["say \"hi\"\\n\nnext\r\tend"])");
}

TEST_F(TemplateTest, JsonEscapesEveryControlCharacter) {
  std::string value;
  for (int c = 0; c < 0x20; ++c) value.push_back(static_cast<char>(c));
  value.push_back('\x7f');
  outputs_["t.v"] = value;
  EXPECT_EQ(ExpandJson(R"("${{ tasks.t.outputs.v }}")"),
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\x7f\"");
}

TEST_F(TemplateTest, JsonKeepsUnicodeAndOtherBytesAsTheyAre) {
  outputs_["t.v"] = "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 / \xff";
  EXPECT_EQ(ExpandJson(R"({"k": "${{ tasks.t.outputs.v }}"})"),
            "{\"k\": \"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 / \xff\"}");
}

TEST_F(TemplateTest, JsonValueCannotEndTheLiteralOrInjectMembers) {
  outputs_["t.v"] = R"(x", "env_clear": true, "y": ")";
  EXPECT_EQ(ExpandJson(R"({"a": "${{ tasks.t.outputs.v }}"})"),
            R"({"a": "x\", \"env_clear\": true, \"y\": \""})");
}

TEST_F(TemplateTest, JsonEscapesInTheLiteralAreKeptAround) {
  EXPECT_EQ(ExpandJson(R"(["a\"${{ run.id }}\"b", "\\${{ job.id }}", "\u0041${{ task.id }}"])"),
            R"(["a\"run-7\"b", "\\etl", "\u0041load"])");
}

TEST_F(TemplateTest, JsonLiteralsWithoutTemplatesAndTextOutsideLiteralsAreCopied) {
  EXPECT_EQ(ExpandJson(R"({"n": 1e3, "b": true, "x": null, "s": "plain", "t": "${{ run.id }}"})"),
            R"({"n": 1e3, "b": true, "x": null, "s": "plain", "t": "run-7"})");
}

TEST_F(TemplateTest, JsonEscapeKeepsALiteralTemplate) {
  EXPECT_EQ(ExpandJson(R"(["$${{ run.id }}", "${{ run.id }}"])"), R"(["${{ run.id }}", "run-7"])");
}

TEST_F(TemplateTest, JsonTemplateMustCloseInsideItsLiteral) {
  const Status status =
      ExpandTemplatesInJson(R"({"a": "${{ run.id", "b": "}}"})", Scope()).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "unterminated template '${{ run.id' (no closing '}}')");
}

TEST_F(TemplateTest, JsonWithAnUnterminatedLiteralIsAnError) {
  const Status status =
      ExpandTemplatesInJson(R"({"a": "${{ run.id }}", "b": "x\"})", Scope()).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "malformed JSON: the string literal at byte 28 is not terminated");
}

TEST_F(TemplateTest, JsonErrorsNameTheTemplate) {
  EXPECT_EQ(ExpandTemplatesInJson(R"({"a": "${{ tasks.extract.outputs.nope }}"})", Scope())
                .status()
                .message(),
            "template '${{ tasks.extract.outputs.nope }}': task 'extract' has no output 'nope' "
            "(its outputs: 'exit_code', 'path', 'rows')");
}

TEST_F(TemplateTest, ReferencedTasksListsEachTaskOnceInOrder) {
  EXPECT_THAT(ReferencedTasks("${{ tasks.b.outputs.x }} ${{ tasks.a.outputs.y }} "
                              "${{tasks.b.outputs.z}} ${{ tasks.build.v1.outputs.image }}"),
              ElementsAre("b", "a", "build.v1"));
}

TEST_F(TemplateTest, ReferencedTasksIgnoresOtherFormsEscapesAndMalformedTemplates) {
  EXPECT_THAT(
      ReferencedTasks("${{ config.x }} ${{ run.id }} $${{ tasks.esc.outputs.x }} "
                      "${{ tasks.bad.x }} ${{ tasks.a b.outputs.x }} ${{ tasks.ok.outputs.k }}"),
      ElementsAre("ok"));
  EXPECT_THAT(ReferencedTasks("no templates"), IsEmpty());
  EXPECT_THAT(ReferencedTasks("${{ tasks.a.outputs.x }} ${{ tasks.b.outputs.y"), ElementsAre("a"));
}

TEST_F(TemplateTest, ReferencedTasksReadsJsonText) {
  EXPECT_THAT(ReferencedTasks(R"({"args": ["${{ tasks.x.outputs.o }}"],
                                 "environment": {"${{ tasks.y.outputs.k }}": "v"}})"),
              ElementsAre("x", "y"));
}

TEST_F(TemplateTest, CheckTemplatesAcceptsWellFormedTemplatesWithoutValues) {
  EXPECT_TRUE(CheckTemplates("${{ tasks.later.outputs.x }} ${{ config.unset }} ${{ run.id }} "
                             "${{job.id}} ${{ task.id }} ${{ task.attempt }} $${{ bad")
                  .ok());
  EXPECT_TRUE(CheckTemplates("no templates at all").ok());
}

TEST_F(TemplateTest, CheckTemplatesReportsTheFirstSyntaxError) {
  EXPECT_EQ(CheckTemplates("${{ run.id }} ${{ tasks.x.y }} ${{ nope }}").message(),
            "template '${{ tasks.x.y }}': expected tasks.<task>.outputs.<key>");
  EXPECT_EQ(CheckTemplates("ok ${{ run.id").message(),
            "unterminated template '${{ run.id' (no closing '}}')");
}

}  // namespace
}  // namespace petit
