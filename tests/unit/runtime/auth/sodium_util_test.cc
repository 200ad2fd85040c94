// SPDX-License-Identifier: Apache-2.0
// Tests of the strict base64 decoders the verifiers use.
#include "runtime/auth/internal/sodium_util.h"

#include <gtest/gtest.h>

namespace hoody::auth::internal {
namespace {

TEST(Base64UrlTest, DecodesCanonicalText) {
  EXPECT_EQ(decodeBase64Url(""), std::string());
  EXPECT_EQ(decodeBase64Url("Zg"), std::string("f"));
  EXPECT_EQ(decodeBase64Url("Zm8"), std::string("fo"));
  EXPECT_EQ(decodeBase64Url("Zm9v"), std::string("foo"));
  EXPECT_EQ(decodeBase64Url("-_8"), std::string("\xfb\xff"));
}

TEST(Base64UrlTest, RejectsNonCanonicalText) {
  for (const char* text : {"Zg==", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "+/8", "Zm 9v", "Zm9v\n",
                           " Zm9v", "Zm9v.", "Zm9v\xc3\xa4"}) {
    EXPECT_FALSE(decodeBase64Url(text)) << text;
  }
}

TEST(Base64UnpaddedTest, UsesStandardAlphabet) {
  EXPECT_EQ(decodeBase64Unpadded("+/8"), std::string("\xfb\xff"));
  EXPECT_FALSE(decodeBase64Unpadded("-_8"));
  EXPECT_FALSE(decodeBase64Unpadded("Zg=="));
}

}  // namespace
}  // namespace hoody::auth::internal
