#include <criterion/criterion.h>

#include "container/engine_probe.h"

using namespace crewship::container;

TestSuite(engine_probe);

Test(engine_probe, docker_host_must_be_unix) {
  std::string err;
  auto c = engine_candidates("unix:///tmp/x.sock", &err);
  cr_assert_eq(c.size(), 1u);
  cr_assert_eq(c[0], "/tmp/x.sock");
  cr_assert(engine_candidates("tcp://1.2.3.4:2375", &err).empty());
  cr_assert(err.find("DOCKER_HOST") != std::string::npos);
  cr_assert(engine_candidates("unix://", &err).empty());
}

Test(engine_probe, default_candidates_in_order) {
  std::string err;
  auto c = engine_candidates("", &err);
  cr_assert_geq(c.size(), 4u);
  cr_assert_eq(c[0], "/var/run/docker.sock");
  cr_assert_eq(c[1], "/run/podman/podman.sock");
}

Test(engine_probe, version_reply) {
  EngineInfo d;
  cr_assert(parse_engine_version(
      R"({"Version":"26.1.5","ApiVersion":"1.45","Components":[{"Name":"Engine","Version":"26.1.5"}]})", &d));
  cr_assert_eq(d.name, "docker");
  cr_assert_eq(d.version, "26.1.5");
  cr_assert_eq(d.api_version, "1.45");
  EngineInfo p;
  cr_assert(parse_engine_version(
      R"({"Version":"4.3.1","ApiVersion":"1.41","Components":[{"Name":"Podman Engine","Version":"4.3.1"}]})", &p));
  cr_assert_eq(p.name, "podman");
  EngineInfo bad;
  for (const char* body : {"", "[]", "{", R"({"Version":5})", "{\"Version\":\"\xff\"}"})
    cr_assert_not(parse_engine_version(body, &bad), "accepted %s", body);
}
