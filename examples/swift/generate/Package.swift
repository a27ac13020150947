// swift-tools-version:6.0
// The smallest program over the Swift binding: load a model, generate, print.
// Build from the repository root after building libember into build/:
//   swift build --package-path examples/swift/generate
//   examples/swift/generate/.build/debug/generate model.gguf "Once upon a time"
// (The package is a directory below examples/swift because SwiftPM names a
// package by its directory: a root package in examples/swift and its
// dependency bindings/swift would both be "swift".)
import PackageDescription

let package = Package(
    name: "EmberExample",
    dependencies: [.package(path: "../../../bindings/swift")],
    targets: [
        .executableTarget(name: "generate", dependencies: [.product(name: "Ember", package: "swift")]),
    ]
)
