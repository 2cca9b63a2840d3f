#include "petit/core/status.h"

#include <string>

#include <gtest/gtest.h>

namespace petit {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.ToString(), "ok");
}

TEST(StatusTest, ToStringNamesTheCodeAndTheMessage) {
  EXPECT_EQ(InvalidArgument("bad key").ToString(), "invalid argument: bad key");
  EXPECT_EQ(NotFound("no job").ToString(), "not found: no job");
  EXPECT_EQ(AlreadyExists("dup").ToString(), "already exists: dup");
  EXPECT_EQ(FailedPrecondition("cycle").ToString(), "failed precondition: cycle");
  EXPECT_EQ(Unavailable("db down").ToString(), "unavailable: db down");
  EXPECT_EQ(Internal("oops").ToString(), "internal: oops");
}

TEST(StatusTest, WithContextPrefixesTheMessageAndKeepsTheCode) {
  const Status status = NotFound("no such file").WithContext("jobs/etl.yaml");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "jobs/etl.yaml: no such file");
}

TEST(StatusTest, WithContextLeavesOkUnchanged) {
  const Status status = Status::Ok().WithContext("jobs/etl.yaml");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(StatusTest, WithContextNests) {
  const Status status = InvalidArgument("unknown key").WithContext("line 3").WithContext("a.yaml");
  EXPECT_EQ(status.message(), "a.yaml: line 3: unknown key");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not found");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "already exists");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "resource exhausted");
}

TEST(ResultTest, HoldsAValue) {
  Result<std::string> result(std::string("value"));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(*result, "value");
  EXPECT_EQ(result->size(), 5u);
  EXPECT_EQ(std::move(result).value(), "value");
}

TEST(ResultTest, HoldsAnError) {
  const Result<int> result(NotFound("missing"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(), "missing");
}

TEST(ResultDeathTest, ValueOfAnErrorStopsTheProcessNamingTheStatusInsteadOfThrowing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<std::string> result(NotFound("no such job 'etl'"));
  EXPECT_DEATH((void)result.value(),
               "value\\(\\) called on an error: not found: no such job 'etl'");
  const Result<std::string>& const_result = result;
  EXPECT_DEATH((void)const_result.value(), "called on an error");
  EXPECT_DEATH((void)std::move(result).value(), "called on an error");
  EXPECT_DEATH((void)result->size(), "called on an error");
}

Status FailsWhen(bool fail) { return fail ? Internal("inner") : Status::Ok(); }

Status Outer(bool fail, bool& reached_end) {
  PETIT_RETURN_IF_ERROR(FailsWhen(fail));
  reached_end = true;
  return Status::Ok();
}

TEST(StatusTest, ReturnIfErrorReturnsEarlyOnlyOnError) {
  bool reached_end = false;
  const Status failed = Outer(true, reached_end);
  EXPECT_EQ(failed.code(), StatusCode::kInternal);
  EXPECT_FALSE(reached_end);
  EXPECT_TRUE(Outer(false, reached_end).ok());
  EXPECT_TRUE(reached_end);
}

}  // namespace
}  // namespace petit
