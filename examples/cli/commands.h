#pragma once
// Each subcommand adds its flags to the CLI11 app and runs when chosen.
#include <CLI/CLI.hpp>

namespace ember::cli {

void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_gguf_command(CLI::App& app);

}  // namespace ember::cli
