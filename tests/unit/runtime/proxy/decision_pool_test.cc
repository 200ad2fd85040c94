// SPDX-License-Identifier: Apache-2.0
// Tests of the decision thread pool and the loop inbox.
#include "runtime/proxy/decision_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hoody::proxy {
namespace {

using namespace std::chrono_literals;

// Waits up to 5 s for `done` to return true.
template <typename Predicate>
bool waitFor(Predicate done) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

TEST(DecisionPoolTest, BoundsTheQueue) {
  Result<std::unique_ptr<DecisionPool>> pool = DecisionPool::create(1, 1);
  ASSERT_TRUE(pool.has_value()) << pool.error().message;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  auto blocking = [&, released](auth::CachingVerifier&) {
    ++started;
    released.wait();
    ++finished;
  };

  ASSERT_TRUE((*pool)->submit(blocking));
  ASSERT_TRUE(waitFor([&] { return started.load() == 1; }));
  // One job runs and one waits; a third finds the queue full.
  EXPECT_TRUE((*pool)->submit(blocking));
  EXPECT_EQ((*pool)->queued(), 1u);
  EXPECT_FALSE((*pool)->submit(blocking));

  release.set_value();
  ASSERT_TRUE(waitFor([&] { return finished.load() == 2; }));
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ((*pool)->queued(), 0u);
  EXPECT_TRUE((*pool)->submit(blocking));
  EXPECT_TRUE(waitFor([&] { return finished.load() == 3; }));
}

TEST(DecisionPoolTest, RunsJobsOffTheCallingThread) {
  Result<std::unique_ptr<DecisionPool>> pool = DecisionPool::create(2, 8);
  ASSERT_TRUE(pool.has_value());
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*pool)->submit([&](auth::CachingVerifier&) {
      if (std::this_thread::get_id() != caller) ++elsewhere;
    }));
  }
  EXPECT_TRUE(waitFor([&] { return elsewhere.load() == 4; }));
}

TEST(DecisionPoolTest, VerifierCachesAcrossJobs) {
  Result<std::string> hash = auth::hashPassword("correct horse");
  ASSERT_TRUE(hash.has_value()) << hash.error().message;
  ir::Group group;
  group.name = "admins";
  group.credential = ir::CredentialKind::Password;
  group.passwords.push_back({"deploy", *hash});

  Result<std::unique_ptr<DecisionPool>> pool = DecisionPool::create(1, 8);
  ASSERT_TRUE(pool.has_value());
  std::atomic<int> ok{0};
  std::atomic<uint64_t> hits{0};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE((*pool)->submit([&](auth::CachingVerifier& verifier) {
      if (verifier.verifyPassword(group, "deploy", "correct horse")) ++ok;
      hits = verifier.cacheHits();
    }));
  }
  ASSERT_TRUE(waitFor([&] { return ok.load() == 2; }));
  // The second job found the first one's success in the thread's cache.
  EXPECT_EQ(hits.load(), 1u);
}

TEST(DecisionPoolTest, DropsQueuedJobsOnDestruction) {
  Result<std::unique_ptr<DecisionPool>> pool = DecisionPool::create(1, 4);
  ASSERT_TRUE(pool.has_value());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> started{false};
  ASSERT_TRUE((*pool)->submit([&, released](auth::CachingVerifier&) {
    started = true;
    released.wait();
  }));
  ASSERT_TRUE(waitFor([&] { return started.load(); }));
  auto token = std::make_shared<int>(0);
  std::atomic<bool> queued_ran{false};
  ASSERT_TRUE((*pool)->submit([&, token](auth::CachingVerifier&) { queued_ran = true; }));
  EXPECT_EQ(token.use_count(), 2);

  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release.set_value();
  });
  pool->reset();
  releaser.join();
  EXPECT_FALSE(queued_ran.load());
  EXPECT_EQ(token.use_count(), 1);  // The dropped job was destroyed.
}

// Runs `loop` until `done` returns true or 5 s pass.
template <typename Predicate>
void runLoopUntil(struct ev_loop* loop, Predicate done) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
    std::this_thread::sleep_for(1ms);
  }
}

TEST(LoopInboxTest, RunsPostedTasksOnTheLoopThread) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  ASSERT_NE(loop, nullptr);
  auto inbox = std::make_shared<LoopInbox>(loop);
  std::thread::id loop_thread = std::this_thread::get_id();
  int ran = 0;
  int on_loop_thread = 0;
  std::thread poster([inbox, &ran, &on_loop_thread, loop_thread] {
    for (int i = 0; i < 100; ++i) {
      inbox->post([&ran, &on_loop_thread, loop_thread] {
        ++ran;
        if (std::this_thread::get_id() == loop_thread) ++on_loop_thread;
      });
    }
  });
  poster.join();
  runLoopUntil(loop, [&] { return ran == 100; });
  EXPECT_EQ(ran, 100);
  EXPECT_EQ(on_loop_thread, 100);
  inbox->close();
  ev_loop_destroy(loop);
}

TEST(LoopInboxTest, DropsTasksAfterClose) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  ASSERT_NE(loop, nullptr);
  auto inbox = std::make_shared<LoopInbox>(loop);
  auto token = std::make_shared<int>(0);
  bool ran = false;
  inbox->post([token, &ran] { ran = true; });
  inbox->close();
  EXPECT_EQ(token.use_count(), 1);  // The waiting task was dropped.
  inbox->post([token, &ran] { ran = true; });
  EXPECT_EQ(token.use_count(), 1);
  ev_run(loop, EVRUN_NOWAIT);
  ev_loop_destroy(loop);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace hoody::proxy
