#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "petit/plugin_status.hpp"

namespace {

using petit::sdk::Result;
using petit::sdk::Status;
using petit::sdk::StatusCode;

TEST(SdkStatusTest, DefaultIsOkWithoutMessage) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.abi_code(), PETIT_OK);
  EXPECT_TRUE(status.message().empty());
  EXPECT_EQ(status.ToString(), "ok");
}

TEST(SdkStatusTest, FactoriesMapToTheAbiCodes) {
  EXPECT_EQ(Status::Ok().abi_code(), PETIT_OK);
  EXPECT_EQ(Status::Error("e").abi_code(), PETIT_ERROR);
  EXPECT_EQ(Status::Transient("t").abi_code(), PETIT_ERROR_TRANSIENT);
  EXPECT_EQ(Status::Cancelled().abi_code(), PETIT_CANCELLED);
  EXPECT_EQ(Status::TimedOut("o").abi_code(), PETIT_TIMED_OUT);
  EXPECT_EQ(Status::InvalidParams("p").abi_code(), PETIT_INVALID_PARAMS);
  EXPECT_FALSE(Status::Error("e").ok());
}

TEST(SdkStatusTest, ToStringJoinsCodeNameAndMessage) {
  EXPECT_EQ(Status::InvalidParams("'ms' must be an integer").ToString(),
            "invalid parameters: 'ms' must be an integer");
  EXPECT_EQ(Status::Cancelled().ToString(), "cancelled: cancelled");
}

TEST(SdkResultTest, HoldsAValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_TRUE(result.status().ok());
}

TEST(SdkResultTest, ConvertsCompatibleValues) {
  const Result<std::string_view> view = "literal";
  EXPECT_EQ(*view, "literal");
  const Result<std::unique_ptr<int>> owned = std::make_unique<int>(3);
  EXPECT_EQ(**owned, 3);
}

TEST(SdkResultTest, HoldsAnErrorAndThrowsOnValueAccess) {
  const Result<int> result = Status::Transient("busy");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kTransient);
  EXPECT_EQ(result.status().message(), "busy");
  EXPECT_THROW(static_cast<void>(result.value()), std::logic_error);
}

TEST(SdkResultTest, AnOkStatusWithoutValueBecomesAnError) {
  const Result<int> result = Status::Ok();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kError);
}

TEST(SdkResultTest, MovesTheValueOut) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(7);
  std::unique_ptr<int> value = std::move(result).value();
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 7);
}

}  // namespace
