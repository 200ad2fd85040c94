// SPDX-License-Identifier: Apache-2.0
// Tests of the RST_STREAM token bucket.
#include "runtime/http2/reset_limiter.h"

#include <gtest/gtest.h>

namespace hoody::http2 {
namespace {

TEST(TokenBucketTest, AllowsBurstThenRejects) {
  TokenBucket bucket(kResetBurst, kResetRatePerSecond);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.take(10.0)) << i;
  EXPECT_FALSE(bucket.take(10.0));
  EXPECT_FALSE(bucket.take(10.0));
}

TEST(TokenBucketTest, RefillsAtRate) {
  TokenBucket bucket(10, 33);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.take(0.0));
  EXPECT_FALSE(bucket.take(0.0));
  // 0.1 s refills 3.3 tokens: three more takes, not four.
  EXPECT_TRUE(bucket.take(0.1));
  EXPECT_TRUE(bucket.take(0.1));
  EXPECT_TRUE(bucket.take(0.1));
  EXPECT_FALSE(bucket.take(0.1));
}

TEST(TokenBucketTest, NeverExceedsBurst) {
  TokenBucket bucket(5, 100);
  EXPECT_TRUE(bucket.take(0.0));
  int taken = 0;
  while (bucket.take(1000.0)) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucketTest, SteadyClientAt20PerSecondIsNeverLimited) {
  TokenBucket bucket(kResetBurst, kResetRatePerSecond);
  for (int i = 0; i < 20 * 600; ++i) ASSERT_TRUE(bucket.take(i / 20.0)) << i;
}

TEST(TokenBucketTest, ClockGoingBackwardsAddsNothing) {
  TokenBucket bucket(2, 1);
  EXPECT_TRUE(bucket.take(5.0));
  EXPECT_TRUE(bucket.take(5.0));
  EXPECT_FALSE(bucket.take(4.0));
  EXPECT_FALSE(bucket.take(5.0));
  EXPECT_TRUE(bucket.take(6.0));
}

}  // namespace
}  // namespace hoody::http2
