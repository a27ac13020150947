@testable import Ember
import Foundation
import Testing

@Suite("model")
struct ModelTests {
    @Test("metadata and sizes are the file's")
    func metadata() throws {
        let model = try tiny()
        #expect(model.vocabularySize == 32000)
        #expect(model.trainingContextSize == 1024)
        #expect(model.embeddingSize == 256)
        #expect(model.layerCount == 4)
        #expect(model.parameterCount > 0)
        #expect(model.bosToken == 1 && model.eosToken == 2)
        #expect(try model.metadata("general.architecture") == "llama")
        #expect(try model.metadata("llama.context_length") == "1024")
        #expect(try model.metadata("no.such.key") == nil)
        let all = try model.metadata()
        #expect(all.count == 23)
        #expect(all.contains { $0.key == "general.name" && $0.value == "tiny-random-llama" })
        #expect(try model.summary().contains("llama"))
        #expect(try model.chatTemplate() == nil)
    }

    @Test("tokenize then detokenize gives the text back")
    func tokenizeRoundTrip() throws {
        let model = try tiny()
        for text in ["Hello world", "Once upon a time, there was a little robot who",
                     "héllo wörld, naïve café", "日本語のテキスト", "emoji 🎉🚀 mixed", "  leading and trailing  ",
                     "line\nbreaks\tand tabs", ""] {
            let ids = try model.tokenize(text)
            #expect(ids.first == model.bosToken)
            #expect(try model.detokenize(ids) == text, "\(text)")
            #expect(try model.tokenize(text, addSpecial: false) == Array(ids.dropFirst()))
        }
        let long = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 200)
        #expect(try model.detokenize(try model.tokenize(long)) == long)
        #expect(try model.detokenize([1], special: true) == "<s>")
        #expect(try model.detokenize([1]) == "")
        #expect(try model.tokenPiece(1, special: true) == Array("<s>".utf8))
        #expect(try model.isEndOfGeneration(2))
        #expect(try !model.isEndOfGeneration(1))
    }

    @Test("load progress reaches 1, and returning false cancels the load")
    func loadProgress() throws {
        let seen = Guarded<[Float]>([])
        _ = try Model(path: tinyPath, options: Model.Options(progress: { value in
            seen.withLock { $0.append(value) }
            return true
        }))
        let values = seen.withLock { $0 }
        #expect(!values.isEmpty && values.last == 1)
        #expect(values == values.sorted())

        let e = try #require(emberError { try Model(path: tinyPath, options: Model.Options(progress: { _ in false })) })
        #expect(e.kind == .cancelled)
    }

    @Test("the log handler receives the library's messages")
    func logHandler() throws {
        let lines = Guarded<[String]>([])
        try EmberLibrary.setLogLevel(.debug)
        try EmberLibrary.setLogHandler { _, message in lines.withLock { $0.append(message) } }
        _ = try Model(path: tinyPath)
        try EmberLibrary.setLogHandler(nil)
        try EmberLibrary.setLogLevel(.warn)
        #expect(!lines.withLock { $0 }.isEmpty)
    }

    @Test("a released model, session, chat and abandoned stream are freed (deinit runs)")
    func freedOnRelease() async throws {
        let want = try expected()
        weak var weakModel: Model?
        weak var weakSession: Session?
        weak var weakCore: SessionCore?
        weak var weakChat: Chat?
        do {
            let model = try Model(path: tinyPath)
            let session = try model.makeSession(Session.Options(contextSize: 64, threads: 1))
            let chat = try session.chat()
            _ = try chat.reply(to: [.user("Hi")], params: .greedy(maxTokens: 2))
            var p = GenerateParams.greedy(maxTokens: -1)
            p.ignoreEOS = true
            for try await _ in session.stream(want.prompt, p) { break }  // abandoned: cancelled
            (weakModel, weakSession, weakCore, weakChat) = (model, session, session.core, chat)
        }
        #expect(weakSession == nil && weakChat == nil)
        // The stream's thread holds the library's session (and through it the
        // model) until its cancelled call returns.
        for _ in 0..<500 where weakCore != nil { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(weakCore == nil && weakModel == nil)
    }

    @Test("100 loads and frees do not grow resident memory",
          .enabled(if: ProcessInfo.processInfo.environment["EMBER_SWIFT_MEMORY_TEST"] != nil,
                   "run alone by scripts/test-swift: other tests running in parallel grow memory too"))
    func memoryDoesNotGrow() async throws {
        let want = try expected()
        func cycle() async throws {
            let model = try Model(path: tinyPath)
            let session = try model.makeSession(Session.Options(contextSize: 64, threads: 1))
            _ = try session.generate(prompt: want.prompt, params: .greedy(maxTokens: 2))
            for try await _ in session.stream(want.prompt, .greedy(maxTokens: 2)) {}
            for try await _ in session.stream(want.prompt, .greedy(maxTokens: 8)) { break }  // abandoned
        }
        // The last stream's thread may hold its session and model a moment after
        // the stream ends: let it finish before each measurement.
        func settle() async throws {
            try await Task.sleep(nanoseconds: 300_000_000)
            mallocTrim()
        }
        for _ in 0..<5 { try await cycle() }
        try await settle()
        let before = residentBytes()
        for _ in 0..<100 { try await cycle() }
        try await settle()
        let grown = residentBytes() - before
        // A leaked tiny model keeps its 23 MB of weights mapped and read.
        #expect(grown < 8 << 20, "resident memory grew by \(grown) bytes")
    }
}
