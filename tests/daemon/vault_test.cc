#include "daemon/vault.h"

#include <string>

#include <sys/stat.h>

#include <criterion/criterion.h>

#include "tests/support/harness.h"

using namespace crewship;

TestSuite(vault);

Test(vault, seals_with_a_fresh_nonce_and_opens_only_under_its_key) {
  Vault a, b;
  a.load_master("the master key of instance a");
  b.load_master("the master key of instance b");
  std::string one = a.seal("sk-secret"), two = a.seal("sk-secret");
  cr_assert_neq(one, two, "a random nonce per value");
  cr_assert(one.find("sk-secret") == std::string::npos);
  SecretText out;
  cr_assert(a.open(one, &out));
  cr_assert_eq(out.value, "sk-secret");
  cr_assert_not(b.open(one, &out), "another key does not open it");
  cr_assert(out.value.empty(), "and leaves no garbage");
  std::string damaged = one;
  damaged.back() ^= 1;
  cr_assert_not(a.open(damaged, &out));
  cr_assert_not(a.open(one.substr(0, 10), &out), "too short to hold a nonce and a MAC");
  cr_assert(a.open(a.seal(""), &out) && out.value.empty());
}

Test(vault, keyed_hashes_depend_on_the_key) {
  Vault a, b;
  a.load_master("key a");
  b.load_master("key b");
  cr_assert_eq(a.keyed_hash("secret"), a.keyed_hash("secret"));
  cr_assert_eq(a.keyed_hash("secret").size(), 64u);
  cr_assert_neq(a.keyed_hash("secret"), b.keyed_hash("secret"));
  cr_assert_neq(a.keyed_hash("secret"), a.keyed_hash("secreT"));
}

Test(vault, key_file_is_made_0600_once_and_reused) {
  std::string dir = test::make_temp_dir();
  std::string error;
  bool created = false;
  Vault first;
  cr_assert_eq(first.load("", dir, &created, &error), 0, "%s", error.c_str());
  cr_assert(created);
  struct stat st;
  cr_assert_eq(stat((dir + "/vault-key").c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  std::string sealed = first.seal("value");
  Vault again;
  cr_assert_eq(again.load("", dir, &created, &error), 0, "%s", error.c_str());
  cr_assert_not(created, "the file is reused");
  SecretText out;
  cr_assert(again.open(sealed, &out) && out.value == "value");
  // ENCRYPTION_KEY, when set, is the master and the file is not read.
  Vault keyed;
  cr_assert_eq(keyed.load("an encryption key", dir, &created, &error), 0);
  cr_assert_not(keyed.open(sealed, &out));
  test::remove_tree(dir);
}
