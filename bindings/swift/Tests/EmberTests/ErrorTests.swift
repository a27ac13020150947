import Ember
import Foundation
import Testing

private func tempFile(_ name: String, _ bytes: [UInt8]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-swift-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

@Suite("errors")
struct ErrorTests {
    @Test("a missing file throws EmberError(.io) with the library's message")
    func missingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-model-\(UUID()).gguf").path
        let e = try #require(emberError { try Model(path: path) })
        #expect(e.kind == .io)
        #expect(e.status == -3)
        #expect(e.message.hasPrefix("["))  // the library's "[place] ..." form
        #expect(e.message.contains(path))
        #expect("\(e)" == e.message)
    }

    @Test("a corrupt GGUF (garbage bytes, truncation) throws EmberError(.invalidFile)")
    func corruptFile() throws {
        let garbage = try tempFile("garbage.gguf", (0..<4096).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) })
        let e = try #require(emberError { try Model(path: garbage) })
        #expect(e.kind == .invalidFile)
        #expect(e.status == -2)
        #expect(e.message.contains("garbage.gguf"))

        let absurd = try tempFile("absurd.gguf", Array("GGUF".utf8) + [3, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 56))
        #expect(emberError { try Model(path: absurd) }?.kind == .invalidFile)

        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: tinyPath)))
        let cut = try tempFile("cut.gguf", Array(whole[0..<(whole.count / 2)]))
        let c = try #require(emberError { try Model(path: cut) })
        #expect(c.kind == .invalidFile && c.message.contains("cut.gguf"))
    }

    @Test("wrong parameters throw EmberError(.invalidArgument) naming the parameter; the session stays usable")
    func wrongParameters() async throws {
        let want = try expected()
        let model = try tiny()
        let ctx = try #require(emberError { try model.makeSession(Session.Options(contextSize: -1)) })
        #expect(ctx.kind == .invalidArgument && ctx.status == -1)
        #expect(ctx.message.contains("n_ctx"))

        let session = try model.makeSession()
        var p = want.params
        p.topP = 2
        let topP = try #require(emberError { try session.generate(prompt: want.prompt, params: p) })
        #expect(topP.kind == .invalidArgument && topP.message.contains("top_p"))

        p = want.params
        p.temperature = .nan
        let nan = try #require(emberError { try session.generate(prompt: want.prompt, params: p) })
        #expect(nan.kind == .invalidArgument && nan.message.contains("temperature"))

        // Through a stream, the error comes from the iteration.
        p = want.params
        p.topP = 2
        do {
            for try await _ in session.stream(want.prompt, p) {}
            Issue.record("the stream did not throw")
        } catch let error as EmberError {
            #expect(error.kind == .invalidArgument && error.message.contains("top_p"))
        }

        // Values that do not fit the C types are refused by the binding in the same form.
        let big = try #require(emberError { try model.makeSession(Session.Options(contextSize: Int(Int32.max) + 1)) })
        #expect(big.kind == .invalidArgument && big.message.contains("contextSize"))

        #expect(try session.generate(prompt: want.prompt, params: want.params).text == want.text)
    }

    @Test("a prompt longer than the context fails before anything changes")
    func promptTooLong() throws {
        let session = try tiny().makeSession(Session.Options(contextSize: 16))
        let e = try #require(emberError {
            try session.generate(prompt: String(repeating: "word ", count: 40), params: .greedy(maxTokens: 1))
        })
        #expect(e.kind == .invalidArgument && e.message.contains("context"))
        #expect(try session.kvPosMax() == -1)
    }

    @Test("bad tokens and sequence ids throw invalidArgument")
    func badTokens() throws {
        let model = try tiny()
        #expect(emberError { try model.isEndOfGeneration(-5) }?.kind == .invalidArgument)
        let session = try model.makeSession(Session.Options(contextSize: 32))
        let e = try #require(emberError { try session.decode([1, 99999]) })
        #expect(e.kind == .invalidArgument && !e.message.isEmpty)
        #expect(try session.kvPosMax() == -1)
        #expect(emberError { try session.decode([1], sequence: 5) }?.kind == .invalidArgument)
        #expect(emberError { try session.logits(row: 7) }?.kind == .invalidArgument)
    }

    @Test("a vocab-only model cannot make a session")
    func vocabOnlySession() throws {
        let vocab = try Model(path: tinyPath, options: Model.Options(vocabOnly: true))
        #expect(vocab.vocabOnly)
        #expect(try vocab.tokenize("Hello") == (try tiny().tokenize("Hello")))
        let e = try #require(emberError { try vocab.makeSession() })
        #expect(!e.message.isEmpty)
    }
}
