#include "container/mux.h"

#include <algorithm>

namespace crewship::container {

bool Demux::feed(std::string_view data, const Sink& out) {
  while (!data.empty()) {
    if (left_ > 0) {
      size_t n = std::min<size_t>(left_, data.size());
      out(stream_, data.substr(0, n));
      left_ -= static_cast<uint32_t>(n);
      data.remove_prefix(n);
      continue;
    }
    head_[have_++] = static_cast<uint8_t>(data.front());
    data.remove_prefix(1);
    if (have_ < sizeof head_) continue;
    have_ = 0;
    if (head_[0] > 3 || head_[1] != 0 || head_[2] != 0 || head_[3] != 0) return false;
    stream_ = head_[0];
    left_ = (uint32_t{head_[4]} << 24) | (uint32_t{head_[5]} << 16) | (uint32_t{head_[6]} << 8) | head_[7];
  }
  return true;
}

}  // namespace crewship::container
