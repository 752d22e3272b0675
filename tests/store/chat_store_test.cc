#include "store/chat_store.h"

#include <criterion/criterion.h>

#include "tests/store/store_db.h"

using namespace crewship;
using namespace crewship::test;

TestSuite(chat_store);

Test(chat_store, seq_is_dense_and_pages_seek_by_it) {
  StoreDb d;
  d.seed_agent();
  cr_assert(store::insert_chat(d.db(), {"h1", "a1", "w1", std::nullopt, "t"}).ok());
  cr_assert(store::insert_chat(d.db(), {"h2", "a1", "w1", "Other", "t"}).ok());
  for (int i = 1; i <= 7; ++i) {
    auto seq = store::append_message(d.db(), "h1", {"m" + std::to_string(i), 0, "user", "c" + std::to_string(i), "t"});
    cr_assert(seq.ok());
    cr_assert_eq(*seq, i);
  }
  auto other = store::append_message(d.db(), "h2", {"x1", 0, "tool", "x", "t"});
  cr_assert(other.ok() && *other == 1, "seq counts per chat");
  auto page = store::list_messages(d.db(), "h1", 5, 50);
  cr_assert(page.ok());
  cr_assert_eq(page->size(), 2u);
  cr_assert_eq((*page)[0].seq, 6);
  cr_assert_eq((*page)[1].content, "c7");
  auto chat = store::find_chat(d.db(), "h1");
  cr_assert(chat.ok() && chat->has_value());
  cr_assert_eq((*chat)->crew_id, "c1");
  auto none = store::find_chat(d.db(), "nope");
  cr_assert(none.ok() && !none->has_value());
  // A message of a chat that does not exist breaks its foreign key: a store failure.
  auto orphan = store::append_message(d.db(), "nope", {"o1", 0, "user", "x", "t"});
  cr_assert_not(orphan.ok());
  expect_store_failure(orphan.problem());
}
