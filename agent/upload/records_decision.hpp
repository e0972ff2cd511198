#pragma once
// How the hub's answer to a records batch (POST /api/v1/records) settles its queue item. Pure
// and unit-tested; the uploader calls it for items of kind "records".
#include <string>
#include <vector>

#include "agent/upload/uploader.hpp"

namespace lightbox::agent::upload {

/// Headers of a records POST: X-Lightbox-Batch (the body's hash, which is the item's sha256),
/// X-Lightbox-Source and Content-Type application/json.
std::vector<std::pair<std::string, std::string>> records_headers(const queue::Item& item);

/// Settles a records item from a 200/201 answer: done when the answer echoes the batch hash
/// (records the hub rejected are kept in last_error as a count and the first reasons; the batch
/// is not retried), failed on a different hash, retried when the answer is unreadable or the
/// hub's storage is full.
Decision decide_records(const queue::Item& item, const http::Response& resp, const UploadConfig& cfg,
                        std::int64_t now, double u01);

}  // namespace lightbox::agent::upload
