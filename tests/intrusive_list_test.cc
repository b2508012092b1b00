// Copyright 2026 The coral Authors.
//
// coral/internal/intrusive_list.h: order, O(1) unlinking anywhere, `linked`, iteration that
// removes, private links, and the list heads' sizes.

#include "coral/internal/intrusive_list.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace coral::internal {
namespace {

struct Item {
  explicit Item(int v = 0) : value(v) {}
  Item* prev = nullptr;
  Item* next = nullptr;
  bool linked = false;
  int value = 0;
};

// A node whose links are private, for the list alone.
class Private {
 public:
  bool in_list() const { return linked; }

 private:
  friend class IntrusiveList<Private>;
  Private* prev = nullptr;
  Private* next = nullptr;
  bool linked = false;
};

static_assert(sizeof(IntrusiveList<Item>) == 2 * sizeof(void*));
static_assert(sizeof(IntrusiveList<Item, ListEnds::kFrontOnly>) == sizeof(void*));

template <ListEnds kEnds>
std::vector<int> Values(const IntrusiveList<Item, kEnds>& list) {
  std::vector<int> values;
  for (Item* item : list) values.push_back(item->value);
  return values;
}

TEST(IntrusiveListTest, EmptyList) {
  IntrusiveList<Item> list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.front(), nullptr);
  EXPECT_EQ(list.PopFront(), nullptr);
  EXPECT_TRUE(Values(list).empty());
}

TEST(IntrusiveListTest, PushBackIsFifoPushFrontIsLifo) {
  Item a(1), b(2), c(3), d(4);
  IntrusiveList<Item> list;
  list.PushBack(&b);
  list.PushBack(&c);
  list.PushFront(&a);
  list.PushBack(&d);
  EXPECT_EQ(Values(list), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(list.front(), &a);
  EXPECT_EQ(list.PopFront(), &a);
  EXPECT_EQ(list.PopFront(), &b);
  EXPECT_EQ(list.PopFront(), &c);
  EXPECT_EQ(list.PopFront(), &d);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.PopFront(), nullptr);
}

TEST(IntrusiveListTest, LinkedTracksMembership) {
  Item a, b;
  IntrusiveList<Item> list;
  EXPECT_FALSE(a.linked);
  list.PushBack(&a);
  list.PushBack(&b);
  EXPECT_TRUE(a.linked);
  EXPECT_TRUE(b.linked);
  list.Remove(&a);
  EXPECT_FALSE(a.linked);
  EXPECT_TRUE(b.linked);
  EXPECT_EQ(list.PopFront(), &b);
  EXPECT_FALSE(b.linked);
  // A removed node may be pushed again, onto any list.
  IntrusiveList<Item, ListEnds::kFrontOnly> other;
  other.PushFront(&a);
  EXPECT_TRUE(a.linked);
  EXPECT_EQ(other.front(), &a);
}

TEST(IntrusiveListTest, NodeWithPrivateLinks) {
  Private a, b;
  IntrusiveList<Private> list;
  list.PushBack(&a);
  list.PushFront(&b);
  EXPECT_EQ(list.front(), &b);
  EXPECT_TRUE(a.in_list());
  list.Remove(&b);
  EXPECT_FALSE(b.in_list());
  EXPECT_EQ(list.PopFront(), &a);
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveListTest, RemoveFromEveryPosition) {
  for (int victim = 0; victim < 4; ++victim) {
    Item items[4];
    IntrusiveList<Item> list;
    std::vector<int> expected;
    for (int i = 0; i < 4; ++i) {
      items[i].value = i;
      list.PushBack(&items[i]);
      if (i != victim) expected.push_back(i);
    }
    list.Remove(&items[victim]);
    EXPECT_EQ(Values(list), expected) << "removed " << victim;
    // The tail is still right: a new node goes after the last survivor.
    Item last(9);
    list.PushBack(&last);
    expected.push_back(9);
    EXPECT_EQ(Values(list), expected) << "removed " << victim;
  }
}

TEST(IntrusiveListTest, RemovingTheOnlyNodeEmptiesBothEnds) {
  Item a(1), b(2);
  IntrusiveList<Item> list;
  list.PushBack(&a);
  list.Remove(&a);
  EXPECT_TRUE(list.empty());
  list.PushBack(&b);  // A stale tail would link b after a.
  EXPECT_EQ(Values(list), (std::vector<int>{2}));
  EXPECT_EQ(list.PopFront(), &b);
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveListTest, FrontOnlyList) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item, ListEnds::kFrontOnly> list;
  list.PushFront(&a);
  list.PushFront(&b);
  list.PushFront(&c);
  EXPECT_EQ(Values(list), (std::vector<int>{3, 2, 1}));
  list.Remove(&b);
  EXPECT_EQ(Values(list), (std::vector<int>{3, 1}));
  list.Remove(&c);
  EXPECT_EQ(Values(list), (std::vector<int>{1}));
  EXPECT_EQ(list.PopFront(), &a);
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveListTest, IterationMayRemoveTheVisitedNode) {
  Item items[6];
  IntrusiveList<Item> list;
  for (int i = 0; i < 6; ++i) {
    items[i].value = i;
    list.PushBack(&items[i]);
  }
  for (Item* item : list) {
    if (item->value % 2 == 0) list.Remove(item);
  }
  EXPECT_EQ(Values(list), (std::vector<int>{1, 3, 5}));
  for (Item* item : list) list.Remove(item);
  EXPECT_TRUE(list.empty());
  for (const Item& item : items) EXPECT_FALSE(item.linked);
}

#ifndef NDEBUG
TEST(IntrusiveListDeathTest, PushingALinkedNodeAssertsInDebugBuilds) {
  Item a;
  IntrusiveList<Item> list;
  IntrusiveList<Item> other;
  list.PushBack(&a);
  EXPECT_DEATH(other.PushBack(&a), "linked");
}
#endif

}  // namespace
}  // namespace coral::internal
