#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "krdc/util/worker_pool.h"

namespace {

// Waits (bounded) until `pred` holds; a test never hangs on a broken pool.
template <class Pred>
bool eventually(std::mutex& mu, std::condition_variable& cv, Pred pred) {
  std::unique_lock lock(mu);
  return cv.wait_for(lock, std::chrono::seconds(10), pred);
}

}  // namespace

TEST_CASE("worker pool: one thread serves tasks that come one after another") {
  krdc::WorkerPool pool(4);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::set<std::thread::id> ids;
  for (int i = 0; i < 10; ++i) {
    pool.submit([&] {
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
      ++done;
      cv.notify_all();
    });
    const int want = i + 1;
    REQUIRE(eventually(mu, cv, [&] { return done == want; }));
    // The task has said it is done; its thread is free a moment later (bounded wait).
    for (int spin = 0; spin < 100'000 && pool.busy_threads() > 0; ++spin) std::this_thread::yield();
  }
  CHECK(ids.size() == 1);
  CHECK(pool.threads() == 1);
}

TEST_CASE("worker pool: tasks run at once up to the bound, and no thread beyond it") {
  krdc::WorkerPool pool(3);
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  int most = 0;
  int finished = 0;
  bool release = false;
  for (int i = 0; i < 5; ++i) {
    pool.submit([&] {
      std::unique_lock lock(mu);
      most = std::max(most, ++inside);
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
      --inside;
      ++finished;
      cv.notify_all();
    });
  }
  // Three tasks can only all be inside together if three threads run them.
  REQUIRE(eventually(mu, cv, [&] { return inside == 3; }));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE(eventually(mu, cv, [&] { return finished == 5; }));
  CHECK(most == 3);
  CHECK(pool.threads() == 3);
}

TEST_CASE("worker pool: destruction runs what was submitted, then joins") {
  std::atomic<int> ran{0};
  {
    krdc::WorkerPool pool(2);
    for (int i = 0; i < 20; ++i) pool.submit([&] { ++ran; });
  }
  CHECK(ran == 20);
}
