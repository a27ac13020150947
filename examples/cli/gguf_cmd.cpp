#include <cstdint>
#include <cstdio>
#include <string>

#include "commands.h"
#include "ember/gguf.h"

namespace ember::cli {

void add_gguf_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("gguf", "Print a GGUF file's metadata and tensors (like gguf-dump)");
  auto path = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  cmd->add_option("file", *path, "GGUF file")->required();
  cmd->add_flag("--all", *all, "print every element of long arrays");
  cmd->callback([path, all] {
    const gguf::File f = gguf::File::open(*path);
    gguf::ListingOptions opt;
    if (*all) opt.max_items = opt.max_string_bytes = SIZE_MAX;
    std::fputs(gguf::format_listing(f, opt).c_str(), stdout);
  });
}

}  // namespace ember::cli
