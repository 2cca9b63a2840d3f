// UTF-8 validity and the one-line form text a plugin or a client chose is shown in
// (petit/core/utf8.h).
#include "petit/core/utf8.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace petit {
namespace {

using namespace std::string_literals;

TEST(PrintableLineTest, KeepsPrintableTextAndTabsAsWritten) {
  EXPECT_EQ(PrintableLine("exited with code 3"), "exited with code 3");
  EXPECT_EQ(PrintableLine("caf\xC3\xA9 \xE2\x82\xAC\t\xF0\x9F\x98\x80 \xC2\xA0"),
            "caf\xC3\xA9 \xE2\x82\xAC\t\xF0\x9F\x98\x80 \xC2\xA0");
  EXPECT_EQ(PrintableLine(""), "");
}

TEST(PrintableLineTest, ControlCharactersBecomeVisibleEscapes) {
  // A clear-screen, a forged second line, a carriage return that overwrites the line, a NUL.
  EXPECT_EQ(PrintableLine("\x1b[2Jgone"), "\\x1b[2Jgone");
  EXPECT_EQ(PrintableLine("bad\nrun 0190 succeeded"), "bad\\nrun 0190 succeeded");
  EXPECT_EQ(PrintableLine("fake ok\rFAIL"), "fake ok\\rFAIL");
  EXPECT_EQ(PrintableLine("a\0b\x7f"s), "a\\x00b\\x7f");
  // C1 controls, encoded as UTF-8: U+009B is a one-character CSI to some terminals.
  EXPECT_EQ(PrintableLine("\xC2\x9B"
                          "31m\xC2\x85"),
            "\\u009b31m\\u0085");
}

TEST(PrintableLineTest, InvalidBytesBecomeTheReplacementCharacter) {
  EXPECT_EQ(PrintableLine("a\xFF"
                          "b\xC3"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(PrintableLine("\xC0\x9B"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // an overlong CSI
}

}  // namespace
}  // namespace petit
