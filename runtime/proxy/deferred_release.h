// SPDX-License-Identifier: Apache-2.0
// Frees replaced objects on a background thread once nothing else uses them.
//
// A reload replaces the policy snapshot while requests still hold the old
// one, and the last request to finish would otherwise free it on its worker
// thread. Freeing the JIT code and policy of 100,000 containers takes tens of
// milliseconds, which that worker's connections would wait through.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace hoody::proxy {

template <typename T>
class DeferredRelease {
 public:
  /// How often the thread checks whether the requests using an object ended.
  static constexpr std::chrono::milliseconds kCheckInterval{10};

  DeferredRelease() : thread_([this] { run(); }) {}
  DeferredRelease(const DeferredRelease&) = delete;
  DeferredRelease& operator=(const DeferredRelease&) = delete;

  /// Stops the thread, which drops its references first. An object still in
  /// use is then freed by the thread that drops the last reference.
  ~DeferredRelease() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  /// Takes the holder's reference. The object is freed on the background
  /// thread after every other reference is gone.
  void release(std::shared_ptr<T> object) {
    if (!object) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(std::move(object));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (pending_.empty()) {
        wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        continue;
      }
      // A count of one means only this list refers to the object. The holder
      // gave it up, so no request can take a new reference.
      std::vector<std::shared_ptr<T>> unused;
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->use_count() == 1) {
          unused.push_back(std::move(*it));
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
      lock.unlock();
      unused.clear();
      lock.lock();
      if (!pending_.empty()) wake_.wait_for(lock, kCheckInterval, [this] { return stopping_; });
    }
    pending_.clear();
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<T>> pending_;
  bool stopping_ = false;
  std::thread thread_;  ///< Last member: it starts after the others exist.
};

}  // namespace hoody::proxy
