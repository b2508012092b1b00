#include "coral/runtime.h"
#include "gtest/gtest.h"
coral::Task<int> Leaf(int x) { co_return x; }
TEST(Smoke, Runs) {
  coral::Runtime rt({.num_workers = 2});
  EXPECT_EQ(rt.BlockOn(Leaf(5)), 5);
}
