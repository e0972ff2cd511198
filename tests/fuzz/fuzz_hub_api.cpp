// libFuzzer harness: the hub's request handling without sockets — Api::handle with a method,
// target, headers and body taken from the input (format: lines "METHOD TARGET", then
// "name: value" headers, an empty line, the body). Inputs carry a valid token unless they say
// otherwise, so the authenticated routes (PUT objects, POST records, GET studies/exams) are reached.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include "tests/fuzz/hub_api_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static lightbox::fuzz::HubWorld world;  // one hub per fuzzing process
  auto resp = world.handle(std::string_view(reinterpret_cast<const char*>(data), size));
  // Every answer is a status the contract knows.
  if (resp.status < 100 || resp.status > 599) __builtin_trap();
  return 0;
}
