#include "common/dicom/layout_scan.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

namespace lightbox::dicom::detail {
namespace {

constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;
constexpr int kMaxDepth = 32;
constexpr std::size_t kWindow = 16 * 1024;

std::string tag_text(std::uint16_t g, std::uint16_t e) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", g, e);
  return buf;
}

bool is_long_vr(const char* vr) {
  static constexpr std::array<const char*, 13> kLong = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                                        "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* v : kLong) {
    if (vr[0] == v[0] && vr[1] == v[1]) return true;
  }
  return false;
}

bool is_vr_letters(const char* vr) {
  return vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z';
}

// Reads small headers through one cached window so a walk costs one or two pread calls.
class Reader {
 public:
  Reader(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

  std::uint64_t size() const { return size_; }

  bool read(std::uint64_t offset, void* out, std::size_t n) {
    if (offset + n > size_) return false;
    if (offset < base_ || offset + n > base_ + buf_.size()) {
      buf_.resize(kWindow);
      ssize_t got = ::pread(fd_, buf_.data(), kWindow, static_cast<off_t>(offset));
      if (got < 0) got = 0;
      buf_.resize(static_cast<std::size_t>(got));
      base_ = offset;
      if (n > buf_.size()) return false;
    }
    std::memcpy(out, buf_.data() + (offset - base_), n);
    return true;
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::uint64_t base_ = 0;
  std::vector<unsigned char> buf_;
};

std::uint16_t u16(const unsigned char* p, bool le) {
  return le ? static_cast<std::uint16_t>(p[0] | (p[1] << 8))
            : static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t u32(const unsigned char* p, bool le) {
  return le ? (std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
               (std::uint32_t(p[3]) << 24))
            : ((std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
               (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]));
}

class Walker {
 public:
  Walker(Reader& r, LayoutScan& out) : r_(r), out_(out) {}

  // Walks elements from `pos` until `end` (defined length) or an item delimiter (undefined).
  // Returns false when the walk must stop (truncation found or gave up).
  bool elements(std::uint64_t& pos, std::uint64_t end, bool undefined, Encoding enc, int depth,
                bool meta_only) {
    if (depth > kMaxDepth) return give_up();
    while (true) {
      if (!undefined && pos >= end) return true;
      if (pos == r_.size()) {
        if (undefined && depth > 0) return truncated("an item that is never closed ends at end of file");
        return true;
      }
      unsigned char h[12];
      if (!r_.read(pos, h, 8)) return truncated("element header at offset " + std::to_string(pos) + " is cut short");
      const bool meta = u16(h, true) == 0x0002 && depth == 0;
      if (meta_only && !meta) return true;
      const bool le = meta ? true : enc.little_endian;
      const bool ex = meta ? true : enc.explicit_vr;
      const std::uint16_t g = u16(h, le), e = u16(h + 2, le);
      if (g == 0xFFFE && (e == 0xE00D || e == 0xE0DD)) {
        pos += 8;
        return true;  // item or sequence delimiter closes the current container
      }
      std::uint32_t len = 0;
      std::uint64_t hdr = 8;
      bool sq = false, un = false;
      if (ex && g != 0xFFFE) {
        const char vr[2] = {static_cast<char>(h[4]), static_cast<char>(h[5])};
        if (!is_vr_letters(vr)) return give_up();
        if (is_long_vr(vr)) {
          if (!r_.read(pos, h, 12)) return truncated("element header " + tag_text(g, e) + " at offset " + std::to_string(pos) + " is cut short");
          len = u32(h + 8, le);
          hdr = 12;
          sq = vr[0] == 'S' && vr[1] == 'Q';
          un = vr[0] == 'U' && vr[1] == 'N';
        } else {
          len = u16(h + 6, le);
        }
      } else {
        len = u32(h + 4, le);
      }
      pos += hdr;
      if (len == kUndefined) {
        if (g == 0x7FE0 && e == 0x0010) {
          if (!fragments(pos)) return false;
        } else {
          // A sequence (or UN holding one, whose content is implicit VR little endian).
          Encoding inner = un ? Encoding{true, false} : enc;
          if (!sq && !un && ex) return give_up();
          if (!items(pos, inner, depth + 1, g, e)) return false;
        }
        continue;
      }
      if (pos + len > r_.size()) {
        return truncated("element " + tag_text(g, e) + " at offset " + std::to_string(pos - hdr) + " declares " +
                         std::to_string(len) + " bytes but only " + std::to_string(r_.size() - pos) +
                         " remain in the file");
      }
      pos += len;
    }
  }

 private:
  bool items(std::uint64_t& pos, Encoding enc, int depth, std::uint16_t sg, std::uint16_t se) {
    while (true) {
      unsigned char h[8];
      if (!r_.read(pos, h, 8)) return truncated("sequence " + tag_text(sg, se) + " is not closed before end of file");
      const std::uint16_t g = u16(h, enc.little_endian), e = u16(h + 2, enc.little_endian);
      const std::uint32_t len = u32(h + 4, enc.little_endian);
      pos += 8;
      if (g == 0xFFFE && e == 0xE0DD) return true;
      if (g != 0xFFFE || e != 0xE000) return give_up();
      if (len == kUndefined) {
        if (!elements(pos, 0, true, enc, depth, false)) return false;
        if (out_.truncated || out_.gave_up) return false;
      } else {
        if (pos + len > r_.size()) {
          return truncated("item of sequence " + tag_text(sg, se) + " at offset " + std::to_string(pos - 8) +
                           " declares " + std::to_string(len) + " bytes but only " +
                           std::to_string(r_.size() - pos) + " remain");
        }
        pos += len;
      }
    }
  }

  // Encapsulated pixel data: offset table and fragments, each an item of defined length.
  bool fragments(std::uint64_t& pos) {
    while (true) {
      unsigned char h[8];
      if (!r_.read(pos, h, 8)) return truncated("encapsulated pixel data (7FE0,0010) is not closed before end of file");
      const std::uint16_t g = u16(h, true), e = u16(h + 2, true);
      const std::uint32_t len = u32(h + 4, true);
      pos += 8;
      if (g == 0xFFFE && e == 0xE0DD) return true;
      if (g != 0xFFFE || e != 0xE000 || len == kUndefined) return give_up();
      if (pos + len > r_.size()) {
        return truncated("pixel data fragment at offset " + std::to_string(pos - 8) + " declares " +
                         std::to_string(len) + " bytes but only " + std::to_string(r_.size() - pos) + " remain");
      }
      pos += len;
    }
  }

  bool truncated(std::string msg) {
    out_.truncated = true;
    out_.message = std::move(msg);
    return false;
  }
  bool give_up() {
    out_.gave_up = true;
    return false;
  }

  Reader& r_;
  LayoutScan& out_;
};

}  // namespace

LayoutScan scan_layout(int fd, std::uint64_t file_size, std::uint64_t start, Encoding dataset) {
  LayoutScan out;
  Reader reader(fd, file_size);
  Walker walker(reader, out);
  std::uint64_t pos = start;
  walker.elements(pos, 0, true, dataset, 0, !dataset.walk_dataset);
  return out;
}

}  // namespace lightbox::dicom::detail
