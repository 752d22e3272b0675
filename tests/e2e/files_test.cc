// An agent's host workspace end to end: save and download round trips, the
// listing's depth and order, odd names, traversal and symlinks that lead out,
// size limits, roles, tenancy and the IPC twins.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ipc/internal_token.h"
#include "tests/support/api.h"

using namespace crewship::test;
namespace fs = std::filesystem;

namespace {

std::string create(const TestDaemon& d, const Session& s, const std::string& path, const std::string& body) {
  Reply r = call(d, "POST", path + "?workspace_id=" + s.workspace_id, s.token, body);
  cr_assert_eq(r.status, 201, "POST %s: %d %s", path.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

// A workspace with one crew and one agent of it.
struct World {
  Session owner;
  std::string crew, agent;
  std::string dir;  // the agent's directory on the host
};

World make_world(const TestDaemon& d) {
  World w;
  w.owner = bootstrap(d);
  w.crew = create(d, w.owner, "/api/v1/crews", R"({"name":"Crew","slug":"crew"})");
  w.agent = create(d, w.owner, "/api/v1/agents", R"({"name":"Dev","slug":"dev","crew_id":")" + w.crew + "\"}");
  w.dir = d.dir + "/storage/crews/" + w.crew + "/dev";
  return w;
}

// Every byte but the unreserved ones as %XX, as a client encodes a query value.
std::string enc(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// /api/v1/agents/{agent}/files<what>?workspace_id=...<query>
std::string url(const World& w, const std::string& what, const std::string& query = "",
                const std::string& agent = "") {
  return "/api/v1/agents/" + (agent.empty() ? w.agent : agent) + "/files" + what +
         "?workspace_id=" + w.owner.workspace_id + query;
}

Reply save(const TestDaemon& d, const World& w, const std::string& path, std::string_view body,
           const std::string& token = "") {
  return call(d, "PUT", url(w, "/save", "&path=" + enc(path)), token.empty() ? w.owner.token : token, body);
}

Reply download(const TestDaemon& d, const World& w, const std::string& path) {
  return call(d, "GET", url(w, "/download", "&path=" + enc(path)), w.owner.token);
}

rapidjson::Document list(const TestDaemon& d, const World& w, const std::string& query = "") {
  return list_of(d, url(w, "", query), w.owner.token);
}

const rapidjson::Value* entry(const rapidjson::Document& list, const std::string& path) {
  for (const auto& e : list.GetArray())
    if (path == e["path"].GetString()) return &e;
  return nullptr;
}

void expect_refused(const Reply& r, int status, const char* what) {
  cr_assert_eq(r.status, status, "%s: want %d, got %d: %s", what, status, r.status, r.body.c_str());
  cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json", "%s: %s", what, r.body.c_str());
}

void expect_saved(const Reply& r, const std::string& path, size_t size) {
  cr_assert_eq(r.status, 200, "save %s: %d %s", path.c_str(), r.status, r.body.c_str());
  auto doc = json_of(r);
  cr_assert_eq(std::string(doc["path"].GetString()), path);
  cr_assert_eq(doc["size"].GetInt64(), static_cast<int64_t>(size));
}

std::string ipc_request(const TestDaemon& d, const std::string& method, const std::string& path,
                        const std::string& token, std::string_view body = "") {
  std::string raw = method + " " + path + " HTTP/1.1\r\nHost: t\r\nX-Internal-Token: " + token +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  raw += body;
  auto r = request_unix(d.socket, raw);
  cr_assert(r.has_value(), "no answer to %s %s on the socket", method.c_str(), path.c_str());
  return std::to_string(r->status) + " " + r->body;
}

}  // namespace

TestSuite(files, .timeout = 120);

Test(files, save_download_round_trip) {
  TestDaemon d(api_options());
  World w = make_world(d);
  cr_assert_eq(list(d, w).Size(), 0u, "no directory yet: []");

  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes += static_cast<char>(i & 0xff);  // NULs included
  expect_saved(save(d, w, "bin/all.bytes", bytes), "bin/all.bytes", bytes.size());
  Reply got = download(d, w, "bin/all.bytes");
  cr_assert_eq(got.status, 200, "%s", got.body.c_str());
  cr_assert(got.body == bytes, "the bytes come back as saved (%zu of %zu)", got.body.size(), bytes.size());
  cr_assert_eq(got.header("Content-Type").value_or(""), "application/octet-stream");
  cr_assert_eq(got.header("Content-Disposition").value_or(""),
               "attachment; filename=\"all.bytes\"; filename*=UTF-8''all.bytes");
  cr_assert(read_file(w.dir + "/bin/all.bytes") == bytes, "on disk under the agent's directory");

  // Over the 1 MiB default body limit: the route's own limit applies.
  std::string big((1 << 20) + 1, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i % 251);
  expect_saved(save(d, w, "big.bin", big), "big.bin", big.size());
  cr_assert(download(d, w, "big.bin").body == big);

  // A save replaces the file whole, keeps its mode and leaves nothing aside.
  cr_assert_eq(chmod((w.dir + "/big.bin").c_str(), 0750), 0);
  expect_saved(save(d, w, "./big.bin", "short"), "big.bin", 5);
  cr_assert_eq(download(d, w, "big.bin").body, "short");
  struct stat st;
  cr_assert_eq(stat((w.dir + "/big.bin").c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0750u, "mode %o", st.st_mode & 0777);
  expect_saved(save(d, w, "empty", ""), "empty", 0);
  cr_assert_eq(download(d, w, "empty").body, "");
  for (const auto& e : fs::directory_iterator(w.dir))
    cr_assert(e.path().filename().string().rfind(".crewship", 0) != 0, "left behind: %s", e.path().c_str());

  expect_refused(download(d, w, "missing"), 404, "missing file");
  expect_refused(download(d, w, "bin"), 400, "a directory");
  expect_refused(download(d, w, "big.bin/x"), 409, "through a file");
  expect_refused(save(d, w, "bin", "x"), 400, "over a directory");
  expect_refused(save(d, w, "big.bin/x", "x"), 409, "below a file");
  expect_refused(download(d, w, ""), 400, "empty path");
  expect_refused(save(d, w, "", "x"), 400, "empty path");
  expect_refused(call(d, "GET", url(w, "/download"), w.owner.token), 400, "no path");
  cr_assert_eq(download(d, w, "big.bin").body, "short", "refusals changed nothing");
}

// Depth 3 below subdir, sorted by path, with sizes and times.
Test(files, list_depth_and_order) {
  TestDaemon d(api_options());
  World w = make_world(d);
  for (std::string p : {"z.txt", "a.txt", "d1/b.txt", "d1/d2/c.txt", "d1/d2/d3/d.txt", "d1/d2/d3/d4/e.txt"})
    expect_saved(save(d, w, p, p + "!"), p, p.size() + 1);

  auto all = list(d, w);
  cr_assert(members_of(all, "path") == (std::vector<std::string>{"a.txt", "d1", "d1/b.txt", "d1/d2", "d1/d2/c.txt",
                                                       "d1/d2/d3", "z.txt"}),
            "%zu entries", all.Size());
  const auto* c = entry(all, "d1/d2/c.txt");
  cr_assert_str_eq((*c)["name"].GetString(), "c.txt");
  cr_assert_eq((*c)["size"].GetInt64(), 12);
  cr_assert_not((*c)["is_dir"].GetBool());
  cr_assert((*entry(all, "d1/d2/d3"))["is_dir"].GetBool());
  std::string mod_time = (*c)["mod_time"].GetString();
  cr_assert_eq(mod_time.size(), 20u, "RFC 3339 UTC seconds: %s", mod_time.c_str());
  cr_assert_eq(mod_time[10], 'T');
  cr_assert_eq(mod_time.back(), 'Z');

  auto below = list(d, w, "&subdir=d1/d2/");
  cr_assert(members_of(below, "path") == (std::vector<std::string>{"d1/d2/c.txt", "d1/d2/d3", "d1/d2/d3/d.txt",
                                                         "d1/d2/d3/d4", "d1/d2/d3/d4/e.txt"}));
  cr_assert_str_eq(below[2]["name"].GetString(), "d.txt");

  expect_refused(call(d, "GET", url(w, "", "&subdir=nope"), w.owner.token), 404, "missing subdir");
  expect_refused(call(d, "GET", url(w, "", "&subdir=a.txt"), w.owner.token), 409, "subdir is a file");
}

Test(files, odd_names) {
  TestDaemon d(api_options());
  World w = make_world(d);
  const std::string names[] = {"with space.txt", "pipe|name", "new\nline", "quote\"d", "ünï.md", "a+b", "100%"};
  for (const auto& name : names) {
    expect_saved(save(d, w, "odd/" + name, name), "odd/" + name, name.size());
    Reply r = download(d, w, "odd/" + name);
    cr_assert_eq(r.status, 200, "%s: %s", name.c_str(), r.body.c_str());
    cr_assert_eq(r.body, name);
    std::string disposition = r.header("Content-Disposition").value_or("");
    cr_assert(disposition.find('\n') == std::string::npos && disposition.find("\"d") == std::string::npos,
              "%s", disposition.c_str());
  }
  auto odd = list(d, w, "&subdir=odd");
  cr_assert_eq(odd.Size(), std::size(names));
  for (const auto& name : names)
    cr_assert_not_null(entry(odd, "odd/" + name), "listed: %s", name.c_str());
  cr_assert_eq(download(d, w, "odd/new\nline").header("Content-Disposition").value_or(""),
               "attachment; filename=\"new_line\"; filename*=UTF-8''new%0Aline");
  // '+' in a query means a space; "a b" was never saved.
  expect_refused(call(d, "GET", url(w, "/download", "&path=odd/a+b"), w.owner.token), 404, "'+' is a space");
}

Test(files, traversal_refused) {
  TestDaemon d(api_options());
  World w = make_world(d);
  expect_saved(save(d, w, "inside/x", "x"), "inside/x", 1);
  // As they stand in the query string: the daemon decodes once.
  const char* attempts[] = {"../x", "/etc/passwd", "a/../../x", "inside/../../x", "..",
                            "%2e%2e/x", "%2E%2E%2Fx", "%252e%252e/x", "inside%252f..%252fx",
                            "..%255cx", "a%00b", "%00"};
  for (const char* p : attempts) {
    std::string q = std::string("&path=") + p;
    expect_refused(call(d, "GET", url(w, "/download", q), w.owner.token), 400, p);
    expect_refused(call(d, "PUT", url(w, "/save", q), w.owner.token, "pwned"), 400, p);
    expect_refused(call(d, "GET", url(w, "", "&subdir=" + std::string(p)), w.owner.token), 400, p);
  }
  auto detail = json_of(call(d, "GET", url(w, "/download", "&path=../x"), w.owner.token));
  cr_assert(std::string(detail["detail"].GetString()).rfind("path must be a relative path", 0) == 0);
  cr_assert_not(fs::exists(d.dir + "/storage/crews/" + w.crew + "/x"), "nothing written above");
  cr_assert_not(fs::exists(d.dir + "/storage/crews/x"));
  cr_assert_eq(list(d, w).Size(), 2u, "the daemon keeps serving");
}

// Symlinks the agent planted: followed inside its directory, refused (403)
// where they lead out, listed but never descended into.
Test(files, symlinks_out_refused) {
  TestDaemon d(api_options());
  World w = make_world(d);
  expect_saved(save(d, w, "real/file", "mine"), "real/file", 4);
  std::string outside = d.dir + "/outside";
  fs::create_directories(outside);
  {
    FILE* f = fopen((outside + "/secret").c_str(), "w");
    fputs("secret", f);
    fclose(f);
  }
  fs::create_directory_symlink(outside, w.dir + "/out");
  fs::create_symlink(outside + "/secret", w.dir + "/pw");
  fs::create_directory_symlink("../../../outside", w.dir + "/up");
  fs::create_directory_symlink("real", w.dir + "/in");
  fs::create_symlink("/proc/self/root/etc/passwd", w.dir + "/magic");

  for (const char* p : {"out/secret", "pw", "up/secret", "magic"}) {
    expect_refused(download(d, w, p), 403, p);
    expect_refused(save(d, w, p, "pwned"), 403, p);
  }
  expect_refused(save(d, w, "out/new", "pwned"), 403, "a new file through the link");
  expect_refused(save(d, w, "out/sub/new", "pwned"), 403, "a new directory through the link");
  expect_refused(call(d, "GET", url(w, "", "&subdir=out"), w.owner.token), 403, "list through the link");
  cr_assert_eq(read_file(outside + "/secret"), "secret");
  cr_assert_eq(std::distance(fs::directory_iterator(outside), fs::directory_iterator()), 1, "nothing made outside");

  cr_assert_eq(download(d, w, "in/file").body, "mine", "a link inside is followed");
  auto all = list(d, w);
  for (const char* link : {"out", "up", "in", "pw", "magic"}) {
    const auto* e = entry(all, link);
    cr_assert_not_null(e, "%s listed", link);
    cr_assert_not((*e)["is_dir"].GetBool(), "%s is not listed as a directory", link);
  }
  for (const auto& p : members_of(all, "path"))
    cr_assert(p.rfind("out/", 0) != 0 && p.rfind("up/", 0) != 0 && p.rfind("in/", 0) != 0,
              "descended into a link: %s", p.c_str());

  // The agent's directory itself replaced by a link.
  fs::rename(w.dir, w.dir + ".old");
  fs::create_directory_symlink(outside, w.dir);
  expect_refused(download(d, w, "secret"), 403, "agent directory is a link");
  expect_refused(save(d, w, "x", "pwned"), 403, "agent directory is a link");
  expect_refused(call(d, "GET", url(w, ""), w.owner.token), 403, "agent directory is a link");
  cr_assert_not(fs::exists(outside + "/x"));
}

// The guard runs at the headers: an authenticated save of the full 32 MiB
// gets its 100 Continue, then the body is taken whole.
Test(files, full_size_save_after_100_continue) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string body(32 << 20, 'y');
  Client c(connect_tcp(d.port));
  cr_assert(c.send("PUT " + url(w, "/save", "&path=full") + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                   w.owner.token + "\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nExpect: 100-continue\r\n\r\n"));
  auto cont = c.read();
  cr_assert(cont.has_value());
  cr_assert_eq(cont->status, 100);
  cr_assert(c.send(body));
  auto r = c.read(20000);
  cr_assert(r.has_value());
  expect_saved(*r, "full", body.size());
  cr_assert_eq(fs::file_size(w.dir + "/full"), body.size());
}

Test(files, size_limits) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string head = "PUT " + url(w, "/save", "&path=huge") + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                     w.owner.token + "\r\nContent-Length: " + std::to_string(33 << 20) + "\r\n";
  for (const char* expect : {"", "Expect: 100-continue\r\n"}) {
    Client c(connect_tcp(d.port));
    cr_assert(c.send(head + expect + "\r\n" + std::string(64 << 10, 'x')));
    auto r = c.read();
    cr_assert(r.has_value(), "an answer before the body is sent");
    expect_refused(*r, 413, "33 MiB save");
  }
  cr_assert_not(fs::exists(w.dir + "/huge"));

  // A file the agent made larger than a download may be.
  expect_saved(save(d, w, "small", "s"), "small", 1);
  fs::resize_file(w.dir + "/small", (32 << 20) + 1);
  expect_refused(download(d, w, "small"), 413, "33 MiB download");
  cr_assert_eq((*entry(list(d, w), "small"))["size"].GetInt64(), (32 << 20) + 1);
}

Test(files, roles) {
  TestDaemon d(api_options());
  World w = make_world(d);
  expect_saved(save(d, w, "f", "owner's"), "f", 7);
  Session viewer = member(d, w.owner, "viewer@example.com", "VIEWER");
  Session plain = member(d, w.owner, "member@example.com", "MEMBER");
  Session manager = member(d, w.owner, "manager@example.com", "MANAGER");
  cr_assert_eq(call(d, "GET", url(w, ""), viewer.token).status, 200);
  Reply r = call(d, "GET", url(w, "/download", "&path=f"), viewer.token);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body, "owner's");
  expect_refused(save(d, w, "f", "viewer's", viewer.token), 403, "viewer saves");
  expect_refused(save(d, w, "f", "member's", plain.token), 403, "member saves");
  cr_assert_eq(read_file(w.dir + "/f"), "owner's");
  expect_saved(save(d, w, "f", "manager's", manager.token), "f", 9);
  expect_refused(call(d, "GET", url(w, "")), 401, "anonymous");
  expect_refused(call(d, "GET", "/api/v1/agents/" + w.agent + "/files", w.owner.token), 400, "no workspace");
}

// An agent without a crew has no workspace; another workspace's agent answers
// exactly like a missing one.
Test(files, tenancy) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string loner = create(d, w.owner, "/api/v1/agents", R"({"name":"Loner","slug":"loner"})");
  Reply made = call(d, "POST", "/api/v1/workspaces", w.owner.token, R"({"name":"Other"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  World other = w;
  other.owner.workspace_id = json_of(made)["id"].GetString();
  expect_saved(save(d, w, "f", "x"), "f", 1);

  for (const std::string& what : {std::string(""), std::string("/download")}) {
    expect_refused(call(d, "GET", url(w, what, "&path=f", loner), w.owner.token), 404, "no crew");
    Reply theirs = call(d, "GET", url(other, what, "&path=f"), w.owner.token);
    Reply missing = call(d, "GET", url(other, what, "&path=f", "c000000000000000000000000"), w.owner.token);
    expect_refused(theirs, 404, "other workspace");
    cr_assert_eq(theirs.body.substr(0, theirs.body.find("\"instance\"")),
                 missing.body.substr(0, missing.body.find("\"instance\"")), "%s", theirs.body.c_str());
  }
  expect_refused(save(d, other, "f", "pwned"), 404, "save in another workspace");
  expect_refused(call(d, "PUT", url(w, "/save", "&path=f", loner), w.owner.token, "x"), 404, "no crew");
  cr_assert_eq(read_file(w.dir + "/f"), "x");
  cr_assert_not(fs::exists(d.dir + "/storage/crews//loner"));
}

Test(files, ipc_twins) {
  cr_assert_geq(sodium_init(), 0);
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string other_crew = create(d, w.owner, "/api/v1/crews", R"({"name":"Other","slug":"other"})");
  crewship::ipc::InternalAuth auth;
  std::string err;
  cr_assert_eq(auth.load(d.token, "", d.dir, &err), 0, "%s", err.c_str());
  std::string base = "/api/v1/internal/agents/" + w.agent + "/files";

  cr_assert_eq(ipc_request(d, "PUT", base + "/save?path=a/b.txt", d.token, "hello"), "200 {\"path\":\"a/b.txt\",\"size\":5}");
  std::string listed = ipc_request(d, "GET", base, d.token);
  cr_assert(listed.rfind("200 {\"files\":[{\"path\":\"a\",\"name\":\"a\",", 0) == 0, "%s", listed.c_str());
  cr_assert(listed.find("\"path\":\"a/b.txt\",\"name\":\"b.txt\",\"size\":5,\"is_dir\":false") != std::string::npos,
            "%s", listed.c_str());
  cr_assert_eq(ipc_request(d, "GET", base + "/download?path=a/b.txt", d.token), "200 hello");

  std::string mine = auth.crew_token(w.owner.workspace_id, w.crew, 0);
  cr_assert_eq(ipc_request(d, "GET", base + "/download?path=a/b.txt", mine), "200 hello");
  std::string theirs = auth.crew_token(w.owner.workspace_id, other_crew, 0);
  for (const auto& [method, path] : {std::pair{"GET", base}, {"GET", base + "/download?path=a/b.txt"},
                                     {"PUT", base + "/save?path=a/b.txt"}}) {
    std::string r = ipc_request(d, method, path, theirs, "pwned");
    cr_assert(r.rfind("404 ", 0) == 0 && r.find("agent not found") != std::string::npos, "%s %s: %s",
              method, path.c_str(), r.c_str());
  }
  cr_assert_eq(read_file(w.dir + "/a/b.txt"), "hello");
  cr_assert_eq(ipc_request(d, "GET", base + "?subdir=../x", d.token).substr(0, 4), "400 ");
  cr_assert_eq(call(d, "GET", base, w.owner.token).status, 404, "not on the public listener");
}

namespace {

// Waits up to timeout_ms for <data>/tmp to be empty.
bool uploads_gone(const TestDaemon& d, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (uploads(d).empty()) return true;
    usleep(20 * 1000);
  }
  return uploads(d).empty();
}

// Starts a 32 MiB save of "cut", sends 4 MiB of it and waits until its
// temporary file is in <data>/tmp; the rest is never sent.
std::unique_ptr<Client> start_cut_upload(const TestDaemon& d, const World& w) {
  auto c = std::make_unique<Client>(connect_tcp(d.port));
  cr_assert(c->send("PUT " + url(w, "/save", "&path=cut") + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                    w.owner.token + "\r\nContent-Length: " + std::to_string(32 << 20) + "\r\n\r\n"));
  cr_assert(c->send(std::string(4 << 20, 'c')));
  bool written = false;
  for (int i = 0; i < 250 && !written; ++i, usleep(20 * 1000)) written = !uploads(d).empty();
  cr_assert(written, "the body being received is in <data>/tmp");
  return c;
}

}  // namespace

// Saves stream their bodies to a temporary file: eight authenticated 32 MiB
// saves at once keep the daemon under 64 MiB, and every file arrives whole.
Test(files, concurrent_full_saves_stay_small, .timeout = 180) {
  TestDaemon d(api_options());
  World w = make_world(d);
  constexpr int kClients = 8;
  constexpr size_t kSize = 32 << 20;
  std::vector<std::string> paths, bodies;
  for (int i = 0; i < kClients; ++i) {
    paths.push_back(url(w, "/save", "&path=up/" + std::to_string(i)));
    bodies.push_back(seeded_bytes(kSize, static_cast<uint8_t>(i)));  // each save is checked to be its own
  }
  ConcurrentPuts run = concurrent_puts(d, paths, w.owner.token, bodies);
  long peak = run.peak_rss_kib;
  cr_log_info("peak VmRSS %ld KiB during %d concurrent 32 MiB saves", peak, kClients);
  cr_assert_lt(peak, 64 * 1024, "VmRSS reached %ld KiB", peak);
  cr_assert(run.saw_uploads, "the bodies were never seen in <data>/tmp");
  for (int i = 0; i < kClients; ++i) {
    expect_saved(run.replies[i], "up/" + std::to_string(i), kSize);
    std::string got = read_file(w.dir + "/up/" + std::to_string(i));
    cr_assert_eq(sha256_hex(got), sha256_hex(bodies[i]), "file %d arrived changed (%zu bytes)", i, got.size());
    struct stat st;
    cr_assert_eq(stat((w.dir + "/up/" + std::to_string(i)).c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644u, "a new file is 0644, not the upload's 0600");
  }
  cr_assert(uploads_gone(d), "temporary files left: %zu", uploads(d).size());
}

// A client that leaves in the middle of its body leaves no temporary file
// and no saved file; the daemon goes on serving.
Test(files, client_gone_mid_upload_leaves_nothing) {
  TestDaemon d(api_options());
  World w = make_world(d);
  for (int round = 0; round < 3; ++round) {
    {
      auto c = start_cut_upload(d, w);
    }  // closed here, 28 MiB short
    cr_assert(uploads_gone(d), "temporary file left after the client left: %zu", uploads(d).size());
    cr_assert_not(fs::exists(w.dir + "/cut"));
  }
  expect_saved(save(d, w, "after", "fine"), "after", 4);
}

// A chunked body (no length to refuse at the headers) over the limit gets 413
// once it passes 32 MiB, and what was written of it is removed.
Test(files, chunked_save_over_the_limit, .timeout = 120) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Client c(connect_tcp(d.port));
  cr_assert(c.send("PUT " + url(w, "/save", "&path=huge") + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                   w.owner.token + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "100000\r\n" + std::string(1 << 20, 'h') + "\r\n";  // 1 MiB each
  for (int i = 0; i < 33; ++i) {
    if (!c.send(chunk)) break;  // the answer may come, and the close, before all is sent
  }
  auto r = c.read(10000);
  cr_assert(r.has_value(), "an answer to the 33 MiB chunked save");
  expect_refused(*r, 413, "33 MiB chunked save");
  cr_assert(uploads_gone(d), "temporary file left after the 413: %zu", uploads(d).size());
  cr_assert_not(fs::exists(w.dir + "/huge"));
  expect_saved(save(d, w, "small", "s"), "small", 1);
}

// What a killed daemon left in <data>/tmp is removed at the next start.
Test(files, stale_uploads_removed_at_start) {
  std::string dir = make_temp_dir();
  fs::create_directories(dir + "/tmp");
  { std::ofstream(dir + "/tmp/upload-0123456789abcdef01234567") << "left by a killed process"; }
  DaemonOptions o = api_options();
  o.data_dir = dir;
  {
    TestDaemon d(o);
    cr_assert(d.started());
    cr_assert(uploads(d).empty(), "stale upload kept: %s", uploads(d).empty() ? "" : uploads(d)[0].c_str());
    struct stat st;
    cr_assert_eq(stat((dir + "/tmp").c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700u);
  }
  remove_tree(dir);
}

// A daemon stopped while a save's body is arriving removes its temporary
// file before it exits.
Test(files, shutdown_mid_upload_leaves_nothing) {
  TestDaemon d(api_options({"CREWSHIP_SHUTDOWN_TIMEOUT=1s"}));
  World w = make_world(d);
  auto c = start_cut_upload(d, w);
  cr_assert_eq(d.stop(SIGTERM), 0);
  cr_assert(uploads(d).empty(), "temporary file left by the stopped daemon: %zu", uploads(d).size());
  cr_assert_not(fs::exists(w.dir + "/cut"));
}
