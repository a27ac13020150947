// Loads a GGUF model, generates a continuation of a prompt, prints it.
import Ember
import Foundation

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: generate MODEL.gguf [PROMPT] [MAX_TOKENS]\n".utf8))
    exit(2)
}
let prompt = args.count > 2 ? args[2] : "Once upon a time"
let maxTokens = args.count > 3 ? Int(args[3]) ?? 32 : 32

do {
    let model = try Model(path: args[1])
    let session = try model.makeSession()
    let generation = try session.generate(prompt: prompt, params: .greedy(maxTokens: maxTokens))
    print(prompt + generation.text)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))  // the library's message
    exit(1)
}
