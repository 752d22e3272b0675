#include "api/routes.h"

namespace crewship::api {
namespace {

using M = http::Method;

const Route kRoutes[] = {
    {M::kGet, "/api/health", health},
};

}  // namespace

const Router& router() {
  static const Router r(kRoutes);
  return r;
}

}  // namespace crewship::api
