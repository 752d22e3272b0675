// The multiplexed stream of exec, attach and logs without a TTY: frames of an
// 8-byte header {stream, 0, 0, 0, size as big-endian uint32} and size bytes
// of payload. Stream 1 is stdout, 2 stderr (0 stdin, 3 Podman's system errors).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace crewship::container {

class Demux {
 public:
  using Sink = std::function<void(int stream, std::string_view payload)>;
  // Feeds the next bytes, in any split; payload pieces go to out as they come.
  // False on a malformed frame header: the stream is not multiplexed.
  bool feed(std::string_view data, const Sink& out);
  // True between frames (nothing half read).
  bool at_boundary() const { return have_ == 0 && left_ == 0; }

 private:
  uint8_t head_[8] = {};
  size_t have_ = 0;     // header bytes read
  uint32_t left_ = 0;   // payload bytes left in the current frame
  int stream_ = 0;
};

}  // namespace crewship::container
