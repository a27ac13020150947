// ember-gguf: print a GGUF file's header, metadata and tensor list.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "ember/error.h"
#include "ember/gguf.h"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: ember-gguf FILE [--all] [--hash] [--no-mmap]\n"
               "  --all      print every array element and whole strings\n"
               "  --hash     print an FNV-1a 64 hash of each tensor's data (reads all of it)\n"
               "  --no-mmap  read the file into memory instead of mapping it\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  ember::gguf::ListingOptions listing;
  ember::gguf::ReadOptions read;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--all") == 0) {
      listing.max_items = SIZE_MAX;
      listing.max_string_bytes = SIZE_MAX;
    } else if (std::strcmp(arg, "--hash") == 0) {
      listing.tensor_hashes = true;
    } else if (std::strcmp(arg, "--no-mmap") == 0) {
      read.use_mmap = false;
    } else if (std::strcmp(arg, "-h") == 0 || std::strcmp(arg, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (arg[0] == '-' || !path.empty()) {
      usage(stderr);
      return 1;
    } else {
      path = arg;
    }
  }
  if (path.empty()) {
    usage(stderr);
    return 1;
  }
  try {
    const ember::gguf::File file = ember::gguf::File::open(path, read);
    const std::string text = ember::gguf::format_listing(file, listing);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
