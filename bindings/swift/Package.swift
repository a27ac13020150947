// swift-tools-version:6.0
// Swift bindings of libember over its C ABI (capi/ember.h).
//
// The library is not built here: it is found in <repo>/build (what
// `cmake -S . -B build && ninja -C build ember` makes) or in the directory named
// by the environment variable EMBER_LIB_DIR. That directory is passed to the
// linker (-L) and written into the binaries' run path (-rpath), so tests and
// programs run without LD_LIBRARY_PATH.
import Foundation
import PackageDescription

let repoRoot = URL(fileURLWithPath: Context.packageDirectory)
    .appendingPathComponent("../..").standardizedFileURL.path
let emberLibDir = Context.environment["EMBER_LIB_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? repoRoot + "/build"

let package = Package(
    name: "Ember",
    products: [
        .library(name: "Ember", targets: ["Ember"]),
    ],
    targets: [
        // capi/ember.h through a module map (Sources/CEmber/module.modulemap), linking libember.
        .systemLibrary(name: "CEmber", path: "Sources/CEmber"),
        .target(
            name: "Ember",
            dependencies: ["CEmber"],
            linkerSettings: [
                .unsafeFlags(["-L" + emberLibDir, "-Xlinker", "-rpath", "-Xlinker", emberLibDir]),
            ]
        ),
        .testTarget(name: "EmberTests", dependencies: ["Ember"]),
    ]
)
