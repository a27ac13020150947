import Ember
import Foundation
import Testing

private func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] }! }

@Suite("session")
struct SessionTests {
    @Test("logits of a batch: one row per token, the last row's argmax is the greedy token, rows match one-by-one decoding")
    func logitsOfBatch() throws {
        let want = try expected()
        let model = try tiny()
        let session = try model.makeSession(Session.Options(contextSize: 128))
        let rows = try session.logits(for: want.prompt_tokens)
        #expect(rows.count == want.prompt_tokens.count)
        #expect(rows.allSatisfy { $0.count == model.vocabularySize })
        #expect(rows.allSatisfy { $0.allSatisfy(\.isFinite) })
        #expect(argmax(rows.last!) == Int(want.greedy_tokens[0]))
        #expect(try session.outputCount() == want.prompt_tokens.count)
        #expect(try session.kvPosMax() == want.prompt_tokens.count - 1)
        #expect(try session.logits(row: -1) == rows.last!)

        // The same tokens one at a time (each decode keeps its last row only).
        try session.kvClear()
        #expect(try session.kvPosMax() == -1)
        var worst: Float = 0
        for (i, token) in want.prompt_tokens.enumerated() {
            try session.decode([token])
            #expect(try session.kvPosMax() == i)
            let row = try session.logits()
            let scale = rows[i].map(abs).max()!
            worst = max(worst, zip(row, rows[i]).map { abs($0 - $1) }.max()! / scale)
        }
        #expect(worst < 1e-3, "worst relative difference \(worst)")
    }

    @Test("KV cache: bytes, context size, remove, copy between sequences, clear")
    func kvCache() throws {
        let want = try expected()
        let session = try tiny().makeSession(Session.Options(contextSize: 64, sequences: 2))
        #expect(try session.contextSize() == 64)
        #expect(try session.kvBytes() > 0)
        try session.decode(want.prompt_tokens)
        try session.kvRemove(sequence: 0, from: 6)
        #expect(try session.kvPosMax(sequence: 0) == 5)
        try session.kvCopy(from: 0, to: 1)
        #expect(try session.kvPosMax(sequence: 1) == 5)
        try session.kvKeep(sequence: 1)
        #expect(try session.kvPosMax(sequence: 0) == -1)
        try session.kvClear()
        #expect(try session.kvPosMax(sequence: 1) == -1)
    }

    @Test("embeddings: n_embd floats, unit length when normalized, equal for equal texts, different for different ones")
    func embeddings() throws {
        let model = try tiny()
        let session = try model.makeSession(Session.Options(contextSize: 128))
        let a = try session.embed(text: "The cat sat on the mat.")
        #expect(a.count == model.embeddingSize)
        let norm = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-4)
        #expect(try session.embed(text: "The cat sat on the mat.") == a)
        let b = try session.embed(text: "Quantum chromodynamics explains the strong force.")
        #expect(b != a)
        let raw = try session.embed(try model.tokenize("The cat sat on the mat."), normalize: false)
        let rawNorm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(rawNorm - 1) > 1e-3)
        for (x, y) in zip(raw, a) { #expect(abs(x / rawNorm - y) < 1e-5) }
        #expect(try session.kvPosMax() == -1)  // embed leaves sequence 0 empty
        let want = try expected()
        #expect(try session.generate(prompt: want.prompt, params: want.params).text == want.text)
    }
}
